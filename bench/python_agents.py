"""Python agent call overhead: ns per call through the runtime minus a bare Python call.

The runtime path is the real one: a task on the Python executor (persistent thread state),
a context object, the agent call, the vote conversion and the completion hand-off. Calls are
pipelined, as analyses of many symbols are. Prints a table and writes bench/results/.
Target (issue 2): <= 1 us of overhead per call.

Run: .venv/bin/python bench/python_agents.py [--calls N] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

import goldensignals as gs
from native import load

gs_bench = load()

VOTE = gs.Vote("BUY", 0.8, ["bench"])


def agent(ctx):
    return VOTE


def bare_ns(n: int) -> float:
    t0 = time.perf_counter_ns()
    for _ in range(n):
        agent(None)
    return (time.perf_counter_ns() - t0) / n


def runtime_ns(n: int) -> float:
    r = gs_bench.python_agent_calls(agent, n)
    assert r["votes"] == n, r
    return r["seconds"] * 1e9 / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    runtime_ns(10_000)  # warm up threads and caches
    bare, through = [], []
    for _ in range(args.rounds):  # interleaved, so drift hits both alike
        through.append(runtime_ns(args.calls))
        bare.append(bare_ns(args.calls))
    b, t = statistics.median(bare), statistics.median(through)
    overhead = t - b
    rows = [
        ("bare Python call", f"{b:8.1f} ns"),
        ("through the runtime", f"{t:8.1f} ns"),
        ("overhead per call", f"{overhead:8.1f} ns"),
        ("target <= 1000 ns", "holds" if overhead <= 1000 else "MISSED"),
    ]
    print(f"Python agent call overhead ({args.calls} calls x {args.rounds} rounds, medians)")
    for k, v in rows:
        print(f"  {k:<22} {v}")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    (out / f"python-agents-{stamp}.json").write_text(json.dumps({
        "benchmark": "python_agent_call_overhead",
        "machine": platform.platform(),
        "python": platform.python_version(),
        "calls": args.calls,
        "rounds": args.rounds,
        "bare_ns": bare,
        "runtime_ns": through,
        "overhead_ns_median": overhead,
    }, indent=2))


if __name__ == "__main__":
    main()
