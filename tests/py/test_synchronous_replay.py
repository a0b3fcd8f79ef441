"""gs.backtest replays synchronously: the calling thread runs the feed and every analysis,
Python agents included, in bar order. What that must keep: the figures of a threaded replay,
every decision for callbacks, async agents, and Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from typing import Any

import goldensignals as gs
import pandas as pd
import pytest
from goldensignals.evaluation.backtest import run_replay

pytest.importorskip("arch")


@pytest.fixture(scope="module")
def part() -> pd.DataFrame:
    return gs.datasets.sp500().loc[:"2003-12-31"]


def test_python_agents_run_on_the_calling_thread(part: pd.DataFrame) -> None:
    seen: set[int] = set()

    def where(ctx: gs.AgentContext) -> gs.Vote:
        seen.add(threading.get_ident())
        return gs.Vote("BUY" if ctx.close[-1] > ctx.close[0] else "SELL", 0.6)

    r = gs.backtest(part, [where], horizon=5, interval=1, progress=False, random_draws=0)
    assert seen == {threading.get_ident()}
    assert r.metrics.loc["where", "forecasts"] > 1000


def test_the_figures_equal_a_threaded_replay(part: pd.DataFrame) -> None:
    # The same data through a threaded runtime (the live path, the feed on its own thread)
    # and through gs.backtest's synchronous one: every scored forecast is the same.
    def columns(synchronous: bool) -> pd.DataFrame:
        rt = gs.Runtime(feed=gs.feeds.Replay(part.reset_index(), speed=0),
                        _synchronous=synchronous, _scoring={"keep": 1_000_000},
                        signal_generation_interval=5 * 86_400.0, analyze_on_start=False,
                        history_bars=512, score_horizon=5, bar_seconds=0.0)
        rt.add_builtin_agents()
        rt.start()
        if synchronous:
            assert rt._core.run_feed()
        else:
            while not rt._core.wait_feed(0.2):
                pass
            rt.wait_idle("SPX")
        rt.stop()
        cols = rt._core.take_scored()
        keep = ["source", "decided_ts_ms", "action", "confidence", "net_return", "hit"]
        return pd.DataFrame({k: cols[k] for k in keep})

    threaded, synchronous = columns(False), columns(True)
    assert len(threaded) > 500
    pd.testing.assert_frame_equal(synchronous, threaded)


def test_every_decision_reaches_a_callback_even_through_a_small_queue(part: pd.DataFrame) -> None:
    # The replay outruns the callback: events wait for room instead of being dropped.
    got: list[Any] = []

    def slow(d: Any) -> None:
        got.append(d)
        time.sleep(0.0002)

    run = run_replay(part, "builtin", horizon=5, interval=1, score=False, on_decision=slow,
                     settings={"event_queue": 16})
    assert run["status"]["events"]["dropped"] == 0
    assert len(got) == run["status"]["orchestrator"]["analyses_completed"] > 1000


def test_async_agents_work_in_a_backtest(part: pd.DataFrame) -> None:
    async def later(ctx: gs.AgentContext) -> gs.Vote:
        await asyncio.sleep(0)
        return gs.Vote("BUY", 0.7)

    def now(ctx: gs.AgentContext) -> gs.Vote:
        return gs.Vote("BUY", 0.7)

    r = gs.backtest(part.loc[:"2000-06-30"], [later, now], horizon=5, interval=1,
                    progress=False, random_draws=0)
    a, b = r.metrics.loc["later"], r.metrics.loc["now"]
    assert a["analyses"] > 100
    assert a["forecasts"] == b["forecasts"] >= a["analyses"] - 5  # the last horizon is open
    assert a["hit_rate"] == b["hit_rate"]


def test_ctrl_c_stops_a_backtest_even_inside_a_python_agent(part: pd.DataFrame) -> None:
    # The agent is where the interrupt lands (it runs on the main thread): the run stops
    # within a progress check (0.1 s) instead of counting it as one failed vote and going on.
    def slow(ctx: gs.AgentContext) -> gs.Vote:
        time.sleep(0.002)  # 1,000 bars: 2 s
        return gs.Vote("HOLD", 0.5)

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        t0 = time.perf_counter()
        with pytest.raises(KeyboardInterrupt):
            gs.backtest(part, [slow], horizon=5, interval=1, progress=False, random_draws=0)
        assert time.perf_counter() - t0 < 1.5
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_an_exception_from_progress_stops_the_run(part: pd.DataFrame) -> None:
    rt = gs.Runtime(feed=gs.feeds.Replay(part.reset_index(), speed=0), _synchronous=True,
                    analyze_on_start=False, bar_seconds=0.0)

    @rt.agent("Slow")
    def slow(ctx: gs.AgentContext) -> None:
        time.sleep(0.001)

    rt.start()
    calls: list[int] = []

    def progress(bars: int) -> None:
        calls.append(bars)
        raise RuntimeError("enough")

    with pytest.raises(RuntimeError, match="enough"):
        rt._core.run_feed(progress)
    assert len(calls) == 1 and 0 < calls[0] < len(part)
    with pytest.raises(gs.RuntimeStateError, match="already ran"):
        rt._core.run_feed()
    rt.stop()
