"""Live scoring over the wire: a signal's result (signal_outcome) reaches its room once the
horizon closed, is stored with seq like every room message, comes back with `since`, joins
the signal in rt.history(), and the track records show in /ws/status and /metrics."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import goldensignals as gs
from server_helpers import (ISO_MS, connect, eventually, is_type, make_runtime, recv_until, run,
                            served, subscribe)

HORIZON = 2


def test_signal_outcomes_are_broadcast_stored_recovered_and_scored(tmp_path: Path) -> None:
    feed = gs.feeds.Simulated(seed=3, interval=0.05, backfill=60)
    rt = make_runtime(("AAPL",), feed=feed, db=str(tmp_path / "history.db"),
                      score_horizon=HORIZON, score_cost_bps=10, signal_generation_interval=0.2,
                      analyze_on_start=False)
    with served(rt) as srv:
        async def main() -> tuple[dict[str, Any], dict[str, Any]]:
            ws, _ = await connect(srv.signals)
            async with ws:
                await subscribe(ws, "AAPL")
                outcome, before = await recv_until(ws, is_type("signal_outcome"), timeout=20)
                signal = next(m for m in before if m["type"] == "signal_update"
                              and m["data"]["signal_id"] == outcome["data"]["signal_id"])
            # Back with `since` just before the signal: the outcome comes again, identical.
            again, _ = await connect(srv.signals)
            async with again:
                await again.send(json.dumps(
                    {"type": "subscribe", "symbol": "AAPL", "since": signal["seq"] - 1}))
                conf, _ = await recv_until(again, is_type("subscribe", symbol="AAPL"))
                assert conf["recovered"] is True
                resent, _ = await recv_until(
                    again, lambda m: m.get("type") == "signal_outcome"
                    and m["data"]["signal_id"] == outcome["data"]["signal_id"], timeout=20)
                assert resent == outcome
            return outcome, signal

        outcome, signal = run(main())
        o, s = outcome["data"], signal["data"]
        assert outcome["seq"] > signal["seq"]
        assert (o["symbol"], o["action"], o["analysis_id"]) == ("AAPL", s["action"], s["analysis_id"])
        assert o["horizon_bars"] == HORIZON and o["exit_reason"] in ("horizon", "target", "stop")
        for k in ("market_time", "entry_time", "exit_time", "timestamp"):
            assert re.match(ISO_MS, o[k]), (k, o[k])
        assert o["market_time"] < o["entry_time"] <= o["exit_time"]
        side = 1 if o["action"] == "BUY" else -1
        assert o["hit"] == (side * o["forward_return"] > 0)
        assert math.isclose(o["gross_return"], side * (o["exit_price"] / o["entry_price"] - 1),
                            rel_tol=1e-9, abs_tol=1e-12)
        assert math.isclose(o["return"], o["gross_return"] - 0.002, abs_tol=1e-12)  # 10 bp a side

        # Stored: the history joins the outcome to its signal.
        def stored_row() -> Any:
            h = rt.history("AAPL", limit=500)
            rows = h[(h["signal_id"] == o["signal_id"]) & h["hit"].notna()]
            return rows.iloc[0].to_dict() if len(rows) else None

        row = eventually(stored_row, what="the outcome in the history")
        assert bool(row["hit"]) == o["hit"] and row["return"] == o["return"]
        assert row["exit_reason"] == o["exit_reason"]

        # The track records.
        st = srv.status()["scores"]
        assert st["horizon_bars"] == HORIZON and st["cost_bps"] == 10
        assert st["consensus"]["scored"] >= 1
        assert {a["name"] for a in st["agents"]} == {"Alpha", "Beta", "Gamma"}
        metrics = srv.metrics()
        key = 'gs_forecasts_scored_total{source="consensus",kind="consensus"}'
        assert metrics[key] >= 1
        assert metrics['gs_forecasts_scored_total{source="Alpha",kind="agent"}'] >= 1


def test_no_outcomes_without_scoring() -> None:
    rt = make_runtime(("AAPL",), feed=gs.feeds.Simulated(seed=3, interval=0.05, backfill=60),
                      score_horizon=0, signal_generation_interval=0.2, analyze_on_start=False)
    with served(rt) as srv:
        async def main() -> list[str]:
            ws, _ = await connect(srv.signals)
            async with ws:
                await subscribe(ws, "AAPL")
                _, seen = await recv_until(ws, is_type("signal_update"), timeout=20)
                _, more = await recv_until(ws, is_type("price_update"), timeout=20)
                _, more2 = await recv_until(ws, is_type("decision_update"), timeout=20)
                return [m["type"] for m in seen + more + more2]

        types = run(main())
        assert "signal_outcome" not in types
        assert "scores" not in srv.status()
