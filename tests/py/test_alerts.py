"""Custom alerts (docs/protocol.md, "Custom alerts") over real sockets: add_alert, remove_alert
and list_alerts; conditions on prices, indicators, the signal and agent votes firing on the
rising edge with the values that made them true; errors naming the position; the limits; and
alerts kept per token subject across a reconnect and a restart of the server."""

from __future__ import annotations

import asyncio
from typing import Any

import goldensignals as gs
import pytest
from server_helpers import (
    TEST_SECRET,
    bar,
    connect,
    is_alert,
    is_type,
    make_runtime,
    problem,
    recv_quiet,
    run,
    send,
    served,
    token_for,
    until,
)


def is_custom(alert_id: str):
    return lambda m: m.get("type") == "alert" and m.get("alert_type") == "custom" \
        and m.get("id") == alert_id


async def add(ws: Any, **fields: Any) -> dict[str, Any]:
    await send(ws, {"type": "add_alert", **fields})
    return await until(ws, lambda m: m.get("type") in ("add_alert", "alert"))


def test_an_alert_fires_on_the_rising_edge_with_its_values_and_is_listed():
    with served() as srv:
        rt = srv.rt

        async def main():
            ws, _ = await connect(srv.signals)
            async with ws:
                ok = await add(ws, id="breakout", symbol="aapl",
                               condition="price > 110 and volume >= 1000", severity="critical")
                assert ok["type"] == "add_alert" and ok["status"] == "added"
                assert ok["symbol"] == "AAPL" and ok["id"] == "breakout"
                assert ok["persistent"] is False  # anonymous: lives as long as the connection
                bar(rt, 105.0, 0)
                assert not [m for m in await recv_quiet(ws) if is_custom("breakout")(m)]
                bar(rt, 111.0, 1)
                fired = await until(ws, is_custom("breakout"))
                assert fired["severity"] == "critical" and fired["symbol"] == "AAPL"
                assert fired["condition"] == "price > 110 and volume >= 1000"
                assert fired["values"] == {"price": 111.0, "volume": 1000.0}
                assert fired["fired"] == 1 and fired["code"] == "custom_alert"
                bar(rt, 112.0, 2)  # still true: no second alert
                assert not [m for m in await recv_quiet(ws) if is_custom("breakout")(m)]
                bar(rt, 100.0, 3)
                bar(rt, 120.0, 4)  # true again
                again = await until(ws, is_custom("breakout"))
                assert again["values"]["price"] == 120.0 and again["fired"] == 2

                await send(ws, {"type": "list_alerts"})
                listed = await until(ws, is_type("list_alerts"))
                [a] = listed["data"]
                assert a["id"] == "breakout" and a["fired"] == 2 and a["state"] == "true"
                assert a["severity"] == "critical" and a["last_fired"].endswith("Z")
                assert listed["limit"] == 20

                await send(ws, {"type": "remove_alert", "id": "breakout"})
                gone = await until(ws, is_type("remove_alert"))
                assert gone["status"] == "removed"
                await send(ws, {"type": "remove_alert", "id": "breakout"})
                assert (await until(ws, is_type("remove_alert")))["status"] == "not_found"
                bar(rt, 90.0, 5)
                bar(rt, 130.0, 6)
                assert not [m for m in await recv_quiet(ws) if is_custom("breakout")(m)]

        run(main())


def test_indicators_signals_votes_and_cooldown():
    with served() as srv:
        rt = srv.rt

        async def main():
            ws, _ = await connect(srv.signals)
            async with ws:
                # Every agent of make_runtime votes BUY 0.9.
                ok = await add(ws, id="v", symbol="AAPL",
                               condition="votes.Alpha == 'BUY' and action == 'BUY' and "
                                         "confidence > 0.5")
                assert ok["status"] == "added"
                await send(ws, {"type": "analyze", "symbol": "AAPL"})
                fired = await until(ws, is_custom("v"))
                assert set(fired["values"]) == {"votes.Alpha", "action", "confidence"}
                assert fired["values"]["votes.Alpha"] == fired["values"]["action"] == "BUY"
                assert fired["values"]["confidence"] > 0.5
                # An indicator: the 20-bar SMA is defined after 20 bars.
                await add(ws, id="sma", symbol="AAPL", condition="price > sma_20",
                          cooldown=3600)
                for i in range(25):
                    bar(rt, 100.0, 10 + i)
                assert not [m for m in await recv_quiet(ws) if is_custom("sma")(m)]
                bar(rt, 110.0, 40)
                up = await until(ws, is_custom("sma"))
                assert up["values"]["sma_20"] == pytest.approx(100.5, abs=0.01)
                bar(rt, 90.0, 41)
                bar(rt, 130.0, 42)  # rises again inside the cooldown: silent
                assert not [m for m in await recv_quiet(ws) if is_custom("sma")(m)]

        run(main())


def test_bad_alerts_are_answered_naming_the_problem():
    with served(max_alerts=2, alert_max_length=40) as srv:
        async def main():
            ws, _ = await connect(srv.signals)
            async with ws:
                bad = await problem(ws, {"type": "add_alert", "symbol": "AAPL",
                                     "condition": "price > 200 and rsi < 30"})
                assert bad["code"] == "bad_request" and bad["position"] == 16
                assert "unknown name 'rsi'" in bad["message"] and "rsi_14" in bad["message"]
                bad = await problem(ws, {"type": "add_alert", "symbol": "AAPL",
                                     "condition": "price > " + "1" * 60})
                assert bad["code"] == "bad_request" and "longer than 40" in bad["message"]
                bad = await problem(ws, {"type": "add_alert", "symbol": "AAPL",
                                     "condition": "(" * 17 + "price>1" + ")" * 17})
                assert bad["code"] == "bad_request"
                bad = await problem(ws, {"type": "add_alert", "symbol": "TSLA",
                                     "condition": "price > 1"})
                assert bad["code"] == "invalid_symbol" and "not tracked" in bad["message"]
                bad = await problem(ws, {"type": "add_alert", "symbol": "AAPL"})
                assert bad["code"] == "bad_request" and "'condition'" in bad["message"]
                for field, value in (("severity", "loud"), ("cooldown", -1), ("id", "a b")):
                    bad = await problem(ws, {"type": "add_alert", "symbol": "AAPL",
                                         "condition": "price > 1", field: value})
                    assert bad["code"] == "bad_request" and f"'{field}'" in bad["message"]
                bad = await problem(ws, {"type": "remove_alert"})
                assert bad["code"] == "bad_request"
                # Two allowed; the same id replaces; a third is refused.
                assert (await add(ws, id="a", symbol="AAPL",
                                  condition="price > 1e6"))["status"] == "added"
                made = await add(ws, symbol="NVDA", condition="price > 1e6")
                assert made["status"] == "added" and made["id"] == "alert-1"
                assert (await add(ws, id="a", symbol="AAPL",
                                  condition="price > 2e6"))["status"] == "replaced"
                bad = await problem(ws, {"type": "add_alert", "symbol": "AAPL",
                                     "condition": "price > 1"})
                assert bad["code"] == "too_many_alerts" and bad["limit"] == 2
                # The connection carries on.
                await send(ws, {"type": "ping"})
                await until(ws, is_type("pong"))

        run(main())


def test_alerts_are_kept_per_subject_across_a_reconnect_and_a_restart(tmp_path):
    db = str(tmp_path / "alerts.db")

    def runtime() -> gs.Runtime:
        return make_runtime(jwt_secret=TEST_SECRET, db=db)

    with served(runtime()) as srv:
        async def first():
            ws, _ = await connect(srv.signals + "?token=" + token_for("alice"))
            async with ws:
                ok = await add(ws, id="big", symbol="AAPL", condition="price > 150")
                assert ok["persistent"] is True
                await add(ws, id="gone", symbol="NVDA", condition="price > 150")
                await send(ws, {"type": "remove_alert", "id": "gone"})
                await until(ws, is_type("remove_alert"))
            # Anonymous alerts are not kept.
            anon, _ = await connect(srv.signals)
            async with anon:
                assert (await add(anon, id="x", symbol="AAPL",
                                  condition="price > 1"))["persistent"] is False
            anon, _ = await connect(srv.signals)
            async with anon:
                await send(anon, {"type": "list_alerts"})
                assert (await until(anon, is_type("list_alerts")))["data"] == []
            # Reconnect: the alert is back, and fires.
            ws, _ = await connect(srv.signals + "?token=" + token_for("alice"))
            async with ws:
                await send(ws, {"type": "list_alerts"})
                listed = await until(ws, is_type("list_alerts"))
                assert [a["id"] for a in listed["data"]] == ["big"]
                bar(srv.rt, 151.0, 0)
                await until(ws, is_custom("big"))
            # Another subject sees none of alice's.
            bob, _ = await connect(srv.signals + "?token=" + token_for("bob"))
            async with bob:
                await send(bob, {"type": "list_alerts"})
                assert (await until(bob, is_type("list_alerts")))["data"] == []

        run(first())

    with served(runtime()) as srv:  # a restart on the same file
        async def second():
            ws, _ = await connect(srv.signals + "?token=" + token_for("alice"))
            async with ws:
                await send(ws, {"type": "list_alerts"})
                listed = await until(ws, is_type("list_alerts"))
                assert [(a["id"], a["condition"]) for a in listed["data"]] == [
                    ("big", "price > 150")]
                bar(srv.rt, 100.0, 10)
                bar(srv.rt, 160.0, 11)
                fired = await until(ws, is_custom("big"))
                assert fired["values"] == {"price": 160.0}

        run(second())


def test_gs_client_adds_and_receives_alerts():
    with served() as srv:
        async def main():
            async with gs.Client(srv.signals) as client:
                await client.add_alert("AAPL", "price < 50", id="dip", severity="info")
                ok = await client.recv(timeout=10)
                while ok.type != "add_alert":
                    ok = await client.recv(timeout=10)
                bar(srv.rt, 49.0, 0)
                while True:
                    m = await client.recv(timeout=10)
                    if m.type == "alert" and m.raw.get("alert_type") == "custom":
                        break
                assert m.raw["id"] == "dip" and m.raw["severity"] == "info"
                await client.list_alerts()
                while (m := await client.recv(timeout=10)).type != "list_alerts":
                    pass
                assert m.raw["data"][0]["fired"] == 1
                await client.remove_alert("dip")

        run(main())


def test_a_flood_of_alerts_on_many_clients_never_stalls_the_rooms():
    # 20 clients x 20 alerts that all fire on every other bar, and one plain subscriber whose
    # prices keep flowing.
    with served() as srv:
        async def main():
            clients = [(await connect(srv.signals))[0] for _ in range(20)]
            watcher, _ = await connect(srv.signals)
            try:
                for ws in clients:
                    for k in range(20):
                        await send(ws, {"type": "add_alert", "id": f"a{k}", "symbol": "AAPL",
                                        "condition": f"price > {110 + k * 0.01}"})
                await send(watcher, {"type": "subscribe", "symbol": "AAPL"})
                await until(watcher, is_type("subscribe"))
                for i in range(20):
                    bar(srv.rt, 90.0 if i % 2 == 0 else 120.0 + i, i)
                # The subscriber gets the last price (a newer price may replace an unsent one
                # in its queue, so not necessarily every one) while the alerts fire.
                await until(watcher, lambda m: m.get("type") == "price_update"
                            and m["data"]["price"] == 139.0)

                async def count(ws: Any) -> int:
                    for _ in range(200):
                        await until(ws, is_alert("custom_alert"), 30)
                    return 200 + len([m for m in await recv_quiet(ws)
                                      if is_alert("custom_alert")(m)])

                counts = await asyncio.gather(*(count(ws) for ws in clients))
                assert counts == [200] * 20  # 10 rising edges x 20 alerts each
            finally:
                for ws in clients + [watcher]:
                    await ws.close()

        run(main(), limit=120)
