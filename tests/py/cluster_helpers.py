"""Many nodes over one Redis, for the tests: a real redis-server on a free loopback port, real
goldensignals-server processes, and WebSocket clients that record every room message's seq.

Every wait is bounded; every process is stopped by the context managers, killed if need be.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

from loopback import free_port
from server_helpers import eventually
from websockets.sync.client import connect

SERVER = Path(sys.executable).parent / "goldensignals-server"
REDIS = shutil.which("redis-server")
SYMBOLS = ("AAPL", "MSFT", "NVDA", "TSLA")
ROOT = Path(__file__).resolve().parents[2]


class Redis:
    """redis-server without persistence (a restart loses everything, as the tests want)."""

    def __init__(self, port: int | None = None, password: str | None = None) -> None:
        assert REDIS, "redis-server is missing (make test installs Debian's redis-server)"
        self.port = port or free_port()
        self.password = password
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--loglevel", "warning",
             *(["--requirepass", self.password] if self.password else [])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        eventually(lambda: self.cli("PING") == "PONG", 10, "redis-server to answer")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def cli(self, *args: str) -> str:
        auth = ["--no-auth-warning", "-a", self.password] if self.password else []
        r = subprocess.run(["redis-cli", "-p", str(self.port), *auth, *args], capture_output=True,
                           text=True, timeout=10, check=False)
        return r.stdout.strip()


class Node:
    """A goldensignals-server that is one node of many."""

    def __init__(self, name: str, redis_url: str, tmp: Path, *, lease: float = 1.0,
                 interval: float = 0.05, extra: tuple[str, ...] = ()) -> None:
        self.name = name
        self.log = tmp / f"{name}.log"
        # Opened for appending and kept by the child alone: the child's writes always land at
        # the end. (A descriptor shared with a reader that seeks shares the offset, and a line
        # written just after the reader's seek overwrites the start of the log.)
        with self.log.open("a") as log:
            self.proc = subprocess.Popen(
                [str(SERVER), "--port", "0", "--symbols", ",".join(SYMBOLS), "--interval",
                 str(interval), "--redis-url", redis_url, "--node-id", name, "--redis-lease",
                 str(lease), "--db", str(tmp / f"{name}.db"), *extra],
                stdout=log, stderr=subprocess.STDOUT)
        try:
            self.port = eventually(self._port, 30, f"{name} to listen")
        except AssertionError as e:
            self.stop()
            raise AssertionError(f"{e}; its log:\n{self.output()[-3000:]}") from None
        except BaseException:
            self.stop()
            raise
        self.http = f"http://127.0.0.1:{self.port}"
        self.ws = f"ws://127.0.0.1:{self.port}/ws/signals"

    def _port(self) -> int | None:
        m = re.search(r"on http://127\.0\.0\.1:(\d+)/", self.output())
        if m:
            return int(m.group(1))
        assert self.proc.poll() is None, f"{self.name} exited: {self.output()}"
        return None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def get(self, path: str) -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(self.http + path, timeout=10) as r:
                body = r.read().decode()
                return r.status, json.loads(body) if path != "/metrics" else body
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read().decode())

    def cluster(self) -> dict[str, Any]:
        return self.get("/ws/status")[1]["cluster"]

    def owned(self) -> set[str]:
        return set(self.cluster()["owned"])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@contextlib.contextmanager
def cluster(tmp: Path, names: tuple[str, ...] = ("a", "b", "c"), **kw: Any
            ) -> Iterator[tuple[Redis, dict[str, Node]]]:
    redis = Redis()
    nodes: dict[str, Node] = {}
    try:
        for n in names:  # started together: they race for every symbol
            nodes[n] = Node(n, redis.url, tmp, **kw)
        settle(list(nodes.values()))
        yield redis, nodes
    finally:
        for node in nodes.values():
            with contextlib.suppress(Exception):
                node.stop()
        redis.kill()


def settle(nodes: list[Node], limit: float = 20.0) -> dict[str, str]:
    """Waits until every node sees all of them and each symbol has one owner they agree on."""
    names = sorted(n.name for n in nodes)

    def agreed() -> dict[str, str] | None:
        views = [n.cluster() for n in nodes]
        if any(sorted(v["nodes"]) != names for v in views):
            return None
        owners = views[0]["owners"]
        if any(v["owners"] != owners for v in views) or set(owners) != set(SYMBOLS):
            return None
        held = {s: [v["node_id"] for v in views if s in v["owned"]] for s in SYMBOLS}
        if any(held[s] != [owners[s]] for s in SYMBOLS):
            return None
        return dict(owners)

    return eventually(agreed, limit, "one agreed owner per symbol")


class Watcher:
    """A WebSocket client on a thread: subscribes to `symbol` (with `since`, if given) and
    records every room message (seq, type) and every other message."""

    def __init__(self, node: Node, symbol: str, since: int | None = None) -> None:
        self.symbol = symbol
        self.room: list[tuple[int, str]] = []
        self.other: list[dict[str, Any]] = []
        self._stop = threading.Event()
        # Entered by hand: the thread below owns it until close().
        self._ws = connect(node.ws, open_timeout=10).__enter__()
        msg: dict[str, Any] = {"type": "subscribe", "symbol": symbol}
        if since is not None:
            msg["since"] = since
        self._ws.send(json.dumps(msg))
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                m = json.loads(self._ws.recv(timeout=0.2))
            except TimeoutError:
                continue
            except Exception:  # noqa: BLE001 - closed, however it closed
                return
            if "seq" in m and m.get("type") != "history":
                self.room.append((int(m["seq"]), m["type"]))
            else:
                self.other.append(m)

    def seqs(self) -> list[int]:
        return [s for s, _ in list(self.room)]

    def close(self) -> list[int]:
        self._stop.set()
        self._thread.join(5)
        with contextlib.suppress(Exception):
            self._ws.close()
        return self.seqs()


def contiguous(seqs: list[int]) -> bool:
    return all(b == a + 1 for a, b in pairwise(seqs))


def stream_types(redis: Redis, symbol: str, first: int, last: int) -> dict[int, str]:
    """seq -> type of the Stream's messages of `symbol` from first to last."""
    out = redis.cli("XRANGE", f"gs:{{{symbol}}}:stream", f"{first}-0", f"{last}-0").split("\n")
    types: dict[int, str] = {}
    for i, line in enumerate(out):
        if line.endswith("-0") and line[:1].isdigit() and i + 2 < len(out) and out[i + 1] == "t":
            types[int(line.split("-")[0])] = out[i + 2]
    return types


def once_in_order(redis: Redis, symbol: str, run: list[int]) -> list[int]:
    """Asserts a client's run of seqs has each message once, in order, and that the only ones
    missing are price updates a newer price replaced in its queue (prices are replaceable,
    docs/protocol.md); answers the missing seqs."""
    assert all(b > a for a, b in pairwise(run)), ("a duplicate or out of order", run)
    missing = sorted(set(range(run[0], run[-1] + 1)) - set(run))
    if missing:
        types = stream_types(redis, symbol, missing[0], missing[-1])
        assert all(types.get(m) == "price_update" for m in missing), (
            "missing room messages that are not replaced prices",
            [(m, types.get(m)) for m in missing])
    return missing


def overlap(*runs: list[int]) -> list[list[int]]:
    """Each run cut to the seqs all of them span."""
    lo = max(r[0] for r in runs)
    hi = min(r[-1] for r in runs)
    return [[s for s in r if lo <= s <= hi] for r in runs]


HAPROXY = shutil.which("haproxy")


@contextlib.contextmanager
def haproxy(node_ports: list[int]) -> Iterator[str]:
    """deploy/haproxy.cfg in front of these server ports (at most three); yields host:port."""
    port = free_port()
    # The file names three nodes; fewer fill the rest with the last one.
    ports = node_ports + [node_ports[-1]] * (3 - len(node_ports))
    env = dict(os.environ, GS_LB_BIND=f"127.0.0.1:{port}",
               **{f"GS_NODE{i + 1}": f"127.0.0.1:{p}" for i, p in enumerate(ports)})
    proc = subprocess.Popen([str(HAPROXY), "-db", "-f", str(ROOT / "deploy" / "haproxy.cfg")],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        def up() -> bool:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            with contextlib.suppress(OSError):
                import urllib.request
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    return r.status == 200
            return False

        eventually(up, 20, "haproxy to pass requests")
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        if proc.stderr:
            proc.stderr.close()
