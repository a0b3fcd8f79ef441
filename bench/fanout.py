"""Fan-out, latency and connection memory: goldensignals-server against its peers, in one run.

Every scenario starts a fresh server (ours: ``goldensignals-bench-server``, the production
server's start-up with the load generator of cpp/apps/bench/ on top; the peers:
``bench/peers/*_peer.py``, and ``raw``, the limit: ``goldensignals-bench-raw``, the peers'
publisher with almost no user-space work), points ``goldensignals-bench`` at it over loopback,
and stops it.
Servers alternate within each round (ours, peer, ours, peer, ...), ROUNDS rounds; the table
shows medians and ratios ours/peer. The primary figure is messages delivered per server
CPU-second (the server's utime+stime from /proc over the measured window), so it does not
depend on how busy the load client was; the client reports its own CPU too.

Scenarios (the project's issue 7):
  fanout-N     N subscribers in one room, the server publishes flat out for DURATION seconds
               (N = 10, 100, 1,000, 10,000: the cost curve)
  rooms        100 rooms of 100 subscribers, flat out, round-robin over the rooms
  sustained    the highest fixed rate (doubling steps) at which all 1,000 subscribers get every
               message with publish -> receive p99 <= 50 ms
  latency      100 messages/s into a room of 1,000 subscribers: p50/p99/p999
  idle-10000   10,000 idle WebSocket connections: server memory per connection

Run: .venv/bin/python bench/fanout.py [--quick] [--peers websockets,socketify]
Writes bench/results/<UTC date>.json (with --quick: bench/results/quick-<date>.json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "scripts"))
from loopback import free_port

PEERS_DIR = HERE / "peers"
BUILD_BIN = HERE.parent / "build" / "cpp" / "cpp"  # make bench builds the bench server here
# raw: not a server a user would pick but the limit on this machine, cpp/apps/bench/
# goldensignals-bench-raw (the same publisher with almost no user-space work). It is a limit
# only where a turn's messages go to one room (one send per subscriber per turn), so it runs
# in the one-room scenarios: fanout, latency and sustained.
PEERS = ["websockets", "fastapi", "picows", "socketify", "raw"]
ONE_ROOM_ONLY = {"raw"}
SUSTAINED_P99_MS = 50.0


def find_binary(name: str, bin_dir: str | None) -> str:
    candidates = [Path(bin_dir) / name] if bin_dir else []
    candidates += [Path(sys.executable).parent / name, BUILD_BIN / name]
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c.resolve())
    found = shutil.which(name)
    if found:
        return found
    sys.exit(f"fanout.py: {name} not found (tried {', '.join(map(str, candidates))} and PATH); "
             "run `make bench` (it builds it) or pass --bin-dir")



def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def prepare_child() -> None:
    """In each server and client: the fd limit raised and, where allowed (root), a higher
    scheduling priority, the same for every server, so other work on the machine disturbs
    the measurement less."""
    raise_fd_limit()
    try:
        os.setpriority(os.PRIO_PROCESS, 0, -10)
    except OSError:
        pass


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not listen on port {port} within {timeout} s")


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) each thread of `pid` has used so far, summed by thread name
    (ours names its threads: gs-io, gs-store, ...)."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return out
    for t in tasks:
        try:
            name = (t / "comm").read_text().strip()
            fields = (t / "stat").read_text().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        except (OSError, ValueError, IndexError):
            continue  # the thread ended meanwhile
        out[name] = out.get(name, 0.0) + cpu
    return out


class Harness:
    def __init__(self, args: argparse.Namespace) -> None:
        self.client_bin = find_binary("goldensignals-bench", args.bin_dir)
        # Servers of ours by name: the bench server of this checkout, and (bench/seam.py)
        # an earlier build's goldensignals-server, which took the same --bench-* flags.
        self.ours = {"ours": find_binary("goldensignals-bench-server", args.bin_dir)}
        self.bin_dir = args.bin_dir
        self.duration = args.duration
        self.verbose = args.verbose

    def server_cmd(self, name: str, port: int, rooms: int, subscribers: int, rate: float,
                   duration: float, queue: int, db: str = "off", kind: str = "signal",
                   signal_every: int = 0) -> list[str]:
        common_peer = ["--port", str(port), "--rooms", str(rooms), "--subscribers",
                       str(subscribers), "--rate", str(rate), "--duration", str(duration)]
        if name in self.ours:
            return [self.ours[name], "--host", "127.0.0.1", "--port", str(port),
                    "--no-builtin-agents", "--interval", "3600", "--log-level", "warn",
                    "--db", db,  # off: the peers keep no history either
                    "--ws-max-connections", "20000", "--ws-message-queue-size", str(queue),
                    # every load client is on 127.0.0.1; the peers have no per-address limit
                    "--ws-max-connections-per-ip", "20000",
                    "--bench-rooms", str(rooms), "--bench-subscribers", str(subscribers),
                    "--bench-rate", str(rate), "--bench-duration", str(duration),
                    "--bench-kind", kind, "--bench-signal-every", str(signal_every)]
        if name == "raw":
            return [find_binary("goldensignals-bench-raw", self.bin_dir), *common_peer]
        return [sys.executable, str(PEERS_DIR / f"{name}_peer.py"), *common_peer]

    def run(self, name: str, *, connections: int, rooms: int = 1, rate: float = 0.0,
            duration: float | None = None, idle: bool = False, queue: int = 1000,
            timeout: float = 120.0, db: str = "off", kind: str = "signal",
            signal_every: int = 0) -> dict:
        """One server, one client run; the client's JSON report plus the server's name.
        db: ours' --db (off, or an SQLite file for the history: bench/store.py); kind and
        signal_every: what ours publishes (signal_update, or price_update with a signal
        before every n-th: bench/seam.py)."""
        duration = self.duration if duration is None else duration
        t0 = time.monotonic()
        port = free_port()
        cmd = self.server_cmd(name, port, rooms, connections if not idle else 10**7, rate,
                              duration, queue, db, kind, signal_every)
        log = tempfile.TemporaryFile()  # a pipe nobody reads could fill and stall the server
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log,
                                preexec_fn=prepare_child, cwd=PEERS_DIR)
        try:
            wait_listening(port, proc)
            ccmd = [self.client_bin, "--port", str(port), "--connections", str(connections),
                    "--rooms", str(rooms), "--server-pid", str(proc.pid),
                    "--timeout", str(timeout), "--sources", "8" if connections >= 1000 else "1",
                    "--min-window", str(duration)]
            if idle:
                ccmd += ["--idle", "--settle-ms", "500"]
            out = subprocess.run(ccmd, capture_output=True, text=True, timeout=timeout + 30,
                                 preexec_fn=prepare_child)
            if out.returncode != 0:
                raise RuntimeError(f"goldensignals-bench failed: {out.stderr.strip()}")
            r = json.loads(out.stdout.strip().splitlines()[-1])
            r["server_threads_cpu_s"] = thread_cpu(proc.pid)  # whole run, set-up included
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.seek(0)
            err = log.read()
            log.close()
        r["server"] = name
        r["elapsed_s"] = round(time.monotonic() - t0, 2)
        r["rate"] = rate
        r["rooms"] = rooms
        if r["server_cpu_s"] and r["server_cpu_s"] > 0:
            r["msgs_per_server_cpu_s"] = r["messages"] / r["server_cpu_s"]
        else:
            r["msgs_per_server_cpu_s"] = None
        if idle and r["server_rss_after"] > 0:
            r["bytes_per_connection"] = (r["server_rss_after"] - r["server_rss_before"]) / max(
                1, r["ready"])
        if self.verbose:
            keys = ("messages", "errors", "first_error", "p50_ms", "p99_ms", "server_cpu_s",
                    "client_cpu_s", "msgs_per_server_cpu_s", "min_per_connection", "ready")
            print(f"    {name:10} " + " ".join(f"{k}={r.get(k)}" for k in keys), flush=True)
            if err and r["errors"]:
                print("      server stderr: " + err.decode(errors="replace")[-400:], flush=True)
        return r


def sustained_ok(r: dict, expected: int) -> bool:
    return (r["errors"] == 0 and r["min_per_connection"] >= expected
            and r["p99_ms"] <= SUSTAINED_P99_MS)


def find_sustained(h: Harness, name: str, subs: int, start: float, duration: float,
                   cap: float) -> tuple[float, list[dict]]:
    """The highest passing rate of the doubling ladder from `start` (0 if `start` fails...
    then halving)."""
    runs = []
    rate, best = start, 0.0
    while rate <= cap:
        expected = int(rate * duration)
        r = h.run(name, connections=subs, rate=rate, duration=duration)
        r["expected"] = expected
        r["passed"] = sustained_ok(r, expected)
        runs.append(r)
        if r["passed"]:
            best = rate
            rate *= 2
        elif best == 0 and rate > 12.5:
            rate /= 2
            cap = rate  # go down only
        else:
            break
    return best, runs


def fmt(v: float | None, unit: str = "") -> str:
    if v is None:
        return "-"
    if unit == "ms":
        return f"{v:.2f}"
    if unit == "KiB":
        return f"{v / 1024:.1f}"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def harness_parser(doc: str) -> argparse.ArgumentParser:
    """The options every benchmark built on Harness takes (fanout.py, store.py)."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one round, small sizes: a smoke test")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--duration", type=float, default=None, help="seconds of publishing")
    ap.add_argument("--bin-dir", default=None, help="where goldensignals-server/-bench are")
    ap.add_argument("--out", default=None, help="the JSON file to write")
    ap.add_argument("-v", "--verbose", action="store_true")
    return ap


def parse_harness_args(ap: argparse.ArgumentParser, duration: float,
                       rounds: int = 3) -> tuple[argparse.Namespace, int]:
    """The arguments and the rounds: `rounds` (--quick: 1); --duration defaults to `duration`
    (--quick: 0.5 s)."""
    args = ap.parse_args()
    if args.duration is None:
        args.duration = 0.5 if args.quick else duration
    return args, args.rounds or (1 if args.quick else rounds)


def main() -> int:
    ap = harness_parser(__doc__)
    ap.add_argument("--peers", default=",".join(PEERS))
    ap.add_argument("--scenarios", default="fanout,rooms,latency,sustained,idle")
    args, rounds = parse_harness_args(ap, duration=1.0)
    peers = [p for p in args.peers.split(",") if p]
    for p in peers:
        if p not in PEERS:
            sys.exit(f"fanout.py: --peers: unknown peer {p!r}; known: {', '.join(PEERS)}")
    scenarios = args.scenarios.split(",")
    servers = ["ours", *peers]
    h = Harness(args)
    raise_fd_limit()

    fan_sizes = [10, 100, 1000] if args.quick else [10, 100, 1000, 10000]
    big = 100 if args.quick else 1000
    idle_n = 1000 if args.quick else 10000
    rooms_shape = (10, 10) if args.quick else (100, 100)
    flat_queue = 100000  # the slow-consumer bound, raised for flat-out runs

    rows: dict[str, dict] = {}  # metric -> {"unit", "higher_better", "values": {server: [..]}}
    raw: list[dict] = []

    def add(metric: str, server: str, value: float | None, unit: str = "msg/CPU-s",
            higher_better: bool = True) -> None:
        row = rows.setdefault(metric, {"unit": unit, "higher_better": higher_better,
                                       "values": {s: [] for s in servers}})
        if value is not None:
            row["values"][server].append(value)

    sustained_start = dict.fromkeys(servers, 25.0)
    t_start = time.monotonic()
    for rnd in range(rounds):
        print(f"round {rnd + 1}/{rounds} ({time.monotonic() - t_start:.0f} s)", flush=True)
        if "fanout" in scenarios:
            for n in fan_sizes:
                for s in servers:
                    r = h.run(s, connections=n, queue=flat_queue)
                    r["scenario"] = f"fanout-{n}"
                    raw.append(r)
                    add(f"fan-out, {n:,} subscribers, 1 room (flat out)", s,
                        r["msgs_per_server_cpu_s"] if r["errors"] == 0 else None)
                    if n >= 1000:  # from the first connect to the last confirmation
                        add(f"set-up: {n:,} connections opened and subscribed (s)", s,
                            r["connect_s"] if r["connect_s"] > 0 else None, "s", False)
        if "rooms" in scenarios:
            nr, per = rooms_shape
            for s in servers:
                if s in ONE_ROOM_ONLY:
                    continue
                r = h.run(s, connections=nr * per, rooms=nr, queue=flat_queue)
                r["scenario"] = "rooms"
                raw.append(r)
                add(f"fan-out, {nr} rooms x {per} subscribers (flat out)", s,
                    r["msgs_per_server_cpu_s"] if r["errors"] == 0 else None)
        if "latency" in scenarios:
            for s in servers:
                r = h.run(s, connections=big, rate=100.0,
                          duration=1.0 if args.quick else 3.0)  # 300 messages
                r["scenario"] = "latency"
                raw.append(r)
                ok = r["errors"] == 0
                add(f"100 msg/s into {big:,} subscribers: p50 ms", s, r["p50_ms"] if ok else None,
                    "ms", False)
                add(f"100 msg/s into {big:,} subscribers: p99 ms", s, r["p99_ms"] if ok else None,
                    "ms", False)
                add(f"100 msg/s into {big:,} subscribers: p999 ms", s,
                    r["p999_ms"] if ok else None, "ms", False)
        if "sustained" in scenarios:
            for s in servers:
                best, runs = find_sustained(h, s, big, sustained_start[s], args.duration,
                                            cap=12800.0)
                for r in runs:
                    r["scenario"] = "sustained"
                raw.extend(runs)
                sustained_start[s] = best if best else 25.0  # later rounds: check it, then 2x
                add(f"sustained msg/s, {big:,} subscribers, all delivered, p99 <= 50 ms", s, best,
                    "msg/s")
        if "idle" in scenarios:
            for s in servers:
                if s in ONE_ROOM_ONLY:
                    continue
                r = h.run(s, connections=idle_n, idle=True, timeout=180.0)
                r["scenario"] = "idle"
                raw.append(r)
                add(f"memory per idle connection, {idle_n:,} connections (KiB)", s,
                    r.get("bytes_per_connection") if r["ready"] == idle_n else None, "KiB",
                    False)

    elapsed = time.monotonic() - t_start
    # The table: medians, and ours/peer ratios (how many times better ours is).
    table = []
    header = ["metric", "ours", *[f"{p} (ours/peer)" for p in peers]]
    lines = ["| " + " | ".join(header) + " |",
             "| --- | " + " | ".join(["---:"] * (len(header) - 1)) + " |"]
    for metric, row in rows.items():
        med = {s: (statistics.median(v) if v else None) for s, v in row["values"].items()}
        entry = {"metric": metric, "unit": row["unit"], "median": med, "ratio": {},
                 "runs": row["values"]}
        cells = [metric, fmt(med["ours"], row["unit"])]
        for p in peers:
            ratio = None
            if med["ours"] and med[p]:
                ratio = med["ours"] / med[p] if row["higher_better"] else med[p] / med["ours"]
            entry["ratio"][p] = ratio
            cells.append(f"{fmt(med[p], row['unit'])} ({ratio:.2f}x)" if ratio else
                         fmt(med[p], row["unit"]))
        table.append(entry)
        lines.append("| " + " | ".join(cells) + " |")
    print()
    print("\n".join(lines))
    print(f"\n(medians of {rounds} round(s); ratio > 1: ours is better; {elapsed:.0f} s)")

    now = dt.datetime.now(dt.timezone.utc)
    out = {
        "benchmark": "fanout",
        "utc": now.isoformat(timespec="seconds"),
        "quick": args.quick,
        "rounds": rounds,
        "duration_s": args.duration,
        "flat_out_queue": flat_queue,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "elapsed_s": elapsed,
        "table": table,
        "markdown": "\n".join(lines),
        "runs": raw,
    }
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    path = Path(args.out) if args.out else results / (
        f"{'quick-' if args.quick else ''}{now:%Y-%m-%d}.json")
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
