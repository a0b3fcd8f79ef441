"""``gs.backtest``: replays data through the same Runtime as live, in market time, and scores
every signal and every agent's BUY/SELL vote with the native scorer.

The trading convention (the scorer's, docs/evaluating-signals.md): a forecast made on bar t's
close enters at bar t+1's open, is held ``horizon`` bars and exits at the close of the last,
or earlier at its target or stop (both inside one bar: the stop counts). Costs are paid on
each side. Direction skill is judged on the forward return over the whole horizon.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .. import _core, datasets
from ..agents import load_agents
from ..runtime import Runtime
from . import metrics as m
from .calibration import METHODS, walk_forward_calibrate

__all__ = ["backtest", "run_replay"]

_KEEP_ALL = 50_000_000  # scored rows kept for the report, at most


def bar_seconds_of(frame: pd.DataFrame) -> float:
    """Median spacing of the data's bar times, in seconds (a day when there is one bar)."""
    times = np.unique(pd.DatetimeIndex(frame.index).as_unit("ms").asi8)
    if len(times) < 2:
        return 86_400.0
    return float(np.median(np.diff(times))) / 1000.0


def periods_per_year(bar_seconds: float) -> float:
    """252 for daily bars (weekends and holidays make their median spacing one day); else
    calendar time: 365.25 days of bars of that length."""
    if 20 * 3600 <= bar_seconds <= 4 * 86_400:
        return 252.0
    return 365.25 * 86_400 / max(bar_seconds, 1e-9)


def run_replay(
    frame: pd.DataFrame,
    agents: Any,
    *,
    horizon: int = 5,
    costs_bps: float = 0.0,
    interval: int | None = None,
    exits: str = "levels",
    entry_delay: int = 0,
    score: bool = True,
    on_decision: Callable[[Any], None] | None = None,
    progress: bool = False,
    settings: Mapping[str, Any] | None = None,
    scoring: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One replay of ``frame`` (the long format of :mod:`goldensignals.datasets`) through a
    Runtime with ``agents``; returns the scored forecasts (columns), the scores, the status
    and the time spent."""
    if exits not in ("levels", "horizon"):
        raise _core.InvalidArgumentError(
            f"backtest: exits {exits!r} is not accepted; expected 'levels' (target, stop or "
            "horizon) or 'horizon'")
    bar_s = bar_seconds_of(frame)
    every = horizon if interval is None else interval
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise _core.InvalidArgumentError(
            f"backtest: interval {interval!r} is not accepted; expected bars >= 1")
    reserved = {"score_horizon": "horizon", "score_cost_bps": "costs_bps",
                "signal_generation_interval": "interval", "bar_seconds": None,
                "analyze_on_start": None}
    for key in sorted(set(settings or {}) & set(reserved)):
        use = reserved[key]
        raise _core.InvalidArgumentError(
            f"backtest: the setting {key} is not accepted here"
            + (f"; give {use}= instead" if use else "; a backtest sets it itself"))
    if every * bar_s > 366 * 86_400:
        raise _core.InvalidArgumentError(
            f"backtest: interval {every} bars of {bar_s:g} s is more than a year of market "
            "time; expected fewer bars between scheduled analyses")
    symbols = sorted(frame["symbol"].unique())
    kwargs: dict[str, Any] = {
        "signal_generation_interval": every * bar_s,
        "analyze_on_start": False,
        "history_bars": 512,
        "score_horizon": horizon if score else 0,
        "score_cost_bps": costs_bps,
        "bar_seconds": 0.0,
        **(settings or {}),
    }
    from ..feeds import Replay

    feed = Replay._of_dataset(frame)
    # Synchronous: this thread runs the feed and every analysis in bar order, no hand-offs.
    rt = Runtime(symbols=symbols, feed=feed, _synchronous=True,
                 _scoring={"keep": _KEEP_ALL, "use_levels": exits == "levels",
                           "entry_delay_bars": entry_delay, **(scoring or {})}, **kwargs)
    try:
        load_agents(rt, agents, data=frame)
        if on_decision is not None:
            rt.on_decision(on_decision)
        total = len(frame)
        cpu0, t0 = time.process_time(), time.perf_counter()
        rt.start()
        shown = [-1.0]

        def show(done: int) -> None:
            shown[0] = _progress(done, total, t0, shown[0])

        rt._core.run_feed(show if progress else None)
        rt.stop()  # every decision has reached the scorer once the orchestrator stopped
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
        status = rt._core.status()
        dropped = status["events"]["dropped"]
        if on_decision is not None and dropped:
            raise _core.GoldenSignalsError(
                f"backtest: {dropped} runtime events did not reach Python (the event queue, "
                f"event_queue = {rt.settings['event_queue']}, was full), so figures counted "
                "from decisions would be wrong; give a larger event_queue=")
        if progress:
            _progress(total, total, t0, -1.0)
            print(file=sys.stderr)
        return {
            "scored": rt._core.take_scored(),
            "scores": rt._core.scores(),
            "status": status,
            "cpu_seconds": cpu,
            "wall_seconds": wall,
            "bars": total,
            "bar_seconds": bar_s,
            "agents": rt.agents,
        }
    finally:
        rt.stop()


def _progress(done: int, total: int, t0: float, shown: float) -> float:
    frac = done / total if total else 1.0
    if frac - shown < 0.01 and frac < 1.0:
        return shown
    width = 30
    bar = "#" * int(frac * width)
    rate = done / max(time.perf_counter() - t0, 1e-9)
    print(f"\rbacktest [{bar:<{width}}] {done}/{total} bars, {rate:,.0f} bars/s", end="",
          file=sys.stderr, flush=True)
    return frac


# -- turning scored forecasts into figures ---------------------------------------------------

def forecasts_frame(cols: Mapping[str, Any]) -> pd.DataFrame:
    """The scorer's columns as a DataFrame with UTC times; the ballots of the consensus's
    forecasts become ``vote_<agent>`` (its vote or status) and ``conf_<agent>``."""
    data = {k: v for k, v in cols.items() if k not in _BALLOTS}
    for c in ("decided_ts_ms", "entry_ts_ms", "exit_ts_ms"):
        data[c.replace("_ts_ms", "_time")] = pd.to_datetime(
            np.asarray(cols[c], np.int64), unit="ms", utc=True)
    data["side"] = np.where(np.asarray(cols["action"]) == "BUY", 1.0, -1.0)
    for name, votes in cols.get("ballot_votes", {}).items():
        data[f"vote_{name}"] = votes
        data[f"conf_{name}"] = cols["ballot_confidence"][name]
    return pd.DataFrame(data)


_BALLOTS = ("ballot_votes", "ballot_confidence")

# The scorer's columns a signal row shows, and their names there.
_SIGNAL_COLUMNS = {
    "symbol": "symbol", "decided_time": "time", "action": "action", "confidence": "confidence",
    "decided_price": "price", "target_price": "target_price", "stop_loss": "stop_loss",
    "entry_time": "entry_time", "entry_price": "entry_price", "exit_time": "exit_time",
    "exit_price": "exit_price", "exit_reason": "exit_reason", "bars_held": "bars_held",
    "forward_return": "forward_return", "net_return": "return", "trade_return": "gross_return",
    "hit": "hit", "signal_id": "signal_id",
}


def signals_frame(forecasts: pd.DataFrame, agent_names: Iterable[str]) -> pd.DataFrame:
    """One row per scored consensus signal, each agent's vote (or status) in ``vote_<name>``
    and its confidence in ``conf_<name>``."""
    sig = forecasts[forecasts["consensus"].to_numpy(bool)]
    order = np.lexsort((sig["symbol"].to_numpy(str), sig["decided_ts_ms"].to_numpy()))
    ballots = [c for n in agent_names for c in (f"vote_{n}", f"conf_{n}")]
    out = (sig.iloc[order][list(_SIGNAL_COLUMNS) + [c for c in ballots if c in sig.columns]]
           .rename(columns=_SIGNAL_COLUMNS).reset_index(drop=True))
    for c in ballots:  # an agent without a ballot on any signal
        if c not in out.columns:
            out[c] = None if c.startswith("vote_") else math.nan
    return out[list(_SIGNAL_COLUMNS.values()) + ballots]


def _closed_ms(rows: pd.DataFrame, horizon: int, bars: _Bars) -> np.ndarray:
    """When each forecast's direction became known: the open time of the bar whose close ends
    its horizon (the entry bar plus horizon - 1). A decision made on that bar's close, or
    later, may use it; an earlier one may not."""
    out = np.empty(len(rows), np.int64)
    entry = rows["entry_ts_ms"].to_numpy(np.int64)
    symbols = rows["symbol"].to_numpy()
    for sym, d in bars.symbols.items():
        sel = symbols == sym
        if sel.any():
            e = np.searchsorted(d["ts"], entry[sel])
            out[sel] = d["ts"][np.minimum(e + horizon - 1, len(d["ts"]) - 1)]
    return out


def base_rate(bars: _Bars, horizon: int, entry_delay: int = 0) -> float:
    """Share of all bars after which the price rose over the horizon, measured as the scorer
    measures a forecast (entry at the next open, exit at the close ``horizon`` bars later)."""
    ups = total = 0
    for d in bars.symbols.values():
        o, c = d["open"], d["close"]
        k = 1 + entry_delay
        n = len(c) - k - horizon + 1
        if n <= 0:
            continue
        fwd = c[k + horizon - 1: k + horizon - 1 + n] / o[k: k + n] - 1.0
        ups += int((fwd > 0).sum())
        total += n
    return ups / total if total else math.nan


class _Bars:
    """Per-symbol arrays for turning trades into per-bar returns."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.symbols: dict[str, dict[str, np.ndarray]] = {}
        for sym, cols in datasets._by_symbol(frame).items():
            o, c = cols["open"], cols["close"]
            prev = np.concatenate([[o[0]], c[:-1]])
            self.symbols[sym] = {"ts": cols["ts_ms"], "open": o, "close": c,
                                 "cc": c / prev - 1.0, "oc": c / o - 1.0}
        self.times = np.unique(np.concatenate([d["ts"] for d in self.symbols.values()]))
        # Where each symbol's bars go on the union of bar times.
        self.slots = {sym: np.searchsorted(self.times, d["ts"]).astype(np.int64)
                      for sym, d in self.symbols.items()}

    def panel(self, per_symbol: Mapping[str, np.ndarray]) -> np.ndarray:
        """Equal-weight portfolio of per-symbol per-bar returns, on the union of bar times
        (the last axis; rows of 2-D arrays are portfolios of their own)."""
        if len(self.symbols) == 1 and len(per_symbol) == 1:
            return next(iter(per_symbol.values()))  # one symbol: its bars are the times
        first = next(iter(per_symbol.values()))
        acc = np.zeros((*first.shape[:-1], len(self.times)))
        cnt = np.zeros(len(self.times))
        for sym, r in per_symbol.items():
            idx = self.slots[sym]
            acc[..., idx] += r
            cnt[idx] += 1
        return np.divide(acc, cnt, out=np.zeros_like(acc), where=cnt > 0)


def trade_returns(trades: Any, bars: _Bars, cost: float) -> tuple[np.ndarray, dict[str, Any]]:
    """Per-bar returns of following ``trades`` (a DataFrame or a dict of columns) one at a
    time per symbol (a trade that starts before the previous one of its symbol ended is
    skipped), equal weight across symbols."""
    per_symbol: dict[str, np.ndarray] = {}
    taken = in_pos = n_bars = 0
    counts: dict[str, int] = {}
    lengths: list[int] = []
    buys = 0
    symbols = np.asarray(trades["symbol"])
    entry_ts = np.asarray(trades["entry_ts_ms"], np.int64)
    exit_ts = np.asarray(trades["exit_ts_ms"], np.int64)
    sides = np.asarray(trades["side"], float)
    entry_px = np.asarray(trades["entry_price"], float)
    exit_px = np.asarray(trades["exit_price"], float)
    for sym, d in bars.symbols.items():
        n = len(d["ts"])
        sel = np.flatnonzero(symbols == sym)
        sel = sel[np.argsort(entry_ts[sel], kind="stable")]
        entries = np.searchsorted(d["ts"], entry_ts[sel])
        exits = np.searchsorted(d["ts"], exit_ts[sel])
        # Which trades are taken is sequential; the returns of those taken, which never
        # overlap, are then written for all of them at once.
        keep = []
        last_exit = -1
        for i, (e_, x_) in enumerate(zip(entries.tolist(), exits.tolist())):
            if e_ <= last_exit or e_ >= n:
                continue
            keep.append(i)
            last_exit = x_
        e, x = entries[keep], exits[keep]
        side = sides[sel][keep]
        entry = entry_px[sel][keep]
        exit_ = exit_px[sel][keep]
        # Bars strictly inside a trade earn its side x close-to-close (+ 0.0: no -0.0 outside).
        inside = x > e + 1
        step = np.zeros(n + 1)
        step[e[inside] + 1] = side[inside]
        step[x[inside]] -= side[inside]
        ret = np.cumsum(step)[:n] * d["cc"] + 0.0
        same = x == e
        ret[e[same]] = side[same] * (exit_[same] / entry[same] - 1.0) - cost - cost
        apart = ~same
        ea, xa, sa = e[apart], x[apart], side[apart]
        ret[ea] = sa * (d["close"][ea] / entry[apart] - 1.0) - cost
        ret[xa] = sa * (exit_[apart] / d["close"][xa - 1] - 1.0) - cost
        if len(keep):
            counts[sym] = len(keep)
        taken += len(keep)
        lengths += (x - e + 1).tolist()
        buys += int((side > 0).sum())
        per_symbol[sym] = ret
        in_pos += int((x - e + 1).sum())
        n_bars += n
    return bars.panel(per_symbol), {
        "trades": taken, "exposure": in_pos / n_bars if n_bars else 0.0, "per_symbol": counts,
        "lengths": np.asarray(lengths, int), "buy_share": buys / taken if taken else 0.5}


def random_sharpes(trades_per_symbol: Mapping[str, int], lengths: np.ndarray, bars: _Bars,
                   cost: float, ppy: float, seed: int, buy_share: float = 0.5,
                   draws: int = 1) -> np.ndarray:
    """The Sharpe ratios of ``draws`` draws of random signals like the trades a strategy took:
    the same number per symbol, holding lengths drawn from theirs, the same share of BUYs;
    random non-overlapping entries at the open, held to the end of the drawn length. Drawn
    and followed natively (``gs::random_trade_sharpes``), seeded by ``seed``."""
    one = len(bars.symbols) == 1
    symbols = [(d["cc"], d["oc"], _NO_SLOTS if one else bars.slots[sym],
                int(trades_per_symbol.get(sym, 0))) for sym, d in bars.symbols.items()]
    return _core.random_trade_sharpes(symbols, np.asarray(lengths, np.int64), float(buy_share),
                                      cost, ppy, draws, seed, len(bars.times))


_NO_SLOTS = np.empty(0, np.int64)


def buy_and_hold_returns(bars: _Bars) -> np.ndarray:
    return bars.panel({s: np.concatenate([[0.0], d["cc"][1:]]) for s, d in bars.symbols.items()})


def magnitude_score(rows: pd.DataFrame) -> float:
    """After Lean's insight magnitude score: for each forecast with a target, the predicted
    move is |target / entry - 1| and the actual one side x forward return; the score is
    1 - |actual - predicted| / predicted, clipped to [0, 1], and 0 when the direction was
    wrong. The mean over the forecasts that have a target (NaN when none has)."""
    target = np.asarray(pd.to_numeric(np.asarray(rows["target_price"]), errors="coerce"), float)
    ok = np.isfinite(target)
    if not ok.any():
        return math.nan
    entry = np.asarray(rows["entry_price"], float)[ok]
    predicted = np.abs(target[ok] / entry - 1.0)
    actual = np.asarray(rows["side"], float)[ok] * np.asarray(rows["forward_return"], float)[ok]
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(predicted > 0, 1.0 - np.abs(actual - predicted) / predicted, 0.0)
    score = np.where(actual > 0, np.clip(score, 0.0, 1.0), 0.0)
    return float(score.mean())


# What score_source reads of a source's forecasts.
_SCORE_COLUMNS = ("symbol", "decided_ts_ms", "hit", "confidence", "forward_return", "side",
                  "entry_ts_ms", "exit_ts_ms", "entry_price", "exit_price", "target_price")


def score_source(rows: pd.DataFrame, *, horizon: int, base: float, bars: _Bars, cost: float,
                 ppy: float, analyses: int, random_draws: int, seed: int) -> dict[str, Any]:
    """Every figure of one source (an agent's votes, or the consensus's signals); ``rows``: a
    DataFrame or a dict of columns, at least those of ``_SCORE_COLUMNS``."""
    cols = {k: np.asarray(rows[k]) for k in _SCORE_COLUMNS}
    order = np.lexsort((cols["symbol"].astype(str), cols["decided_ts_ms"]))
    rows = {k: v[order] for k, v in cols.items()}
    n = len(order)
    y = rows["hit"].astype(float)
    hits = int(y.sum())
    conf = rows["confidence"].astype(float)
    fwd = rows["forward_return"].astype(float)
    side = rows["side"].astype(float)
    lo, hi = m.wilson_interval(hits, n)
    p_ref = np.where(side > 0, base, 1.0 - base)
    # Forecasts of one symbol overlap for horizon - 1 bars; with several symbols the rows of
    # one bar interleave, so the overlap spans that many more rows.
    lags = max(horizon - 1, 0) * max(len(set(rows["symbol"].tolist())), 1) if n else 0
    ic = m.information_coefficient(side * conf, fwd, lags=lags)
    rets, info = trade_returns(rows, bars, cost)
    sharpe_t, sharpe_p = m.sharpe_t(rets)
    out: dict[str, Any] = {
        "analyses": analyses,
        "forecasts": n,
        "coverage": n / analyses if analyses else math.nan,
        "buy_share": float((side > 0).mean()) if n else math.nan,
        "hit_rate": hits / n if n else math.nan,
        "hit_rate_lo": lo,
        "hit_rate_hi": hi,
        "always_buy_hit_rate": float((fwd > 0).mean()) if n else math.nan,
        "base_rate": base,
        "mean_forward_return": float((side * fwd).mean()) if n else math.nan,
        "direction_score": hits / n if n else math.nan,
        "magnitude_score": magnitude_score(rows),
        "brier": m.brier_score(conf, y),
        "brier_skill": m.brier_skill_score(conf, y, p_ref),
        "log_loss": m.log_loss(conf, y),
        "ece": m.expected_calibration_error(conf, y),
        "ic": ic["ic"],
        "ic_t": ic["ic_t"],
        "rank_ic": ic["rank_ic"],
        "rank_ic_t": ic["rank_ic_t"],
        "trades": info["trades"],
        "total_return": m.total_return(rets),
        "sharpe": m.sharpe(rets, ppy),
        "sharpe_t": sharpe_t,
        "sharpe_p": sharpe_p,
        "sortino": m.sortino(rets, ppy),
        "max_drawdown": m.max_drawdown(rets),
        "exposure": info["exposure"],
        "turnover": 2.0 * info["trades"] * ppy / max(len(bars.times), 1),
    }
    if random_draws > 0 and info["trades"] > 0:
        sh = random_sharpes(info["per_symbol"], info["lengths"], bars, cost, ppy, seed,
                            info["buy_share"], random_draws)
        sh = sh[np.isfinite(sh)]
        if len(sh):
            out["random_sharpe_mean"] = float(sh.mean())
            out["random_sharpe_p95"] = float(np.quantile(sh, 0.95))
            out["sharpe_percentile_vs_random"] = (float((sh < out["sharpe"]).mean())
                                                  if np.isfinite(out["sharpe"]) else math.nan)
    return {"figures": out, "returns": rets}


def backtest(
    data: Any,
    agents: Any = None,
    *,
    horizon: int = 5,
    costs_bps: float = 0.0,
    interval: int | None = None,
    exits: str = "levels",
    entry_delay: int = 0,
    score_from: Any = None,
    random_draws: int = 200,
    seed: int = 0,
    calibrate: bool | str = False,
    adaptive_weights: bool = False,
    weight_floor: float = 0.25,
    weight_cap: float = 2.0,
    progress: bool | None = None,
    **settings: Any,
) -> Any:
    """Replays ``data`` through a Runtime with ``agents`` and scores every signal and every
    agent's BUY/SELL vote; returns a :class:`BacktestReport`.

    ``data``: what :func:`goldensignals.datasets.load` takes (``"sp500"``, ``"nasdaq"``,
    ``"random"``, a CSV path, a DataFrame). ``agents``: None for the built-in panel, or a
    list of built-in names, ``module:object`` specs, :class:`goldensignals.Agent` instances
    and callables. ``horizon``: bars each forecast is judged over; ``costs_bps``: fees and
    half-spread per side; ``interval``: bars of market time without an analysis that trigger
    one (default: the horizon; a 1% move triggers one too); ``exits``: ``"levels"`` (target,
    stop or horizon) or ``"horizon"``; ``entry_delay``: extra bars before the entry;
    ``score_from``: only forecasts made from this time on are scored (earlier bars warm the
    agents up); ``random_draws`` random-signal baselines with ``seed``.

    ``calibrate``: True, ``"isotonic"`` or ``"platt"`` adds the row ``consensus_calibrated``:
    the same signals with their confidence mapped, walk-forward, to the hit rate of the
    signals whose horizon had already closed. ``adaptive_weights``: each agent's weight
    follows its own scored track record (between ``weight_floor`` and ``weight_cap`` times
    its weight; the reason is in each signal's reasoning); the row ``consensus_static`` is
    the same run with fixed weights, for the before and after. Other keywords are Runtime
    settings (``agent_min_confidence``, ``agent_consensus_threshold``...).
    """
    from .report import BacktestReport

    for name, value, lo, hi in (("horizon", horizon, 1, 10_000), ("entry_delay", entry_delay, 0,
                                10_000), ("random_draws", random_draws, 0, 100_000),
                               ("seed", seed, 0, 2**63 - 1)):
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise _core.InvalidArgumentError(
                f"backtest: {name} {value!r} is not accepted; expected an integer from {lo} "
                f"to {hi}")
    if not (isinstance(costs_bps, (int, float)) and 0 <= costs_bps <= 10_000):
        raise _core.InvalidArgumentError(
            f"backtest: costs_bps {costs_bps!r} is not accepted; expected basis points per side "
            "from 0 to 10000")
    label = data if isinstance(data, str) else type(data).__name__
    frame = datasets.load(data)
    t0 = None
    if score_from is not None:
        try:
            t0 = pd.Timestamp(score_from)
        except (ValueError, TypeError):
            raise _core.InvalidArgumentError(
                f"backtest: score_from {score_from!r} is not accepted; expected a date or "
                "time, e.g. '2013-01-01'") from None
        t0 = t0.tz_localize("UTC") if t0.tzinfo is None else t0.tz_convert("UTC")
    # Analyses each source took part in are counted by the scorer, from score_from on.
    t0_ms = None if t0 is None else int(t0.value // 1_000_000)

    method = None
    if calibrate:
        method = "isotonic" if calibrate is True else calibrate
        if method not in METHODS:
            raise _core.InvalidArgumentError(
                f"backtest: calibrate {calibrate!r} is not accepted; expected False, True, "
                "'isotonic' or 'platt'")
    adaptive = {"adaptive_weights": True, "weight_floor": float(weight_floor),
                "weight_cap": float(weight_cap)} if adaptive_weights else {}
    if t0_ms is not None:
        adaptive["analyses_from_ms"] = t0_ms
    common = {"horizon": horizon, "costs_bps": float(costs_bps), "interval": interval,
              "exits": exits, "entry_delay": entry_delay, "settings": settings}
    run = run_replay(frame, agents, scoring=adaptive,
                     progress=sys.stderr.isatty() if progress is None else progress, **common)
    fc = forecasts_frame(run["scored"])
    static_fc = None
    if adaptive_weights:  # the same data with the operator's weights: the "before"
        static_fc = forecasts_frame(run_replay(frame, agents, **common)["scored"])
    scored_frame = frame
    if method is not None:
        sel = fc["consensus"].to_numpy()
        cal = np.full(len(fc), np.nan)
        cal[sel] = walk_forward_calibrate(
            fc.loc[sel, "confidence"], fc.loc[sel, "hit"], fc.loc[sel, "decided_ts_ms"],
            _closed_ms(fc.loc[sel], horizon, _Bars(frame)), method=method)
        fc["calibrated_confidence"] = cal
    if t0 is not None:
        fc = fc[fc["decided_time"] >= t0].reset_index(drop=True)
        if static_fc is not None:
            static_fc = static_fc[static_fc["decided_time"] >= t0].reset_index(drop=True)
        scored_frame = frame[frame.index >= t0]
    bars = _Bars(scored_frame)
    ppy = periods_per_year(run["bar_seconds"])
    cost = float(costs_bps) / 1e4
    base = base_rate(bars, horizon, entry_delay)
    scores = run["scores"] or {}
    took_part = {a["name"]: a["analyses"] for a in scores.get("agents", [])}
    took_part["consensus"] = (scores.get("consensus") or {}).get("analyses", 0)
    # (row name, forecasts, analyses, random draws, seed): the consensus and each agent, then
    # the consensus calibrated and with fixed weights when asked for.
    cols = {k: fc[k].to_numpy() for k in _SCORE_COLUMNS}
    is_consensus = fc["consensus"].to_numpy(bool)
    source = fc["source"].to_numpy()
    consensus = {k: v[is_consensus] for k, v in cols.items()}
    parts = [("consensus", consensus, took_part["consensus"], random_draws, seed)]
    for k, a in enumerate(run["agents"], start=1):
        mine = ~is_consensus & (source == a)
        parts.append((a, {c: v[mine] for c, v in cols.items()}, took_part.get(a, 0), 0, seed + k))
    if method is not None:
        calibrated = fc["calibrated_confidence"].to_numpy(float)[is_consensus]
        parts.append(("consensus_calibrated", {**consensus, "confidence": calibrated},
                      took_part["consensus"], random_draws, seed))
    if static_fc is not None:
        static = static_fc[static_fc["consensus"].to_numpy(bool)]
        parts.append(("consensus_static", {k: static[k].to_numpy() for k in _SCORE_COLUMNS},
                      took_part["consensus"], random_draws, seed))
    rows, reliability, curves = {}, {}, {}
    for name, part, analyses, draws, part_seed in parts:
        res = score_source(part, horizon=horizon, base=base, bars=bars, cost=cost, ppy=ppy,
                           analyses=analyses, random_draws=draws, seed=part_seed)
        rows[name] = res["figures"]
        reliability[name] = m.reliability_table(np.asarray(part["confidence"], float),
                                                np.asarray(part["hit"], float))
        if name in ("consensus", "consensus_static"):
            curves[name] = res["returns"]
    bh = buy_and_hold_returns(bars)
    times = pd.to_datetime(bars.times, unit="ms", utc=True)
    equity = pd.DataFrame({**{k: np.cumprod(1.0 + v) for k, v in curves.items()},
                           "buy_and_hold": np.cumprod(1.0 + bh)}, index=times)
    metrics = pd.DataFrame.from_dict(rows, orient="index")
    metrics.loc["buy_and_hold", ["total_return", "sharpe", "sortino", "max_drawdown", "exposure"]] = [
        m.total_return(bh), m.sharpe(bh, ppy), m.sortino(bh, ppy), m.max_drawdown(bh), 1.0]
    metrics.index.name = "source"
    open_left = sum(a["open"] for a in scores.get("agents", []))
    meta = {
        "data": label,
        "symbols": sorted(frame["symbol"].unique().tolist()),
        "bars": len(frame),
        "first_bar": frame.index[0].isoformat() if len(frame) else None,
        "last_bar": frame.index[-1].isoformat() if len(frame) else None,
        "scored_from": (scored_frame.index[0].isoformat() if len(scored_frame) else None),
        "horizon": horizon,
        "costs_bps": float(costs_bps),
        "interval": horizon if interval is None else interval,
        "exits": exits,
        "entry_delay": entry_delay,
        "calibrate": method,
        "adaptive_weights": ({"floor": float(weight_floor), "cap": float(weight_cap)}
                             if adaptive_weights else None),
        "periods_per_year": ppy,
        "agents": run["agents"],
        "seed": seed,
        "random_draws": random_draws,
        "cpu_seconds": run["cpu_seconds"],
        "wall_seconds": run["wall_seconds"],
        "bars_per_cpu_second": run["bars"] / max(run["cpu_seconds"], 1e-9),
        "unscored": int((scores.get("consensus") or {}).get("open", 0)),
        "unscored_votes": int(open_left),
        "analyses": int(run["status"]["orchestrator"]["analyses_completed"]),
        "settings": dict(settings),
    }
    return BacktestReport(signals=signals_frame(fc, run["agents"]), forecasts=fc, metrics=metrics,
                          equity=equity, reliability=reliability, meta=meta)
