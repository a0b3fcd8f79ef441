"""The look-ahead checker: an agent's vote at bar t must be the same whether the data ends
at t or goes on. Every agent is re-run on data cut at sampled analysis times and its vote
there is compared with its vote on the full data (as freqtrade's lookahead-analysis does for
strategies). Inside the runtime an agent sees only bars up to t; what can leak is what an
agent computes outside it (``prepare(data)`` on the whole data set, a global table), and
that is what this catches.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .backtest import run_replay

__all__ = ["LookaheadFinding", "check_lookahead"]


@dataclass(frozen=True)
class LookaheadFinding:
    """An agent whose vote at ``time`` changed when the data was cut there."""

    agent: str
    symbol: str
    time: pd.Timestamp
    full: str  # the vote on the full data, e.g. "BUY 0.80"
    cut: str   # the vote on the data cut at `time`

    def __str__(self) -> str:
        return (f"{self.agent}: look-ahead at {self.symbol} {self.time:%Y-%m-%d %H:%M}: votes "
                f"{self.full} on the full data but {self.cut} on data cut at that bar")


def _votes(d: Any) -> dict[str, str]:
    out = {}
    statuses = d.agent_statuses
    for name, vote in d.votes.items():
        if vote is None:
            out[name] = statuses.get(name, "abstain").upper()
        else:
            # The levels decide trades too: a vote that leaks only through them is a leak.
            levels = "".join(f" {k} {v:.12g}" for k, v in (("target", vote.target_price),
                                                         ("stop", vote.stop_loss)) if v is not None)
            out[name] = f"{vote.action} {vote.confidence:.12g}{levels}"
    return out


def check_lookahead(data: Any, agents: Any = None, *, samples: int = 20, horizon: int = 5,
                    interval: int | None = None, **settings: Any) -> list[LookaheadFinding]:
    """Runs ``agents`` on ``data`` once in full, then on the data cut at up to ``samples``
    analysis times (spread evenly over the run, per symbol), and returns each agent's first
    differing vote (empty: no look-ahead found at the sampled times). Timeouts and failures
    are not compared: they say nothing of the data.

    The same agent objects serve every run: an agent that keeps learning from what it sees
    carries that into the next run, and shows up here as a difference too.
    """
    from .. import _core, datasets

    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise _core.InvalidArgumentError(
            f"check_lookahead: samples {samples!r} is not accepted; expected an integer >= 1")

    frame = datasets.load(data)
    full, keep = _recorder()
    run_replay(frame, agents, horizon=horizon, interval=interval, score=False, on_decision=keep,
               settings=settings)
    if not full:
        return []
    picks = np.unique(np.linspace(0, len(full) - 1, min(samples, len(full))).round().astype(int))
    times = frame.index.as_unit("ms").asi8
    first: dict[str, LookaheadFinding] = {}
    for i in picks:
        symbol, t_ms, votes = full[int(i)]
        cut = frame[times <= t_ms]
        seen, keep_cut = _recorder()
        run_replay(cut, agents, horizon=horizon, interval=interval, score=False,
                   on_decision=keep_cut, settings=settings)
        there = [v for s, t, v in seen if s == symbol and t == t_ms]
        if not there:  # the same bars trigger the same analyses: this one went missing
            raise _core.GoldenSignalsError(
                f"check_lookahead: the run on data cut at {symbol} "
                f"{pd.Timestamp(t_ms, unit='ms', tz='UTC'):%Y-%m-%d %H:%M} made no analysis "
                "there, so that cut point cannot be compared")
        for agent, v in votes.items():
            w = there[-1].get(agent)
            if w is None or v == w or {v, w} & {"TIMEOUT", "FAILED", "DISABLED"}:
                continue
            if _close(v, w):
                continue
            f = LookaheadFinding(agent, symbol, pd.Timestamp(t_ms, unit="ms", tz="UTC"), v, w)
            if agent not in first or f.time < first[agent].time:
                first[agent] = f
    return sorted(first.values(), key=lambda f: (f.time, f.agent))


def _recorder() -> tuple[list[tuple[str, int, dict[str, str]]], Callable[[Any], None]]:
    """A list and the decision callback that fills it with (symbol, market time, votes)."""
    seen: list[tuple[str, int, dict[str, str]]] = []

    def keep(d: Any) -> None:
        if d.symbol:
            seen.append((d.symbol, int(d.market_time_ms), _votes(d)))

    return seen, keep


def _close(a: str, b: str) -> bool:
    """The same words (action, level names) and numbers within 1e-9, formatting aside."""
    pa, pb = a.split(), b.split()
    if len(pa) != len(pb):
        return False
    for x, y in zip(pa, pb):
        if x == y:
            continue
        try:
            if not math.isclose(float(x), float(y), rel_tol=1e-9, abs_tol=1e-9):
                return False
        except ValueError:
            return False
    return True
