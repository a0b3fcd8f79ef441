"""Signal store cost: fan-out throughput and latency with the history store on vs off.

One in-process server (``rt.serve``) per run. The load is `agent_update` room messages
(ordered: never dropped or replaced for a connected client, and always stored) sent through
the server's real path (``_bench_publish_agent_update``: stored, stamped, then broadcast,
as the runtime's events are). SUBSCRIBER_PROCS processes each hold CONNECTIONS loopback
WebSocket clients (the Python ``websockets`` library) subscribed to every symbol; every
PROBE_EVERY-th message is a probe whose send time the driver records and whose arrival the
clients record, so latency is publish -> received by a real client.

Two loads, each alternating off, on, off, on (ROUNDS times); the tables show medians:
- paced: RATE messages/s for DURATION s: the added latency of store-before-broadcast;
- burst: BURST messages published as fast as the driver can: fan-out throughput (messages
  delivered per second, first publish to last arrival) and store throughput (messages
  committed per second, first publish to the last commit, while broadcasting).
Target (issue 5): the store costs less than 10% of fan-out throughput.
Writes bench/results/store-<UTC date>.json.

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
CONNECTIONS = 5  # per subscriber process
DURATION = 4.0
RATE = 500.0  # messages/s in the paced load (x 10 clients delivered)
BURST = 20_000  # messages in the burst load (x 10 clients delivered)
PROBE_EVERY = 25
ROUNDS = 3
TARGET_COST = 0.10


def subscriber(url: str, expect: int, ready: mp.Queue, out: mp.Queue, stop: mp.Event) -> None:
    """CONNECTIONS clients; each stops after `expect` agent_updates (or when told)."""
    import websockets

    async def one(counts: list[int], probes: dict[int, float], last: list[float]) -> None:
        async with websockets.connect(url, max_size=None) as ws:
            await ws.recv()  # welcome
            for s in SYMBOLS:
                await ws.send(json.dumps({"type": "subscribe", "symbol": s}))
            ready.put(1)
            mine = 0
            while mine < expect and not stop.is_set():
                try:
                    raw = await asyncio.wait_for(ws.recv(), 0.5)
                except asyncio.TimeoutError:
                    continue
                if '"agent_update"' not in raw or '"snapshot"' in raw:
                    continue
                now = time.time()
                mine += 1
                counts[0] += 1
                last[0] = max(last[0], now)
                if '"probe"' in raw:
                    probes.setdefault(json.loads(raw)["data"]["probe"], now)

    async def main() -> None:
        counts, last = [0], [0.0]
        probes: dict[int, float] = {}
        await asyncio.gather(*(one(counts, probes, last) for _ in range(CONNECTIONS)),
                             return_exceptions=True)
        out.put((counts[0], probes, last[0]))

    asyncio.run(main())


def body(symbol: str, n: int, probe: bool) -> str:
    data = {"symbol": symbol, "analysis_id": "bench", "agent": "Bench", "signal": "BUY",
            "confidence": 0.5, "latency_ms": 0.0, "reasoning": [], "timestamp": "", "n": n}
    if probe:
        data["probe"] = n
    return json.dumps({"type": "agent_update", "data": data})


def run_mode(store: bool, workdir: Path, rate: float | None) -> dict:
    """rate: messages/s for DURATION seconds; None: BURST messages as fast as possible."""
    import goldensignals as gs

    db = str(workdir / f"bench-{time.monotonic_ns()}.db") if store else "off"
    rt = gs.Runtime(symbols=SYMBOLS, db=db, analyze_on_start=False, move_threshold=0.99,
                    signal_generation_interval=3e7, ws_message_queue_size=BURST + 1000,
                    ws_heartbeat_interval=3600)
    url = rt.serve(host="127.0.0.1", port=0, block=False).replace("http://", "ws://") + "/ws/signals"
    core = rt._core
    total = BURST if rate is None else int(rate * DURATION)
    ctx = mp.get_context("spawn")
    ready, out, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=subscriber, args=(url, total, ready, out, stop))
             for _ in range(SUBSCRIBER_PROCS)]
    for p in procs:
        p.start()
    for _ in range(SUBSCRIBER_PROCS * CONNECTIONS):
        ready.get(timeout=60)
    time.sleep(0.3)
    sent: dict[int, float] = {}
    frames = [body(SYMBOLS[n % len(SYMBOLS)], n, n % PROBE_EVERY == 0) for n in range(total)]
    written0 = (rt.server_status().get("history") or {}).get("written", 0)
    t0 = time.perf_counter()
    wall0 = time.time()
    for n, frame in enumerate(frames):
        if rate is not None:  # paced: wait for this message's slot
            due = t0 + n / rate
            while time.perf_counter() < due:
                time.sleep(max(0.0, min(0.001, due - time.perf_counter())))
        if n % PROBE_EVERY == 0:
            sent[n] = time.time()
        core._bench_publish_agent_update(SYMBOLS[n % len(SYMBOLS)], frame)
    publish_s = time.perf_counter() - t0
    store_s = None
    if store:  # until every message is committed (the store's own pace under this load)
        while (rt.server_status().get("history") or {}).get("written", 0) - written0 < total:
            time.sleep(0.002)
        store_s = time.perf_counter() - t0
    expect = total * SUBSCRIBER_PROCS * CONNECTIONS
    received, last = 0, wall0
    got: dict[int, float] = {}
    results = []
    for _ in procs:  # the clients end when they have everything (or after 120 s)
        try:
            results.append(out.get(timeout=120))
        except Exception:
            stop.set()
    stop.set()
    status = rt.server_status()
    results += [out.get(timeout=30) for _ in range(len(procs) - len(results))]
    for c, probes, t_last in results:
        received += c
        last = max(last, t_last)
        for k, v in probes.items():
            got.setdefault(k, v)
    for p in procs:
        p.join(30)
    rt.stop()
    lat = sorted((got[k] - v) * 1000 for k, v in sent.items() if k in got)
    span = max(last - wall0, 1e-9)
    hist = status.get("history") or {}
    return {
        "store": store,
        "load": "burst" if rate is None else f"paced {rate:g}/s",
        "messages": total,
        "publish_per_s": total / publish_s,
        "expected_deliveries": expect,
        "delivered": received,
        "delivered_per_s": received / span if rate is None else received / DURATION,
        "stored_per_s": (hist.get("written", 0) - written0) / store_s if store_s else 0.0,
        "commits": hist.get("commits", 0),
        "slow_consumer_closes": status["websocket_manager"].get("slow_consumer_closes", 0),
        "probe_p50_ms": statistics.median(lat) if lat else None,
        "probe_p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else None,
        "probes": len(sent),
        "probes_received": len(lat),
    }


def main() -> int:
    runs: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="gs-bench-store-") as tmp:
        for rate in (RATE, None):
            for r in range(ROUNDS):
                for store in (False, True):
                    res = run_mode(store, Path(tmp), rate)
                    runs.append(res)
                    print(f"{res['load']:>12} round {r + 1} store={'on ' if store else 'off'}: "
                          f"published {res['publish_per_s']:>8,.0f}/s, delivered "
                          f"{res['delivered']}/{res['expected_deliveries']} "
                          f"({res['delivered_per_s']:>7,.0f}/s), stored {res['stored_per_s']:>7,.0f}/s"
                          f" in {res['commits']} commits, probe p50 {res['probe_p50_ms'] or float('nan'):.2f}"
                          f" ms p99 {res['probe_p99_ms'] or float('nan'):.2f} ms", flush=True)

    def med(load: str, store: bool, key: str) -> float:
        vals = [r[key] for r in runs if r["store"] == store and r[key] is not None
                and r["load"].startswith(load)]
        return statistics.median(vals) if vals else float("nan")

    off_tp, on_tp = med("burst", False, "delivered_per_s"), med("burst", True, "delivered_per_s")
    cost = 1 - on_tp / off_tp if off_tp else float("nan")
    summary = {
        "burst_delivered_per_s_off": off_tp,
        "burst_delivered_per_s_on": on_tp,
        "burst_published_per_s_off": med("burst", False, "publish_per_s"),
        "burst_published_per_s_on": med("burst", True, "publish_per_s"),
        "burst_stored_rows_per_s": med("burst", True, "stored_per_s"),
        "paced_rate": RATE,
        "paced_p50_ms_off": med("paced", False, "probe_p50_ms"),
        "paced_p50_ms_on": med("paced", True, "probe_p50_ms"),
        "paced_p99_ms_off": med("paced", False, "probe_p99_ms"),
        "paced_p99_ms_on": med("paced", True, "probe_p99_ms"),
        "all_delivered": all(r["delivered"] == r["expected_deliveries"] for r in runs),
        "throughput_cost": cost,
        "target_cost": TARGET_COST,
        "meets_target": cost < TARGET_COST,
    }
    n = SUBSCRIBER_PROCS * CONNECTIONS
    print(f"\n| figure ({n} clients, agent_update messages) | store off | store on |\n| --- | ---: | ---: |")
    print(f"| burst: fan-out, messages/s delivered | {off_tp:,.0f} | {on_tp:,.0f} |")
    print(f"| burst: messages/s accepted by the server | {summary['burst_published_per_s_off']:,.0f} | "
          f"{summary['burst_published_per_s_on']:,.0f} |")
    print(f"| burst: rows/s committed | - | {summary['burst_stored_rows_per_s']:,.0f} |")
    print(f"| paced {RATE:g}/s: publish -> client p50, ms | {summary['paced_p50_ms_off']:.2f} | "
          f"{summary['paced_p50_ms_on']:.2f} |")
    print(f"| paced {RATE:g}/s: publish -> client p99, ms | {summary['paced_p99_ms_off']:.2f} | "
          f"{summary['paced_p99_ms_on']:.2f} |")
    print(f"\nevery message reached every client: {summary['all_delivered']}")
    print(f"store cost: {cost * 100:.1f}% of fan-out throughput (target < {TARGET_COST * 100:.0f}%): "
          f"{'met' if summary['meets_target'] else 'NOT met'}")
    out = HERE / "results" / f"store-{dt.datetime.now(dt.timezone.utc):%Y-%m-%d}.json"
    out.write_text(json.dumps({
        "benchmark": "store", "utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": mp.cpu_count()},
        "client": "websockets (Python) loopback clients, "
                  f"{SUBSCRIBER_PROCS} processes x {CONNECTIONS} connections, every symbol",
        "symbols": SYMBOLS, "rounds": ROUNDS, "runs": runs, "median": summary}, indent=1) + "\n")
    print(f"wrote {out.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
