"""docs/protocol.md's limits seen on the wire: close codes and handshake statuses, checked with a
raw RFC 6455 client (wsproto over a plain socket) where `websockets` hides them, and the
slow-consumer isolation (a stuck reader is closed with 1008 and nobody else slows down).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time

import pytest
import websockets

import goldensignals as gs
from server_helpers import (
    WAIT,
    RawWS,
    Rejected,
    connect,
    eventually,
    make_runtime,
    recv,
    run,
    send,
    served,
)

MAX_MESSAGE = 64 * 1024


def test_oversize_frame_closes_1009():
    with served() as srv:
        with RawWS(srv.port) as ok:  # just under the limit: answered, connection stays
            ok.wait_for(lambda m: "client_id" in m)
            ok.send_text(json.dumps({"type": "ping", "pad": "x" * (MAX_MESSAGE - 100)}))
            ok.wait_for(lambda m: m["type"] == "pong")
        with RawWS(srv.port) as ws:
            ws.wait_for(lambda m: "client_id" in m)
            ws.send_text(json.dumps({"type": "ping", "pad": "x" * (MAX_MESSAGE + 10)}))
            assert ws.read_until_closed() == 1009
            assert not [m for m in ws.messages() if m["type"] == "pong"]

        async def with_websockets():
            w, _ = await connect(srv.signals)
            await send(w, "x" * (MAX_MESSAGE * 2))
            with pytest.raises(websockets.ConnectionClosed) as e:
                await recv(w)
            await w.close()
            return e.value.rcvd.code if e.value.rcvd else None

        assert run(with_websockets()) == 1009
        assert srv.status()["websocket_manager"]["active_connections"] == 0 or eventually(
            lambda: srv.status()["websocket_manager"]["active_connections"] == 0)


def test_invalid_utf8_in_a_text_frame_closes_1007():
    with served() as srv:
        with RawWS(srv.port) as ws:
            ws.wait_for(lambda m: "client_id" in m)
            ws.send_raw_frame(0x1, b'{"type":"ping","x":"\xff\xfe"}')
            assert ws.read_until_closed() == 1007
            assert not [m for m in ws.messages() if m["type"] == "pong"]
        # the same bytes as a binary frame are a bad (non-MessagePack) message, not a close
        with RawWS(srv.port) as ws:
            ws.wait_for(lambda m: "client_id" in m)
            ws.send_raw_frame(0x2, b"\xc1\xff")
            m = ws.wait_for(lambda m: m["type"] == "alert")
            assert m["code"] == "invalid_json"
            ws.send_json({"type": "ping"})
            ws.wait_for(lambda m: m["type"] == "pong")


def test_over_max_connections_refused_with_503():
    with served(ws_max_connections=2) as srv:
        a, b = RawWS(srv.port), RawWS(srv.port)
        try:
            with pytest.raises(Rejected) as e:
                RawWS(srv.port)
            assert e.value.status == 503

            async def with_websockets():
                with pytest.raises(websockets.InvalidStatus) as e:
                    await websockets.connect(srv.signals, open_timeout=WAIT)
                return e.value.response.status_code

            assert run(with_websockets()) == 503
            # the two that were accepted still work
            a.send_json({"type": "ping"})
            a.wait_for(lambda m: m["type"] == "pong")
            m = srv.metrics()
            assert m["gs_websocket_connections_rejected_total"] == 2
            assert m["gs_websocket_connections_active"] == 2
        finally:
            a.close()
        # a slot frees when a client leaves
        eventually(lambda: srv.status()["websocket_manager"]["active_connections"] == 1)
        with RawWS(srv.port) as c:
            c.wait_for(lambda m: "client_id" in m)
        b.close()


def test_server_shutdown_closes_every_client_1001():
    srv_ctx = served()
    srv = srv_ctx.__enter__()
    raw = RawWS(srv.port)
    raw.send_json({"type": "subscribe", "symbol": "AAPL"})
    raw.wait_for(lambda m: m["type"] == "subscribe")
    seen: dict[str, object] = {}

    async def with_websockets(stopper: threading.Thread):
        w, _ = await connect(srv.signals)
        await send(w, {"type": "subscribe", "symbol": "NVDA"})
        await recv(w)
        stopper.start()
        try:
            while True:
                await asyncio.wait_for(w.recv(), WAIT)
        except websockets.ConnectionClosed as e:
            seen["ws"] = e.rcvd.code if e.rcvd else None
            seen["ws_reason"] = e.rcvd.reason if e.rcvd else None

    stopper = threading.Thread(target=srv_ctx.__exit__, args=(None, None, None))
    try:
        run(with_websockets(stopper))
        assert raw.read_until_closed() == 1001
        assert seen["ws"] == 1001
        assert raw.close_reason == "server shutdown"
    finally:
        raw.close()
        stopper.join(WAIT)
    assert not stopper.is_alive()
    assert srv.rt.state == "stopped"


def test_silent_client_closed_1001_responsive_one_stays():
    with served(ws_heartbeat_interval=0.3) as srv:
        silent = RawWS(srv.port, answer_pings=False)
        lively = RawWS(srv.port, answer_pings=True)
        try:
            end = time.monotonic() + WAIT
            while silent.pump(0.05) and time.monotonic() < end:
                lively.pump(0.01)
            assert silent.close_code == 1001, silent.close_code
            assert silent.close_reason == "idle timeout"
            # the responsive one (answers pings, sends nothing) outlives several intervals
            t = time.monotonic()
            while time.monotonic() - t < 1.5:
                assert lively.pump(0.05)
            lively.send_json({"type": "ping"})
            lively.wait_for(lambda m: m["type"] == "pong")
            assert srv.metrics()["gs_websocket_idle_closes_total"] == 1
        finally:
            silent.close()
            lively.close()


def test_superseded_price_updates_are_dropped_not_the_client():
    with served(ws_message_queue_size=16) as srv:
        with RawWS(srv.port, rcvbuf=4096) as slow:
            slow.send_json({"type": "subscribe", "symbol": "AAPL"})
            slow.wait_for(lambda m: m["type"] == "subscribe")
            last = 0.0
            for i in range(4000):  # ~1 MB of price_update frames that nobody reads for now
                last = 100.0 + i * 0.001
                srv.rt.publish_tick("AAPL", last, 1.0)
            eventually(lambda: srv.status()["websocket_manager"]["messages_dropped"] > 0,
                       what="superseded prices dropped")
            time.sleep(0.3)
            slow.send_json({"type": "ping"})
            slow.wait_for(lambda m: m["type"] == "pong", limit=20)
            prices = [m["data"]["price"] for m in slow.messages() if m["type"] == "price_update"]
            assert not slow.closed
        st = srv.status()["websocket_manager"]
        assert st["slow_consumer_closes"] == 0
        assert prices[-1] == pytest.approx(last)  # the newest price is never the one dropped
        assert prices == sorted(prices) and len(prices) < 4000
        assert st["messages_dropped"] >= 4000 - len(prices) - 5


def _gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in zip(times, times[1:])]


def test_slow_consumer_closed_1008_without_delaying_others():
    interval = 0.05
    # The stuck client floods get_status on purpose: the message-rate limit is not under test.
    rt = make_runtime(feed=gs.feeds.Simulated(seed=7, interval=interval), agents=0,
                      ws_message_queue_size=400, ws_max_messages_per_second=1_000_000)
    rt.add_builtin_agents()
    with served(rt) as srv:
        arrivals: list[float] = []
        fast_state: dict[str, object] = {}
        stop = threading.Event()
        ready = threading.Event()

        async def fast_reader():
            w, _ = await connect(srv.signals)
            async with w:
                await send(w, {"type": "subscribe", "symbol": "AAPL"})
                ready.set()
                while not stop.is_set():
                    try:
                        raw = await asyncio.wait_for(w.recv(), 0.5)
                    except asyncio.TimeoutError:
                        continue
                    m = json.loads(raw)
                    if m["type"] == "price_update":
                        arrivals.append(time.monotonic())
                fast_state["open"] = True

        def fast_thread():
            try:
                asyncio.run(fast_reader())
            except BaseException as e:  # reported by the main thread
                fast_state["error"] = e

        t = threading.Thread(target=fast_thread)
        t.start()
        slow = None
        try:
            assert ready.wait(WAIT)
            time.sleep(1.0)  # baseline
            base_end = time.monotonic()
            slow = RawWS(srv.port, rcvbuf=4096)
            slow.send_json({"type": "subscribe", "symbol": "AAPL"})
            # Stop reading and ask for replies (~1.5 KB status_update each): they back up in
            # its socket buffers and its queue. It stays stuck with a backlog for a second
            # (the window the other client's gaps are measured in), then more requests push
            # its queue past the bound.
            frame = json.dumps({"type": "get_status"}).encode()
            stuck_start = time.monotonic()
            for _ in range(300):  # below the queue bound of 400 even if nothing got written
                slow.send_raw_frame(0x1, frame)
            time.sleep(1.0)
            assert srv.status()["websocket_manager"]["slow_consumer_closes"] == 0
            deadline = time.monotonic() + 20
            while srv.status()["websocket_manager"]["slow_consumer_closes"] == 0:
                assert time.monotonic() < deadline, "the stuck client was never closed"
                for _ in range(100):
                    slow.send_raw_frame(0x1, frame)
                time.sleep(0.01)
            stuck_end = time.monotonic()
            code = slow.read_until_closed()
            time.sleep(0.5)
        finally:
            stop.set()
            t.join(WAIT)
            if slow is not None:
                slow.close()
        assert "error" not in fast_state, fast_state.get("error")
        assert fast_state.get("open") is True
        assert code == 1008 and slow.close_reason == "slow consumer"

        eventually(lambda: srv.status()["websocket_manager"]["active_connections"] == 0,
                   what="both clients gone")
        assert srv.status()["websocket_manager"]["slow_consumer_closes"] == 1
        m = srv.metrics()
        assert m["gs_websocket_slow_consumer_closes_total"] == 1
        assert m["gs_websocket_messages_dropped_total"] >= 400

    base = _gaps([x for x in arrivals if x <= base_end])
    stuck = _gaps([x for x in arrivals if stuck_start <= x <= stuck_end + 0.2])
    assert len(base) >= 5, base
    assert len(stuck) >= 10, (stuck_end - stuck_start, stuck)
    # Wide margins: the price stream to the healthy client keeps its cadence (a bar per
    # 50 ms) while the other one is stuck; a shared queue or a blocking write would stall it
    # for the whole stuck period.
    limit = max(1.0, 4 * max(base))
    assert max(stuck) < limit, (max(stuck), limit, stuck_end - stuck_start)
    assert statistics.median(stuck) < max(0.25, 3 * statistics.median(base))
