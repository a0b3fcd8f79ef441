"""Backtest speed: gs.backtest against backtesting.py (PyPI `backtesting`, a peer measured in
the same run), and what scoring costs over a plain replay.

1. The same strategy both ways: a 10/30-bar moving-average crossover, long above and short
   below, decided on every bar. Ours is a Python agent asked on every bar (interval 1)
   through the runtime, with the native scorer and the report: once computing its averages
   from ctx.close on each call, once looking them up after computing them in prepare();
   backtesting.py's is a `Strategy.next` over indicators precomputed with `self.I`. Bars per CPU-second of the
   process, one symbol (arch's S&P 500, 5,031 bars) and five (gs.datasets.multi(): five
   stocks, 15,174 bars; backtesting.py runs each symbol on its own and the times add up).
2. The five built-in native agents over the S&P 500: a replay with no agents, the same
   replay with the agents, that replay with every forecast scored (the native scorer, no
   report), and gs.backtest (the agents, scoring and the whole report).

Each set-up runs ROUNDS times, interleaved; the tables give medians.
Run: .venv/bin/python bench/backtest.py [--rounds R] [--out PATH]
Writes bench/results/backtest-<UTC date>.json, or PATH.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

import goldensignals as gs
import numpy as np
import pandas as pd
from goldensignals.evaluation.backtest import run_replay

HERE = Path(__file__).resolve().parent
FAST, SLOW = 10, 30


def sma_cross(ctx: gs.AgentContext) -> gs.Vote | None:
    c = ctx.close
    if len(c) < SLOW:
        return None
    return gs.Vote("BUY" if c[-FAST:].mean() > c[-SLOW:].mean() else "SELL", 0.7)


class SmaPrepared(gs.Agent):
    """The crossover with its averages computed once in prepare(), as backtesting.py's
    self.I does; analyze() looks up the bar's values (each from data up to that bar)."""

    name = "sma_prepared"

    def prepare(self, data: pd.DataFrame) -> None:
        self.at: dict[tuple[str, int], bool] = {}
        for sym, g in data.groupby("symbol"):
            c = g["close"]
            above = (c.rolling(FAST).mean() > c.rolling(SLOW).mean()).to_numpy()
            ok = c.rolling(SLOW).count().to_numpy() >= SLOW
            for t, a, k in zip(g.index.as_unit("ms").asi8.tolist(), above.tolist(), ok.tolist()):
                if k:
                    self.at[(str(sym), t)] = a

    def analyze(self, ctx: gs.AgentContext) -> gs.Vote | None:
        above = self.at.get((ctx.symbol, int(ctx.time[-1])))
        if above is None:
            return None
        return gs.Vote("BUY" if above else "SELL", 0.7)


def ours(frame: pd.DataFrame, agent: Any = sma_cross) -> float:
    """CPU seconds of gs.backtest with the crossover agent asked on every bar."""
    t0 = time.process_time()
    gs.backtest(frame, [agent], horizon=5, interval=1, costs_bps=2, random_draws=0,
                progress=False, min_agents_for_signal=1)
    return time.process_time() - t0


def ours_prepared(frame: pd.DataFrame) -> float:
    return ours(frame, SmaPrepared())


def peer(frame: pd.DataFrame) -> float:
    """CPU seconds of backtesting.py's run() of the same crossover, symbol by symbol."""
    from backtesting import Backtest, Strategy

    def sma(values: Any, n: int) -> Any:
        return pd.Series(values).rolling(n).mean().to_numpy()

    class SmaCross(Strategy):
        def init(self) -> None:
            self.fast = self.I(sma, self.data.Close, FAST)
            self.slow = self.I(sma, self.data.Close, SLOW)

        def next(self) -> None:
            if self.fast[-1] > self.slow[-1]:
                if not self.position.is_long:
                    self.buy()
            elif not self.position.is_short:
                self.sell()

    total = 0.0
    for _, g in frame.groupby("symbol"):
        df = g.rename(columns=str.capitalize)[["Open", "High", "Low", "Close", "Volume"]]
        df.index = df.index.tz_localize(None)
        bt = Backtest(df, SmaCross, cash=1e12, commission=0.0002, exclusive_orders=True,
                      finalize_trades=True)
        t0 = time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bt.run()
        total += time.process_time() - t0
    return total


def replay_cpu(frame: pd.DataFrame, agents: Any, score: bool) -> float:
    run = run_replay(frame, agents if agents else [], horizon=5, score=score)
    return float(run["cpu_seconds"])


def backtest_cpu(frame: pd.DataFrame) -> float:
    t0 = time.process_time()
    gs.backtest(frame, None, horizon=5, costs_bps=2, progress=False)
    return time.process_time() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", type=Path, default=None,
                    help="where the JSON goes (default: bench/results/backtest-<UTC date>.json)")
    args = ap.parse_args()
    spx, multi = gs.datasets.sp500(), gs.datasets.multi()
    sets = {"1 symbol (S&P 500)": spx, "5 symbols (multi)": multi}
    who_all = ("ours", "ours, prepare()", "backtesting.py")
    speed: dict[str, dict[str, list[float]]] = {k: {w: [] for w in who_all} for k in sets}
    panel: dict[str, list[float]] = {"replay, no agents": [], "replay, 5 agents": [],
                                     "replay, 5 agents, scored": [],
                                     "gs.backtest, 5 agents": []}
    for r in range(args.rounds):
        for name, frame in sets.items():
            order = [("ours", ours), ("ours, prepare()", ours_prepared), ("backtesting.py", peer)]
            for who, fn in order if r % 2 == 0 else order[::-1]:
                speed[name][who].append(len(frame) / fn(frame))
        panel["replay, no agents"].append(replay_cpu(spx, None, score=False))
        panel["replay, 5 agents"].append(replay_cpu(spx, "builtin", score=False))
        panel["replay, 5 agents, scored"].append(replay_cpu(spx, "builtin", score=True))
        panel["gs.backtest, 5 agents"].append(backtest_cpu(spx))
        print(f"round {r + 1}/{args.rounds} done", flush=True)

    med = {k: {w: statistics.median(v) for w, v in d.items()} for k, d in speed.items()}
    fastest = {k: {w: max(v) for w, v in d.items()} for k, d in speed.items()}
    print("\nMoving-average crossover, decided on every bar: bars per CPU-second (median)")
    print(f"{'data':<22}{'ours':>12}{'ratio':>7}{'ours, prepare()':>17}{'ratio':>7}"
          f"{'backtesting.py':>16}")
    for k, d in med.items():
        peer_rate = d["backtesting.py"]
        print(f"{k:<22}{d['ours']:>12,.0f}{d['ours'] / peer_rate:>6.2f}x"
              f"{d['ours, prepare()']:>17,.0f}{d['ours, prepare()'] / peer_rate:>6.2f}x"
              f"{peer_rate:>16,.0f}")
    print("The same, fastest round of each: " + "; ".join(
        f"{k}: " + ", ".join(f"{w} {v:,.0f} ({v / d['backtesting.py']:.2f}x)" for w, v in d.items())
        for k, d in fastest.items()))
    pm = {k: statistics.median(v) for k, v in panel.items()}
    base = pm["replay, no agents"]
    print(f"\nFive built-in agents over the S&P 500 ({len(spx)} bars): CPU seconds (median)")
    # The fastest round of each (the least disturbed by the shared machine) and their ratios.
    best = {k: min(v) for k, v in panel.items()}
    print("\nThe same, fastest round of each: "
          + ", ".join(f"{k} {v:.4f} s ({v / best['replay, 5 agents']:.2f}x)" for k, v in best.items()))
    # Each round's ratio to the same round's replay with the agents: their spread shows what
    # the shared machine's noise does to the medians' ratio.
    paired = {k: sorted(a / b for a, b in zip(v, panel["replay, 5 agents"]))
              for k, v in panel.items()}
    for k, v in pm.items():
        q = paired[k]
        print(f"{k:<26}{v:>8.3f} s  {len(spx) / v:>10,.0f} bars/CPU-s  "
              f"{v / base:>5.1f}x the bare replay  {v / pm['replay, 5 agents']:>5.2f}x the replay "
              f"with agents (per round: {q[len(q) // 4]:.2f}x-{q[(3 * len(q)) // 4]:.2f}x, "
              "middle half)")
    out = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
        "rounds": args.rounds,
        "crossover_bars_per_cpu_second": {k: {w: v for w, v in d.items()} for k, d in speed.items()},
        "panel_cpu_seconds": panel,
        "medians": {"crossover": med, "panel": pm},
        "fastest": {"crossover": fastest, "panel": {k: min(v) for k, v in panel.items()}},
        "panel_ratio_to_replay_with_agents_per_round": paired,
        "versions": {"goldensignals": gs.__version__,
                     "backtesting": __import__("backtesting").__version__,
                     "numpy": np.__version__, "pandas": pd.__version__},
    }
    path = args.out or HERE / "results" / f"backtest-{dt.datetime.now(dt.timezone.utc):%Y-%m-%d}.json"
    path.write_text(json.dumps(out, indent=1))
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
