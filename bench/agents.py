"""Agent throughput: the five native built-in agents against their pure-Python peer.

Replays arch's bundled S&P 500 daily OHLCV (no network) through a fresh market state per
repeat and, once the indicators are warm, evaluates all five agents on every bar. Native and
Python runs alternate (native, python, native, python, ...) ROUNDS times; the table shows
medians. Targets (the project's issue): >= 1,000,000 native agent evaluations per CPU-second,
and >= 50x the Python peer. Writes bench/results/agents-<UTC date>.json.

Run: .venv/bin/python bench/agents.py   (after `make install` and `make test-py`)
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "peers"))

import python_agents as peer
from native import load

gs_bench = load()

ROUNDS = 3
NATIVE_REPEATS = 20  # replays per native run (~0.5 s)
PYTHON_REPEATS = 1  # replays per Python run
TARGET_NATIVE = 1_000_000
TARGET_RATIO = 50.0


def load_sp500() -> list[np.ndarray]:
    from arch.data import sp500

    df = sp500.load()
    return [np.ascontiguousarray(df[k].to_numpy(dtype=np.float64))
            for k in ("Open", "High", "Low", "Close", "Volume")]


def agreement(cols: list[np.ndarray]) -> dict:
    """Compares the peer's votes with the native ones, bar by bar, agent by agent."""
    actions, conf, names, reasons = gs_bench.builtin_agent_votes(*cols, with_reasoning=True)
    py_votes = peer.agent_votes(*(c.tolist() for c in cols))
    same_action = same_reason = compared = 0
    max_conf_diff = 0.0
    per_agent = {n: 0 for n in names}
    for i, row in enumerate(py_votes):
        for j, vote in enumerate(row):
            if i < peer.WARMUP:
                continue
            compared += 1
            native = int(actions[i, j])
            if vote is None:
                ok = native == -1
                same_reason += ok
            else:
                ok = native == vote[0]
                if ok:
                    max_conf_diff = max(max_conf_diff, abs(conf[i, j] - vote[1]))
                    same_reason += tuple(vote[2]) == reasons[i][j]
            same_action += ok
            per_agent[names[j]] += ok
    per_bar = compared // len(names)
    return {
        "compared": compared,
        "action_agreement": same_action / compared,
        "reasoning_agreement": same_reason / compared,
        "max_confidence_diff": max_conf_diff,
        "per_agent": {n: k / per_bar for n, k in per_agent.items()},
    }


def main() -> int:
    t_start = time.perf_counter()
    cols = load_sp500()
    agree = agreement(cols)
    lists = [c.tolist() for c in cols]
    runs: dict[str, list[dict]] = {"native": [], "python": []}
    for _ in range(ROUNDS):
        runs["native"].append(gs_bench.native_agents(*cols, repeats=NATIVE_REPEATS))
        runs["python"].append(peer.bench(*lists, repeats=PYTHON_REPEATS))

    def med(side: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[side])

    def end_to_end(r: dict) -> float:  # evaluations per CPU-second of the whole loop
        return r["evaluations"] / r["cpu_seconds"]

    nat_eval = med("native", "evaluations_per_cpu_second")
    py_eval = med("python", "evaluations_per_cpu_second")
    nat_e2e = statistics.median(end_to_end(r) for r in runs["native"])
    py_e2e = statistics.median(end_to_end(r) for r in runs["python"])
    nat_bars = med("native", "bars_per_cpu_second")
    py_bars = med("python", "bars_per_cpu_second")
    ratio = nat_eval / py_eval
    ok_native = nat_eval >= TARGET_NATIVE
    ok_ratio = ratio >= TARGET_RATIO

    bars = len(cols[0])
    print(f"S&P 500 daily, {bars} bars; agents evaluated from bar {peer.WARMUP} on; "
          f"{ROUNDS} interleaved rounds (native x{NATIVE_REPEATS} replays, "
          f"Python x{PYTHON_REPEATS}); medians")
    print(f"vote agreement (peer vs native): actions {agree['action_agreement']:.2%}, "
          f"reasoning {agree['reasoning_agreement']:.2%}, "
          f"max |confidence diff| {agree['max_confidence_diff']:.2g} "
          f"over {agree['compared']} votes")
    rows = [
        ("agent evaluations / CPU-s (agents only)", nat_eval, py_eval),
        ("agent evaluations / CPU-s (with market)", nat_e2e, py_e2e),
        ("bars / CPU-s (update + snapshot + 5 agents)", nat_bars, py_bars),
    ]
    print(f"{'metric':<46}{'native':>14}{'python':>12}{'ratio':>9}")
    for name, n, p in rows:
        print(f"{name:<46}{n:>14,.0f}{p:>12,.0f}{n / p:>8.1f}x")
    print(f"target native >= {TARGET_NATIVE:,} evals/CPU-s: {'PASS' if ok_native else 'FAIL'}; "
          f"target ratio >= {TARGET_RATIO:.0f}x: {'PASS' if ok_ratio else 'FAIL'}")

    now = dt.datetime.now(dt.timezone.utc)
    out = {
        "benchmark": "agents",
        "utc": now.isoformat(timespec="seconds"),
        "data": {"source": "arch.data.sp500", "bars": bars, "warmup_bars": peer.WARMUP},
        "rounds": ROUNDS,
        "native_repeats": NATIVE_REPEATS,
        "python_repeats": PYTHON_REPEATS,
        "median": {
            "native_evaluations_per_cpu_second": nat_eval,
            "python_evaluations_per_cpu_second": py_eval,
            "ratio": ratio,
            "native_evaluations_per_cpu_second_with_market": nat_e2e,
            "python_evaluations_per_cpu_second_with_market": py_e2e,
            "native_bars_per_cpu_second": nat_bars,
            "python_bars_per_cpu_second": py_bars,
        },
        "targets": {"native_evaluations_per_cpu_second": TARGET_NATIVE, "ratio": TARGET_RATIO,
                    "native_met": ok_native, "ratio_met": ok_ratio},
        "agreement": agree,
        "runs": runs,
        "environment": {"python": sys.version.split()[0], "platform": platform.platform(),
                        "machine": platform.machine(), "processor": cpu_model(),
                        "goldensignals": importlib.metadata.version("goldensignals")},
        "elapsed_seconds": time.perf_counter() - t_start,
    }
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    path = results / f"agents-{now:%Y-%m-%d}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path.relative_to(HERE.parent)} ({out['elapsed_seconds']:.1f} s)")
    return 0


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    sys.exit(main())
