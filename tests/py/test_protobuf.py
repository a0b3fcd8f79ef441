"""?format=protobuf over real sockets (docs/protocol.md, "Message formats"): a JSON client and a
Protobuf client make the same requests of one server, and every server message type of
proto/goldensignals.proto reaches the Protobuf client as the object the JSON client gets;
ClientMessage frames are read as the JSON requests are; bad frames are answered and the
connection stays; gs.Client(format="protobuf") works end to end."""

from __future__ import annotations

import asyncio
import json
import math
import time
from pathlib import Path
from typing import Any

import goldensignals as gs
import pytest
import websockets
from goldensignals import wire
from server_helpers import (
    WAIT,
    RawWS,
    Rejected,
    bar,
    connect,
    is_alert,
    make_runtime,
    recv,
    recv_quiet,
    run,
    served,
    until,
)

ROOT = Path(__file__).resolve().parents[2]
ROOM = ("price_update", "agent_update", "signal_update", "decision_update", "signal_outcome")
# Values that differ between two connections asking the same thing at slightly different times.
VOLATILE = {"timestamp", "client_id", "created", "last_fired"}


def is_default(v: Any) -> bool:
    return v in (0, "", False, [], {}) and v is not None


def same(pb: Any, js: Any, path: str = "", volatile: bool = False) -> None:
    """`pb` is `js` as the schema carries it: every JSON key with a non-null value is there with
    an equal value (numbers by value), and any other key holds a proto3 default."""
    if isinstance(js, dict):
        assert isinstance(pb, dict), f"{path}: {pb!r} is not an object"
        for k, v in js.items():
            if v is None:
                continue
            assert k in pb, f"{path}.{k} is missing from the protobuf message (JSON has {v!r})"
            if not (volatile and k in VOLATILE):
                same(pb[k], v, f"{path}.{k}", volatile)
        for k in pb.keys() - js.keys():
            assert is_default(pb[k]), f"{path}.{k} = {pb[k]!r} is not in the JSON message"
    elif isinstance(js, list):
        assert isinstance(pb, list) and len(pb) == len(js), f"{path}: {pb!r} != {js!r}"
        for i, (a, b) in enumerate(zip(pb, js)):
            same(a, b, f"{path}[{i}]", volatile)
    elif isinstance(js, (bool, str)):
        assert pb == js, f"{path}: {pb!r} != {js!r}"
    elif isinstance(js, (int, float)):
        assert isinstance(pb, (int, float)) and not isinstance(pb, bool), f"{path}: {pb!r}"
        assert pb == js or math.isclose(pb, js, rel_tol=1e-12), f"{path}: {pb!r} != {js!r}"
    else:
        raise TypeError(f"{path}: unexpected JSON value {js!r}")


def same_shape(pb: Any, js: Any, path: str = "") -> None:
    """For the status object, whose counters move between two requests: the same keys and
    kinds of value all the way down."""
    if isinstance(js, dict):
        assert isinstance(pb, dict), path
        assert {k for k, v in js.items() if v is not None} <= pb.keys() | {
            k for k, v in js.items() if v is None}, f"{path}: {sorted(js)} vs {sorted(pb)}"
        for k, v in js.items():
            if v is not None and k in pb:
                same_shape(pb[k], v, f"{path}.{k}")
    elif isinstance(js, list):
        assert isinstance(pb, list), path
    elif isinstance(js, (int, float)) and not isinstance(js, bool):
        assert isinstance(pb, (int, float)) and not isinstance(pb, bool), f"{path}: {pb!r}"
    else:
        assert type(pb) is type(js), f"{path}: {pb!r} vs {js!r}"


def server_types() -> set[str]:
    server, _ = wire.protobuf_classes()
    return {f.name for f in server.DESCRIPTOR.oneofs_by_name["message"].fields} - {"unmapped"}


def test_every_server_message_reaches_a_protobuf_client_as_the_json_object(tmp_path: Path) -> None:
    rt = make_runtime(("AAPL", "NVDA"), db=str(tmp_path / "history.db"), score_horizon=1)
    with served(rt) as srv:
        t0 = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 7200))
        t1 = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60))
        setup = [
            {"type": "subscribe", "symbol": "AAPL"},
            {"type": "add_alert", "id": "a1", "symbol": "AAPL", "condition": "price > 0",
             "severity": "info"},
            {"type": "subscribe_portfolio", "id": "p1", "positions": {"AAPL": 0.6, "NVDA": -0.4}},
        ]
        later = [
            {"type": "history", "symbol": "AAPL", "limit": 5},
            {"type": "replay", "symbol": "AAPL", "from": t0, "to": t1},
            {"type": "list_alerts"},
            {"type": "list_portfolios"},
            {"type": "get_status"},
            {"type": "ping"},
            {"type": "heartbeat"},
            {"type": "analyze", "symbol": "ZZZZ"},
            {"type": "remove_alert", "id": "a1"},
            {"type": "unsubscribe_portfolio", "id": "p1"},
            {"type": "unsubscribe", "symbol": "AAPL"},
        ]

        async def main() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            url_j, url_p = srv.signals, srv.signals + "?format=protobuf"
            async with websockets.connect(url_j, open_timeout=WAIT) as j, \
                    websockets.connect(url_p, open_timeout=WAIT) as p:
                got_j, got_p = [await recv(j)], [await recv(p, fmt="protobuf")]
                for r in setup:
                    await j.send(json.dumps(r))
                    await p.send(wire.encode(r, "protobuf"))  # ClientMessage frames
                got_j += await recv_quiet(j, 0.5)
                got_p += await recv_quiet(p, 0.5, "protobuf")
                # Room traffic both see: prices, an analysis and its outcome a bar later.
                analyze = {"type": "analyze", "symbol": "AAPL"}
                await j.send(json.dumps(analyze))
                await p.send(wire.encode(analyze, "protobuf"))
                for _ in range(2):
                    got_j += await recv_quiet(j, 0.6)
                    got_p += await recv_quiet(p, 0.1, "protobuf")
                for i in range(3):
                    bar(rt, 110.0 + i, i)
                    await asyncio.sleep(0.2)
                got_j += await recv_quiet(j, 1.0)
                got_p += await recv_quiet(p, 0.2, "protobuf")
                for r in later:
                    await j.send(json.dumps(r))
                    await p.send(wire.encode(r, "protobuf"))
                got_j += await recv_quiet(j, 1.0)
                got_p += await recv_quiet(p, 0.3, "protobuf")
                return got_j, got_p

        got_j, got_p = run(main(), 120)
        metrics = srv.metrics()

    types_p = {m["type"] for m in got_p}
    missing = server_types() - types_p
    assert not missing, f"never seen by the protobuf client: {sorted(missing)}"
    assert {m["type"] for m in got_j} == types_p

    # Room messages: the same message (type, seq, replay) carries the same object.
    def room(msgs: list[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
        return {(m["type"], m["seq"], bool(m.get("replay")), bool(m.get("snapshot"))): m
                for m in msgs if m["type"] in ROOM}
    room_j, room_p = room(got_j), room(got_p)
    assert room_j.keys() == room_p.keys()
    assert {k[0] for k in room_p} == set(ROOM)
    for key, m in room_j.items():
        same(room_p[key], m, str(key))

    # Everything else, type by type in the order it came.
    for t in sorted(types_p - set(ROOM)):
        mj = [m for m in got_j if m["type"] == t]
        mp = [m for m in got_p if m["type"] == t]
        assert len(mj) == len(mp), (t, len(mj), len(mp))
        for a, b in zip(mp, mj):
            if t == "status_update":
                same_shape(a, b, t)
            else:
                same(a, b, t, volatile=True)

    custom = next(m for m in got_p if m["type"] == "alert" and m["code"] == "custom_alert")
    assert custom["values"]["price"] > 0 and custom["condition"] == "price > 0"
    status = next(m for m in got_p if m["type"] == "status_update")
    assert isinstance(status["data"]["websocket_manager"]["active_connections"], int)
    assert metrics["gs_protobuf_unmapped_total"] == 0


def test_client_messages_and_bad_frames_on_a_protobuf_connection() -> None:
    with served() as srv:
        async def main() -> None:
            async with websockets.connect(srv.signals + "?format=protobuf",
                                          open_timeout=WAIT) as ws:
                welcome = await recv(ws, fmt="protobuf")
                assert welcome["type"] == "heartbeat" and welcome["client_id"]
                # since 0 is a value, not an absent field.
                await ws.send(wire.encode({"type": "subscribe", "symbol": "aapl", "since": 0},
                                          "protobuf"))
                conf = await recv(ws, fmt="protobuf")
                assert conf["type"] == "subscribe" and conf["symbol"] == "AAPL"
                assert conf["status"] == "subscribed" and "recovered" in conf
                # Not a ClientMessage at all; no member set; a member with a bad value.
                for frame, code, words in [
                    (b"\xff\xff\xff", "invalid_json", "goldensignals.v1.ClientMessage"),
                    (b"", "bad_request", "must set one of subscribe, unsubscribe"),
                    (wire.encode({"type": "history", "symbol": "AAPL", "limit": 5000},
                                 "protobuf"), "bad_request", "'limit' 5000"),
                    (wire.encode({"type": "analyze", "symbol": "not a symbol"}, "protobuf"),
                     "invalid_symbol", "not a symbol"),
                ]:
                    await ws.send(frame)
                    m = await recv(ws, fmt="protobuf")
                    assert m["type"] == "alert" and m["code"] == code, m
                    assert words in m["message"], m["message"]
                # JSON text frames are read on a protobuf connection too; answers stay binary.
                await ws.send(json.dumps({"type": "ping"}))
                assert (await recv(ws, fmt="protobuf"))["type"] == "pong"
                await ws.send(wire.encode({"type": "heartbeat"}, "protobuf"))
                ack = await recv(ws, fmt="protobuf")
                assert ack["type"] == "heartbeat" and ack["ack"] is True

        run(main())


def test_unknown_format_is_refused_naming_the_accepted_ones() -> None:
    with served() as srv, pytest.raises(Rejected) as e:
        RawWS(srv.port, "/ws/signals?format=xml")
    assert e.value.status == 400
    assert b"'xml'" in e.value.body and b"json, msgpack or protobuf" in e.value.body


def test_gs_client_decodes_protobuf_and_refuses_unknown_formats() -> None:
    with pytest.raises(ValueError, match="format 'xml' is not accepted"):
        gs.Client("ws://127.0.0.1:1/ws/signals", format="xml")
    with pytest.raises(ValueError, match="format 'yaml' is not accepted"):
        gs.Client("ws://127.0.0.1:1/ws/signals?format=yaml")

    with served() as srv:
        async def main() -> dict[str, gs.Message]:
            got: dict[str, gs.Message] = {}
            async with gs.Client(srv.signals, format="protobuf") as c:
                assert c.format == "protobuf" and "format=protobuf" in c.url
                await c.subscribe("AAPL")
                await c.analyze("AAPL")
                async for msg in c:
                    got.setdefault(msg.type, msg)
                    if msg.type == "decision_update":
                        break
            return got

        got = run(main())
    sig = got["signal_update"]
    assert sig.seq and sig.data["action"] == "BUY" and sig.data["confidence"] == pytest.approx(0.9)
    assert set(sig.data["agents_consensus"]["agent_details"]) == {"Alpha", "Beta", "Gamma"}
    assert got["decision_update"].data["decision"]["action"] == "BUY"
    assert got["subscribe"].raw["status"] == "subscribed"


def test_the_published_schema_is_the_one_compiled_in() -> None:
    from goldensignals import _core
    from google.protobuf import descriptor_pb2

    assert wire.PROTO_PATH.read_text() == (ROOT / "proto" / "goldensignals.proto").read_text()
    files = descriptor_pb2.FileDescriptorSet.FromString(_core.protobuf_descriptor_set())
    ours = next(f for f in files.file if f.name == "goldensignals.proto")
    assert ours.package == "goldensignals.v1"
    # Every message the .proto declares is in the compiled schema, field for field.
    text = (ROOT / "proto" / "goldensignals.proto").read_text()
    declared = {line.split()[1] for line in text.splitlines() if line.startswith("message ")}
    assert declared == {m.name for m in ours.message_type}
    server, client = wire.protobuf_classes()
    assert server.DESCRIPTOR.full_name == "goldensignals.v1.ServerMessage"
    # ClientMessage has a member for every type the server reads (its unknown_type answer
    # lists them).
    with served() as srv:
        async def main() -> dict[str, Any]:
            ws, _ = await connect(srv.signals)
            async with ws:
                await ws.send(json.dumps({"type": "nope"}))
                return await until(ws, is_alert("unknown_type"))

        answer = run(main())
    accepted = answer["message"].split("expected one of ", 1)[1].split(", ")
    assert {f.name for f in client.DESCRIPTOR.fields} == set(accepted)
