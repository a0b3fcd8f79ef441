"""docs/protocol.md over real sockets with the `websockets` client: one test per row of the
client->server and server->client tables and of the bad-input table, rooms, and the
/ws/status and /metrics figures.

Tests marked ``xfail(strict=True)`` with a reason starting "CONTRACT:" are written to the
contract and document where the server does not implement it yet (the reason quotes the
observed reply); they turn into failures as soon as the server complies, so the mark gets
removed then.
"""

from __future__ import annotations

import asyncio
import json
import re
import time

import msgpack
import pytest

from server_helpers import (
    AGENTS,
    ISO_MS,
    UUID4,
    analysis,
    connect,
    eventually,
    http_get,
    is_alert,
    is_type,
    make_runtime,
    recv,
    recv_quiet,
    recv_until,
    run,
    send,
    served,
    subscribe,
)

ROOM_TYPES = {"price_update", "agent_update", "signal_update", "decision_update"}
SIGNALS = {"ANALYZING", "PROCESSING", "BUY", "SELL", "HOLD", "TIMEOUT", "FAILED", "ABSTAIN"}


def is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v


@pytest.fixture
def srv():
    with served() as s:
        yield s


# --- client to server -------------------------------------------------------------------------
def test_welcome_on_connect(srv):
    async def main():
        ws, welcome = await connect(srv.signals)
        async with ws:
            assert welcome["type"] == "heartbeat"
            assert re.match(UUID4, welcome["client_id"])
            assert re.match(ISO_MS, welcome["timestamp"])
            assert welcome["message"] == "Connected to GoldenSignals WebSocket"
            ws2, welcome2 = await connect(srv.signals)
            await ws2.close()
            assert welcome2["client_id"] != welcome["client_id"]

    run(main())


def test_subscribe_is_confirmed_case_insensitively(srv):
    async def main():
        ws, _ = await connect(srv.signals)
        async with ws:
            await send(ws, {"type": "subscribe", "symbol": "aapl"})
            m = await recv(ws)
            assert m["type"] == "subscribe" and m["symbol"] == "AAPL"
            assert m["status"] == "subscribed" and re.match(ISO_MS, m["timestamp"])
            # no signal stored yet: no snapshot follows
            assert not [x for x in await recv_quiet(ws) if x["type"] == "signal_update"]
        assert srv.status()["websocket_manager"]["rooms"] == {}

    run(main())


def test_subscribe_then_latest_signal_as_snapshot(srv):
    async def main():
        a, _ = await connect(srv.signals)
        async with a:
            await subscribe(a, "AAPL")
            await send(a, {"type": "analyze", "symbol": "AAPL"})
            msgs = await analysis(a, "AAPL")
            sig = next(m for m in msgs if m["type"] == "signal_update")
            b, _ = await connect(srv.signals)
            async with b:
                await send(b, {"type": "subscribe", "symbol": "AAPL"})
                conf = await recv(b)
                snap = await recv(b)
                assert conf["type"] == "subscribe" and conf["status"] == "subscribed"
                assert snap["type"] == "signal_update" and snap["snapshot"] is True
                assert snap["data"] == sig["data"]
                assert snap["seq"] == sig["seq"]

    run(main())


def test_subscribe_since_recovers_room_messages_in_order(srv):
    async def main():
        a, _ = await connect(srv.signals)
        async with a:
            await subscribe(a, "AAPL")
            await send(a, {"type": "analyze", "symbol": "AAPL"})
            room = [m for m in await analysis(a, "AAPL") if "seq" in m]
            assert len(room) >= 3
            since = room[0]["seq"]
            b, _ = await connect(srv.signals)
            async with b:
                await send(b, {"type": "subscribe", "symbol": "AAPL", "since": since})
                conf, before = await recv_until(b, lambda m: m["type"] == "subscribe"
                                                or m.get("code") == "bad_request")
                assert conf["type"] == "subscribe", conf
                assert conf["recovered"] is True
                rest = await recv_quiet(b)
                resent = [m for m in before + rest if m.get("seq") is not None
                          and not m.get("snapshot")]
                assert [m["seq"] for m in resent] == [m["seq"] for m in room[1:]]
                assert [m["type"] for m in resent] == [m["type"] for m in room[1:]]
                # a seq older than the history: no partial recovery
                await send(b, {"type": "subscribe", "symbol": "NVDA", "since": 0})
                conf2, _ = await recv_until(b, is_type("subscribe", symbol="NVDA"))
                assert conf2["recovered"] in (True, False)

    run(main())


def test_unsubscribe_is_confirmed_and_room_messages_stop(srv):
    async def main():
        ws, _ = await connect(srv.signals)
        witness, _ = await connect(srv.signals)
        async with ws, witness:
            await subscribe(ws, "AAPL")
            await subscribe(witness, "AAPL")
            srv.rt.publish_tick("AAPL", 110.0, 10)
            await recv_until(ws, is_type("price_update"))
            await send(ws, {"type": "unsubscribe", "symbol": "Aapl"})
            m = await recv(ws)
            assert m["type"] == "unsubscribe" and m["symbol"] == "AAPL"
            assert m["status"] == "unsubscribed" and re.match(ISO_MS, m["timestamp"])
            assert srv.status()["websocket_manager"]["rooms"] == {"AAPL": 1}
            srv.rt.publish_tick("AAPL", 111.0, 10)
            await recv_until(witness, lambda x: x["type"] == "price_update"
                             and x["data"]["price"] == 111.0)
            await send(ws, {"type": "ping"})
            rest = await recv_quiet(ws)
            assert [x["type"] for x in rest] == ["pong"], rest

    run(main())


def test_analyze_replies_started_subscribes_and_streams_the_analysis(srv):
    async def main():
        ws, _ = await connect(srv.signals)
        async with ws:
            await send(ws, {"type": "analyze", "symbol": "aapl"})
            msgs = await analysis(ws, "AAPL")
            assert srv.status()["websocket_manager"]["rooms"] == {"AAPL": 1}
        types = [m["type"] for m in msgs]
        started = [m for m in msgs if m["type"] == "alert"]
        assert len(started) == 1
        a = started[0]
        assert a["alert_type"] == "info" and a["severity"] == "info"
        assert a["message"] == "Analysis started for AAPL" and re.match(ISO_MS, a["timestamp"])
        # subscribed on the way: confirmation, then the room's messages
        assert types[0] == "subscribe" and msgs[0]["symbol"] == "AAPL"
        assert "signal_update" in types and types[-1] == "decision_update"
        assert types.index("signal_update") < types.index("decision_update")

    run(main())


def test_analyze_joins_the_analysis_in_flight():
    rt = make_runtime(agents=3)
    gate = {"slow": True}

    @rt.agent("Slow", weight=1.0, timeout=3.0)
    def slow(ctx):
        if gate["slow"]:
            time.sleep(0.5)
        from goldensignals import Vote
        return Vote("BUY", 0.9)

    with served(rt) as srv:
        async def main():
            a, _ = await connect(srv.signals)
            b, _ = await connect(srv.signals)
            async with a, b:
                await send(a, {"type": "analyze", "symbol": "AAPL"})
                await recv_until(a, lambda m: m["type"] == "agent_update"
                                 and m["data"]["signal"] == "ANALYZING")
                await send(b, {"type": "analyze", "symbol": "AAPL"})
                ma = await analysis(a, "AAPL")
                mb = await analysis(b, "AAPL")
            ida = {m["data"]["analysis_id"] for m in ma if m["type"] == "decision_update"}
            idb = {m["data"]["analysis_id"] for m in mb if m["type"] == "decision_update"}
            assert ida == idb
            assert any(m.get("message") == "Analysis started for AAPL" for m in mb)

        run(main())


def test_get_status_replies_status_update(srv):
    async def main():
        ws, _ = await connect(srv.signals)
        async with ws:
            await subscribe(ws, "NVDA")
            await send(ws, {"type": "get_status"})
            m, _ = await recv_until(ws, is_type("status_update"))
        d = m["data"]
        # the four keys sit at the top level of data (JSON objects have no key order)
        assert {"running", "active_analyses", "active_agents", "websocket_connections"} <= set(d)
        assert d["running"] is True and d["websocket_connections"] == 1
        assert d["active_agents"] == 3 and d["active_analyses"] == 0
        assert d["websocket_manager"]["rooms"] == {"NVDA": 1}
        assert {"orchestrator", "agents"} <= set(d)
        assert sorted(a["name"] for a in d["agents"]) == sorted(AGENTS)

    run(main())


def test_heartbeat_is_acknowledged(srv):
    async def main():
        ws, _ = await connect(srv.signals)
        async with ws:
            await send(ws, {"type": "heartbeat"})
            m = await recv(ws)
        assert m["type"] == "heartbeat" and m["ack"] is True and re.match(ISO_MS, m["timestamp"])

    run(main())


def test_ping_gets_pong(srv):
    async def main():
        ws, _ = await connect(srv.signals)
        async with ws:
            await send(ws, {"type": "ping"})
            m = await recv(ws)
        assert m["type"] == "pong" and re.match(ISO_MS, m["timestamp"])

    run(main())


def test_history_replies_signals_newest_first(srv):
    async def main():
        ws, _ = await connect(srv.signals)
        async with ws:
            ids = []
            for _ in range(2):
                await send(ws, {"type": "analyze", "symbol": "AAPL"})
                msgs = await analysis(ws, "AAPL")
                ids += [m["data"]["signal_id"] for m in msgs if m["type"] == "signal_update"]
            await send(ws, {"type": "history", "symbol": "aapl", "limit": 50})
            m, _ = await recv_until(ws, lambda m: m["type"] in ("history", "alert")
                                    and m.get("code") != "analysis_started")
        assert m["type"] == "history", m
        assert m["symbol"] == "AAPL"
        assert [s["signal_id"] for s in m["data"]][:2] == ids[::-1]

    run(main())


def test_replay_streams_the_window_then_completes(srv):
    async def main():
        ws, _ = await connect(srv.signals)
        async with ws:
            await subscribe(ws, "AAPL")
            t0 = "2000-01-01T00:00:00.000Z"
            await send(ws, {"type": "analyze", "symbol": "AAPL"})
            room = [m for m in await analysis(ws, "AAPL") if "seq" in m]
            t1 = "2100-01-01T00:00:00.000Z"
            await send(ws, {"type": "replay", "symbol": "AAPL", "from": t0, "to": t1, "speed": 0})
            done, seen = await recv_until(ws, lambda m: m["type"] == "replay_complete"
                                          or m.get("code") == "bad_request")
        assert done["type"] == "replay_complete", done
        replayed = [m for m in seen if m.get("replay") is True]
        assert [m["seq"] for m in replayed if m["type"] != "price_update"] == \
            [m["seq"] for m in room if m["type"] != "price_update"]

    run(main())


def test_paced_replays_keep_the_stored_gaps_and_are_bounded_per_server(srv):
    # speed > 0: each stored message after its stored gap / speed, waited out on the
    # connection's strand; at most 8 paced replays per server, a slot freed when its client
    # goes.
    window = {"symbol": "AAPL", "from": "2000-01-01T00:00:00.000Z",
              "to": "2100-01-01T00:00:00.000Z"}

    async def main():
        ws, _ = await connect(srv.signals)
        async with ws:
            for _ in range(2):  # two analyses about 0.6 s apart
                await send(ws, {"type": "analyze", "symbol": "AAPL"})
                await analysis(ws, "AAPL")
                await asyncio.sleep(0.6)
            await send(ws, {"type": "replay", **window, "speed": 0})
            done0, seen0 = await recv_until(ws, is_type("replay_complete"))
            stored = [m for m in seen0 if m.get("replay") is True]
            t0 = time.monotonic()
            await send(ws, {"type": "replay", **window, "speed": 2})
            done, seen = await recv_until(ws, is_type("replay_complete"), timeout=30)
            took = time.monotonic() - t0
        assert done["count"] == done0["count"] == len(stored) and done["speed"] == 2
        assert [m["seq"] for m in seen if m.get("replay") is True] == [m["seq"] for m in stored]
        assert took >= 0.6 / 2 * 0.9  # the analyses' gap, halved (never faster than asked)

        # Eight paced replays with long gaps hold every slot; a ninth is refused.
        holders = [(await connect(srv.signals))[0] for _ in range(8)]
        for h in holders:
            await send(h, {"type": "replay", **window, "speed": 0.0001})
            await recv_until(h, lambda m: m.get("replay") is True)  # the first went at once
        extra, _ = await connect(srv.signals)
        async with extra:
            await send(extra, {"type": "replay", **window, "speed": 0.0001})
            refused, _ = await recv_until(extra, is_alert("rate_limited"))
            assert "8 paced replays" in refused["message"] and refused["retry_after"] == 1.0
            for h in holders:  # their clients go: the slots free within about 50 ms
                await h.close()
            await asyncio.sleep(0.5)
            await send(extra, {"type": "replay", **window, "speed": 0.0001})
            first, _ = await recv_until(extra, lambda m: m.get("replay") is True
                                        or m.get("code") == "rate_limited")
            assert first.get("replay") is True, first

    run(main())


# --- server to client -------------------------------------------------------------------------
def test_periodic_heartbeat_to_all_clients():
    with served(ws_heartbeat_interval=0.3) as srv:
        async def main():
            ws, _ = await connect(srv.signals)
            async with ws:
                beats = []
                while len(beats) < 2:
                    m, _ = await recv_until(ws, is_type("heartbeat"), timeout=5)
                    beats.append(m)
            for b in beats:
                assert set(b) >= {"type", "timestamp"} and re.match(ISO_MS, b["timestamp"])
                assert "client_id" not in b and "ack" not in b

        run(main())


def test_price_update_shape_and_seq(srv):
    async def main():
        ws, _ = await connect(srv.signals)
        async with ws:
            await subscribe(ws, "AAPL")
            srv.rt.publish_tick("AAPL", 120.0, 500)
            m1, _ = await recv_until(ws, is_type("price_update"))
            srv.rt.publish_tick("AAPL", 121.5, 700)
            m2, _ = await recv_until(ws, is_type("price_update"))
        for m in (m1, m2):
            d = m["data"]
            assert set(d) >= {"symbol", "price", "volume", "change", "change_percent", "timestamp"}
            assert d["symbol"] == "AAPL" and re.match(ISO_MS, d["timestamp"])
            for k in ("price", "volume", "change", "change_percent"):
                assert is_number(d[k]), (k, d)
            assert isinstance(m["seq"], int) and m["seq"] >= 1
        assert m1["data"]["price"] == 120.0 and m2["data"]["price"] == 121.5
        assert m2["seq"] > m1["seq"]

    run(main())


def _analysis_messages(srv, symbol="AAPL"):
    async def main():
        ws, _ = await connect(srv.signals)
        async with ws:
            await subscribe(ws, symbol)
            await send(ws, {"type": "analyze", "symbol": symbol})
            return await analysis(ws, symbol)

    return run(main())


def test_agent_update_shape(srv):
    msgs = _analysis_messages(srv)
    ups = [m for m in msgs if m["type"] == "agent_update"]
    assert ups, msgs
    first = ups[0]["data"]
    assert first["signal"] == "ANALYZING" and first["agent"] == "Orchestrator"
    assert first["confidence"] == 0
    ids = {u["data"]["analysis_id"] for u in ups}
    assert len(ids) == 1 and re.match(UUID4, ids.pop())
    for u in ups:
        d = u["data"]
        assert set(d) >= {"symbol", "analysis_id", "agent", "signal", "confidence",
                          "latency_ms", "reasoning", "timestamp"}
        assert d["symbol"] == "AAPL" and d["signal"] in SIGNALS
        assert is_number(d["confidence"]) and is_number(d["latency_ms"])
        assert isinstance(d["reasoning"], list) and re.match(ISO_MS, d["timestamp"])
        if d["signal"] not in ("BUY", "SELL", "HOLD"):
            assert d["confidence"] == 0, d
    votes = {u["data"]["agent"]: u["data"] for u in ups if u["data"]["signal"] == "BUY"}
    assert sorted(votes) == sorted(AGENTS)
    assert all(v["confidence"] == pytest.approx(0.9) for v in votes.values())


def test_signal_update_shape(srv):
    msgs = _analysis_messages(srv)
    sig = next(m for m in msgs if m["type"] == "signal_update")
    d = sig["data"]
    assert set(d) >= {"symbol", "signal_id", "analysis_id", "action", "confidence", "price",
                      "agents_consensus", "timestamp", "metadata"}
    assert d["symbol"] == "AAPL" and d["action"] == "BUY"
    assert re.match(UUID4, d["signal_id"]) and re.match(UUID4, d["analysis_id"])
    assert is_number(d["confidence"]) and 0 < d["confidence"] <= 1
    assert is_number(d["price"]) and d["price"] > 0
    assert re.match(ISO_MS, d["timestamp"])
    c = d["agents_consensus"]
    assert set(c) >= {"total_agents", "completed_agents", "quorum", "agreement",
                      "consensus_strength", "faulty_agents", "agent_details"}
    assert c["total_agents"] == 3 and c["completed_agents"] == 3 and c["quorum"] == 3
    assert c["consensus_strength"] in ("STRONG", "MODERATE", "WEAK")
    assert c["faulty_agents"] == [] and is_number(c["agreement"])
    assert sorted(c["agent_details"]) == sorted(AGENTS)
    for name, det in c["agent_details"].items():
        assert det["name"] == name and det["signal"] == "BUY" and is_number(det["confidence"])
    md = d["metadata"]
    assert isinstance(md["reasoning"], list)
    for k in ("target_price", "stop_loss"):
        if k in md:  # unknown values are omitted, never null
            assert is_number(md[k])
    assert "null" not in json.dumps({k: d[k] for k in ("confidence", "price")})
    assert sig["seq"] >= 1 and "snapshot" not in sig


def test_decision_update_with_signal(srv):
    msgs = _analysis_messages(srv)
    sig = next(m for m in msgs if m["type"] == "signal_update")
    dec = msgs[-1]
    assert dec["type"] == "decision_update" and dec["seq"] > sig["seq"]
    d = dec["data"]
    assert d["symbol"] == "AAPL" and d["analysis_id"] == sig["data"]["analysis_id"]
    assert re.match(ISO_MS, d["timestamp"])
    x = d["decision"]
    assert x["action"] == "BUY" and x["signal_id"] == sig["data"]["signal_id"]
    assert is_number(x["confidence"]) and is_number(x["position_size"])


def test_decision_update_without_signal():
    with served(agents=2) as srv:  # quorum 3, two agents
        msgs = _analysis_messages(srv)
    assert "signal_update" not in [m["type"] for m in msgs]
    dec = msgs[-1]["data"]["decision"]
    assert dec["action"] == "NO_SIGNAL"
    assert "quorum" in dec["reason"]
    assert dec["agent_summary"] == {"Alpha": "BUY", "Beta": "BUY"}


def test_room_seq_only_grows_per_symbol(srv):
    async def whole():
        ws, _ = await connect(srv.signals)
        out = []
        async with ws:
            await subscribe(ws, "AAPL")
            await subscribe(ws, "NVDA")
            for i in range(3):
                srv.rt.publish_tick("AAPL", 100.0 + i, 1)
                srv.rt.publish_tick("NVDA", 200.0 + i, 1)
                await asyncio.sleep(0.05)
            for sym in ("AAPL", "NVDA"):
                await send(ws, {"type": "analyze", "symbol": sym})
                out += await analysis(ws, sym)
            out += await recv_quiet(ws, 0.2)
        return out

    msgs = run(whole())
    for sym in ("AAPL", "NVDA"):
        seqs = [m["seq"] for m in msgs if m["type"] in ROOM_TYPES
                and m["data"]["symbol"] == sym and not m.get("snapshot")]
        assert len(seqs) >= 6
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), (sym, seqs)


def test_room_seq_survives_restart(tmp_path, monkeypatch):
    monkeypatch.setenv("GS_DB", str(tmp_path / "gs.db"))
    last = 0
    for _ in range(2):
        with served() as srv:
            msgs = _analysis_messages(srv)
            seqs = [m["seq"] for m in msgs if "seq" in m and not m.get("snapshot")]
            assert min(seqs) > last
            last = max(seqs)


def test_system_alert_goes_to_all_clients():
    rt = make_runtime(agents=3, breaker_faults=1)

    @rt.agent("Broken", weight=1.0, timeout=1.0)
    def broken(ctx):
        raise RuntimeError("boom")

    with served(rt) as srv:
        async def main():
            a, _ = await connect(srv.signals)
            b, _ = await connect(srv.signals)  # in no room at all
            async with a, b:
                await send(a, {"type": "analyze", "symbol": "AAPL"})
                m, _ = await recv_until(b, lambda m: m["type"] == "alert"
                                        and m.get("alert_type") == "system")
                m2, _ = await recv_until(a, lambda m: m["type"] == "alert"
                                         and m.get("alert_type") == "system")
            return m, m2

        m, m2 = run(main())
    assert m == m2
    assert m["severity"] in ("info", "warning", "error", "critical")
    assert "Broken" in m["message"] and isinstance(m["code"], str) and m["code"]
    assert re.match(ISO_MS, m["timestamp"])


# --- transport --------------------------------------------------------------------------------
def test_symbol_endpoint_confirms_then_analyzes(srv):
    async def main():
        ws, welcome = await connect(srv.ws + "/ws/symbols/nvda")
        async with ws:
            conf = await recv(ws)
            assert conf["type"] == "subscribe" and conf["symbol"] == "NVDA"
            msgs = await analysis(ws, "NVDA")
            await send(ws, {"type": "ping"})
            await recv_until(ws, is_type("pong"))
        assert any(m["type"] == "signal_update" for m in msgs)
        assert welcome["message"] == "Connected to GoldenSignals WebSocket"

    run(main())


def test_msgpack_format_sends_the_same_objects_in_binary_frames(srv):
    async def main():
        import websockets

        async with websockets.connect(srv.signals + "?format=msgpack", open_timeout=10) as ws:
            raw = await asyncio.wait_for(ws.recv(), 10)
            assert isinstance(raw, bytes)
            welcome = msgpack.unpackb(raw)
            assert welcome["type"] == "heartbeat" and "client_id" in welcome
            await ws.send(json.dumps({"type": "ping"}))
            pong = msgpack.unpackb(await asyncio.wait_for(ws.recv(), 10))
            assert pong["type"] == "pong"

    run(main())


def test_http_health_page_and_upgrade_required(srv):
    status, headers, body = http_get(srv.http + "/health")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    assert "json" in headers.get("Content-Type", "")
    status, headers, body = http_get(srv.http + "/")
    assert status == 200 and "text/html" in headers["Content-Type"] and b"<html" in body
    status, _, _ = http_get(srv.http + "/ws/signals")  # a WebSocket path without an upgrade
    assert status == 426


def test_http_signal_history(srv):
    _analysis_messages(srv)
    status, _, body = http_get(srv.http + "/api/signals?symbol=AAPL&limit=100")
    assert status == 200, (status, body)
    data = json.loads(body)
    items = data if isinstance(data, list) else data.get("signals") or data.get("data")
    assert items and items[0]["symbol"] == "AAPL"


def _jwt(secret: str, claims: dict) -> str:
    import base64
    import hashlib
    import hmac

    def b64(b: bytes) -> str:
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def test_auth_required_refuses_missing_or_bad_token_with_401(monkeypatch):
    from server_helpers import RawWS, Rejected

    monkeypatch.setenv("GS_REQUIRE_AUTH", "true")
    monkeypatch.setenv("GS_JWT_SECRET", "test-secret")
    with served() as srv:
        good = _jwt("test-secret", {"sub": "tester", "exp": int(time.time()) + 600})
        bad = _jwt("other-secret", {"sub": "tester", "exp": int(time.time()) + 600})
        for path in ("/ws/signals", f"/ws/signals?token={bad}"):
            with pytest.raises(Rejected) as e:
                RawWS(srv.port, path).close()
            assert e.value.status == 401, path
        with RawWS(srv.port, f"/ws/signals?token={good}") as ok:
            ok.wait_for(lambda m: "client_id" in m)


# --- bad input --------------------------------------------------------------------------------
def _bad(srv, message, code, severity="error"):
    """Sends `message`, expects one alert with `code`, then checks the connection still works
    and that no agent was called."""
    calls = {a["name"]: a["calls"] for a in srv.status()["agents"]}

    async def main():
        ws, _ = await connect(srv.signals)
        async with ws:
            await send(ws, message)
            m = await recv(ws)
            await send(ws, {"type": "ping"})
            pong = await recv(ws)
            return m, pong

    m, pong = run(main())
    assert m["type"] == "alert" and m["code"] == code, m
    assert m["severity"] == severity and m["alert_type"] == severity
    assert isinstance(m["message"], str) and m["message"] and re.match(ISO_MS, m["timestamp"])
    assert pong["type"] == "pong"  # the connection stays
    assert {a["name"]: a["calls"] for a in srv.status()["agents"]} == calls
    return m


@pytest.mark.parametrize("text", ["not json", "{", "{\"type\": \"ping\",}", "", "\ufeff[]x"])
def test_bad_input_not_json(srv, text):
    _bad(srv, text, "invalid_json")


@pytest.mark.parametrize("message", [
    [1, 2], "\"subscribe\"", "42", "null", {}, {"symbol": "AAPL"}, {"type": 7},
    {"type": None}, {"type": ["subscribe"]}, {"type": "subscribe", "symbol": 5},
    {"type": "analyze", "symbol": ["AAPL"]}, {"type": "subscribe", "symbol": "AAPL", "since": "x"},
])
def test_bad_input_bad_request(srv, message):
    _bad(srv, message if isinstance(message, str) else json.dumps(message), "bad_request")


def test_bad_input_unknown_type(srv):
    m = _bad(srv, {"type": "launch_rockets"}, "unknown_type", severity="warning")
    assert "launch_rockets" in m["message"]


@pytest.mark.parametrize("message", [
    {"type": "subscribe"}, {"type": "analyze"}, {"type": "unsubscribe"},
    {"type": "subscribe", "symbol": ""}, {"type": "subscribe", "symbol": "$AAPL"},
    {"type": "subscribe", "symbol": "AAPL MSFT"}, {"type": "analyze", "symbol": "X" * 17},
    {"type": "subscribe", "symbol": ".AAPL"}, {"type": "subscribe", "symbol": "NVDA\u00e9"},
    {"type": "analyze", "symbol": "ZZZZ"},  # valid syntax, not tracked: cannot be analysed
])
def test_bad_input_invalid_symbol(srv, message):
    _bad(srv, message, "invalid_symbol")


def test_bad_input_too_many_subscriptions(srv):
    async def main():
        ws, _ = await connect(srv.signals, max_queue=None)
        async with ws:
            for i in range(100):
                await send(ws, {"type": "subscribe", "symbol": f"S{i}"})
            for i in range(100):
                m = await recv(ws)
                assert m["type"] == "subscribe" and m["symbol"] == f"S{i}", m
            await send(ws, {"type": "subscribe", "symbol": "ONEMORE"})
            m = await recv(ws)
            assert m["type"] == "alert" and m["code"] == "too_many_subscriptions", m
            assert m["severity"] == "error"
            # already a member: not a new subscription; after leaving one there is room
            await send(ws, {"type": "subscribe", "symbol": "S5"})
            assert (await recv(ws))["type"] == "subscribe"
            await send(ws, {"type": "unsubscribe", "symbol": "S0"})
            assert (await recv(ws))["type"] == "unsubscribe"
            await send(ws, {"type": "subscribe", "symbol": "ONEMORE"})
            m = await recv(ws)
            assert m["type"] == "subscribe" and m["status"] == "subscribed", m
        rooms = srv.status()["websocket_manager"]["rooms"]
        return rooms

    run(main())
    eventually(lambda: srv.status()["websocket_manager"]["rooms"] == {}, what="rooms emptied")


def test_bad_input_analyze_rate_limited(srv):
    async def main():
        ws, _ = await connect(srv.signals)
        async with ws:
            for _ in range(25):  # burst 10, 5/s: far more than a burst at once
                await send(ws, {"type": "analyze", "symbol": "AAPL"})
            await send(ws, {"type": "ping"})
            _, seen = await recv_until(ws, is_type("pong"), timeout=20)
            await send(ws, {"type": "ping"})
            await recv_until(ws, is_type("pong"))
        return seen

    seen = run(main())
    alerts = [m for m in seen if m["type"] == "alert"]
    started = [m for m in alerts if m["message"] == "Analysis started for AAPL"]
    limited = [m for m in alerts if m.get("code") == "rate_limited"]
    assert len(started) + len(limited) == 25
    assert 10 <= len(started) <= 15 and len(limited) >= 10
    assert all(m["severity"] == "warning" and m["alert_type"] == "warning" for m in limited)


# --- rooms ------------------------------------------------------------------------------------
def test_clients_in_different_rooms_receive_only_their_rooms():
    with served() as srv:
        async def main():
            a, _ = await connect(srv.signals)
            b, _ = await connect(srv.signals)
            async with a, b:
                await subscribe(a, "AAPL")
                await subscribe(b, "NVDA")
                for i in range(3):
                    srv.rt.publish_tick("AAPL", 100.0 + i, 1)
                    srv.rt.publish_tick("NVDA", 300.0 + i, 1)
                await send(a, {"type": "analyze", "symbol": "AAPL"})
                await send(b, {"type": "analyze", "symbol": "NVDA"})
                ma = await analysis(a, "AAPL") + await recv_quiet(a)
                mb = await analysis(b, "NVDA") + await recv_quiet(b)
            return ma, mb

        ma, mb = run(main())
    for msgs, mine in ((ma, "AAPL"), (mb, "NVDA")):
        room = [m for m in msgs if m["type"] in ROOM_TYPES]
        assert {m["data"]["symbol"] for m in room} == {mine}
        kinds = {m["type"] for m in room}
        assert kinds == ROOM_TYPES, kinds
        prices = [m["data"]["price"] for m in room if m["type"] == "price_update"]
        assert prices and prices[-1] == (102.0 if mine == "AAPL" else 302.0)


# --- status and metrics -----------------------------------------------------------------------
def test_status_and_metrics_reflect_what_happened():
    with served() as srv:
        m0 = srv.metrics()
        assert m0["gs_websocket_connections_total"] == 0
        received = 0

        async def main():
            nonlocal received
            a, _ = await connect(srv.signals)
            b, _ = await connect(srv.signals)
            c, _ = await connect(srv.signals)
            received += 3
            await subscribe(a, "AAPL")
            await subscribe(b, "AAPL")
            await subscribe(c, "NVDA")
            received += 3
            st = srv.status()["websocket_manager"]
            assert st["total_connections"] == 3 and st["active_connections"] == 3
            assert st["rooms"] == {"AAPL": 2, "NVDA": 1}
            await send(c, "nope")  # invalid_json
            await send(c, {"type": "subscribe", "symbol": "!!"})  # invalid_symbol
            await send(c, {"type": "what"})  # unknown_type: a warning, not a bad request
            received += len(await recv_quiet(c))
            await send(a, {"type": "analyze", "symbol": "AAPL"})
            received += len(await analysis(a, "AAPL"))
            received += len(await analysis(b, "AAPL"))
            await b.close()
            await c.close()
            received += len(await recv_quiet(a))
            await a.close()

        run(main(), 60)
        st = eventually(lambda: (s := srv.status())["websocket_manager"]["active_connections"] == 0
                        and s, what="clients gone")
        ws_ = st["websocket_manager"]
        assert ws_["total_connections"] == 3
        assert ws_["rooms"] == {}
        assert ws_["messages_dropped"] == 0
        o = st["orchestrator"]
        assert o["running"] is True and o["active_analyses"] == 0
        assert o["analyses_completed"] == 1 and o["signals_generated"] == 1
        assert o["active_agents"] == 3
        assert {x["name"]: x["calls"] for x in st["agents"]} == {n: 1 for n in AGENTS}
        for x in st["agents"]:
            assert x["kind"] and x["weight"] == 1.0 and x["timeouts"] == 0 and x["errors"] == 0
            assert x["enabled"] is True and is_number(x["p50_ms"])
        assert ws_["messages_sent"] == received, (ws_["messages_sent"], received)

        m = srv.metrics()
        assert m["gs_websocket_connections_total"] == 3
        assert m["gs_websocket_bad_requests_total"] == 2
        assert m["gs_websocket_messages_sent_total"] == received
        assert m["gs_websocket_connections_rejected_total"] == 0
        assert m["gs_websocket_slow_consumer_closes_total"] == 0
        assert m["gs_analyses_completed_total"] == 1 and m["gs_signals_generated_total"] == 1
        assert m["gs_analyses_active"] == 0
        for n in AGENTS:
            assert m[f'gs_agent_calls_total{{agent="{n}"}}'] == 1
            assert m[f'gs_agent_latency_seconds_count{{agent="{n}"}}'] == 1
            assert m[f'gs_agent_enabled{{agent="{n}"}}'] == 1
        assert m["gs_http_requests_total"] >= 3
