"""permessage-deflate on /ws/signals (docs/protocol.md, "Compression") over real sockets: the
negotiation (server_no_context_takeover, the window a client asks for, off by setting), raw
frames with RSV1 that inflate to the JSON, byte-identical for every subscriber (compressed
once per message), small messages left alone, MessagePack and Protobuf too (the same bytes
for every client of a format), and the websockets client with
compression="deflate" both ways."""

from __future__ import annotations

import json
from typing import Any

import pytest
from server_helpers import FrameClient, analysis, connect, run, send, served, subscribe


def DeflateClient(port: int, extensions: str | None, path: str = "/ws/signals") -> FrameClient:
    """A raw client offering `extensions` (server_helpers.FrameClient), upgraded."""
    c = FrameClient(port, path, extensions=extensions)
    assert c.status == 101, (c.status, c.body)
    return c


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
