"""One node against three nodes through Redis, in one run (issue 17's performance figures).

one node     goldensignals-bench-server alone (no Redis); the load client on it.
three nodes  a redis-server and three goldensignals-bench-server nodes (GS_REDIS_URL): the
             load is published on the node that owns room BENCH and reaches the load client
             on another node through Redis (Lua publish, Stream, pub/sub, the relay).

Scenarios, each on both setups, alternating which goes first, ROUNDS rounds:
  fan-out    signal_update flat out for DURATION s into one room of SUBS subscribers:
             messages delivered per CPU-second of all the nodes (and of the relaying node
             alone), and Redis's CPU per message published
  latency    price_update at 100 msg/s for 3 s to 100 subscribers: publish -> receive
             p50/p99 (published_ns, CLOCK_MONOTONIC, stamped on the publishing node)

From Redis's CPU per message, the symbols one Redis instance carries on this machine before
its one core is the bottleneck, at the message rate of a symbol the simulated feed drives
(measured here too: room messages per symbol-second of `goldensignals-server` defaults).

Run: make bench-cluster   (or .venv/bin/python bench/cluster.py [--quick] [-v])
Writes bench/results/cluster-<UTC date>.json (with --quick: quick-cluster-<date>.json).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from fanout import (
    Harness,
    fmt,
    harness_parser,
    parse_harness_args,
    prepare_child,
    raise_fd_limit,
    thread_cpu,
    wait_listening,
)
from loopback import free_port

HERE = Path(__file__).resolve().parent
NODES = ("n1", "n2", "n3")
PRICE_RATE = 100.0


def rendezvous_weight(node: str, symbol: str) -> int:
    """cluster/rendezvous.cpp's weight, to know which node will own BENCH before starting."""
    m = (1 << 64) - 1
    h = 0xcbf29ce484222325
    for b in node.encode():
        h = ((h ^ b) * 0x100000001b3) & m
    h ^= 0xff
    for b in symbol.encode():
        h = ((h ^ b) * 0x100000001b3) & m
    z = h
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & m
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & m
    return z ^ (z >> 31)


def owner_of(symbol: str, nodes: tuple[str, ...]) -> str:
    return max(sorted(nodes), key=lambda n: rendezvous_weight(n, symbol))


def cpu(pid: int) -> float:
    return sum(thread_cpu(pid).values())


def get_json(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return json.loads(r.read())


def wait_for(pred, limit: float, what: str) -> None:
    end = time.monotonic() + limit
    while not pred():
        if time.monotonic() > end:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Trigger:
    """One WebSocket client on the owner, subscribed to BENCH: its publisher starts then
    (it waits for one subscriber); reads and drops what it receives."""

    def __init__(self, port: int) -> None:
        from websockets.sync.client import connect
        self.ws = connect(f"ws://127.0.0.1:{port}/ws/signals", max_size=None).__enter__()
        self.ws.send(json.dumps({"type": "subscribe", "symbol": "BENCH"}))
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.drain, daemon=True)
        self.t.start()

    def drain(self) -> None:
        while not self.stop.is_set():
            try:
                self.ws.recv(timeout=0.2)
            except TimeoutError:
                continue
            except Exception:  # noqa: BLE001 - closed
                return

    def close(self) -> None:
        self.stop.set()
        self.t.join(5)
        with contextlib.suppress(Exception):
            self.ws.close()


def three_nodes(h: Harness, tmp: str, subs: int, *, kind: str, rate: float,
                duration: float, queue: int) -> dict:
    redis_port = free_port()
    redis = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port",
                              str(redis_port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--loglevel", "warning"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    owner = owner_of("BENCH", NODES)
    relay = next(n for n in NODES if n != owner)
    procs: dict[str, subprocess.Popen] = {}
    ports: dict[str, int] = {}
    logs = []
    try:
        wait_listening(redis_port, redis)
        for n in NODES:
            ports[n] = free_port()
            cmd = [h.ours["ours"], "--host", "127.0.0.1", "--port", str(ports[n]),
                   "--no-builtin-agents", "--interval", "3600", "--log-level", "warn",
                   "--db", "off", "--symbols", "BENCH",
                   "--redis-url", f"redis://127.0.0.1:{redis_port}/0", "--node-id", n,
                   "--ws-max-connections", "20000", "--ws-message-queue-size", str(queue),
                   "--ws-max-connections-per-ip", "20000",
                   "--bench-rooms", "1" if n == owner else "0", "--bench-subscribers", "1",
                   "--bench-rate", str(rate), "--bench-duration", str(duration),
                   "--bench-kind", kind]
            log = tempfile.TemporaryFile()
            logs.append(log)
            procs[n] = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log,
                                        preexec_fn=prepare_child)
        for n in NODES:
            wait_listening(ports[n], procs[n])
        wait_for(lambda: get_json(ports[relay], "/ws/status")["cluster"]["owners"].get("BENCH")
                 == owner and len(get_json(ports[relay], "/ws/status")["cluster"]["nodes"]) == 3,
                 30, "the nodes to agree that the owner has BENCH")
        client = subprocess.Popen(
            [h.client_bin, "--port", str(ports[relay]), "--connections", str(subs), "--rooms",
             "1", "--server-pid", str(procs[relay].pid), "--timeout", "120", "--sources",
             "8" if subs >= 1000 else "1", "--min-window", str(duration)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=prepare_child)
        wait_for(lambda: get_json(ports[relay], "/ws/status")["websocket_manager"]["rooms"]
                 .get("BENCH", 0) >= subs, 60, "the load client's subscriptions")
        before = {n: cpu(p.pid) for n, p in procs.items()} | {"redis": cpu(redis.pid)}
        published0 = get_json(ports[owner], "/ws/status")["cluster"]["published"]
        trigger = Trigger(ports[owner])
        try:
            out, err = client.communicate(timeout=150)
        finally:
            trigger.close()
        after = {n: cpu(p.pid) for n, p in procs.items()} | {"redis": cpu(redis.pid)}
        if client.returncode != 0:
            raise RuntimeError(f"goldensignals-bench failed: {err.strip()}")
        r = json.loads(out.strip().splitlines()[-1])
        used = {k: after[k] - before[k] for k in after}
        published = get_json(ports[owner], "/ws/status")["cluster"]["published"] - published0
        nodes_cpu = sum(used[n] for n in NODES)
        r.update(setup="three nodes", owner=owner, relay=relay, cpu_s=used,
                 published=published,
                 msgs_per_server_cpu_s=r["messages"] / nodes_cpu if nodes_cpu > 0 else None,
                 msgs_per_relay_cpu_s=(r["messages"] / used[relay]) if used[relay] > 0 else None,
                 redis_us_per_message=(used["redis"] / published * 1e6) if published else None)
        return r
    finally:
        for p in [*procs.values(), redis]:
            p.send_signal(signal.SIGTERM)
        for p in [*procs.values(), redis]:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for log in logs:
            log.close()


def feed_rate(h: Harness, tmp: str, seconds: float) -> float:
    """Room messages per symbol per second that `goldensignals-server` defaults produce
    (simulated feed, built-in agents): every one stored (prices too) and counted by
    /metrics' gs_history_written_total."""
    port = free_port()
    symbols = "AAPL,GOOGL,MSFT,TSLA,NVDA,SPY,QQQ"
    p = subprocess.Popen([h.ours["ours"], "--host", "127.0.0.1", "--port", str(port), "--db",
                          str(Path(tmp) / "feed.db"), "--store-prices=true", "--symbols",
                          symbols, "--log-level", "warn"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, preexec_fn=prepare_child)

    def written() -> float:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
        for line in body.decode().splitlines():
            if line.startswith("gs_history_written_total "):
                return float(line.split()[-1])
        return float("nan")

    try:
        wait_listening(port, p)
        time.sleep(2.0)  # past the start-up analyses
        w0 = written()
        time.sleep(seconds)
        return (written() - w0) / (len(symbols.split(",")) * seconds)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(15)


def main() -> int:
    ap = harness_parser(__doc__)
    args, rounds = parse_harness_args(ap, duration=2.0, rounds=3)
    subs = 200 if args.quick else 1000
    price_s = 1.0 if args.quick else 3.0
    h = Harness(args)
    raise_fd_limit()
    runs: list[dict] = []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gs-bench-cluster-") as tmp:
        for rnd in range(rounds):
            print(f"round {rnd + 1}/{rounds} ({time.monotonic() - t0:.0f} s)", flush=True)
            order = ("one node", "three nodes") if rnd % 2 == 0 else ("three nodes", "one node")
            for scenario, n, kw in (
                    ("fan-out", subs, {"kind": "signal", "rate": 0.0,
                                       "duration": args.duration, "queue": 100000}),
                    ("latency", 100, {"kind": "price", "rate": PRICE_RATE,
                                      "duration": price_s, "queue": 1000})):
                for setup in order:
                    if setup == "one node":
                        r = h.run("ours", connections=n, kind=kw["kind"], rate=kw["rate"],
                                  duration=kw["duration"], queue=kw["queue"])
                        r["setup"] = setup
                    else:
                        r = three_nodes(h, tmp, n, **kw)
                    r["scenario"] = scenario
                    r["ok"] = r["errors"] == 0 and r["ready"] == n and r["messages"] > 0
                    runs.append(r)
                    extra = (f", Redis {r['redis_us_per_message']:.1f} us/msg"
                             if r.get("redis_us_per_message") else "")
                    print(f"  {scenario:8} {setup:11}: {fmt(r['msgs_per_server_cpu_s'])} msg/CPU-s, "
                          f"p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms{extra}"
                          + ("" if r["ok"] else "  NOT OK"), flush=True)
        per_symbol = feed_rate(h, tmp, 10.0 if not args.quick else 4.0)
    elapsed = time.monotonic() - t0

    def med(setup: str, scenario: str, key: str) -> float | None:
        v = [r[key] for r in runs if r["setup"] == setup and r["scenario"] == scenario
             and r["ok"] and r.get(key) is not None]
        return statistics.median(v) if v else None

    one_f = med("one node", "fan-out", "msgs_per_server_cpu_s")
    three_f = med("three nodes", "fan-out", "msgs_per_server_cpu_s")
    relay_f = med("three nodes", "fan-out", "msgs_per_relay_cpu_s")
    redis_us = med("three nodes", "fan-out", "redis_us_per_message")
    rows = [
        ("fan-out, messages delivered per CPU-second of the nodes", one_f, three_f, ""),
        ("fan-out, per CPU-second of the node the clients are on", one_f, relay_f, ""),
        ("prices at 100/s: p50, ms", med("one node", "latency", "p50_ms"),
         med("three nodes", "latency", "p50_ms"), "ms"),
        ("prices at 100/s: p99, ms", med("one node", "latency", "p99_ms"),
         med("three nodes", "latency", "p99_ms"), "ms"),
    ]
    lines = ["| figure | one node | three nodes via Redis | three / one |",
             "| --- | ---: | ---: | ---: |"]
    for label, a, b, unit in rows:
        ratio = f"{b / a:.2f}x" if a and b else "n/a"
        lines.append(f"| {label} | {fmt(a, unit)} | {fmt(b, unit)} | {ratio} |")
    capacity = None
    if redis_us and per_symbol and not math.isnan(per_symbol):
        capacity = 1e6 / redis_us / per_symbol
        lines.append(f"| Redis CPU per message published | | {redis_us:.1f} us | |")
        lines.append(f"| room messages per symbol-second (simulated feed, built-in agents) | "
                     f"{per_symbol:.1f} | | |")
        lines.append(f"| symbols one Redis core carries at that rate | | {capacity:,.0f} | |")
    print()
    print("\n".join(lines))
    print(f"\n(medians of {rounds} round(s); {elapsed:.0f} s; each run in the JSON)")
    ok = all(r["ok"] for r in runs)
    print(f"every run complete: {ok}")
    now = dt.datetime.now(dt.timezone.utc)
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    path = Path(args.out) if args.out else out_dir / (
        f"{'quick-' if args.quick else ''}cluster-{now:%Y-%m-%d}.json")
    path.write_text(json.dumps({
        "benchmark": "cluster", "utc": now.isoformat(timespec="seconds"), "quick": args.quick,
        "rounds": rounds, "duration_s": args.duration, "subscribers": subs,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "command": " ".join([Path(sys.executable).name, *sys.argv]), "elapsed_s": elapsed,
        "markdown": "\n".join(lines), "room_messages_per_symbol_s": per_symbol,
        "redis_us_per_message": redis_us, "symbols_per_redis_core": capacity, "runs": runs},
        indent=1) + "\n")
    print(f"wrote {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
