"""Signal store cost: fan-out throughput and latency with the history store on vs off.

One in-process server (``rt.serve``) per mode; price ticks are published as fast as the
driver can for DURATION seconds with every price stored (``store_prices=True``) when the
store is on, so each broadcast message is also a stored row. SUBSCRIBER_PROCS processes
each hold CONNECTIONS loopback WebSocket clients (the ``websockets`` library) subscribed
to every symbol and count what they receive; every PROBE_EVERY-th tick is a probe whose
send time the driver records, and the subscribers report when they got it, so latency is
publish -> received by a real client. Modes alternate off, on, off, on (ROUNDS times);
the table shows medians. Target (issue 5): the store costs less than 10% of fan-out
throughput. Writes bench/results/store-<UTC date>.json.

Run: .venv/bin/python bench/store.py   (after `make install`)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import multiprocessing as mp
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SYMBOLS = ["AAPL", "NVDA", "MSFT", "TSLA"]
SUBSCRIBER_PROCS = 2
CONNECTIONS = 10  # per subscriber process
DURATION = 4.0
PROBE_EVERY = 200
ROUNDS = 2
TARGET_COST = 0.10


def subscriber(url: str, ready: mp.Queue, out: mp.Queue, stop: mp.Event) -> None:
    import websockets

    async def one(counts: list[int], probes: dict[float, float]) -> None:
        async with websockets.connect(url, max_size=None) as ws:
            await ws.recv()  # welcome
            for s in SYMBOLS:
                await ws.send(json.dumps({"type": "subscribe", "symbol": s}))
            ready.put(1)
            while not stop.is_set():
                try:
                    raw = await asyncio.wait_for(ws.recv(), 0.5)
                except asyncio.TimeoutError:
                    continue
                if '"price_update"' not in raw:
                    continue
                counts[0] += 1
                m = json.loads(raw)
                price = m["data"]["price"]
                if price >= 1_000_000:  # a probe
                    probes.setdefault(price, time.time())

    async def main() -> None:
        counts = [0]
        probes: dict[float, float] = {}
        tasks = [asyncio.create_task(one(counts, probes)) for _ in range(CONNECTIONS)]
        await asyncio.gather(*tasks, return_exceptions=True)
        out.put((counts[0], probes))

    asyncio.run(main())


def run_mode(store: bool, workdir: Path) -> dict:
    import goldensignals as gs

    db = str(workdir / f"bench-{time.monotonic_ns()}.db") if store else "off"
    rt = gs.Runtime(symbols=SYMBOLS, db=db, store_prices=True, analyze_on_start=False,
                    move_threshold=0.99, signal_generation_interval=3e7,
                    ws_message_queue_size=100_000)
    url = rt.serve(host="127.0.0.1", port=0, block=False).replace("http://", "ws://") + "/ws/signals"
    ctx = mp.get_context("spawn")
    ready, out, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=subscriber, args=(url, ready, out, stop)) for _ in range(SUBSCRIBER_PROCS)]
    for p in procs:
        p.start()
    for _ in range(SUBSCRIBER_PROCS * CONNECTIONS):
        ready.get(timeout=60)
    time.sleep(0.3)
    sent: dict[float, float] = {}
    n = 0
    status0 = rt.server_status()
    t0 = time.perf_counter()
    end = t0 + DURATION
    ts = time.time() - 86_400
    while time.perf_counter() < end:
        for s in SYMBOLS:
            n += 1
            if n % PROBE_EVERY == 0:
                price = 1_000_000.0 + n
                sent[price] = time.time()
            else:
                price = 100.0 + (n % 97) * 0.01
            ts += 0.001
            rt.publish_tick(s, price, 1.0, ts=ts)
    elapsed = time.perf_counter() - t0
    time.sleep(1.0)  # let the last messages arrive
    status1 = rt.server_status()
    stop.set()
    received = 0
    got: dict[float, float] = {}
    for _ in procs:
        c, probes = out.get(timeout=60)
        received += c
        for k, v in probes.items():
            got.setdefault(k, v)  # first client to get it
    for p in procs:
        p.join(30)
    rt.stop()
    lat = sorted((got[k] - v) * 1000 for k, v in sent.items() if k in got)
    hist0, hist1 = status0.get("history", {}), status1.get("history", {})
    return {
        "store": store,
        "ticks_published": n,
        "ticks_per_s": n / elapsed,
        "delivered_per_s": received / elapsed,
        "stored_per_s": (hist1.get("written", 0) - hist0.get("written", 0)) / elapsed,
        "commits": hist1.get("commits", 0) - hist0.get("commits", 0),
        "shed": hist1.get("shed", 0),
        "events_dropped": status1["websocket_manager"].get("messages_dropped", 0),
        "probe_p50_ms": statistics.median(lat) if lat else None,
        "probe_p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else None,
        "probes": len(sent),
        "probes_received": len(lat),
    }


def main() -> int:
    runs: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="gs-bench-store-") as tmp:
        for r in range(ROUNDS):
            for store in (False, True):
                res = run_mode(store, Path(tmp))
                runs.append(res)
                print(f"round {r + 1} store={'on ' if store else 'off'}: "
                      f"{res['ticks_per_s']:>9,.0f} ticks/s published, "
                      f"{res['delivered_per_s']:>10,.0f} msgs/s delivered, "
                      f"{res['stored_per_s']:>9,.0f} rows/s stored in {res['commits']} commits, "
                      f"probe p50 {res['probe_p50_ms'] or float('nan'):.2f} ms "
                      f"p99 {res['probe_p99_ms'] or float('nan'):.2f} ms", flush=True)

    def med(store: bool, key: str) -> float:
        vals = [r[key] for r in runs if r["store"] == store and r[key] is not None]
        return statistics.median(vals) if vals else float("nan")

    off_tp, on_tp = med(False, "delivered_per_s"), med(True, "delivered_per_s")
    cost = 1 - on_tp / off_tp if off_tp else float("nan")
    summary = {
        "delivered_per_s_off": off_tp,
        "delivered_per_s_on": on_tp,
        "ticks_per_s_off": med(False, "ticks_per_s"),
        "ticks_per_s_on": med(True, "ticks_per_s"),
        "stored_per_s_on": med(True, "stored_per_s"),
        "probe_p50_ms_off": med(False, "probe_p50_ms"),
        "probe_p50_ms_on": med(True, "probe_p50_ms"),
        "probe_p99_ms_off": med(False, "probe_p99_ms"),
        "probe_p99_ms_on": med(True, "probe_p99_ms"),
        "throughput_cost": cost,
        "target_cost": TARGET_COST,
        "meets_target": cost < TARGET_COST,
    }
    print("\n| figure | store off | store on |\n| --- | --- | --- |")
    print(f"| fan-out, messages/s delivered | {off_tp:,.0f} | {on_tp:,.0f} |")
    print(f"| ticks/s published | {summary['ticks_per_s_off']:,.0f} | {summary['ticks_per_s_on']:,.0f} |")
    print(f"| rows/s stored | - | {summary['stored_per_s_on']:,.0f} |")
    print(f"| probe latency p50, ms | {summary['probe_p50_ms_off']:.2f} | {summary['probe_p50_ms_on']:.2f} |")
    print(f"| probe latency p99, ms | {summary['probe_p99_ms_off']:.2f} | {summary['probe_p99_ms_on']:.2f} |")
    print(f"\nstore cost: {cost * 100:.1f}% of fan-out throughput (target < {TARGET_COST * 100:.0f}%): "
          f"{'met' if summary['meets_target'] else 'NOT met'}")
    out = HERE / "results" / f"store-{dt.datetime.now(dt.timezone.utc):%Y-%m-%d}.json"
    out.write_text(json.dumps({
        "benchmark": "store", "utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": mp.cpu_count()},
        "client": "websockets (Python) loopback clients, "
                  f"{SUBSCRIBER_PROCS} processes x {CONNECTIONS} connections, every symbol",
        "symbols": SYMBOLS, "duration_s": DURATION, "rounds": ROUNDS,
        "runs": runs, "median": summary}, indent=1) + "\n")
    print(f"wrote {out.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
