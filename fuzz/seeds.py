"""Writes the seed corpora of the fuzz harnesses (fuzz/corpus/<harness>/), from the inputs the
tests use: the protocol's client messages (docs/protocol.md) as JSON, MessagePack and Protobuf
(goldensignals.wire, from the installed package), HTTP
targets, JWTs like tests/py/test_security.py's, replay CSVs, custom alert conditions, WebSocket
client frames. Run once; the files are in the
repo. `python fuzz/seeds.py [ES256 private key PEM]` (without a key: no ES256 seeds)."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import jwt
import msgpack

HERE = Path(__file__).resolve().parent
SECRET = "fuzzing-secret-of-32-bytes-or-more"  # fuzz_jwt.cpp's and fuzz_http.cpp's

MESSAGES = [
    {"type": "subscribe", "symbol": "AAPL"},
    {"type": "subscribe", "symbol": "aapl", "since": 123},
    {"type": "unsubscribe", "symbol": "NVDA"},
    {"type": "analyze", "symbol": "BRK.B"},
    {"type": "get_status"},
    {"type": "heartbeat"},
    {"type": "ping"},
    {"type": "history", "symbol": "AAPL", "limit": 50, "before": 900},
    {"type": "replay", "symbol": "AAPL", "from": "2024-01-02T00:00:00Z",
     "to": "2024-01-03T00:00:00.250Z", "speed": 10},
    {"type": "replay", "symbol": "^GSPC", "from": 1704153600000, "to": 1704240000000, "speed": 0},
    {"type": "subscribe", "symbol": "bad symbol"},
    {"type": "subscribe", "symbol": "AAPL", "since": -1},
    {"type": "history", "symbol": "AAPL", "limit": 1e309},
    {"type": "nope"},
    {"symbol": "AAPL"},
    [1, 2, 3],
]
TEXTS = ['{"type":"subscribe","symbol":"AAPL"', "\ufeff{}", '{"type":"ping","x":"\\ud800"}', "null"]

HTTP = [
    "GET\n\n/health", "GET\n\n/ws/status", "GET\nBearer fuzz-admin\n/metrics",
    "GET\n\n/metrics?token=fuzz-admin", "HEAD\n\n/", "POST\n\n/health",
    "GET\n\n/api/signals?symbol=AAPL&limit=100&before=5", "GET\n\n/api/signals?symbol=a%41PL&limit=0",
    "GET\n\n/api/signals?limit=99999999999999999999", "GET\n\n/api/signals?x=1&&symbol=",
    "GET\n\n/ws/signals?format=msgpack&token=abc%2Edef", "GET\n\n/ws/symbols/aapl?format=json",
    "GET\n\n/ws/symbols/", "GET\n\n/../../etc/passwd", "GET\n\n/index.html?%zz", "GET\n\n/%00",
]

CSV = [
    "date,open,high,low,close,volume\n2024-01-02,10,11,9,10.5,1000\n2024-01-03,10.5,12,10,11,1200\n",
    ("Timestamp,Open,High,Low,Close,Volume,Symbol\n1704153600,1,2,0.5,1.5,10,aapl\n"
    "1704153660,1.5,2,1,1.8,11,nvda\n"),
    ("datetime,open,high,low,close,volume\n2024-01-02T09:30:00.250Z,1,1,1,1,0\n"
    "2024-01-02 09:31:00,1,1,1,1,0\n"),
    "time,open,high,low,close\n2024-01-02,1,1,1,1\n",
    "date,open,high,low,close,volume\n2024-13-40,1,1,1,1,1\n,,,,,\n2024-01-02,nan,1,1,1,1\n",
]


# Custom alert conditions (docs/protocol.md, "Custom alerts"), good and bad.
CONDITIONS = [
    "price > 200 and rsi_14 < 30",
    "votes.Momentum == \"BUY\" or not (action != 'SELL')",
    "((price >= sma_20) and (volume_ratio > 1.5)) or confidence > 0.8",
    "price > 1e3 and change_percent <= -2.5",
    "not not not price = 1",
    "macd_hist > 0 and bb_lower < price and atr_14 != 0",
    "price > ",
    "(price > 1",
    "action == 'MAYBE'",
]


def write(harness: str, items: list[bytes]) -> None:
    d = HERE / "corpus" / harness
    d.mkdir(parents=True, exist_ok=True)
    for b in items:
        (d / hashlib.sha1(b).hexdigest()).write_bytes(b)
    print(f"{harness}: {len(items)} seeds")


def tokens(es256_key: str | None) -> list[bytes]:
    now = 1_800_000_000  # fuzz_jwt.cpp's clock
    claims = [{"sub": "alice", "exp": now + 60},
              {"sub": "bob", "exp": now + 60, "scope": "subscribe analyze",
               "symbols": ["AAPL", "nvda"]},
              {"sub": "carol", "exp": now - 3600}, {"sub": "dave", "nbf": now + 3600},
              {"sub": 5, "scope": ["admin"]}, {}]
    out = [jwt.encode(c, SECRET, algorithm=a) for c in claims for a in ("HS256", "HS512")]
    out.append(jwt.encode(claims[0], "another-secret-of-32-bytes-or-more", algorithm="HS256"))
    out.append(jwt.encode(claims[0], None, algorithm="none"))
    if es256_key:
        out += [jwt.encode(c, es256_key, algorithm="ES256") for c in claims[:3]]
    out += ["a.b.c", "eyJhbGciOiJIUzI1NiJ9..", "Bearer x", ""]
    return [t.encode() for t in out]


def protobuf_frames() -> list[bytes]:
    from goldensignals import wire

    out = []
    for m in MESSAGES + [{"type": "subscribe_portfolio", "id": "p1",
                          "positions": {"AAPL": 0.4, "nvda": -0.3}},
                         {"type": "add_alert", "symbol": "AAPL", "condition": CONDITIONS[1],
                          "cooldown": 60, "severity": "error"}]:
        try:
            out.append(wire.encode(m, "protobuf"))  # those the schema can hold
        except (ValueError, AttributeError, TypeError):
            continue
    return out + [b"", b"\xff\xff\xff", b"\x0a\x80\x80\x80\x80\x10"]


def websocket_streams() -> list[bytes]:
    """Client byte streams for fuzz_websocket.cpp: a first byte (bit 0: deflate agreed; the
    rest: the read size), then masked frames as a client sends them."""
    import os
    import struct
    import zlib

    def frame(first: int, payload: bytes) -> bytes:
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([first])
        head += bytes([0x80 | n]) if n < 126 else (bytes([0xFE]) + struct.pack(">H", n)
                                                    if n < 65536 else
                                                    bytes([0xFF]) + struct.pack(">Q", n))
        return head + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload))

    def deflated(data: bytes) -> bytes:
        c = zlib.compressobj(wbits=-15)
        return (c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]

    sub = json.dumps(MESSAGES[0]).encode()
    big = json.dumps({"type": "history", "symbol": "AAPL", "padding": "x" * 3000}).encode()
    streams = [
        bytes([0x00]) + frame(0x81, sub),
        bytes([0x0E]) + frame(0x81, sub) + frame(0x89, b"hi") + frame(0x8A, b""),
        bytes([0x02]) + frame(0x01, sub[:10]) + frame(0x89, b"") + frame(0x80, sub[10:]),
        bytes([0xFE]) + frame(0x82, bytes(range(256)) * 2),
        bytes([0x01]) + frame(0xC1, deflated(big)),
        bytes([0x05]) + frame(0x41, deflated(big)[:20]) + frame(0x80, deflated(big)[20:]),
        bytes([0x00]) + frame(0x88, struct.pack(">H", 1000) + b"bye"),
        bytes([0x00]) + frame(0x81, "caf\u00e9 \u20ac".encode()) + frame(0x81, b"\xc0\xaf"),
        bytes([0x00]) + frame(0x82, b"x" * 5000),
    ]
    offers = (b"permessage-deflate; client_max_window_bits, permessage-deflate; "
              b"server_max_window_bits=10; server_no_context_takeover")
    return [*streams, offers]


def main() -> int:
    key = Path(sys.argv[1]).read_text() if len(sys.argv) > 1 else None
    write("fuzz_protocol_json", [json.dumps(m).encode() for m in MESSAGES] +
          [t.encode("utf-8", "surrogatepass") for t in TEXTS])
    write("fuzz_protocol_msgpack", [msgpack.packb(m) for m in MESSAGES] +
          [msgpack.packb({"type": b"subscribe", "symbol": "AAPL"}), b"\xc1", b"\x81\xa4type"])
    write("fuzz_protocol_protobuf", protobuf_frames())
    write("fuzz_http", [h.encode() for h in HTTP])
    write("fuzz_jwt", tokens(key))
    write("fuzz_csv", [c.encode() for c in CSV])
    write("fuzz_condition", [c.encode() for c in CONDITIONS])
    write("fuzz_websocket", websocket_streams())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
