"""permessage-deflate on /ws/signals (docs/protocol.md, "Compression") over real sockets: the
negotiation (server_no_context_takeover, the window a client asks for, off by setting), raw
frames with RSV1 that inflate to the JSON, byte-identical for every subscriber (compressed
once per message), small messages left alone, MessagePack and Protobuf too (the same bytes
for every client of a format), and the websockets client with
compression="deflate" both ways."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import time
import zlib
from typing import Any

import pytest
from goldensignals import wire
from server_helpers import analysis, connect, run, send, served, subscribe


class DeflateClient:
    """A raw client offering `extensions`: the handshake response and every frame as
    (rsv1, opcode, payload)."""

    def __init__(self, port: int, extensions: str | None, path: str = "/ws/signals") -> None:
        self.fmt = "protobuf" if "format=protobuf" in path else "msgpack"  # of binary frames
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if extensions is not None:
            lines.append(f"Sec-WebSocket-Extensions: {extensions}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status, *fields = head.decode().split("\r\n")
        assert " 101 " in status, status
        self.headers = {k.strip().lower(): v.strip() for k, v in (f.split(":", 1) for f in fields)}

    def _need(self, n: int) -> None:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            assert chunk, "connection closed"
            self.buf += chunk

    def frame(self) -> tuple[bool, int, bytes]:
        self._need(2)
        b0, b1 = self.buf[0], self.buf[1]
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

    def send_json(self, obj: Any) -> None:
        data = json.dumps(obj).encode()
        mask = os.urandom(4)
        masked = bytes(c ^ mask[i % 4] for i, c in enumerate(data))
        header = bytes([0x81, 0x80 | len(data)]) if len(data) < 126 else \
            bytes([0x81, 0x80 | 126]) + struct.pack(">H", len(data))
        self.sock.sendall(header + mask + masked)

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

    @property
    def bits(self) -> int:
        ext = self.headers.get("sec-websocket-extensions", "")
        for part in ext.split(";"):
            if part.strip().startswith("server_max_window_bits="):
                return int(part.split("=")[1])
        return 15

    def close(self) -> None:
        self.sock.close()


def inflate(payload: bytes, bits: int = 15) -> bytes:
    # RFC 7692 7.2.2: append the 00 00 ff ff the sender removed; a fresh inflater per message
    # (server_no_context_takeover).
    return zlib.decompressobj(-bits).decompress(payload + b"\x00\x00\xff\xff")


OFFER = "permessage-deflate; client_max_window_bits"


def test_negotiation_and_compressed_frames_shared_by_every_subscriber():
    with served() as srv:
        a, b = DeflateClient(srv.port, OFFER), DeflateClient(srv.port, OFFER)
        plain = DeflateClient(srv.port, None)
        try:
            ext = a.headers["sec-websocket-extensions"]
            assert ext.startswith("permessage-deflate") and "server_no_context_takeover" in ext
            assert "sec-websocket-extensions" not in plain.headers
            for c in (a, b, plain):
                c.messages_until(lambda m: m.get("type") == "heartbeat")  # the welcome
                c.send_json({"type": "subscribe", "symbol": "AAPL"})
                c.messages_until(lambda m: m.get("type") == "subscribe")
            a.send_json({"type": "analyze", "symbol": "AAPL"})

            def done(m: Any) -> bool:
                return m.get("type") == "decision_update"

            got_a, got_b = a.messages_until(done), b.messages_until(done)
            got_plain = plain.messages_until(done)
            big = [f for f in got_a if f[3].get("type") == "signal_update"]
            assert big and big[0][0], "a signal_update (over the threshold) is compressed"
            signal = big[0]
            assert len(signal[2]) < len(json.dumps(signal[3])) * 0.7  # it does shrink
            # Byte-identical for both subscribers: compressed once, shared.
            payload_b = next(f[2] for f in got_b if f[3].get("type") == "signal_update")
            assert payload_b == signal[2]
            # The uncompressed client gets the same object, no RSV1 anywhere.
            plain_signal = next(f for f in got_plain if f[3].get("type") == "signal_update")
            assert not any(f[0] for f in got_plain)
            assert plain_signal[3] == signal[3]
            # Short messages (the reply to analyze, the pong) stay uncompressed.
            a.send_json({"type": "ping"})
            [pong] = [f for f in a.messages_until(lambda m: m.get("type") == "pong")
                      if f[3].get("type") == "pong"]
            assert pong[0] is False
        finally:
            for c in (a, b, plain):
                c.close()


def test_a_smaller_window_the_client_asks_for_is_used():
    with served() as srv:
        c = DeflateClient(srv.port, "permessage-deflate; server_max_window_bits=10")
        try:
            assert "server_max_window_bits=10" in c.headers["sec-websocket-extensions"]
            c.messages_until(lambda m: m.get("type") == "heartbeat")
            c.send_json({"type": "analyze", "symbol": "AAPL"})
            frames = c.messages_until(lambda m: m.get("type") == "decision_update")
            assert any(f[0] for f in frames)  # and each inflated with a 2^10 window
        finally:
            c.close()


def test_compression_can_be_turned_off_and_threshold_set():
    with served(ws_compression=False) as srv:
        c = DeflateClient(srv.port, OFFER)
        try:
            assert "sec-websocket-extensions" not in c.headers
        finally:
            c.close()
    with served(ws_compression_threshold=10) as srv:  # even the welcome is compressed
        c = DeflateClient(srv.port, OFFER)
        try:
            [(rsv1, _, _, welcome)] = c.messages_until(lambda m: m.get("type") == "heartbeat")
            assert rsv1 and welcome["message"] == "Connected to GoldenSignals WebSocket"
        finally:
            c.close()


@pytest.mark.parametrize("fmt", ["msgpack", "protobuf"])
def test_binary_frames_are_compressed_too(fmt: str) -> None:
    with served(ws_compression_threshold=16) as srv:
        c = DeflateClient(srv.port, OFFER, path=f"/ws/signals?format={fmt}")
        d = DeflateClient(srv.port, OFFER, path=f"/ws/signals?format={fmt}")
        try:
            [(rsv1, op, _, welcome)] = c.messages_until(lambda m: m.get("type") == "heartbeat")
            assert (rsv1, op) == (True, 2) and welcome["client_id"]
            d.messages_until(lambda m: m.get("type") == "heartbeat")
            # A room message: compressed once in this format, the same bytes for both.
            for x in (c, d):
                x.send_json({"type": "subscribe", "symbol": "AAPL"})
                x.messages_until(lambda m: m.get("type") == "subscribe")
            c.send_json({"type": "analyze", "symbol": "AAPL"})
            frames = [x.messages_until(lambda m: m.get("type") == "signal_update")[-1]
                      for x in (c, d)]
            assert frames[0][:3] == frames[1][:3] and frames[0][0] and frames[0][1] == 2
            assert frames[0][3]["data"]["action"] == "BUY"
        finally:
            c.close()
            d.close()


def test_websockets_client_with_deflate_both_ways():
    with served() as srv:
        async def main() -> None:
            ws, _ = await connect(srv.signals, compression="deflate")
            async with ws:
                ext = ws.response.headers["Sec-WebSocket-Extensions"]
                assert "permessage-deflate" in ext
                # The client compresses what it sends too; the server inflates it.
                await send(ws, {"type": "history", "symbol": "AAPL", "limit": 5,
                                "padding": "x" * 2000})
                await subscribe(ws, "AAPL")
                await send(ws, {"type": "analyze", "symbol": "AAPL"})
                msgs = await analysis(ws, "AAPL")
                assert [m for m in msgs if m["type"] == "signal_update"]
            ws, _ = await connect(srv.signals, compression=None)  # and without
            async with ws:
                assert "Sec-WebSocket-Extensions" not in ws.response.headers
                await subscribe(ws, "AAPL")

        run(main())
