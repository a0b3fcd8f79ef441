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

`--disk-every S` (root) puts the history on a small ext4 file system of its own (a loop
image, in a private mount namespace: `unshare -m`) and, every S seconds, alternates two
faults, each held `--disk-hold` seconds:
- full: a filler file takes every free block. The store must go degraded (`/health` 503
  naming the full disk), live messages must go on, and after the filler is removed the
  store must write again (`/health` 200). With `--kill-in-full` the server is also killed
  and restarted in the middle of it: a restart that finds the file unable to account for
  what was sent jumps seq above it, so a client resuming from before is told
  `recovered: false` (allowed only then) and never sees a number twice.
- stuck: `fsfreeze` blocks every write. Room messages wait for the disk (none is sent
  unstored), `/health` turns 503 after 5 s, and the network thread keeps answering (a new
  client gets its pong); after the thaw every waiting message arrives, in order.
A client's seq that is not in the file is allowed only at or below the symbol's floor in the
file (the server declared it sent unstored).

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
    # recovered: false after a restart that followed a run ending degraded (allowed, counted)
    unrecovered_after_degraded: int = 0
    degraded_runs: set[int] = field(default_factory=set)  # Server.starts values of such runs
    unstored_received: int = 0  # seqs clients got that the server declared sent unstored
    reconnects: int = 0
    missing_in_store: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class Server:
    def __init__(self, binary: Path, port: int, workdir: Path, subscribers: int,
                 hang_every: int, db_dir: Path | None = None) -> None:
        self.binary, self.port, self.workdir = binary, port, workdir
        self.hang_every = hang_every
        self.db = (db_dir or workdir) / "soak.db"
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
        size = sum(p.stat().st_size for p in self.db.parent.glob("soak.db*"))
        return {"rss_kib": float(fields["VmRSS"].split()[0]),
                "threads": float(fields["Threads"]),
                "fds": float(len(os.listdir(f"/proc/{pid}/fd"))),
                "db_kib": size / 1024}


async def client(i: int, server: Server, checks: Checks, stop: asyncio.Event,
                 first: dict[str, int]) -> None:
    """One subscriber of SYMBOLS[i % 7]: checks seq order; resumes with since after a drop."""
    symbol = SYMBOLS[i % len(SYMBOLS)]
    last: int | None = None
    run = -1  # the server process (Server.starts) this client last got a message from
    while not stop.is_set():
        try:
            async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws/signals",
                                          open_timeout=30, max_size=None,
                                          ping_interval=None) as ws:
                # The run this connection is on: the server process that was up when it
                # opened. A kill and restart blocks the event loop, so messages of the killed
                # run may still be read after it; they keep the killed run's number.
                conn_run = server.starts
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
                        if m.get("recovered") is True:
                            continue
                        if run in checks.degraded_runs:
                            # The run it was on ended degraded: its numbers are not all in the
                            # file, and the server says so. Start over from the snapshot.
                            checks.unrecovered_after_degraded += 1
                            last = None
                        else:
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
                    run = conn_run
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
    """Every seq a client received is in the file (above what retention may have deleted),
    or at or below the symbol's floor where the server declared it sent unstored."""
    check_gaps(db, checks)
    unstored = 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as con:
        for symbol, seqs in checks.received.items():
            if not seqs:
                continue
            stored = {r[0] for r in con.execute(
                "SELECT seq FROM messages WHERE symbol = ? AND seq >= ?", (symbol, min(seqs)))}
            row = con.execute("SELECT floor FROM symbols WHERE symbol = ?", (symbol,)).fetchone()
            declared = row[0] if row else 0
            oldest = min(stored) if stored else max(seqs) + 1  # below: retention deleted it
            absent = [s for s in seqs if s >= oldest and s not in stored]
            missing = sorted(s for s in absent if s > declared)
            unstored += len(absent) - len(missing)
            if missing:
                checks.missing_in_store.append(f"{symbol}: {len(missing)} seqs, first {missing[:5]}")
    checks.unstored_received = unstored  # the received sets only grow: the latest count


class Disk:
    """A small ext4 file system on a loop image, mounted in this process's private mount
    namespace (it goes away with the process), that can be filled up or frozen."""

    def __init__(self, root: Path, mib: int) -> None:
        self.image, self.mnt = root / "disk.img", root / "disk"
        self.filler = self.mnt / "filler"
        with open(self.image, "wb") as f:
            f.truncate(mib * 2**20)
        subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", str(self.image)], check=True)
        self.mnt.mkdir()
        subprocess.run(["mount", "-o", "loop", str(self.image), str(self.mnt)], check=True)

    def fill(self) -> int:
        """Takes every free block; returns the bytes taken."""
        taken = 0
        with open(self.filler, "wb") as f:
            chunk = 64 * 2**20
            while chunk >= 4096:
                try:
                    os.posix_fallocate(f.fileno(), taken, chunk)
                    taken += chunk
                except OSError:
                    chunk //= 2
        return taken

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def freeze(self) -> None:
        subprocess.run(["fsfreeze", "--freeze", str(self.mnt)], check=True)

    def thaw(self) -> None:
        subprocess.run(["fsfreeze", "--unfreeze", str(self.mnt)], check=False,
                       capture_output=True)  # "Invalid argument" when it was not frozen

    def close(self) -> None:
        self.thaw()
        subprocess.run(["umount", "-l", str(self.mnt)], check=False)


def http_status(port: int, path: str, timeout: float = 5.0) -> tuple[int, dict[str, Any]]:
    """(status code, JSON body) of GET path; (0, {}) when there is no answer in time."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")
    except OSError:
        return 0, {}


async def pong_within(port: int, limit: float) -> float | None:
    """Seconds a new client took to connect and get a pong, or None past `limit`."""
    t = time.monotonic()
    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws/signals",
                                      open_timeout=limit) as ws:
            await ws.send(json.dumps({"type": "ping"}))
            while time.monotonic() - t < limit:
                m = json.loads(await asyncio.wait_for(ws.recv(), limit))
                if m.get("type") == "pong":
                    return time.monotonic() - t
    except (OSError, asyncio.TimeoutError, websockets.ConnectionClosed,
            websockets.InvalidHandshake):
        pass
    return None


async def wait_health(port: int, want: int, limit: float) -> tuple[float | None, str]:
    """Polls /health until it answers `want`: (seconds it took or None, the last reason)."""
    t = time.monotonic()
    reason = ""
    while time.monotonic() - t < limit:
        code, body = await asyncio.to_thread(http_status, port, "/health")
        reason = str(body.get("history", {}).get("reason", "")) or reason
        if code == want:
            return time.monotonic() - t, reason
        await asyncio.sleep(0.25)
    return None, reason


def slope_per_min(xs: list[float], ys: list[float]) -> float:
    if len(xs) < 3:
        return 0.0
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return 60.0 * sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def kill_and_restart(server: Server, checks: Checks, hung: dict[str, int]) -> None:
    add_agent_figures(hung, agent_stats(server.port, "Sometimes"))
    server.kill()
    if Path(f"{server.db}-accounted").exists():
        check_store(server.db, checks)  # what clients got before the kill is in the file
    else:
        # The run sent messages unstored (degraded): the restart jumps seq and refuses a
        # since from before; the file's floor covers them once the new run writes it.
        checks.degraded_runs.add(server.starts)
    server.start()


async def disk_full(server: Server, disk: Disk, checks: Checks, args: argparse.Namespace,
                    hung: dict[str, int]) -> dict[str, Any]:
    ev: dict[str, Any] = {"kind": "full"}
    before = checks.messages
    ev["filled_mib"] = round(await asyncio.to_thread(disk.fill) / 2**20, 1)
    took, reason = await wait_health(server.port, 503, args.disk_hold / 2)
    ev["degraded_after_s"], ev["reason"] = took, reason
    if took is None:
        checks.problems.append(f"full disk: /health did not turn 503 within "
                               f"{args.disk_hold / 2:.0f} s")
    elif "full" not in reason:
        checks.problems.append(f"full disk: the reason does not name it: {reason}")
    if args.kill_in_full:
        kill_and_restart(server, checks, hung)
        ev["killed_and_restarted"] = True
    await asyncio.sleep(max(0.0, args.disk_hold / 2 - (took or 0)))
    ev["messages_while_full"] = checks.messages - before
    if ev["messages_while_full"] == 0:
        checks.problems.append("full disk: no live message reached the clients")
    await asyncio.to_thread(disk.free)
    ev["healthy_after_freed_s"], _ = await wait_health(server.port, 200, 30)
    if ev["healthy_after_freed_s"] is None:
        checks.problems.append("full disk: the store did not write again within 30 s of the "
                               "space coming back")
    return ev


async def disk_stuck(server: Server, disk: Disk, checks: Checks,
                     args: argparse.Namespace) -> dict[str, Any]:
    ev: dict[str, Any] = {"kind": "stuck"}
    await asyncio.to_thread(disk.freeze)
    t = time.monotonic()
    try:
        await asyncio.sleep(1.0)
        ev["pong_while_frozen_s"] = await pong_within(server.port, 3.0)
        if ev["pong_while_frozen_s"] is None:
            checks.problems.append("stuck disk: a new client got no pong within 3 s")
        took, reason = await wait_health(server.port, 503, args.disk_hold - 1.0)
        ev["degraded_after_s"] = None if took is None else round(time.monotonic() - t, 2)
        ev["reason"] = reason
        if took is None:
            checks.problems.append(f"stuck disk: /health did not turn 503 within "
                                   f"{args.disk_hold:.0f} s")
        elif "waited" not in reason:
            checks.problems.append(f"stuck disk: the reason does not say so: {reason}")
        before = checks.messages
        await asyncio.sleep(max(0.0, args.disk_hold - (time.monotonic() - t)))
        ev["messages_while_frozen"] = checks.messages - before
    finally:
        await asyncio.to_thread(disk.thaw)
    ev["healthy_after_thaw_s"], _ = await wait_health(server.port, 200, 30)
    if ev["healthy_after_thaw_s"] is None:
        checks.problems.append("stuck disk: /health not 200 within 30 s of the thaw")
    return ev


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    binary = Path(args.server)
    with tempfile.TemporaryDirectory(prefix="gs-soak-") as tmp:
        disk = Disk(Path(tmp), args.disk_mib) if args.disk_every else None
        try:
            return await soak_in(args, binary, Path(tmp), disk)
        finally:
            if disk:
                disk.close()


async def soak_in(args: argparse.Namespace, binary: Path, tmp: Path,
                  disk: Disk | None) -> dict[str, Any]:
    server = Server(binary, free_port(), tmp, args.subscribers, args.hang_every,
                    db_dir=disk.mnt if disk else None)
    server.start()
    checks, stop, first = Checks(), asyncio.Event(), {}
    tasks = [asyncio.create_task(client(i, server, checks, stop, first))
             for i in range(args.subscribers)]
    samples: list[dict[str, float]] = []
    t0 = time.monotonic()
    next_kill = t0 + args.kill_every if args.kill_every else float("inf")
    next_disk = t0 + args.disk_every / 2 if disk else float("inf")
    kills = 0
    disk_events: list[dict[str, Any]] = []
    hung: dict[str, int] = {"calls": 0, "timeouts": 0, "breaker_opened": 0}
    while (now := time.monotonic()) - t0 < args.seconds:
        await asyncio.sleep(min(5.0, max(0.1, min(next_kill, next_disk) - now)))
        if time.monotonic() >= next_kill:
            kill_and_restart(server, checks, hung)
            kills += 1
            next_kill = time.monotonic() + args.kill_every
            continue
        if disk and time.monotonic() >= next_disk:
            # Only when it ends, with time to spare, before the run does.
            if time.monotonic() - t0 + args.disk_hold + 20 < args.seconds:
                at = round(time.monotonic() - t0, 1)
                if len(disk_events) % 2 == 0:
                    ev = await disk_full(server, disk, checks, args, hung)
                    kills += bool(ev.get("killed_and_restarted"))
                else:
                    ev = await disk_stuck(server, disk, checks, args)
                ev["at_s"] = at
                disk_events.append(ev)
                if args.verbose:
                    print(json.dumps(ev), flush=True)
            next_disk = time.monotonic() + args.disk_every
            next_kill = max(next_kill, time.monotonic() + 2)
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
    # Still serving at the end: a new client gets its pong at once.
    if await pong_within(server.port, 10.0) is None:
        checks.problems.append("a new client got no pong within 10 s at the end")
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
        "unrecovered_after_degraded": checks.unrecovered_after_degraded,
        "unstored_received": checks.unstored_received, "disk_events": disk_events,
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
    ap.add_argument("--disk-every", type=float, default=0.0,
                    help="root: the history on a loop ext4 image; every S s fill it up, then "
                         "the next time freeze it (fsfreeze), alternately")
    ap.add_argument("--disk-hold", type=float, default=10.0, help="how long each disk fault lasts")
    ap.add_argument("--disk-mib", type=int, default=256, help="size of the loop file system")
    ap.add_argument("--kill-in-full", action="store_true",
                    help="also SIGKILL and restart the server while the disk is full")
    ap.add_argument("--server", default=str(Path(sys.executable).parent / "goldensignals-server"))
    ap.add_argument("--json", type=Path)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    if args.disk_every and os.environ.get("GS_SOAK_MOUNT_NS") != "1":
        # A mount namespace of our own: the loop mount goes away with this process.
        if os.geteuid() != 0:
            sys.exit("soak.py: --disk-every mounts a loop file system and needs root")
        env = dict(os.environ, GS_SOAK_MOUNT_NS="1")
        os.execvpe("unshare", ["unshare", "--mount", "--propagation", "private", sys.executable,
                               str(Path(__file__).resolve()), *sys.argv[1:]], env)
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
    for ev in r["disk_events"]:
        print(f"  disk {ev['kind']} at {ev['at_s']} s: " +
              ", ".join(f"{k} {v}" for k, v in ev.items() if k not in ("kind", "at_s")))
    if r["disk_events"]:
        print(f"  {r['unstored_received']} seqs received were sent unstored (below the floor), "
              f"{r['unrecovered_after_degraded']} resumes refused after a degraded run")
    if args.json:
        args.json.write_text(json.dumps(r, indent=1))
    if failed:
        # The first few of each, so a test's captured tail shows every kind that failed.
        print("soak: FAILED " + json.dumps({k: v[:5] for k, v in failed.items()}, indent=1))
        return 1
    print("soak: every check held")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
