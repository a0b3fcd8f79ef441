"""Soak and chaos for the native server: `make soak` (30 minutes), and a short version in
`make test` (tests/py/test_soak.py).

  python scripts/soak.py [--seconds 1800] [--subscribers 1000] [--kill-every S] [--json F]

The real `goldensignals-server` on loopback: seven symbols of the simulated market (a bar
every 0.2 s), the five native agents and a Python agent that hangs now and then, an analysis
every 3 s per symbol and on 1% moves, the SQLite history on with every room message stored
and retention on. `--subscribers` WebSocket clients (asyncio, the `websockets` package), each
in one symbol's room, check that seq numbers arrive in order with no gap and no duplicate.

Every 5 s it samples the server's RSS, open files, threads and the history file's size; the
report gives each series' first and last value and its slope over the second half of the run
(after warm-up and the first retention pass).

`--kill-every S` is chaos: every S seconds the server gets SIGKILL and is started again on
the same port and file. Each client reconnects and resumes with `since` (its last seq); it
must be answered `recovered: true` and get every message after it, in order, once. After
each restart, every seq any client received must be in the file. The hung Python agent is
in every run: its calls past the deadline count as timeouts, its circuit breaker opens, and
the server stays responsive and stops on SIGTERM.

Exit status 0 when every check held; the report names what did not.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets
from loopback import free_port

SYMBOLS = ["AAPL", "GOOGL", "MSFT", "TSLA", "NVDA", "SPY", "QQQ"]
HERE = Path(__file__).resolve().parent

AGENT = '''
import os
import time
import goldensignals as gs

calls = 0
EVERY = int(os.environ["SOAK_HANG_EVERY"])

def Sometimes(ctx):
    """Votes with the last bar; every EVERY-th call hangs for 30 s, far past its deadline."""
    global calls
    calls += 1
    if calls % EVERY == 0:
        time.sleep(30)
    return gs.Vote("BUY" if ctx.close[-1] >= ctx.open[-1] else "SELL", 0.65, ["last bar"])
'''



@dataclass
class Checks:
    received: dict[str, set[int]] = field(default_factory=lambda: {s: set() for s in SYMBOLS})
    messages: int = 0
    gaps: list[tuple[str, int, int, int]] = field(default_factory=list)  # symbol, client, after, seq
    duplicates: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # stored messages inside a gap, not shed prices
    shed_prices: int = 0  # price_updates dropped for a slow client (the protocol allows it)
    # (symbol, after, next): numbers a restart skipped (reserved ahead; nothing stored there)
    skipped_ranges: set[tuple[str, int, int]] = field(default_factory=set)
    unrecovered: list[str] = field(default_factory=list)
    reconnects: int = 0
    missing_in_store: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class Server:
    def __init__(self, binary: Path, port: int, workdir: Path, subscribers: int,
                 hang_every: int) -> None:
        self.binary, self.port, self.workdir = binary, port, workdir
        self.hang_every = hang_every
        self.db = workdir / "soak.db"
        self.subscribers = subscribers
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        (self.workdir / "soak_agents.py").write_text(AGENT)
        env = dict(os.environ, PYTHONPATH=str(self.workdir), SOAK_HANG_EVERY=str(self.hang_every))
        log_path = self.workdir / f"server-{self.starts}.log"
        with open(log_path, "wb") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                [str(self.binary), "--host", "127.0.0.1", "--port", str(self.port),
                 "--symbols", ",".join(SYMBOLS), "--db", str(self.db), "--store-prices",
                 "--retention-rows", "5000", "--interval", "0.2",
                 "--signal-generation-interval", "3", "--agents", "soak_agents:Sometimes",
                 "--breaker-cooldown", "5", "--ws-max-connections", str(self.subscribers + 100),
                 "--ws-max-connections-per-ip", str(self.subscribers + 100),
                 "--ws-message-queue-size", "5000", "--log-level", "warn"],
                env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir)
        self.starts += 1
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode} at start; "
                                   f"see {log_path}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not listen within 60 s")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return -1

    def sample(self) -> dict[str, float]:
        assert self.proc is not None
        pid = self.proc.pid
        status = Path(f"/proc/{pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        size = sum(p.stat().st_size for p in self.workdir.glob("soak.db*"))
        return {"rss_kib": float(fields["VmRSS"].split()[0]),
                "threads": float(fields["Threads"]),
                "fds": float(len(os.listdir(f"/proc/{pid}/fd"))),
                "db_kib": size / 1024}


async def client(i: int, port: int, checks: Checks, stop: asyncio.Event,
                 first: dict[str, int]) -> None:
    """One subscriber of SYMBOLS[i % 7]: checks seq order; resumes with since after a drop."""
    symbol = SYMBOLS[i % len(SYMBOLS)]
    last: int | None = None
    while not stop.is_set():
        try:
            async with websockets.connect(f"ws://127.0.0.1:{port}/ws/signals", open_timeout=30,
                                          max_size=None, ping_interval=None) as ws:
                sub: dict[str, Any] = {"type": "subscribe", "symbol": symbol}
                if last is not None:
                    sub["since"] = last
                await ws.send(json.dumps(sub))
                while not stop.is_set():
                    try:
                        raw = await asyncio.wait_for(ws.recv(), timeout=1.0)
                    except asyncio.TimeoutError:
                        continue
                    m = json.loads(raw)
                    if m.get("type") == "subscribe" and "since" in sub:
                        if m.get("recovered") is not True:
                            checks.unrecovered.append(f"{symbol} client {i} since {last}: {m}")
                        continue
                    seq = m.get("seq")
                    if seq is None or m.get("snapshot"):
                        continue
                    checks.messages += 1
                    if i < len(SYMBOLS):  # one client per symbol keeps every seq it saw
                        checks.received[symbol].add(seq)
                    if last is not None and seq <= last:
                        checks.duplicates.append(f"{symbol} client {i}: {seq} after {last}")
                    elif last is not None and seq != last + 1:
                        checks.gaps.append((symbol, i, last, seq))
                    if last is None:
                        first[symbol] = min(first.get(symbol, seq), seq)
                    last = seq
        except (OSError, websockets.ConnectionClosed, asyncio.TimeoutError,
                websockets.InvalidHandshake):
            if stop.is_set():
                return
            checks.reconnects += 1
            await asyncio.sleep(0.2)


def check_gaps(db: Path, checks: Checks) -> None:
    """A gap in a client's seqs is allowed only where the file has nothing but price_updates
    (shed for a slow client) or nothing at all (numbers a restart skipped)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as con:
        for symbol, i, after, seq in checks.gaps:
            types = [r[0] for r in con.execute(
                "SELECT type FROM messages WHERE symbol = ? AND seq > ? AND seq < ?",
                (symbol, after, seq))]
            other = [t for t in types if t != "price_update"]
            if other:
                checks.lost.append(f"{symbol} client {i}: missed {len(other)} stored messages "
                                   f"between {after} and {seq} ({sorted(set(other))})")
            checks.shed_prices += len(types)
            if not types:
                checks.skipped_ranges.add((symbol, after, seq))
    checks.gaps.clear()


def check_store(db: Path, checks: Checks) -> None:
    """Every seq a client received is in the file (above what retention may have deleted)."""
    check_gaps(db, checks)
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as con:
        for symbol, seqs in checks.received.items():
            if not seqs:
                continue
            stored = {r[0] for r in con.execute(
                "SELECT seq FROM messages WHERE symbol = ? AND seq >= ?", (symbol, min(seqs)))}
            floor = min(stored) if stored else max(seqs) + 1
            missing = sorted(s for s in seqs if s >= floor and s not in stored)
            if missing:
                checks.missing_in_store.append(f"{symbol}: {len(missing)} seqs, first {missing[:5]}")


def slope_per_min(xs: list[float], ys: list[float]) -> float:
    if len(xs) < 3:
        return 0.0
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return 60.0 * sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    binary = Path(args.server)
    with tempfile.TemporaryDirectory(prefix="gs-soak-") as tmp:
        server = Server(binary, free_port(), Path(tmp), args.subscribers, args.hang_every)
        server.start()
        checks, stop, first = Checks(), asyncio.Event(), {}
        tasks = [asyncio.create_task(client(i, server.port, checks, stop, first))
                 for i in range(args.subscribers)]
        samples: list[dict[str, float]] = []
        t0 = time.monotonic()
        next_kill = t0 + args.kill_every if args.kill_every else float("inf")
        kills = 0
        hung: dict[str, int] = {"calls": 0, "timeouts": 0, "breaker_opened": 0}
        while (now := time.monotonic()) - t0 < args.seconds:
            await asyncio.sleep(min(5.0, max(0.1, next_kill - now)))
            if time.monotonic() >= next_kill:
                add_agent_figures(hung, agent_stats(server.port, "Sometimes"))
                server.kill()
                kills += 1
                check_store(server.db, checks)  # what clients got before the kill is in the file
                server.start()
                next_kill = time.monotonic() + args.kill_every
                continue
            if server.proc and server.proc.poll() is not None:
                checks.problems.append(f"the server exited with {server.proc.returncode}")
                break
            s = server.sample()
            s["t"] = time.monotonic() - t0
            s["messages"] = checks.messages
            samples.append(s)
            if args.verbose:
                print(f"{s['t']:7.0f} s  rss {s['rss_kib'] / 1024:7.1f} MiB  fds {s['fds']:5.0f}  "
                      f"threads {s['threads']:3.0f}  db {s['db_kib'] / 1024:7.1f} MiB  "
                      f"messages {checks.messages:,}", flush=True)
        # Still serving at the end: a new client gets its confirmation at once.
        try:
            async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws/signals",
                                          open_timeout=10) as ws:
                await ws.send(json.dumps({"type": "ping"}))
                for _ in range(20):
                    if json.loads(await asyncio.wait_for(ws.recv(), 10)).get("type") == "pong":
                        break
                else:
                    checks.problems.append("no pong at the end")
        except Exception as e:  # noqa: BLE001 - reported, not raised
            checks.problems.append(f"a new client could not be served at the end: {e!r}")
        add_agent_figures(hung, agent_stats(server.port, "Sometimes"))
        if hung["timeouts"] < 1:
            checks.problems.append(f"the hung agent shows no timeout: {hung}")
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        code = server.stop()
        if code != 0:
            checks.problems.append(f"SIGTERM: the server exited with {code}")
        check_store(server.db, checks)
        log = "".join((Path(tmp) / f"server-{k}.log").read_text(errors="replace")
                      for k in range(server.starts))
    half = [s for s in samples if s["t"] >= args.seconds / 2] or samples
    series = {}
    for key in ("rss_kib", "fds", "threads", "db_kib"):
        vals = [s[key] for s in samples]
        if not vals:
            continue
        series[key] = {"first": vals[0], "last": vals[-1], "max": max(vals),
                       "slope_per_min": slope_per_min([s["t"] for s in half], [s[key] for s in half])}
    return {
        "seconds": args.seconds, "subscribers": args.subscribers, "kills": kills,
        "messages": checks.messages, "reconnects": checks.reconnects,
        "seqs_checked_in_store": sum(len(v) for v in checks.received.values()),
        "lost": checks.lost[:20], "duplicates": checks.duplicates[:20],
        "shed_price_updates": checks.shed_prices, "skipped_by_restarts": sum(b - a - 1 for _, a, b in checks.skipped_ranges),
        "hung_agent": hung,
        "unrecovered": checks.unrecovered[:20], "missing_in_store": checks.missing_in_store[:20],
        "problems": checks.problems, "series": series, "samples": samples,
        "server_log_tail": log[-2000:],
    }


def add_agent_figures(total: dict[str, int], stats: dict[str, Any]) -> None:
    """Adds one server process's figures of the agent (they start at 0 with each process)."""
    total["calls"] += int(stats.get("calls", 0))
    total["timeouts"] += int(stats.get("timeouts", 0))
    total["breaker_opened"] += int(stats.get("state", "closed") != "closed")


def agent_stats(port: int, name: str) -> dict[str, Any]:
    """The agent's figures from GET /ws/status."""
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/ws/status", timeout=10) as r:
        status = json.load(r)
    agents = status.get("agents", [])
    if isinstance(agents, dict):
        return dict(agents.get(name, {}))
    return next((dict(a) for a in agents if a.get("name") == name), {})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=1800)
    ap.add_argument("--subscribers", type=int, default=1000)
    ap.add_argument("--kill-every", type=float, default=0.0, help="SIGKILL and restart every S s")
    ap.add_argument("--hang-every", type=int, default=150,
                    help="the Python agent hangs for 30 s on every N-th call")
    ap.add_argument("--server", default=str(Path(sys.executable).parent / "goldensignals-server"))
    ap.add_argument("--json", type=Path)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    r = asyncio.run(soak(args))
    print(f"soak: {r['seconds']:.0f} s, {r['subscribers']} subscribers, {r['kills']} kills, "
          f"{r['messages']:,} messages checked, {r['reconnects']} reconnects, "
          f"{r['seqs_checked_in_store']:,} seqs looked up in the file")
    for key, v in r["series"].items():
        print(f"  {key:8} first {v['first']:10.1f}  last {v['last']:10.1f}  max {v['max']:10.1f}  "
              f"slope (second half) {v['slope_per_min']:+9.2f} per min")
    failed = {k: r[k] for k in ("lost", "duplicates", "unrecovered", "missing_in_store", "problems")
              if r[k]}
    print(f"  gaps: {r['shed_price_updates']} price_updates shed for slow clients, "
          f"{r['skipped_by_restarts']} numbers skipped by restarts, {len(r['lost'])} losses")
    h = r["hung_agent"]
    print(f"  the hung agent: {h['calls']} calls, {h['timeouts']} timeouts")
    if args.json:
        args.json.write_text(json.dumps(r, indent=1))
    if failed:
        print("soak: FAILED " + json.dumps(failed, indent=1))
        return 1
    print("soak: every check held")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
