"""Example Python agents, used by ``make run`` and the docs."""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from typing import Any

import numpy as np

from ._core import AgentContext, InvalidArgumentError, Vote
from .agents import Agent

__all__ = ["ChatModelAgent", "parse_reply", "trend_regression"]

_MAX_REPLY = 1 << 20  # bytes of a chat reply read at most


def trend_regression(ctx: AgentContext, window: int = 30) -> Vote | None:
    """Votes with the slope of a least-squares line through the last ``window`` closes.

    The slope is scaled by the residual noise, so a steady trend earns more confidence than a
    noisy one; it abstains until it has ``window`` bars.
    """
    close = ctx.close
    if len(close) < window:
        return None
    y = np.log(close[-window:])
    x = np.arange(window, dtype=float)
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (slope * x + intercept)
    noise = float(resid.std()) or 1e-12
    t = slope * window / noise  # move over the window, in units of noise
    confidence = float(min(0.95, abs(t) / 8.0))
    pct = slope * window * 100.0
    if abs(t) < 2.0:
        return Vote("HOLD", min(0.9, 0.5 + (2.0 - abs(t)) / 4.0),
                    [f"{window}-bar trend {pct:+.2f}% is within noise (t={t:.1f})"])
    action = "BUY" if t > 0 else "SELL"
    return Vote(action, confidence, [f"{window}-bar trend {pct:+.2f}% (t={t:.1f})"])


class ChatModelAgent(Agent):
    """A model agent that asks an OpenAI-compatible chat endpoint (llama.cpp's server, vLLM,
    Ollama, or a hosted API) for a vote: the pattern for plugging in FinGPT or any LLM.

    Each analysis sends the symbol, the last closes and the headlines a :class:`NewsStore`
    returns for that time (only text published before it) and asks for one JSON object
    ``{"action": "BUY"|"SELL"|"HOLD", "confidence": 0..1, "reason": "..."}``.
    :func:`parse_reply` accepts exactly that (a ```json fence around it is allowed) and
    raises :class:`InvalidArgumentError` on anything else, so a rambling or malformed answer
    fails the vote instead of being guessed at. The HTTP call gets ``timeout`` seconds
    (the agent's deadline, minus 10% for the rest); a late answer is a timeout.

    A model trained on text from after the data it is replayed on has read what followed:
    its backtest on data from before its training cut-off is not fair, whatever the replay
    does. Score such a model live, or on data after its cut-off.
    """

    def __init__(self, base_url: str, model: str, *, news: Any = None, api_key: str | None = None,
                 closes: int = 10, name: str = "ChatModel", weight: float = 1.0,
                 timeout: float = 10.0) -> None:
        super().__init__(name, weight, timeout)
        if not base_url.startswith(("http://", "https://")):
            raise InvalidArgumentError(f"ChatModelAgent base_url {base_url!r} is not accepted; "
                                       "expected http://host:port or https://...")
        if isinstance(closes, bool) or not isinstance(closes, int) or closes < 1:
            raise InvalidArgumentError(f"ChatModelAgent closes {closes!r} is not accepted; "
                                       "expected an integer >= 1")
        self.url = base_url.rstrip("/") + "/v1/chat/completions"
        self.model, self.closes = model, closes
        # OPENAI_API_KEY goes only to an https endpoint; give api_key to send one elsewhere.
        self.api_key = api_key if api_key is not None else (
            os.environ.get("OPENAI_API_KEY") if base_url.startswith("https://") else None)
        self.news = news

    def prompt(self, ctx: AgentContext) -> list[dict[str, str]]:
        t = int(ctx.time[-1])
        closes = ", ".join(f"{c:.2f}" for c in ctx.close[-self.closes:])
        lines = []
        if self.news is not None:
            for h in self.news.search(f"{ctx.symbol} stock market news", symbol=ctx.symbol,
                                      before_ms=t, k=5, lookback_ms=7 * 86_400_000):
                lines.append(f"- {h.time:%Y-%m-%d}: {h.text}")
        context = "\n".join(lines) or "- (no headlines)"
        return [
            {"role": "system", "content": (
                "You are a trading analyst. Answer with one JSON object and nothing else: "
                '{"action": "BUY" or "SELL" or "HOLD", "confidence": a number from 0 to 1, '
                '"reason": one sentence}.')},
            {"role": "user", "content": (
                f"{ctx.symbol}, last {self.closes} daily closes (oldest first): {closes}.\n"
                f"Recent headlines:\n{context}\nYour vote for the next 5 trading days?")},
        ]

    def analyze(self, ctx: AgentContext) -> Vote:
        body = json.dumps({"model": self.model, "messages": self.prompt(ctx),
                           "temperature": 0, "max_tokens": 200}).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        deadline = 0.9 * (self.timeout or 10.0)
        try:
            with urllib.request.urlopen(req, timeout=deadline) as r:
                raw = r.read(_MAX_REPLY + 1)
            if len(raw) > _MAX_REPLY:
                raise InvalidArgumentError(f"{self.name}: the reply is over {_MAX_REPLY} bytes")
            reply = json.loads(raw)
        except TimeoutError as e:
            raise TimeoutError(f"{self.name}: {self.url} did not answer within {deadline:.1f} s") from e
        except urllib.error.HTTPError as e:
            raise InvalidArgumentError(f"{self.name}: {self.url} answered HTTP {e.code}") from None
        except urllib.error.URLError as e:
            if isinstance(e.reason, TimeoutError):
                raise TimeoutError(f"{self.name}: {self.url} did not answer within "
                                   f"{deadline:.1f} s") from e
            raise InvalidArgumentError(f"{self.name}: cannot reach {self.url} ({e.reason})") from None
        try:
            text = reply["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise InvalidArgumentError(f"{self.name}: the reply has no choices[0].message.content: "
                                       f"{str(reply)[:200]}") from None
        return parse_reply(text)


def parse_reply(text: str) -> Vote:
    """The vote in a model's reply: one JSON object with exactly ``action`` (BUY, SELL or
    HOLD), ``confidence`` (0 to 1) and ``reason`` (a string of at most 500 characters),
    optionally inside a ```json fence. Anything else raises InvalidArgumentError naming
    what is wrong."""
    if not isinstance(text, str):
        raise InvalidArgumentError(f"model reply: {type(text).__name__} is not text")
    s = text.strip()
    fence = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", s, re.DOTALL)
    if fence:
        s = fence.group(1)
    try:
        obj = json.loads(s)
    except ValueError:
        raise InvalidArgumentError(f"model reply is not one JSON object: {text[:200]!r}") from None
    if not isinstance(obj, dict) or set(obj) != {"action", "confidence", "reason"}:
        keys = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
        raise InvalidArgumentError(f"model reply has {keys}; expected exactly action, confidence "
                                   "and reason")
    action, confidence, reason = obj["action"], obj["confidence"], obj["reason"]
    if action not in ("BUY", "SELL", "HOLD"):
        raise InvalidArgumentError(f"model reply action {action!r} is not accepted; expected "
                                   "BUY, SELL or HOLD")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) \
            or not 0.0 <= confidence <= 1.0:
        raise InvalidArgumentError(f"model reply confidence {confidence!r} is not accepted; "
                                   "expected a number from 0 to 1")
    if not isinstance(reason, str) or len(reason) > 500:
        raise InvalidArgumentError("model reply reason is not a string of at most 500 characters")
    return Vote(action, float(confidence), [f"model: {reason}"] if reason else [])
