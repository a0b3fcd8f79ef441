"""Before and after the one-seam redesign (one journal, one route), in one run.

Two builds of the server publish the same load (cpp/apps/bench/bench_publisher.hpp) to the
same C++ load client over loopback, as bench/fanout.py does: this checkout's
``goldensignals-bench-server`` ("after") and an earlier commit's ``goldensignals-server``
("before", built by scripts/build_baseline.sh with that load generator patched in, its
own code untouched). Each round runs every scenario on both builds, alternating which goes
first, so drift on this shared machine moves both alike.

Scenarios:
  fan-out      signal_update flat out for DURATION s into one room of 1,000 and of 10,000
               subscribers, history off and on: messages delivered per server CPU-second
  prices       price_update at 100 msg/s for 3 s to 100 subscribers, history off and on:
               publish -> receive p50/p99 of the prices.
  prices+signals  the same with an unstamped signal_update published just before every
               10th price, so the history store commits while prices are timed (and that
               price, numbered after the signal, waits for its commit: seq order).
               100 subscribers, so that fanning each price out (about 1 us per frame) does
               not hide the path from publish to the network thread, which is what changed.
               A price a slow client has not been sent yet is replaced by the next one (the
               protocol's rule), so a run counts as complete when every subscriber got prices;
               the share of prices delivered is reported.

Goals (the issue): fan-out within noise of before (the rounds' spread is printed); with
history on, price latency no worse than with history off.

Run: make bench-seam   (builds the baseline, then runs this)
     .venv/bin/python bench/seam.py --before build/baseline/bin [--quick] [-v]
Writes bench/results/seam-<UTC date>.json (with --quick: quick-seam-<date>.json).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fanout import Harness, find_binary, fmt, harness_parser, parse_harness_args, raise_fd_limit

HERE = Path(__file__).resolve().parent
PRICE_RATE = 100.0
SIGNAL_EVERY = 10


def why(r: dict) -> str:
    return r["first_error"] or "missing messages"


def main() -> int:
    ap = harness_parser(__doc__)
    ap.add_argument("--before", default=None,
                    help="bin dir of the earlier build (scripts/build_baseline.sh); "
                         "without it only this checkout is measured")
    args, rounds = parse_harness_args(ap, duration=2.0, rounds=5)
    sizes = [100, 1000] if args.quick else [1000, 10000]
    price_subs = 100
    price_s = 1.0 if args.quick else 3.0
    h = Harness(args)
    builds = ["after"]
    h.ours["after"] = h.ours["ours"]
    if args.before:
        h.ours["before"] = find_binary("goldensignals-server", args.before)
        builds = ["before", "after"]
    raise_fd_limit()
    runs: list[dict] = []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gs-bench-seam-") as tmp:
        n = 0

        def one(build: str, scenario: str, subs: int, store: bool, **kw) -> dict:
            nonlocal n
            n += 1
            db = str(Path(tmp) / f"h{n}.db") if store else "off"
            r = h.run(build, connections=subs, db=db, **kw)
            r.update(build=build, scenario=scenario, subs=subs, store=store)
            if kw.get("rate"):  # prices: replaceable, so a slow client may skip some
                expected = int(kw["rate"] * kw["duration"])
                r["delivered_share"] = r["messages"] / (expected * subs)
                complete = r["min_per_connection"] > 0 and r["max_per_connection"] <= expected
            else:  # signal_updates: ordered, every subscriber gets every one
                complete = r["min_per_connection"] == r["max_per_connection"] > 0
            r["ok"] = r["errors"] == 0 and r["ready"] == subs and complete
            runs.append(r)
            return r

        for rnd in range(rounds):
            print(f"round {rnd + 1}/{rounds} ({time.monotonic() - t0:.0f} s)", flush=True)
            order = builds if rnd % 2 == 0 else builds[::-1]
            for subs in sizes:
                for store in (False, True):
                    for b in order:
                        r = one(b, "fan-out", subs, store, queue=100000)
                        print(f"  fan-out {subs:>6,} history {'on ' if store else 'off'} {b:6}: "
                              f"{fmt(r['msgs_per_server_cpu_s'])} msg/server CPU-s"
                              + ("" if r["ok"] else "  NOT OK: " + why(r)), flush=True)
            for scenario, every in (("prices", 0), ("prices+signals", SIGNAL_EVERY)):
                for store in (False, True):
                    for b in order:
                        r = one(b, scenario, price_subs, store, rate=PRICE_RATE,
                                duration=price_s, kind="price", signal_every=every)
                        print(f"  {scenario:14} history {'on ' if store else 'off'} {b:6}: "
                              f"p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, "
                              f"{r['delivered_share'] * 100:.1f}% delivered"
                              + ("" if r["ok"] else "  NOT OK: " + why(r)), flush=True)
    elapsed = time.monotonic() - t0

    def values(build: str, scenario: str, subs: int, store: bool, key: str) -> list[float]:
        return [r[key] for r in runs if r["build"] == build and r["scenario"] == scenario
                and r["subs"] == subs and r["store"] == store and r["ok"]
                and r[key] is not None]

    def med(*a) -> float | None:
        v = values(*a)
        return statistics.median(v) if v else None

    rows, summary = [], {}
    head = "| figure | " + " | ".join(builds) + (" | after/before |" if len(builds) > 1 else " |")
    lines = [head, "| --- |" + " ---: |" * (len(builds) + (len(builds) > 1))]

    def row(label: str, key: str, scenario: str, subs: int, store: bool, unit: str = "",
            higher_better: bool = True) -> None:
        m = {b: med(b, scenario, subs, store, key) for b in builds}
        spread = {b: [fmt(v, unit) for v in values(b, scenario, subs, store, key)]
                  for b in builds}
        cells = [fmt(m[b], unit) for b in builds]
        ratio = None
        if len(builds) > 1 and m["before"] and m["after"]:
            ratio = m["after"] / m["before"]
            cells.append(f"{ratio:.2f}x")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
        rows.append({"figure": label, "median": m, "rounds": spread, "after_over_before": ratio,
                     "higher_better": higher_better})

    for subs in sizes:
        for store in (False, True):
            row(f"fan-out, {subs:,} subscribers, history {'on' if store else 'off'}: "
                "messages per server CPU-second", "msgs_per_server_cpu_s", "fan-out", subs, store)
    for scenario in ("prices", "prices+signals"):
        for store in (False, True):
            for q in ("p50", "p99"):
                row(f"{scenario} at {PRICE_RATE:g}/s, history {'on' if store else 'off'}: {q}, "
                    "ms", f"{q}_ms", scenario, price_subs, store, "ms", higher_better=False)
    print()
    print("\n".join(lines))
    print(f"\n(medians of {rounds} round(s); {elapsed:.0f} s; each round's values in the JSON)")
    for r in rows:
        print(f"  {r['figure']}: " + "; ".join(f"{b} {', '.join(v)}" for b, v in
                                               r["rounds"].items()))
    for scenario in ("prices", "prices+signals"):
        on = med("after", scenario, price_subs, True, "p99_ms")
        off = med("after", scenario, price_subs, False, "p99_ms")
        if on is not None and off is not None:
            summary[f"{scenario}_p99_on_over_off"] = on / off
            print(f"after, {scenario}: p99 with history on / off = {on / off:.2f}")
    summary["all_ok"] = all(r["ok"] for r in runs)
    print(f"every run complete (every subscriber got every message): {summary['all_ok']}")

    now = dt.datetime.now(dt.timezone.utc)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    path = Path(args.out) if args.out else results / (
        f"{'quick-' if args.quick else ''}seam-{now:%Y-%m-%d}.json")
    before_commit = None
    if args.before and (Path(args.before).parent / "commit").is_file():
        before_commit = (Path(args.before).parent / "commit").read_text().strip()
    path.write_text(json.dumps({
        "benchmark": "seam", "utc": now.isoformat(timespec="seconds"), "quick": args.quick,
        "rounds": rounds, "duration_s": args.duration, "before_commit": before_commit,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "client": "goldensignals-bench (C++), loopback", "elapsed_s": elapsed,
        "markdown": "\n".join(lines), "rows": rows, "summary": summary, "runs": runs},
        indent=1) + "\n")
    print(f"wrote {path}")
    return 0 if summary["all_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
