"""Signal store cost: fan-out with the history store on vs off.

The native server (``goldensignals-server --bench-*``) publishes ``signal_update`` messages
into one room through its real path (with history on: appended to the store, committed by
the store's thread, then handed to the network thread, which fans them out; the publisher
keeps at most 160 messages per subscriber unsent, so nothing is dropped), and the C++ load client
``goldensignals-bench`` holds 1,000 (--quick: 100) loopback connections in that room, as in
bench/fanout.py (its harness is used here). Each run starts a fresh server, once with
``--db off`` and once with ``--db <new SQLite file>``, for 7 rounds (--quick: 1), off then on
in odd rounds and on then off in even ones.

- flat out, 2 s: messages delivered per second (the fan-out throughput) and per server
  CPU-second (the server's utime+stime over the measured window, the primary figure of
  bench/fanout.py); with history on, rows committed per second (the file's rows after the
  run over the client's measuring window) and the store thread's (gs-store) share of the
  server's CPU over the whole run;
- fixed rate (100 messages/s for 3 s, well below saturation): publish ->
  receive latency p50/p99 with the store off and on.
Target (issue 5): the store costs less than 10% of fan-out throughput: 1 - on/off of
messages delivered per second. Each round's cost compares its two back-to-back runs; the
cost is the median of the rounds' costs. The same is printed per server CPU-second: the
CPU the store takes, which is what it would cost a server whose every core fans out.

Run: .venv/bin/python bench/store.py [--quick] [-v]   (after `make install`)
Writes bench/results/store-<UTC date>.json (with --quick: bench/results/quick-store-<date>.json).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fanout import Harness, fmt, harness_parser, parse_harness_args, raise_fd_limit

HERE = Path(__file__).resolve().parent
TARGET_COST = 0.10
LATENCY_RATE = 100.0  # messages/s: the rate fanout.py's latency scenario uses


def rows_in(db: Path) -> int:
    """The benchmark room's rows in the history file (the server stopped)."""
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return c.execute("SELECT COUNT(*) FROM messages WHERE symbol = 'BENCH'").fetchone()[0]
    finally:
        c.close()


def pct(v: float | None) -> str:
    return "-" if v is None else f"{v * 100:.1f}%"


def main() -> int:
    ap = harness_parser(__doc__)
    ap.add_argument("--subscribers", type=int, default=None, help="default 1,000 (--quick: 100)")
    args, rounds = parse_harness_args(ap, duration=2.0, rounds=7)
    subs = args.subscribers or (100 if args.quick else 1000)
    latency_s = 1.0 if args.quick else 3.0
    h = Harness(args)
    raise_fd_limit()

    runs: list[dict] = []
    # 1 - on/off of each round's two flat-out runs: messages delivered per second (the fan-out
    # throughput) and per server CPU-second.
    paired: list[float] = []
    paired_cpu: list[float] = []
    t_start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gs-bench-store-") as tmp:
        n = 0

        def run(store: bool, load: str, **kw) -> dict:
            nonlocal n
            n += 1
            db = Path(tmp) / f"history-{n}.db"
            r = h.run("ours", connections=subs, db=str(db) if store else "off", **kw)
            r.update(store=store, load=load)
            r["msgs_per_s"] = r["messages"] / r["window_s"] if r["window_s"] > 0 else None
            r["rows"] = rows_in(db) if store else None
            r["rows_per_s"] = (r["rows"] / r["window_s"]
                               if store and r["window_s"] > 0 else None)
            threads = r.get("server_threads_cpu_s") or {}
            total = sum(threads.values())
            r["store_thread_cpu_s"] = threads.get("gs-store", 0.0) if store else None
            r["store_thread_share"] = (r["store_thread_cpu_s"] / total
                                       if store and total > 0 else None)
            r["ok"] = (r["errors"] == 0 and r["ready"] == subs
                       and r["min_per_connection"] == r["max_per_connection"] > 0
                       and (not store or r["rows"] >= r["max_per_connection"]))
            runs.append(r)
            return r

        for rnd in range(rounds):
            print(f"round {rnd + 1}/{rounds} ({time.monotonic() - t_start:.0f} s)", flush=True)
            # off, on in odd rounds; on, off in even ones: drift over the run cancels out.
            order = (False, True) if rnd % 2 == 0 else (True, False)
            pair = {}
            for store in order:
                r = run(store, "flat out", queue=100000)
                pair[store] = r
                print(f"  flat out   store {'on ' if store else 'off'}: "
                      f"{fmt(r['msgs_per_server_cpu_s'])} msg/server CPU-s, "
                      f"{r['messages']:,} delivered in {r['window_s']:.2f} s"
                      + (f", {r['rows']:,} rows ({fmt(r['rows_per_s'])}/s), store thread "
                         f"{r['store_thread_share'] * 100:.1f}% of the server's CPU"
                         if store and r["store_thread_share"] is not None else "")
                      + ("" if r["ok"] else f"  NOT OK: {r['first_error'] or 'missing messages'}"),
                      flush=True)
            off_r, on_r = pair[False], pair[True]
            if (off_r["ok"] and on_r["ok"] and off_r["msgs_per_s"] and on_r["msgs_per_s"]
                    and off_r["msgs_per_server_cpu_s"] and on_r["msgs_per_server_cpu_s"]):
                paired.append(1 - on_r["msgs_per_s"] / off_r["msgs_per_s"])
                paired_cpu.append(
                    1 - on_r["msgs_per_server_cpu_s"] / off_r["msgs_per_server_cpu_s"])
                print(f"  this round's cost: {pct(paired[-1])} of messages per second, "
                      f"{pct(paired_cpu[-1])} per server CPU-second", flush=True)
            for store in (False, True):
                r = run(store, "fixed rate", rate=LATENCY_RATE, duration=latency_s)
                print(f"  {LATENCY_RATE:g} msg/s  store {'on ' if store else 'off'}: "
                      f"p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms"
                      + ("" if r["ok"] else f"  NOT OK: {r['first_error'] or 'missing messages'}"),
                      flush=True)
    elapsed = time.monotonic() - t_start

    def med(load: str, store: bool, key: str) -> float | None:
        vals = [r[key] for r in runs
                if r["load"] == load and r["store"] == store and r["ok"] and r[key] is not None]
        return statistics.median(vals) if vals else None

    off, on = med("flat out", False, "msgs_per_server_cpu_s"), med("flat out", True,
                                                                   "msgs_per_server_cpu_s")
    # The costs are the medians of the rounds' own costs: each compares two runs made back to
    # back, so a machine that is faster or slower for a while moves both alike.
    cost = statistics.median(paired) if paired else None
    cpu_cost = statistics.median(paired_cpu) if paired_cpu else None
    summary = {
        "msgs_per_server_cpu_s_off": off,
        "msgs_per_server_cpu_s_on": on,
        "delivered_per_s_off": med("flat out", False, "msgs_per_s"),
        "delivered_per_s_on": med("flat out", True, "msgs_per_s"),
        "rows_committed_per_s": med("flat out", True, "rows_per_s"),
        "latency_rate": LATENCY_RATE,
        "p50_ms_off": med("fixed rate", False, "p50_ms"),
        "p50_ms_on": med("fixed rate", True, "p50_ms"),
        "p99_ms_off": med("fixed rate", False, "p99_ms"),
        "p99_ms_on": med("fixed rate", True, "p99_ms"),
        "all_ok": all(r["ok"] for r in runs),
        "throughput_cost": cost,
        "round_costs": paired,
        "cpu_cost": cpu_cost,
        "round_cpu_costs": paired_cpu,
        "store_thread_share": med("flat out", True, "store_thread_share"),
        "target_cost": TARGET_COST,
        "meets_target": cost is not None and cost < TARGET_COST,
    }
    lines = [f"| figure ({subs:,} subscribers, 1 room) | store off | store on |",
             "| --- | ---: | ---: |",
             f"| flat out: messages delivered per server CPU-second | {fmt(off)} | {fmt(on)} |",
             f"| flat out: messages delivered per second | {fmt(summary['delivered_per_s_off'])}"
             f" | {fmt(summary['delivered_per_s_on'])} |",
             f"| flat out: rows committed per second | - | "
             f"{fmt(summary['rows_committed_per_s'])} |",
             f"| flat out: the store thread's share of the server's CPU | - | "
             f"{pct(summary['store_thread_share'])} |"]
    for q in ("p50", "p99"):
        lines.append(f"| {LATENCY_RATE:g} msg/s: publish -> receive {q}, ms | "
                     f"{fmt(summary[f'{q}_ms_off'], 'ms')} | {fmt(summary[f'{q}_ms_on'], 'ms')} |")
    print()
    print("\n".join(lines))
    spread = {store: [fmt(r["msgs_per_server_cpu_s"]) for r in runs
                      if r["load"] == "flat out" and r["store"] == store]
              for store in (False, True)}
    summary["runs_off"], summary["runs_on"] = spread[False], spread[True]
    print(f"\n(medians of {rounds} round(s); {elapsed:.0f} s; messages per server CPU-second, "
          f"round by round: off {', '.join(spread[False])}; on {', '.join(spread[True])})")
    print(f"every subscriber got every message, every message stored: {summary['all_ok']}")
    print(f"store cost to fan-out throughput: {pct(cost)} of messages delivered per second, the "
          f"median of the rounds' costs ({', '.join(pct(c) for c in paired)}); "
          f"target < {TARGET_COST * 100:.0f}%: {'met' if summary['meets_target'] else 'NOT met'}")
    print(f"store cost in server CPU: {pct(cpu_cost)} of messages per server CPU-second "
          f"({', '.join(pct(c) for c in paired_cpu)}): what it would cost the throughput of a "
          f"server whose every core is busy fanning out")

    now = dt.datetime.now(dt.timezone.utc)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    path = Path(args.out) if args.out else results / (
        f"{'quick-' if args.quick else ''}store-{now:%Y-%m-%d}.json")
    path.write_text(json.dumps({
        "benchmark": "store", "utc": now.isoformat(timespec="seconds"), "quick": args.quick,
        "rounds": rounds, "subscribers": subs, "duration_s": args.duration,
        "latency_s": latency_s,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "client": "goldensignals-bench (C++), loopback", "elapsed_s": elapsed,
        "markdown": "\n".join(lines), "median": summary, "runs": runs}, indent=1) + "\n")
    print(f"wrote {path}")
    return 0 if summary["all_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
