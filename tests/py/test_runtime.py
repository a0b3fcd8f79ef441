"""The in-process runtime: native and Python agents together, faults, deadlines, settings."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import numpy as np
import pytest

import goldensignals as gs
from helpers import eventually as _eventually, replay_runtime, wait_replayed as _wait_replayed


def test_public_api_names():
    for name in gs.__all__:
        assert hasattr(gs, name), name
    assert gs.__version__ == gs._core.__version__
    assert set(gs.builtin_agent_names()) >= {
        "TechnicalAnalyst", "Momentum", "MeanReversion", "VolumeAnalyst", "VolatilityRegime"}


def test_vote_validates_its_fields():
    v = gs.Vote("buy", 0.8, ["reason"], target_price=10.0)
    assert (v.action, v.confidence, v.reasoning, v.target_price, v.stop_loss) == ("BUY", 0.8, ("reason",), 10.0, None)
    with pytest.raises(gs.InvalidArgumentError, match="unknown action 'UP'"):
        gs.Vote("UP", 0.5)
    with pytest.raises(ValueError, match=r"confidence 1\.5"):
        gs.Vote("SELL", 1.5)
    with pytest.raises(gs.InvalidArgumentError, match="stop_loss -1"):
        gs.Vote("SELL", 0.5, stop_loss=-1.0)


def test_native_and_python_agents_sync_async_and_subclass_in_one_analysis(frame):
    rt = replay_runtime(frame)
    rt.add_builtin_agents()
    seen_threads = set()

    @rt.agent("SyncPy", weight=1.5, timeout=2.0)
    def sync_agent(ctx):
        seen_threads.add(threading.current_thread().name)
        return gs.Vote("BUY", 0.9, [f"close {ctx.close[-1]:.2f}"])

    @rt.agent("AsyncPy", timeout=2.0)
    async def async_agent(ctx):
        await asyncio.sleep(0.01)
        return gs.Vote("BUY", 0.8, ["async"])

    class Sub(gs.Agent):
        name = "SubclassPy"

        def analyze(self, ctx):
            return None  # abstain

    rt.add_agent(Sub())
    with rt:
        _wait_replayed(rt, frame)
        d = rt.analyze("AAPL", timeout=30)
    statuses = d.agent_statuses
    assert statuses["SyncPy"] == "ok" and statuses["AsyncPy"] == "ok"
    assert statuses["SubclassPy"] == "abstain"
    for name in gs.builtin_agent_names():
        assert statuses[name] in ("ok", "abstain")
    assert d.votes["AsyncPy"] == gs.Vote("BUY", 0.8, ["async"])
    assert threading.current_thread().name not in seen_threads  # ran on the executor
    details = d.to_dict()["agents_consensus"]["agent_details"]
    assert details["SyncPy"]["weight"] == 1.5


def test_faulty_python_agents_are_isolated_with_reasons(frame):
    rt = replay_runtime(frame)
    for name in ("A", "B", "C"):
        rt.agent(name)(lambda ctx: gs.Vote("SELL", 0.9))

    @rt.agent("Raises")
    def raises(ctx):
        raise ValueError("model exploded")

    @rt.agent("Garbage")
    def garbage(ctx):
        return "BUY"

    @rt.agent("Slow", timeout=0.05)
    def slow(ctx):
        time.sleep(2.0)
        return gs.Vote("BUY", 1.0)

    updates = []
    rt.on_agent_update(updates.append)
    with rt:
        _wait_replayed(rt, frame)
        t0 = time.monotonic()
        d = rt.analyze("AAPL")
        elapsed = time.monotonic() - t0
    assert d.action == "SELL"
    st = d.agent_statuses
    assert (st["Raises"], st["Garbage"], st["Slow"]) == ("failed", "failed", "timeout")
    details = d.to_dict()["agents_consensus"]["agent_details"]
    assert "ValueError: model exploded" in details["Raises"]["error"]
    assert "returned str" in details["Garbage"]["error"]
    assert elapsed < 1.5, "the decision waited for the slow agent (2 s)"
    signals = {u.signal for u in updates if u.analysis_id == d.analysis_id}
    assert {"ANALYZING", "PROCESSING", "SELL", "FAILED", "TIMEOUT"} <= signals


def test_a_stuck_python_agent_does_not_starve_the_others(frame):
    rt = replay_runtime(frame, python_workers=2)
    release = threading.Event()

    @rt.agent("Stuck", timeout=0.05)
    def stuck(ctx):
        release.wait(10)  # holds a worker far past its deadline
        return None

    @rt.agent("Healthy", timeout=1.0)
    def healthy(ctx):
        return gs.Vote("HOLD", 0.9)

    try:
        with rt:
            _wait_replayed(rt, frame)
            for _ in range(4):
                d = rt.analyze("AAPL")
                assert d.agent_statuses == {"Stuck": "timeout", "Healthy": "ok"}
            ex = rt.status()["python_executor"]
            assert ex["replaced_workers"] >= 1
            assert ex["stuck_workers"] >= 1
    finally:
        release.set()


def test_circuit_breaker_disables_a_failing_agent_and_alerts(frame):
    rt = replay_runtime(frame, breaker_faults=2, breaker_cooldown=60)
    rt.agent("Broken")(lambda ctx: 1 / 0)
    rt.agent("Fine")(lambda ctx: gs.Vote("BUY", 0.9))
    alerts = []
    rt.on_alert(alerts.append)
    with rt:
        _wait_replayed(rt, frame)
        for _ in range(3):
            d = rt.analyze("AAPL")
        st = {a["name"]: a for a in rt.status()["agents"]}
    assert d.agent_statuses["Broken"] == "disabled"
    assert st["Broken"]["errors"] == 2 and not st["Broken"]["enabled"]
    assert "ZeroDivisionError" in st["Broken"]["last_error"]
    _eventually(lambda: any(a["code"] == "agent_disabled" for a in alerts))


def test_context_gives_read_only_numpy_views_without_copy(frame):
    rt = replay_runtime(frame, history_bars=128)
    captured = {}

    @rt.agent("Peek")
    def peek(ctx):
        captured["close"] = ctx.close
        captured["again"] = ctx.close
        captured["indicators"] = ctx.indicators
        captured["len"] = len(ctx)
        return None

    with rt:
        _wait_replayed(rt, frame)
        rt.analyze("AAPL")
    close = captured["close"]
    assert isinstance(close, np.ndarray) and close.dtype == np.float64
    assert not close.flags.writeable and not close.flags.owndata
    with pytest.raises(ValueError):
        close[0] = 1.0
    assert np.shares_memory(close, captured["again"])  # both views of one snapshot
    assert captured["len"] == len(close) == 128
    np.testing.assert_allclose(close, frame["Close"].to_numpy()[-128:])
    assert 0 < captured["indicators"]["rsi_14"] < 100


def test_publish_tick_rejects_bad_data_by_name():
    rt = gs.Runtime(symbols=["AAPL"], analyze_on_start=False)
    with rt:
        with pytest.raises(gs.UnknownSymbolError, match="'MSFT' is not tracked"):
            rt.publish_tick("MSFT", 10.0)
        with pytest.raises(gs.BadMarketDataError, match="AAPL: price nan"):
            rt.publish_tick("AAPL", float("nan"))
        with pytest.raises(gs.BadMarketDataError, match="price -3"):
            rt.publish_tick("AAPL", -3)
        rt.publish_tick("aapl", 101.0, 5.0)
        assert rt.context("AAPL").price == 101.0


def test_settings_keyword_beats_environment_beats_default(monkeypatch):
    monkeypatch.setenv("AGENT_MIN_CONFIDENCE", "0.4")
    monkeypatch.setenv("GS_SYMBOLS", "spy,qqq")
    rt = gs.Runtime(agent_consensus_threshold=0.8)
    assert rt.settings["agent_min_confidence"] == 0.4
    assert rt.settings["agent_consensus_threshold"] == 0.8
    assert rt.symbols == ["SPY", "QQQ"]
    assert rt.orchestrator.min_confidence == 0.4
    rt.stop()
    monkeypatch.setenv("AGENT_CONSENSUS_THRESHOLD", "lots")
    with pytest.raises(gs.InvalidArgumentError, match="AGENT_CONSENSUS_THRESHOLD 'lots'"):
        gs.Runtime()
    with pytest.raises(TypeError, match="unknown setting.*agent_min_confidenc"):
        gs.Runtime(agent_min_confidenc=0.5)


def test_orchestrator_settings_are_live(frame):
    rt = replay_runtime(frame)
    for name in ("A", "B", "C"):
        rt.agent(name)(lambda ctx: gs.Vote("BUY", 0.9))
    with rt:
        _wait_replayed(rt, frame)
        assert rt.analyze("AAPL").action == "BUY"
        rt.orchestrator.min_agents_for_signal = 5
        d = rt.analyze("AAPL")
        assert d.action == "NO_SIGNAL" and "quorum" in d.reason
        rt.orchestrator.min_agents_for_signal = 3
        rt.orchestrator.consensus_threshold = 0.9
        assert rt.analyze("AAPL").action == "BUY"
        with pytest.raises(gs.InvalidArgumentError):
            rt.orchestrator.consensus_threshold = 1.5


def test_simulated_feed_drives_signals_and_logs_reach_python(caplog):
    decisions = []
    with caplog.at_level(logging.INFO, logger="goldensignals"):
        rt = gs.Runtime(symbols=["AAPL", "NVDA"], feed=gs.feeds.Simulated(seed=1, interval=0.02))
        rt.add_builtin_agents()
        rt.on_decision(decisions.append)
        with rt:
            _eventually(lambda: len({d.symbol for d in decisions}) == 2, limit=20)
            st = rt.status()
        assert st["running"] is True and st["active_agents"] == 5
        assert st["orchestrator"]["analyses_completed"] >= 2
    assert any("runtime started" in r.getMessage() for r in caplog.records)
    d = decisions[0]
    assert d.trigger == "initial"
    body = d.to_dict()
    assert body["symbol"] in ("AAPL", "NVDA") and "decision" in body


def test_replay_validates_its_input(frame, tmp_path):
    bad = frame.copy()
    bad.loc[5, "Close"] = np.nan
    with pytest.raises(gs.InvalidArgumentError, match="row 5: close nan"):
        gs.feeds.Replay(bad)
    with pytest.raises(gs.InvalidArgumentError, match="missing column.*volume"):
        gs.feeds.Replay(frame.drop(columns=["Volume"]))
    with pytest.raises(gs.InvalidArgumentError, match="does not exist"):
        gs.feeds.Replay(tmp_path / "nope.csv")
    path = tmp_path / "bars.csv"
    frame.to_csv(path, index=False)
    assert len(gs.feeds.Replay(path)) == len(frame)


def test_start_returns_once_the_history_is_in():
    """What a notebook reads right after ``rt.start()`` is the whole back-filled history: the
    context, its indicators and the status never see a half-filled feed."""
    feed = gs.feeds.Simulated(seed=5, interval=30.0, backfill=3000)  # no live bar in the test
    rt = gs.Runtime(symbols=["AAPL", "NVDA", "SPY"], feed=feed, history_bars=4000,
                    analyze_on_start=False)
    rt.add_builtin_agents(["TechnicalAnalyst"])
    try:
        rt.start()
        for sym in ("AAPL", "NVDA", "SPY"):
            ctx = rt.context(sym)
            assert ctx is not None, sym
            assert len(ctx) == 3000, (sym, len(ctx))
            assert {"rsi_14", "sma_50", "atr_14"} <= set(ctx.indicators), (sym, ctx.indicators)
        assert rt.state == "running"
        assert rt.status()["running"] is True
    finally:
        rt.stop()
