"""The three wire formats (``?format=json|msgpack|protobuf``) compared on real messages: bytes
per message as sent (and after permessage-deflate), and the server's encode cost.

The server is the native ``goldensignals-server`` on its embedded defaults (the simulated
market, the five built-in agents), sped up (``--interval``), history off. Three clients, one per
format, subscribe to every symbol and read for ``--seconds``; room messages are matched across
them by (type, seq), so each format's bytes are of the same messages, as the server sent them.
A ``get_status`` per client adds a status_update. Then ``_gs_bench.format_costs`` times the
server's own encoders on those messages' JSON texts: from the parsed object (JSON's dump,
``to_msgpack``, the Protobuf encoder), and as a Message's first send in a format does it (parse
the JSON text, then encode). Deflated sizes compress each payload on its own (zlib level 6, 15
window bits, no context takeover), as the server does for messages of 256 bytes or more.

Run: make bench-formats   or   .venv/bin/python bench/formats.py [--quick]
Writes bench/results/formats-<UTC date>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import zlib
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from compression import SYMBOLS, Server, write_result
from goldensignals import wire
from native import load

FORMATS = ("json", "msgpack", "protobuf")
THRESHOLD = 256  # GS_WS_COMPRESSION_THRESHOLD's default


def deflated(payload: bytes) -> int:
    if len(payload) < THRESHOLD:
        return len(payload)
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return len(c.compress(payload) + c.flush(zlib.Z_SYNC_FLUSH)) - 4  # 00 00 ff ff dropped


async def collect(port: int, seconds: float) -> dict[str, dict[tuple[str, Any], bytes]]:
    """Each format's frames by (type, seq); replies by (type, n-th)."""
    import websockets

    async def one(fmt: str) -> dict[tuple[str, Any], bytes]:
        url = f"ws://127.0.0.1:{port}/ws/signals?format={fmt}"
        got: dict[tuple[str, Any], bytes] = {}
        seen: defaultdict[str, int] = defaultdict(int)
        async with websockets.connect(url, max_size=None, compression=None) as ws:
            for sym in SYMBOLS:
                await ws.send(json.dumps({"type": "subscribe", "symbol": sym}))
            await ws.send(json.dumps({"type": "get_status"}))
            end = asyncio.get_running_loop().time() + seconds
            while (left := end - asyncio.get_running_loop().time()) > 0:
                try:
                    raw = await asyncio.wait_for(ws.recv(), left)
                except asyncio.TimeoutError:
                    break
                payload = raw.encode() if isinstance(raw, str) else raw
                msg = wire.decode(raw, fmt)
                t = msg.get("type", "?")
                if isinstance(msg.get("seq"), int):
                    key: tuple[str, Any] = (t, (msg["data"].get("symbol"), msg["seq"]))
                else:
                    seen[t] += 1
                    key = (t, seen[t])
                got[key] = payload
        return got

    results = await asyncio.gather(*(one(f) for f in FORMATS))
    return dict(zip(FORMATS, results))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a 3 s window, 2 timing rounds")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--interval", type=float, default=0.05,
                    help="the simulated market's seconds per bar")
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.rounds = 3.0, 2

    srv = Server(False, args.interval)
    try:
        frames = asyncio.run(collect(srv.port, args.seconds))
    finally:
        srv.stop()
    keys = set.intersection(*(set(frames[f]) for f in FORMATS))
    keys = {k for k in keys if k[0] != "heartbeat"}  # each connection's own welcome
    if not keys:
        raise SystemExit("formats: no message reached all three clients")
    by_type: defaultdict[str, list[tuple[str, Any]]] = defaultdict(list)
    for k in sorted(keys, key=str):
        by_type[k[0]].append(k)

    def sizes(keys_: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {"messages": len(keys_)}
        for f in FORMATS:
            out[f] = statistics.fmean(len(frames[f][k]) for k in keys_)
            out[f + "_deflated"] = statistics.fmean(deflated(frames[f][k]) for k in keys_)
        return out

    per_type = {t: sizes(ks) for t, ks in sorted(by_type.items())}
    overall = sizes(sorted(keys, key=str))
    texts = [frames["json"][k].decode() for k in sorted(keys, key=str)]
    costs = load().format_costs(texts, args.rounds)
    if costs["protobuf_unmapped"]:
        raise SystemExit(f"formats: {costs['protobuf_unmapped']} keys did not fit the schema")

    counts = ", ".join(f"{t} {v['messages']}" for t, v in per_type.items())
    print(f"{overall['messages']} messages ({counts})")
    print(f"{'bytes per message':<28}" + "".join(f"{f:>12}" for f in FORMATS))
    for t, v in [("all", overall), *per_type.items()]:
        print(f"  {t:<26}" + "".join(f"{v[f]:>12.1f}" for f in FORMATS))
    print(f"  {'all, deflated':<26}" + "".join(f"{overall[f + '_deflated']:>12.1f}" for f in FORMATS))
    print(f"{'encode ns per message':<28}" + "".join(f"{f:>12}" for f in FORMATS))
    for name in ("encode_ns_from_object", "encode_ns_server"):
        print(f"  {name[10:]:<26}" + "".join(f"{costs[name][f]:>12.0f}" for f in FORMATS))
    ratio = {f: overall[f] / overall["json"] for f in FORMATS}
    print("size vs JSON: " + ", ".join(f"{f} {ratio[f]:.2f}x" for f in FORMATS))

    write_result("formats", args, {"bytes": overall, "bytes_by_type": per_type, "encode": costs})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
