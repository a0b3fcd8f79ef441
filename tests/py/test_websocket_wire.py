"""The server's own WebSocket protocol (docs/protocol.md, "Close codes" and "Heartbeats") on
the wire, with a raw socket that sends what client libraries will not: the upgrade's accept
key and its refusals (426, 400), frames sent in the same write as the request, a frame
trickled in byte by byte, fragments with a ping between them, the pong to a client's ping,
the answer to a client's close and the TCP close after it, and a protocol error's 1002."""

from __future__ import annotations

import json
import struct
import time

from server_helpers import FrameClient, client_frame, eventually, served


def upgrade(port: int, **headers: str) -> tuple[int, dict[str, str], bytes, str]:
    """An upgrade with `headers` changed ("" leaves one out): status, headers, body, and the
    accept key the request's key calls for."""
    c = FrameClient(port, headers={k.replace("_", "-"): v for k, v in headers.items()})
    c.close()
    return c.status, c.headers, c.body, c.accept_expected


def test_upgrade_accept_key_and_refusals_name_the_bad_value():
    with served() as srv:
        status, headers, _, accept = upgrade(srv.port)
        assert status == 101
        assert headers["sec-websocket-accept"] == accept
        assert headers["upgrade"].lower() == "websocket"
        status, headers, body, _ = upgrade(srv.port, Sec_WebSocket_Version="8")
        assert status == 426
        assert headers["sec-websocket-version"] == "13"
        assert headers["upgrade"].lower() == "websocket"
        assert json.loads(body)["error"] == "bad_upgrade" and "'8'" in json.loads(body)["message"]
        status, _, body, _ = upgrade(srv.port, Sec_WebSocket_Key="short")
        assert status == 400 and "'short'" in json.loads(body)["message"]
        status, _, body, _ = upgrade(srv.port, Host="")
        assert status == 400 and "Host" in json.loads(body)["message"]


def test_frames_sent_with_the_request_and_trickled_ones_are_read():
    with served() as srv:
        sub = client_frame(0x81, json.dumps({"type": "subscribe", "symbol": "AAPL"}).encode())
        c = FrameClient(srv.port, early=sub)  # in the same write as the upgrade request
        try:
            assert c.status == 101
            got = c.messages_until(lambda m: m.get("type") == "subscribe")
            assert got[-1][3]["symbol"] == "AAPL"
            # One frame, a byte at a time.
            for b in client_frame(0x81, json.dumps({"type": "ping"}).encode()):
                c.send(bytes([b]))
                time.sleep(0.002)
            c.messages_until(lambda m: m.get("type") == "pong")
            # A fragmented message with a ping between its fragments: the pong carries the
            # ping's payload, and the message is whole.
            text = json.dumps({"type": "subscribe", "symbol": "MSFT"}).encode()
            c.send(client_frame(0x01, text[:7]) + client_frame(0x89, b"are you there")
                   + client_frame(0x00, text[7:15]) + client_frame(0x80, text[15:]))
            assert c.until_control(0xA) == b"are you there"
            got = c.messages_until(lambda m: m.get("type") == "subscribe")
            assert got[-1][3]["symbol"] == "MSFT"
        finally:
            c.close()


def test_a_clients_close_is_answered_with_its_code_then_the_connection_ends():
    with served() as srv:
        c = FrameClient(srv.port)
        try:
            c.messages_until(lambda m: "client_id" in m)
            c.send(client_frame(0x88, struct.pack(">H", 4000) + b"bye"))
            assert struct.unpack(">H", c.until_control(0x8)[:2])[0] == 4000
            assert c.eof(), "the server ends the TCP connection after the close handshake"
        finally:
            c.close()
        eventually(lambda: srv.status()["websocket_manager"]["active_connections"] == 0)


def test_an_unmasked_frame_is_a_protocol_error_1002_with_a_reason():
    with served() as srv:
        c = FrameClient(srv.port)
        try:
            c.messages_until(lambda m: "client_id" in m)
            c.send(client_frame(0x81, b'{"type":"ping"}', mask=b""))
            payload = c.until_control(0x8)
            assert struct.unpack(">H", payload[:2])[0] == 1002
            assert b"masked" in payload[2:]
            assert c.eof()
        finally:
            c.close()


def test_a_client_that_pings_and_never_reads_gets_only_the_latest_pong():
    with served() as srv:
        c = FrameClient(srv.port, rcvbuf=4096)
        try:
            c.messages_until(lambda m: "client_id" in m)
            n = 100_000

            def ping(i: int) -> bytes:  # 125 bytes of payload; a zero mask key is a valid one
                return b"\x89\xfd\x00\x00\x00\x00" + f"ping {i:06d}".encode().ljust(125, b".")

            # Not reading: at most the kernel's buffers (4 MiB here, 33,000 pongs) take pongs;
            # from then on each ping replaces the unsent pong instead of queueing one more.
            for i in range(0, n, 1000):
                c.send(b"".join(ping(j) for j in range(i, i + 1000)))
            last = b"\x8a\x7d" + ping(n - 1)[6:]
            data = c.buf
            c.sock.settimeout(10)
            while not data.endswith(last):
                chunk = c.sock.recv(1 << 20)
                assert chunk, "the server closed the connection"
                data += chunk
            pongs = data.count(b"\x8a\x7dping ")
            assert pongs < n // 2, f"{pongs} pongs for {n} pings: the unsent ones were kept"
            c.buf = b""
            c.send_json({"type": "subscribe", "symbol": "AAPL"})  # and the connection still works
            c.messages_until(lambda m: m.get("type") == "subscribe")
        finally:
            c.close()
