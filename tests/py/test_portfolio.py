"""Portfolio-wide monitoring (docs/protocol.md, "Portfolios") over real sockets:
subscribe_portfolio joins each member's room and sends a portfolio_update on every member's
price or signal, with value, weights, exposure, the weighted signal and the conflicts; the
limits; unsubscribe_portfolio leaves the rooms it joined; portfolios kept per token subject
across a reconnect and a restart."""

from __future__ import annotations

import goldensignals as gs
import pytest
from server_helpers import (
    TEST_SECRET,
    bar,
    connect,
    each,
    make_runtime,
    problem,
    recv_quiet,
    run,
    send,
    served,
    token_for,
    until,
)

SYMBOLS = ("AAPL", "NVDA", "SPY")


def update_of(pid: str, trigger: str | None = None):
    return lambda m: m.get("type") == "portfolio_update" and m.get("id") == pid \
        and (trigger is None or m.get("trigger") == trigger)


def test_a_portfolio_streams_its_members_and_its_updates():
    # Every member starts at 104.5 (make_runtime's last close); the agents all vote BUY 0.9.
    with served(make_runtime(SYMBOLS)) as srv:
        rt = srv.rt

        async def main():
            ws, _ = await connect(srv.signals)
            async with ws:
                await send(ws, {"type": "subscribe_portfolio", "id": "p1",
                                "positions": {"aapl": 0.4, "NVDA": 0.3, "SPY": -0.3}})
                ok = await until(ws, lambda m: m.get("type") == "subscribe_portfolio")
                assert ok["status"] == "subscribed" and ok["persistent"] is False
                assert ok["positions"] == {"AAPL": 0.4, "NVDA": 0.3, "SPY": -0.3}
                first = await until(ws, update_of("p1", "subscribe"))
                d = first["data"]
                assert d["value"] == 1.0 and d["priced"] == 3 and d["size"] == 3
                assert d["exposure"] == pytest.approx({"long": 0.7, "short": -0.3, "net": 0.4,
                                                       "gross": 1.0})
                # It joined each member's room: the member's own messages arrive too.
                bar(rt, 104.5 * 1.1, 0, "AAPL")
                price, up = await each(ws, lambda m: m.get("type") == "price_update"
                                       and m["data"]["symbol"] == "AAPL", update_of("p1", "AAPL"))
                assert price["data"]["price"] == pytest.approx(114.95)
                assert up["data"]["value"] == pytest.approx(1.04)
                assert up["data"]["weights"]["AAPL"] == pytest.approx(0.44 / 1.04)
                assert up["data"]["positions"]["AAPL"]["reference_price"] == 104.5

                # A BUY on the short SPY: a conflict, and the weighted signal.
                await send(ws, {"type": "analyze", "symbol": "SPY"})
                signal, sig = await each(ws, lambda m: m.get("type") == "signal_update",
                                         lambda m: update_of("p1", "SPY")(m)
                                         and bool(m["data"]["conflicts"]))
                conf = signal["data"]["confidence"]
                assert sig["data"]["conflicts"] == [
                    {"symbol": "SPY", "weight": -0.3, "action": "BUY", "confidence": conf}]
                assert sig["data"]["weighted_signal"] == pytest.approx(-0.3 * conf)

                await send(ws, {"type": "list_portfolios"})
                listed = await until(ws, lambda m: m.get("type") == "list_portfolios")
                [p] = listed["data"]
                assert p["id"] == "p1" and p["reference"]["NVDA"] == 104.5
                assert listed["limit"] == 5

                # Unsubscribing leaves the rooms it joined; a room also subscribed on its own
                # stays.
                await send(ws, {"type": "subscribe", "symbol": "NVDA"})
                await until(ws, lambda m: m.get("type") == "subscribe")
                await send(ws, {"type": "unsubscribe_portfolio", "id": "p1"})
                done = await until(ws, lambda m: m.get("type") == "unsubscribe_portfolio")
                assert done["status"] == "unsubscribed"
                left = {m["symbol"] for m in await recv_quiet(ws) if m.get("type") == "unsubscribe"}
                assert left == {"AAPL", "SPY"}
                bar(rt, 90.0, 1, "NVDA")
                bar(rt, 90.0, 2, "AAPL")
                later = await recv_quiet(ws, 0.5)
                assert not [m for m in later if m.get("type") == "portfolio_update"]
                assert {m["data"]["symbol"] for m in later if m.get("type") == "price_update"} \
                    == {"NVDA"}

        run(main())


def test_bad_portfolios_are_answered_naming_the_problem():
    with served(make_runtime(SYMBOLS, max_portfolios=1, max_portfolio_size=2,
                             ws_max_subscriptions=2)) as srv:
        async def main():
            ws, _ = await connect(srv.signals)
            async with ws:
                cases = [
                    ({}, "bad_request", "'positions'"),
                    ({"positions": []}, "bad_request", "'positions'"),
                    ({"positions": {"AAPL": "lots"}}, "bad_request", "the weight of AAPL"),
                    ({"positions": {"AAPL": 11}}, "bad_request", "-10 to 10"),
                    ({"positions": {"AAPL": 0.5, "NVDA": 0.2, "SPY": 0.3}}, "bad_request",
                     "at most 2 (GS_MAX_PORTFOLIO_SIZE)"),
                    ({"positions": {"TSLA": 1}}, "invalid_symbol", "not tracked"),
                    ({"positions": {"<b>": 1}}, "invalid_symbol", "not valid"),
                    ({"id": "a b", "positions": {"AAPL": 1}}, "bad_request", "'id'"),
                ]
                for fields, code, words in cases:
                    bad = await problem(ws, {"type": "subscribe_portfolio", **fields})
                    assert bad["code"] == code and words in bad["message"], (fields, bad)
                await send(ws, {"type": "subscribe_portfolio", "positions": {"AAPL": 1}})
                ok = await until(ws, lambda m: m.get("type") == "subscribe_portfolio")
                assert ok["id"] == "portfolio-1"
                bad = await problem(ws, {"type": "subscribe_portfolio", "id": "two",
                                     "positions": {"NVDA": 1}})
                assert bad["code"] == "too_many_portfolios" and bad["limit"] == 1
                # Its rooms must fit WS_MAX_SUBSCRIPTIONS (2: AAPL for it, NVDA on its own).
                await send(ws, {"type": "subscribe", "symbol": "NVDA"})
                bad = await problem(ws, {"type": "subscribe_portfolio", "id": "portfolio-1",
                                     "positions": {"AAPL": 1, "SPY": 1}})
                assert bad["code"] == "too_many_subscriptions" and bad["limit"] == 2
                # Replacing it with another member leaves the room it no longer needs.
                await send(ws, {"type": "subscribe_portfolio", "id": "portfolio-1",
                                "positions": {"NVDA": 1}})
                assert (await until(ws, lambda m: m.get("type") == "unsubscribe"))["symbol"] \
                    == "AAPL"
                await send(ws, {"type": "subscribe_portfolio", "id": "portfolio-1",
                                "positions": {"SPY": 1}})
                assert (await until(ws, lambda m: m.get("type") == "subscribe"))["symbol"] \
                    == "SPY"
                await send(ws, {"type": "unsubscribe_portfolio", "id": "nope"})
                gone = await until(ws, lambda m: m.get("type") == "unsubscribe_portfolio")
                assert gone["status"] == "not_found"

        run(main())


def test_portfolios_are_kept_per_subject_across_a_reconnect_and_a_restart(tmp_path):
    db = str(tmp_path / "p.db")

    def runtime() -> gs.Runtime:
        return make_runtime(SYMBOLS, jwt_secret=TEST_SECRET, db=db)

    with served(runtime()) as srv:
        async def first():
            ws, _ = await connect(srv.signals + "?token=" + token_for("alice"))
            async with ws:
                await send(ws, {"type": "subscribe_portfolio", "id": "core",
                                "positions": {"AAPL": 0.6, "SPY": 0.4}})
                ok = await until(ws, lambda m: m.get("type") == "subscribe_portfolio")
                assert ok["persistent"] is True
                await until(ws, update_of("core", "subscribe"))
            ws, _ = await connect(srv.signals + "?token=" + token_for("alice"))
            async with ws:
                # Back at once: the rooms joined and a first update.
                await until(ws, update_of("core", "subscribe"))
                bar(srv.rt, 104.5 * 2, 0, "AAPL")
                up = await until(ws, update_of("core", "AAPL"))
                assert up["data"]["value"] == pytest.approx(1.6)

        run(first())

    with served(runtime()) as srv:  # a restart on the same file: the references are kept
        async def second():
            ws, _ = await connect(srv.signals + "?token=" + token_for("alice"))
            async with ws:
                await send(ws, {"type": "list_portfolios"})
                listed = await until(ws, lambda m: m.get("type") == "list_portfolios")
                assert [(p["id"], p["positions"], p["reference"]) for p in listed["data"]] == [
                    ("core", {"AAPL": 0.6, "SPY": 0.4}, {"AAPL": 104.5, "SPY": 104.5})]
                bar(srv.rt, 104.5 * 1.5, 0, "SPY")
                up = await until(ws, update_of("core", "SPY"))
                assert up["data"]["value"] == pytest.approx(1.2)
            bob, _ = await connect(srv.signals + "?token=" + token_for("bob"))
            async with bob:
                await send(bob, {"type": "list_portfolios"})
                assert (await until(bob, lambda m: m.get("type") == "list_portfolios"))["data"] == []

        run(second())


def test_gs_client_watches_a_portfolio():
    with served(make_runtime(SYMBOLS)) as srv:
        async def main():
            async with gs.Client(srv.signals) as client:
                await client.subscribe_portfolio({"AAPL": 0.5, "NVDA": 0.5}, id="mine")
                while (m := await client.recv(timeout=10)).type != "portfolio_update":
                    pass
                assert m.raw["id"] == "mine" and m.data["value"] == 1.0
                # A dropped connection: the client watches it again on the next one.
                await client._ws.close()
                while (m := await client.recv(timeout=10)).type != "portfolio_update":
                    pass
                assert m.raw["trigger"] == "subscribe" and client.connects == 2
                await client.unsubscribe_portfolio("mine")
                while (m := await client.recv(timeout=10)).type != "unsubscribe_portfolio":
                    pass

        run(main())
