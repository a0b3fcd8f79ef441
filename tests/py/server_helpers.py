"""Helpers for the wire-protocol tests: a served runtime, JSON/WebSocket helpers and a raw
RFC 6455 client (wsproto over a plain socket) that sees close codes and handshake statuses
that the ``websockets`` client hides.

Everything runs on loopback with real sockets; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import socket
import struct
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import goldensignals as gs
from goldensignals import wire

WAIT = 10.0  # generous bound for anything that should take milliseconds on an idle machine

# ISO-8601 UTC with milliseconds and Z (docs/protocol.md, "Conventions").
ISO_MS = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"
UUID4 = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"

AGENTS = ("Alpha", "Beta", "Gamma")


# --- servers ----------------------------------------------------------------------------------
def make_runtime(symbols=("AAPL", "NVDA"), *, feed: Any = None, agents: int = 3,
                 vote: tuple[str, float] = ("BUY", 0.9), **settings: Any) -> gs.Runtime:
    """A runtime with `agents` deterministic Python agents that all vote `vote`.

    Without a feed (the default) nothing is analysed or priced unless the test asks: no
    analysis at start, none on moves or on time; each symbol gets a few bars so agents and
    the signal have a price.
    """
    if feed is None:
        settings.setdefault("analyze_on_start", False)
        settings.setdefault("signal_generation_interval", 3e7)
        settings.setdefault("move_threshold", 0.9)
    rt = gs.Runtime(symbols=list(symbols), feed=feed, **settings)
    for name in AGENTS[:agents]:
        def fn(ctx: Any, _v: tuple[str, float] = vote) -> gs.Vote:
            return gs.Vote(_v[0], _v[1])

        rt.agent(name, weight=1.0, timeout=1.0)(fn)
    if feed is None:
        t0 = time.time() - 3600
        for sym in symbols:
            for i in range(5):
                p = 100.0 + i
                rt.publish_bar(sym, p, p + 1, p - 1, p + 0.5, 1000.0, ts=t0 + 60 * i)
    return rt


# The shared secret of the tests' HS256 tokens.
TEST_SECRET = "a-test-secret-that-is-64-bytes-long-so-that-hs512-is-happy-too!!"


def token_for(sub: str, **claims: Any) -> str:
    """An HS256 token of TEST_SECRET for `sub`, valid for ten minutes."""
    import jwt

    return jwt.encode({"sub": sub, "exp": int(time.time()) + 600, **claims}, TEST_SECRET,
                      algorithm="HS256")


def bar(rt: gs.Runtime, price: float, i: int, symbol: str = "AAPL") -> None:
    """A bar closing at `price`, the i-th of a test: after make_runtime's five bars of an hour
    ago, in order."""
    rt.publish_bar(symbol, price, price + 0.5, price - 0.5, price, 1000.0,
                   ts=time.time() - 1000 + i)


class Served:
    """A runtime served on 127.0.0.1 at a free port."""

    def __init__(self, rt: gs.Runtime) -> None:
        self.rt = rt
        self.http = rt.serve(host="127.0.0.1", port=0, block=False)
        self.port = int(self.http.rsplit(":", 1)[1])
        self.ws = self.http.replace("http://", "ws://", 1)
        self.signals = self.ws + "/ws/signals"

    def status(self) -> dict[str, Any]:
        return http_json(self.http + "/ws/status")

    def metrics(self) -> dict[str, float]:
        return parse_metrics(http_text(self.http + "/metrics"))

    def stop(self) -> None:
        self.rt.stop()


@contextlib.contextmanager
def served(rt: gs.Runtime | None = None, **kw: Any) -> Iterator[Served]:
    s = Served(rt if rt is not None else make_runtime(**kw))
    try:
        yield s
    finally:
        s.stop()


# --- HTTP -------------------------------------------------------------------------------------
def http_get(url: str, timeout: float = WAIT, *, token: str | None = None,
             context: Any = None) -> tuple[int, dict[str, str], bytes]:
    """GET with an optional bearer token and TLS context; HTTP errors are answers too."""
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, dict(e.headers), e.read()


def http_json(url: str) -> Any:
    status, _, body = http_get(url)
    assert status == 200, (url, status, body)
    return json.loads(body)


def http_text(url: str) -> str:
    status, _, body = http_get(url)
    assert status == 200, (url, status, body)
    return body.decode()


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text format -> {'name{labels}': value} (comments skipped)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        out[key] = float(value)
    return out


def eventually(pred: Callable[[], Any], limit: float = WAIT, what: str = "condition") -> Any:
    end = time.monotonic() + limit
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError(f"{what} not met within {limit} s")
        time.sleep(0.02)


# --- websockets client helpers ----------------------------------------------------------------
def run(coro: Any, limit: float = 60.0) -> Any:
    """Runs a coroutine with an overall bound."""
    return asyncio.run(asyncio.wait_for(coro, limit))


async def recv(ws: Any, timeout: float = WAIT, fmt: str = "json") -> dict[str, Any]:
    """The next message: a text frame, or with `fmt` msgpack or protobuf a binary frame."""
    raw = await asyncio.wait_for(ws.recv(), timeout)
    want = str if fmt == "json" else bytes
    assert isinstance(raw, want), f"expected a {fmt} frame, got {type(raw).__name__}"
    return wire.decode(raw, fmt)


async def recv_until(ws: Any, pred: Callable[[dict[str, Any]], bool],
                     timeout: float = WAIT) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Reads until `pred(msg)`; returns that message and everything read before it."""
    seen: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        left = end - loop.time()
        if left <= 0:
            raise AssertionError(f"no matching message within {timeout} s; got {summary(seen)}")
        try:
            m = await recv(ws, left)
        except asyncio.TimeoutError:
            raise AssertionError(f"no matching message within {timeout} s; got {summary(seen)}") from None
        if pred(m):
            return m, seen
        seen.append(m)


async def until(ws: Any, pred: Callable[[dict[str, Any]], bool],
                timeout: float = WAIT) -> dict[str, Any]:
    """The first message matching `pred` (those before it are dropped)."""
    return (await recv_until(ws, pred, timeout))[0]


async def each(ws: Any, *preds: Callable[[dict[str, Any]], bool],
               timeout: float = WAIT) -> list[dict[str, Any]]:
    """The first message matching each predicate, in whatever order they come."""
    found: list[dict[str, Any] | None] = [None] * len(preds)

    def want(m: dict[str, Any]) -> bool:
        for i, p in enumerate(preds):
            if found[i] is None and p(m):
                found[i] = m
        return all(f is not None for f in found)

    await recv_until(ws, want, timeout)
    return found  # type: ignore[return-value]


async def problem(ws: Any, msg: dict[str, Any]) -> dict[str, Any]:
    """Sends `msg` and returns the alert that answers it."""
    await send(ws, msg)
    return await until(ws, lambda m: m.get("type") == "alert")


async def recv_quiet(ws: Any, quiet: float = 0.3, fmt: str = "json") -> list[dict[str, Any]]:
    """Reads until nothing arrives for `quiet` seconds."""
    out = []
    while True:
        try:
            out.append(await recv(ws, quiet, fmt))
        except asyncio.TimeoutError:
            return out


def summary(msgs: list[dict[str, Any]]) -> list[str]:
    out = []
    for m in msgs[-30:]:
        t = m.get("type")
        extra = m.get("code") or m.get("status") or (m.get("data") or {}).get("signal") or ""
        out.append(f"{t}:{extra}" if extra else str(t))
    return out


def is_type(t: str, **fields: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda m: m.get("type") == t and all(m.get(k) == v for k, v in fields.items())


def is_alert(code: str) -> Callable[[dict[str, Any]], bool]:
    return lambda m: m.get("type") == "alert" and m.get("code") == code


async def connect(url: str, **kw: Any) -> tuple[Any, dict[str, Any]]:
    """Connects with the `websockets` client; returns it and the welcome message."""
    import websockets

    ws = await websockets.connect(url, open_timeout=WAIT, **kw)
    welcome = await recv(ws)
    assert welcome.get("type") == "heartbeat" and "client_id" in welcome, welcome
    return ws, welcome


async def send(ws: Any, obj: Any) -> None:
    await ws.send(obj if isinstance(obj, str) else json.dumps(obj))


async def subscribe(ws: Any, symbol: str) -> dict[str, Any]:
    await send(ws, {"type": "subscribe", "symbol": symbol})
    m, _ = await recv_until(ws, is_type("subscribe", symbol=symbol.upper()))
    return m


async def analysis(ws: Any, symbol: str, timeout: float = WAIT) -> list[dict[str, Any]]:
    """Every message up to and including the decision_update of `symbol`."""
    m, seen = await recv_until(
        ws, lambda m: m.get("type") == "decision_update" and m["data"]["symbol"] == symbol,
        timeout)
    return seen + [m]


# --- raw client: wsproto over a socket ---------------------------------------------------------
class Rejected(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"upgrade refused with HTTP {status}: {body[:200]!r}")
        self.status = status
        self.body = body


class RawWS:
    """A blocking WebSocket client that exposes every frame, close code and HTTP status.

    `rcvbuf` shrinks the socket's receive buffer (set before connecting, so the TCP window
    stays small): a client that stops reading then backs up into the server quickly.
    """

    def __init__(self, port: int, path: str = "/ws/signals", *, rcvbuf: int | None = None,
                 host: str = "127.0.0.1", answer_pings: bool = True,
                 headers: dict[str, str] | None = None, ssl: Any = None) -> None:
        self.answer_pings = answer_pings
        self.headers = [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        try:
            if ssl is not None:  # an ssl.SSLContext: the handshake happens on connect
                self.sock = ssl.wrap_socket(self.sock, server_hostname=host)
            self._open(host, port, path)
        except BaseException:
            self.sock.close()
            raise

    def _open(self, host: str, port: int, path: str) -> None:
        from wsproto import ConnectionType, WSConnection
        from wsproto.events import AcceptConnection, RejectConnection, RejectData, Request

        self.sock.settimeout(WAIT)
        self.sock.connect((host, port))
        self.conn = WSConnection(ConnectionType.CLIENT)
        self.sock.sendall(self.conn.send(Request(host=f"{host}:{port}", target=path,
                                                 extra_headers=self.headers)))
        self.texts: list[str] = []
        self.binaries: list[bytes] = []
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self.closed = False
        self._text_parts: list[str] = []
        status = None
        body = b""
        end = time.monotonic() + WAIT
        while True:
            data = self._recv_raw(max(0.01, end - time.monotonic()))
            self.conn.receive_data(data or None)
            for ev in self.conn.events():
                if isinstance(ev, AcceptConnection):
                    self._drain()  # frames that came in the same read as the 101
                    return
                if isinstance(ev, RejectConnection):
                    status = ev.status_code
                    if not ev.has_body:
                        raise Rejected(status, body)
                elif isinstance(ev, RejectData):
                    body += ev.data
                    if ev.body_finished:
                        raise Rejected(status or 0, body)
                elif isinstance(ev, Request):  # pragma: no cover - server role only
                    pass
            if not data:
                raise Rejected(status or 0, body)

    def _recv_raw(self, timeout: float) -> bytes:
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return b""
        except OSError as e:  # TLS: the peer went away without close_notify
            if type(e).__name__ in ("SSLEOFError", "SSLZeroReturnError"):
                return b""
            raise

    # sending
    def send_text(self, text: str) -> None:
        from wsproto.events import TextMessage

        self.sock.sendall(self.conn.send(TextMessage(data=text)))

    def send_json(self, obj: Any) -> None:
        self.send_text(json.dumps(obj))

    def send_raw_frame(self, opcode: int, payload: bytes, fin: bool = True) -> None:
        """A hand-made masked frame (e.g. a text frame whose bytes are not UTF-8)."""
        head = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        key = os.urandom(4)
        masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + key + masked)

    # receiving
    def pump(self, timeout: float) -> bool:
        """Reads what arrives within `timeout`; False once the connection is gone."""
        if self.closed:
            return False
        try:
            data = self._recv_raw(timeout)
        except TimeoutError:
            return True
        self.conn.receive_data(data or None)
        self._drain()
        if not data:
            self.closed = True
        return not self.closed

    def _drain(self) -> None:
        from wsproto.events import BytesMessage, CloseConnection, Ping, TextMessage

        for ev in self.conn.events():
            if isinstance(ev, TextMessage):
                self._text_parts.append(ev.data)
                if ev.message_finished:
                    self.texts.append("".join(self._text_parts))
                    self._text_parts = []
            elif isinstance(ev, BytesMessage):
                self.binaries.append(bytes(ev.data))
            elif isinstance(ev, Ping):
                if self.answer_pings:
                    with contextlib.suppress(OSError):
                        self.sock.sendall(self.conn.send(ev.response()))
            elif isinstance(ev, CloseConnection):
                self.close_code, self.close_reason = ev.code, ev.reason
                with contextlib.suppress(Exception):
                    self.sock.sendall(self.conn.send(ev.response()))
                self.closed = True

    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(t) for t in self.texts]

    def wait_for(self, pred: Callable[[dict[str, Any]], bool], limit: float = WAIT) -> dict[str, Any]:
        end = time.monotonic() + limit
        checked = 0
        while True:
            msgs = self.messages()
            for m in msgs[checked:]:
                if pred(m):
                    return m
            checked = len(msgs)
            if time.monotonic() > end or not self.pump(0.1):
                msgs = self.messages()
                for m in msgs[checked:]:
                    if pred(m):
                        return m
                raise AssertionError(f"no matching message; got {summary(msgs)}, "
                                     f"close {self.close_code}")

    def read_until_closed(self, limit: float = WAIT) -> int | None:
        """Reads (and discards nothing) until the server closes; returns the close code."""
        end = time.monotonic() + limit
        while self.pump(0.1):
            if time.monotonic() > end:
                raise AssertionError(f"the server did not close within {limit} s")
        return self.close_code

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self) -> RawWS:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def inflate(payload: bytes, bits: int = 15) -> bytes:
    # RFC 7692 7.2.2: append the 00 00 ff ff the sender removed; a fresh inflater per message
    # (server_no_context_takeover).
    return zlib.decompressobj(-bits).decompress(payload + b"\x00\x00\xff\xff")


def client_frame(first: int, payload: bytes, mask: bytes | None = None) -> bytes:
    """A client's frame: `first` (FIN, RSV, opcode), then the payload masked with `mask`
    (random when not given; b"" sends it unmasked, which the server must refuse)."""
    key = os.urandom(4) if mask is None else mask
    n = len(payload)
    bit = 0x80 if key else 0
    head = bytes([first])
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + struct.pack(">H", n)
    else:
        head += bytes([bit | 127]) + struct.pack(">Q", n)
    if not key:
        return head + payload
    return head + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))


class FrameClient:
    """A WebSocket client on a raw socket that shows the upgrade's status and headers and every
    frame as (rsv1, opcode, payload): for what client libraries hide or refuse to send.
    `extensions`: a Sec-WebSocket-Extensions offer; `headers`: replace or add request headers
    (an empty value leaves the header out);
    `early`: bytes sent in the same write as the request (frames a client sends at once);
    `rcvbuf`: a small receive buffer, so that a client not reading backs up into the server."""

    def __init__(self, port: int, path: str = "/ws/signals", *, extensions: str | None = None,
                 headers: dict[str, str] | None = None, early: bytes = b"",
                 rcvbuf: int | None = None) -> None:
        self.fmt = "protobuf" if "format=protobuf" in path else "msgpack"  # of binary frames
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        fields = {"Host": f"127.0.0.1:{port}", "Upgrade": "websocket", "Connection": "Upgrade",
                  "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
                  "Sec-WebSocket-Version": "13"}
        if extensions is not None:
            fields["Sec-WebSocket-Extensions"] = extensions
        fields.update(headers or {})
        lines = [f"GET {path} HTTP/1.1", *(f"{k}: {v}" for k, v in fields.items() if v)]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + early)
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            assert chunk, "connection closed during the upgrade"
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status_line, *rest = head.decode().split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {k.strip().lower(): v.strip() for k, v in (f.split(":", 1) for f in rest)}
        # RFC 6455 4.2.2: what Sec-WebSocket-Accept must be for the key sent.
        self.accept_expected = base64.b64encode(hashlib.sha1(
            (fields["Sec-WebSocket-Key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()
        ).digest()).decode()
        self.body = b""
        if self.status != 101:  # the refusal's body, whole
            n = int(self.headers.get("content-length", "0"))
            while len(self.buf) < n:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.buf += chunk
            self.body = self.buf[:n]

    def _need(self, n: int) -> None:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            assert chunk, "connection closed"
            self.buf += chunk

    def frame(self) -> tuple[bool, int, bytes]:
        self._need(2)
        b0, b1 = self.buf[0], self.buf[1]
        assert not b1 & 0x80, "server frames are not masked"
        n, at = b1 & 0x7F, 2
        if n == 126:
            self._need(4)
            n, at = struct.unpack(">H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, at = struct.unpack(">Q", self.buf[2:10])[0], 10
        self._need(at + n)
        payload, self.buf = self.buf[at:at + n], self.buf[at + n:]
        assert b0 & 0x80, "every server frame is FIN"
        return bool(b0 & 0x40), b0 & 0x0F, payload

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_json(self, obj: Any) -> None:
        self.sock.sendall(client_frame(0x81, json.dumps(obj).encode()))

    def messages_until(self, pred: Any, limit: float = 10.0) -> list[tuple[bool, int, bytes, Any]]:
        """Frames as (rsv1, opcode, raw payload, decoded message) until one matches `pred`."""
        out = []
        end = time.monotonic() + limit
        while time.monotonic() < end:
            rsv1, op, payload = self.frame()
            if op not in (1, 2):
                continue
            plain = inflate(payload, self.bits) if rsv1 else payload
            msg = json.loads(plain) if op == 1 else wire.decode(plain, self.fmt)
            out.append((rsv1, op, payload, msg))
            if pred(msg):
                return out
        raise AssertionError("no matching message")

    def until_control(self, opcode: int, limit: float = 10.0) -> bytes:
        """The payload of the next frame of `opcode` (a ping, pong or close), skipping others."""
        end = time.monotonic() + limit
        while time.monotonic() < end:
            _, op, payload = self.frame()
            if op == opcode:
                return payload
        raise AssertionError(f"no frame of opcode {opcode}")

    def eof(self, limit: float = 10.0) -> bool:
        """Whether the server ends the TCP connection within `limit` (what is unread skipped)."""
        self.sock.settimeout(limit)
        try:
            while self.sock.recv(65536):
                pass
            return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except TimeoutError:
            return False

    @property
    def bits(self) -> int:
        ext = self.headers.get("sec-websocket-extensions", "")
        for part in ext.split(";"):
            if part.strip().startswith("server_max_window_bits="):
                return int(part.split("=")[1])
        return 15

    def close(self) -> None:
        self.sock.close()
