"""Analyses in process: tick -> decision with the five native agents, and what three Python
agents on the executor add.

Scenario 2 of the benchmarks issue, before the network: a runtime with the five native agents,
its indicators warmed by 60 bars, gets ticks that move the price 1.1% from the last analysed
one (up, then down); every such tick starts an analysis (``move_threshold``), and the time
from ``publish_tick`` to the decision callback is recorded (p50/p99/p999). The network's
share, publish -> received by 1,000 subscribers, is the latency row of bench/fanout.py.

Scenario 4: ``rt.analyze()`` back to back, with the five native agents only and with three
Python agents added (plain functions returning a Vote, run on the Python executor): analyses
per CPU-second of the process (every runtime thread counted) and the CPU time the Python
agents add per analysis. The two set-ups alternate, ROUNDS times; medians.

Run: .venv/bin/python bench/analyses.py [--ticks N] [--analyses N] [--rounds R]
Writes bench/results/analyses-<UTC date>.json.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import platform
import select
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import goldensignals as gs

HERE = Path(__file__).resolve().parent
SYMBOL = "BENCH"


def warm_runtime(python_agents: int, on_decision=None, **settings) -> tuple[gs.Runtime, float]:
    rt = gs.Runtime(symbols=[SYMBOL], move_threshold=0.01, signal_generation_interval=3e7,
                    **settings)
    rt.add_builtin_agents()
    if on_decision is not None:
        rt.on_decision(on_decision)
    for k in range(python_agents):
        def agent(ctx, k=k):
            return gs.Vote("BUY" if k % 2 == 0 else "HOLD", 0.7, [f"python agent {k}"])
        rt.agent(f"py{k}")(agent)
    rt.start()
    price = 100.0
    t0 = time.time() - 3600  # bars of the last hour, a minute apart (seconds)
    for i in range(60):
        price *= 1.0 + 0.002 * ((i % 7) - 3)
        rt.publish_bar(SYMBOL, price, price * 1.004, price * 0.996, price, 1e6, ts=t0 + i * 60)
    rt.wait_idle(SYMBOL)
    return rt, price


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def tick_prices(price: float, ticks: int):
    """The prices of the ticks: first one far from any warm-up reference (its analysis sets
    the reference of moves), then `ticks` moves of 1.1%, up and down in turn, each starting an
    analysis."""
    price *= 1.05
    yield price
    for i in range(ticks):
        price *= 1.011 if i % 2 == 0 else 1 / 1.011
        yield price


def tick_to_decision(ticks: int) -> list[float]:
    """ms from publish_tick (a 1.1% move from the price of the last analysis, which is the
    reference of moves) to the decision callback, one tick at a time."""
    cv = threading.Condition()
    count = [0]

    def on_decision(_d) -> None:
        with cv:
            count[0] += 1
            cv.notify_all()

    rt, price = warm_runtime(0, on_decision)
    out = []

    def tick(p: float) -> float:
        with cv:
            before = count[0]
        t = time.perf_counter_ns()
        rt.publish_tick(SYMBOL, p, 100.0)
        with cv:
            if not cv.wait_for(lambda: count[0] > before, timeout=5.0):
                raise RuntimeError(f"tick at {p:.4f}: no decision within 5 s")
        ms = (time.perf_counter_ns() - t) / 1e6
        rt.wait_idle(SYMBOL)
        return ms

    try:
        time.sleep(0.2)  # the warm-up's decisions reach the callback first
        prices = tick_prices(price, ticks)
        tick(next(prices))
        out.extend(tick(p) for p in prices)
    finally:
        rt.stop()
    return out


def ws_client(port: int, symbol: str) -> int:
    """The subscriber of tick_through_server, run as a process of its own: a raw socket
    (no client library between the socket and the clock), subscribed to `symbol`. Prints
    "ready" once subscribed, then "decision <ns>" for every decision_update, <ns> being
    CLOCK_MONOTONIC (the clock of time.monotonic_ns, shared by every process) as recv returned
    the bytes that completed it."""
    def frame(text: str, opcode: int = 0x1) -> bytes:
        data = text.encode()
        mask = os.urandom(4)
        head = bytes([0x80 | opcode])
        head += bytes([0x80 | len(data)]) if len(data) < 126 else bytes([0xFE]) + len(
            data).to_bytes(2, "big")
        return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))

    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /ws/signals HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, buf = buf.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 101"):
        sys.exit(f"ws_client: upgrade refused: {head[:80]!r}")
    s.sendall(frame(json.dumps({"type": "subscribe", "symbol": symbol})))
    t = time.monotonic_ns()
    while True:
        while True:  # every complete frame in buf
            if len(buf) < 2:
                break
            n, at = buf[1] & 0x7F, 2
            if n == 126:
                n, at = int.from_bytes(buf[2:4], "big"), 4
            elif n == 127:
                n, at = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < at + n:
                break
            opcode, payload, buf = buf[0] & 0x0F, buf[at:at + n], buf[at + n:]
            if opcode == 0x8:
                return 0
            if opcode == 0x9:
                s.sendall(frame(payload.decode("latin-1"), 0xA))
            elif opcode == 0x1:
                m = json.loads(payload)
                if m.get("type") == "decision_update":
                    print(f"decision {t}", flush=True)
                elif m.get("type") == "subscribe" and m.get("status") == "subscribed":
                    print("ready", flush=True)
        data = s.recv(65536)
        t = time.monotonic_ns()
        if not data:
            return 0
        buf += data


def tick_through_server(ticks: int, **settings) -> dict[str, list[float]]:
    """Through the server: ms from publish_tick to the decision callback (as above) and to a
    subscriber's receipt of the decision_update, one tick at a time. The subscriber is another
    process (ws_client); `settings`: the history's (db, commit_interval)."""
    cv = threading.Condition()
    decided: list[int] = []

    def on_decision(_d) -> None:
        t = time.monotonic_ns()
        with cv:
            decided.append(t)
            cv.notify_all()

    rt, price = warm_runtime(0, on_decision, **settings)
    url = rt.serve("127.0.0.1", 0, block=False)
    port = int(url.rsplit(":", 1)[1])
    client = subprocess.Popen([sys.executable, __file__, "--ws-client", str(port), SYMBOL],
                              stdout=subprocess.PIPE, text=True)
    out: dict[str, list[float]] = {"decision": [], "received": [], "network": []}

    def line(what: str) -> str:
        ready, _, _ = select.select([client.stdout], [], [], 5.0)
        if not ready:
            raise RuntimeError(f"the subscriber sent no {what} within 5 s")
        text = client.stdout.readline().strip()
        if not text.startswith(what):
            raise RuntimeError(f"the subscriber said {text!r}, expected {what}")
        return text

    def tick(p: float) -> tuple[int, int, int]:
        with cv:
            before = len(decided)
        t0 = time.monotonic_ns()
        rt.publish_tick(SYMBOL, p, 100.0)
        with cv:
            if not cv.wait_for(lambda: len(decided) > before, timeout=5.0):
                raise RuntimeError(f"tick at {p:.4f}: no decision within 5 s")
            t1 = decided[before]
        t2 = int(line("decision").split()[1])
        rt.wait_idle(SYMBOL)
        return t0, t1, t2

    try:
        line("ready")
        time.sleep(0.2)
        prices = tick_prices(price, ticks)
        tick(next(prices))
        for p in prices:
            t0, t1, t2 = tick(p)
            out["decision"].append((t1 - t0) / 1e6)
            out["received"].append((t2 - t0) / 1e6)
            out["network"].append((t2 - t1) / 1e6)
    finally:
        client.terminate()
        client.wait()
        rt.stop()
    return out


def analyses(n: int, python_agents: int) -> tuple[float, float]:
    """(analyses per CPU-second of the process, CPU ms per analysis), back to back: CPU time,
    every thread of the runtime included, so other work on the machine counts less."""
    rt, _ = warm_runtime(python_agents)
    try:
        for _ in range(20):
            rt.analyze(SYMBOL)
        t = time.process_time()
        for _ in range(n):
            rt.analyze(SYMBOL)
        elapsed = time.process_time() - t
    finally:
        rt.stop()
    return n / elapsed, elapsed / n * 1e3


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ticks", type=int, default=300)
    ap.add_argument("--analyses", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ws-client", nargs=2, metavar=("PORT", "SYMBOL"),
                    help=argparse.SUPPRESS)  # the subscriber process of the server scenario
    args = ap.parse_args()
    if args.ws_client:
        return ws_client(int(args.ws_client[0]), args.ws_client[1])

    lat = tick_to_decision(args.ticks)
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "history.db")
        served = {
            "history on": tick_through_server(args.ticks, db=db),
            "history on, commit_interval 0": tick_through_server(args.ticks, db=db,
                                                                 commit_interval=0),
            "history off": tick_through_server(args.ticks, db="off"),
        }
    native, mixed = [], []
    for _ in range(args.rounds):
        native.append(analyses(args.analyses, 0))
        mixed.append(analyses(args.analyses, 3))
    n_rate = statistics.median(r for r, _ in native)
    m_rate = statistics.median(r for r, _ in mixed)
    n_ms = statistics.median(ms for _, ms in native)
    m_ms = statistics.median(ms for _, ms in mixed)
    rows = [
        ("tick (1% move) -> decision, p50 ms", f"{pct(lat, 0.5):.3f}"),
        ("tick (1% move) -> decision, p99 ms", f"{pct(lat, 0.99):.3f}"),
        ("tick (1% move) -> decision, p999 ms", f"{pct(lat, 0.999):.3f}"),
    ]
    for name, v in served.items():
        for stage, what in (("received", "tick -> decision_update at a subscriber"),
                            ("decision", "  of which tick -> decision callback"),
                            ("network", "  of which decision callback -> received")):
            rows += [(f"{what}, server, {name}, p{q}", f"{pct(v[stage], k):.3f}")
                     for q, k in (("50", 0.5), ("99", 0.99))]
    rows += [
        ("analyses per CPU-second, 5 native agents", f"{n_rate:,.0f}"),
        ("analyses per CPU-second, 5 native + 3 Python agents", f"{m_rate:,.0f}"),
        ("CPU time added by the 3 Python agents per analysis, ms", f"{m_ms - n_ms:.3f}"),
    ]
    print("| figure | value |\n| --- | ---: |")
    for k, v in rows:
        print(f"| {k} | {v} |")
    now = dt.datetime.now(dt.timezone.utc)
    out = {
        "benchmark": "analyses",
        "utc": now.isoformat(timespec="seconds"),
        "ticks": args.ticks, "analyses": args.analyses, "rounds": args.rounds,
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
        "tick_to_decision_ms": {"p50": pct(lat, 0.5), "p99": pct(lat, 0.99),
                                "p999": pct(lat, 0.999), "max": max(lat)},
        "through_server_ms": {
            name: {stage: {"p50": pct(v[stage], 0.5), "p99": pct(v[stage], 0.99),
                           "p999": pct(v[stage], 0.999), "max": max(v[stage])}
                   for stage in v}
            for name, v in served.items()},
        "native": {"analyses_per_cpu_s": n_rate, "cpu_ms_per_analysis": n_ms, "runs": native},
        "with_3_python": {"analyses_per_cpu_s": m_rate, "cpu_ms_per_analysis": m_ms,
                          "runs": mixed},
        "python_added_cpu_ms": m_ms - n_ms,
    }
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / f"analyses-{now:%Y-%m-%d}.json").write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
