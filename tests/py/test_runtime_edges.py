"""Edge cases of the runtime: hostile agents, callbacks that stop it, ticks, timeouts, logs."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import time

import pytest

import goldensignals as gs

from helpers import eventually as _eventually, replay_runtime, wait_replayed as _wait_replayed


def test_an_agent_whose_exception_cannot_be_printed_fails_cleanly(frame):
    rt = replay_runtime(frame)

    class Unprintable(Exception):
        def __str__(self):
            raise RuntimeError("no text for you")

    @rt.agent("Surrogate")
    def surrogate(ctx):
        raise ValueError("bad byte \udcff")

    @rt.agent("Unprintable")
    def unprintable(ctx):
        raise Unprintable()

    with rt:
        _wait_replayed(rt, frame)
        d = rt.analyze("AAPL")
    details = d.to_dict()["agents_consensus"]["agent_details"]
    assert details["Unprintable"]["status"] == "failed"
    assert "Unprintable" in details["Unprintable"]["error"]
    assert details["Surrogate"]["status"] == "failed"
    assert "ValueError" in details["Surrogate"]["error"]


def test_stopping_the_runtime_from_its_own_callback_is_safe():
    # In a child process: a crash there must fail this test, not the test run.
    code = textwrap.dedent("""
        import goldensignals as gs, threading
        rt = gs.Runtime(symbols=["AAPL"], feed=gs.feeds.Simulated(seed=3, interval=0.01))
        rt.add_builtin_agents()
        done = threading.Event()
        def on_decision(d):
            rt.stop()
            done.set()
        rt.on_decision(on_decision)
        rt.start()
        assert done.wait(20), "no decision"
        rt.stop()
        del rt
        print("clean exit")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "clean exit" in r.stdout


def test_bare_decorator_registers_and_votes_compare_with_none(frame):
    rt = replay_runtime(frame)

    @rt.agent
    def plain(ctx):
        return gs.Vote("HOLD", 0.9)

    assert rt.agents == ["plain"] and callable(plain)
    assert gs.Vote("BUY", 0.5) != None  # noqa: E711 - NotImplemented, not TypeError
    assert None not in [gs.Vote("BUY", 0.5)]
    rt.add_builtin_agents([])  # nothing named: nothing added
    rt.add_builtin_agents("Momentum")
    assert rt.agents == ["plain", "Momentum"]
    with pytest.raises(gs.InvalidArgumentError, match="Momentun"):
        rt.add_builtin_agents(["Momentun"])
    rt.stop()


def test_ticks_build_bars_and_feed_the_agents():
    rt = gs.Runtime(symbols=["AAPL"], analyze_on_start=False, bar_seconds=1, move_threshold=0.5)
    rt.add_builtin_agents()
    with rt:
        t0 = 1_700_000_000.0
        price = 100.0
        for i in range(600):  # 600 ticks, 4 a second: 150 one-second bars
            price *= 1.0005
            rt.publish_tick("AAPL", price, 10.0, ts=t0 + i * 0.25)
        ctx = rt.context("AAPL")
        assert len(ctx) == 149 and ctx.indicators["rsi_14"] > 70  # a steady climb
        d = rt.analyze("AAPL")
    assert d.agent_statuses["Momentum"] == "ok"
    assert d.votes["Momentum"].action == "BUY"


def test_analyze_timeout_is_validated(frame):
    rt = replay_runtime(frame)
    with rt:
        for bad in (float("inf"), float("nan"), 0, -1):
            with pytest.raises(gs.InvalidArgumentError, match="timeout"):
                rt.analyze("AAPL", timeout=bad)


def test_agent_timeout_is_live_for_agents_registered_without_one(frame):
    rt = replay_runtime(frame)

    @rt.agent("Sleepy")
    def sleepy(ctx):
        time.sleep(0.3)
        return gs.Vote("BUY", 0.9)

    with rt:
        _wait_replayed(rt, frame)
        assert rt.analyze("AAPL").agent_statuses["Sleepy"] == "ok"  # default 1 s
        rt.orchestrator.agent_timeout = 0.05
        assert rt.analyze("AAPL").agent_statuses["Sleepy"] == "timeout"
        assert rt.status()["agents"][0]["timeout_ms"] == 50


def test_log_level_set_after_construction_is_honoured(caplog):
    rt = gs.Runtime(symbols=["AAPL"])
    logging.getLogger("goldensignals").setLevel(logging.INFO)
    try:
        with caplog.at_level(logging.INFO, logger="goldensignals"):
            rt.start()
            rt.stop()
            _eventually(lambda: any("runtime started" in r.getMessage() for r in caplog.records))
    finally:
        logging.getLogger("goldensignals").setLevel(logging.NOTSET)


def test_server_logs_reach_python_under_websocket_orchestrator(caplog):
    rt = gs.Runtime(symbols=["AAPL"], analyze_on_start=False)
    with caplog.at_level(logging.DEBUG, logger="goldensignals"):
        rt.serve(port=0, block=False)
        import asyncio

        import websockets

        async def touch():
            async with websockets.connect(rt.url.replace("http", "ws") + "/ws/signals") as ws:
                await ws.recv()

        asyncio.run(touch())
        rt.stop()
        names = {r.name for r in caplog.records}
        _eventually(lambda: any("serving on" in r.getMessage() for r in caplog.records))
    server = [r.getMessage() for r in caplog.records if r.name == "goldensignals.websocket_orchestrator"]
    assert any("serving on 127.0.0.1:" in m for m in server), names
    assert any("client connected" in m for m in server), server
