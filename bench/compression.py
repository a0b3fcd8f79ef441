"""permessage-deflate, measured on the real stream: bytes on the wire and server CPU per
message, with and without compression, at 1,000 subscribers; and memory per idle connection.

The server is the native ``goldensignals-server`` on its embedded defaults (the simulated
market, the five built-in agents), with the market sped up (``--interval``) and history off,
so the messages are the real mix of price_update, agent_update, signal_update and
decision_update. 1,000 raw clients (one Python thread, non-blocking sockets) each subscribe to
every symbol and read everything; half the rounds offer ``permessage-deflate`` in the
handshake, half do not, alternating. Per round, over a fixed window:

- messages: the server's ``gs_messages_sent_total`` delta (frames written to clients);
- bytes: everything the clients read (headers included), per message;
- CPU: the server's utime+stime from /proc, per message.

Memory per idle connection: the server's RSS (VmRSS) before and after 1,000 more connections
that subscribe to nothing, with and without the offer; and the same after each compressed
client sent one compressed message (which makes the server's inflater allocate its window).

Run: make bench-compression   or   .venv/bin/python bench/compression.py [--quick]
Writes bench/results/compression-<UTC date>.json.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import platform
import selectors
import socket
import statistics
import struct
import subprocess
import sys
import time
import urllib.request
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "scripts"))
from loopback import free_port

OFFER = "permessage-deflate; client_max_window_bits"
SYMBOLS = ["AAPL", "GOOGL", "MSFT", "TSLA", "NVDA", "SPY", "QQQ", "AMZN", "META", "NFLX"]


def server_binary() -> Path:
    for p in (ROOT / ".venv" / "bin" / "goldensignals-server",):
        if p.exists():
            return p
    raise SystemExit("goldensignals-server not found: run make install first")


class Server:
    def __init__(self, compression: bool, interval: float) -> None:
        self.port = free_port()
        args = [str(server_binary()), "--host", "127.0.0.1", "--port", str(self.port),
                "--db", "off", "--symbols", ",".join(SYMBOLS), "--interval", str(interval),
                "--seed", "3", "--ws-max-connections", "5000",
                "--ws-max-connections-per-ip", "5000", "--ws-message-queue-size", "100000",
                "--ws-compression=" + ("true" if compression else "false")]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("server did not start")

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def sent(self) -> float:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
            for line in r.read().decode().splitlines():
                if line.startswith("gs_websocket_messages_sent_total "):
                    return float(line.split()[1])
        return 0.0

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def masked_frame(payload: bytes, opcode: int = 1, rsv1: bool = False) -> bytes:
    mask = os.urandom(4)
    head = bytes([0x80 | (0x40 if rsv1 else 0) | opcode])
    n = len(payload)
    head += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n)
    return head + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload))


def open_clients(port: int, n: int, offer: bool) -> list[socket.socket]:
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET /ws/signals HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n")
        if offer:
            req += f"Sec-WebSocket-Extensions: {OFFER}\r\n"
        s.sendall((req + "\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            buf += s.recv(4096)
        head = buf.split(b"\r\n\r\n", 1)[0].decode().lower()
        assert " 101 " in head.splitlines()[0], head
        assert ("permessage-deflate" in head) == offer, head
        socks.append(s)
    return socks


def drain(socks: list[socket.socket], seconds: float) -> int:
    """Reads everything the sockets get for `seconds`; returns the bytes read."""
    sel = selectors.DefaultSelector()
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    total = 0
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        for key, _ in sel.select(min(left, 0.2)):
            try:
                chunk = key.fileobj.recv(1 << 20)  # type: ignore[union-attr]
            except BlockingIOError:
                continue
            total += len(chunk)
    sel.close()
    for s in socks:
        s.setblocking(True)
    return total


def stream_round(compression: bool, clients: int, seconds: float, interval: float) -> dict:
    srv = Server(compression=True, interval=interval)
    try:
        socks = open_clients(srv.port, clients, offer=compression)
        for s in socks:
            for sym in SYMBOLS:
                s.sendall(masked_frame(json.dumps({"type": "subscribe", "symbol": sym}).encode()))
        drain(socks, 2.0)  # confirmations, snapshots, the first analyses
        cpu0, sent0 = srv.cpu(), srv.sent()
        got = drain(socks, seconds)
        cpu1, sent1 = srv.cpu(), srv.sent()
        got += drain(socks, 0.3)  # what was in flight when the window closed
        for s in socks:
            s.close()
        messages = sent1 - sent0
        return {"compression": compression, "clients": clients, "seconds": seconds,
                "messages": messages, "bytes": got,
                "bytes_per_message": got / messages if messages else None,
                "server_cpu_s": cpu1 - cpu0,
                "cpu_us_per_message": (cpu1 - cpu0) / messages * 1e6 if messages else None}
    finally:
        srv.stop()


def memory_round(clients: int) -> dict:
    out = {}
    for offer in (False, True):
        srv = Server(compression=True, interval=1.0)
        try:
            time.sleep(1.0)
            before = srv.rss_kib()
            socks = open_clients(srv.port, clients, offer=offer)
            for s in socks:
                s.sendall(masked_frame(b'{"type":"ping"}'))
            drain(socks, 1.5)
            idle = srv.rss_kib()
            key = "deflate" if offer else "plain"
            out[key] = {"idle_kib_per_connection": (idle - before) / clients}
            if offer:
                # One compressed client message each: the server's inflater takes its window.
                co = zlib.compressobj(wbits=-15)
                body = co.compress(b'{"type":"ping"}') + co.flush(zlib.Z_SYNC_FLUSH)
                for s in socks:
                    s.sendall(masked_frame(body[:-4], rsv1=True))
                drain(socks, 1.5)
                out[key]["after_a_compressed_message_kib_per_connection"] = \
                    (srv.rss_kib() - before) / clients
            for s in socks:
                s.close()
        finally:
            srv.stop()
    return out


def write_result(name: str, args: argparse.Namespace, result: dict[str, object]) -> None:
    """bench/results/[quick-]<name>-<UTC date>.json: the machine, the arguments and `result`."""
    out = HERE / "results" / (("quick-" if args.quick else "") +
                              f"{name}-{dt.datetime.now(dt.timezone.utc):%Y-%m-%d}.json")
    out.write_text(json.dumps({"machine": platform.platform(), "cpus": os.cpu_count(),
                               "args": vars(args), **result}, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="100 clients, 1 round, 3 s windows")
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--interval", type=float, default=0.02,
                    help="simulated seconds between bars (smaller: more messages)")
    args = ap.parse_args()
    if args.quick:
        args.clients, args.rounds, args.seconds = 100, 1, 3.0
    import resource
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))

    rounds = []
    for r in range(args.rounds):
        for compression in ((False, True) if r % 2 == 0 else (True, False)):
            res = stream_round(compression, args.clients, args.seconds, args.interval)
            print(f"round {r + 1} {'deflate' if compression else 'plain  '}: "
                  f"{res['messages']:.0f} msgs, {res['bytes_per_message']:.1f} B/msg, "
                  f"{res['cpu_us_per_message']:.2f} us CPU/msg", flush=True)
            rounds.append(res)

    def med(comp: bool, key: str) -> float:
        return statistics.median(x[key] for x in rounds if x["compression"] == comp)

    summary = {k: {"bytes_per_message": med(c, "bytes_per_message"),
                   "cpu_us_per_message": med(c, "cpu_us_per_message")}
               for k, c in (("plain", False), ("deflate", True))}
    summary["bytes_ratio"] = summary["deflate"]["bytes_per_message"] / summary["plain"]["bytes_per_message"]
    summary["cpu_ratio"] = summary["deflate"]["cpu_us_per_message"] / summary["plain"]["cpu_us_per_message"]
    memory = memory_round(args.clients)
    print(json.dumps({"summary": summary, "memory": memory}, indent=2))
    write_result("compression", args, {"rounds": rounds, "summary": summary, "memory": memory})
    return 0


if __name__ == "__main__":
    sys.exit(main())
