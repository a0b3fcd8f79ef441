"""The Analog agent from Python: in a backtest and the look-ahead checker, its two controls,
the paired comparison, by name in the Python CLI's loader and in the native server."""

from __future__ import annotations

import asyncio
import json
import signal
import urllib.request

import goldensignals as gs
import numpy as np
import pytest
import websockets
from goldensignals.agents import Analog, analog_features, load_agents
from goldensignals.evaluation.compare import compare
from goldensignals.evaluation.metrics import bootstrap_sharpe_diff_interval

pytest.importorskip("arch")


class LeakyAnalog(Analog):
    """The as-of control as a class, so each replay of the checker makes a fresh one."""

    def __init__(self) -> None:
        super().__init__(as_of=False, name="LeakyAnalog")


def test_the_lookahead_checker_passes_analog_and_catches_the_control() -> None:
    data = gs.datasets.sp500().iloc[:1500]
    assert gs.check_lookahead(data, ["Analog"], samples=8) == []
    found = gs.check_lookahead(data, [LeakyAnalog], samples=8)
    assert [f.agent for f in found] == ["LeakyAnalog"]


@pytest.fixture(scope="module")
def sp500_runs() -> dict[str, gs.BacktestReport]:
    runs = {"base": gs.backtest("sp500", None, horizon=5, costs_bps=2, progress=False)}
    for label, kw in (("analog", {}), ("shuffled", {"shuffle_outcomes": True}),
                      ("leaky", {"as_of": False})):
        runs[label] = gs.backtest("sp500", ["builtin", Analog(**kw)], horizon=5, costs_bps=2,
                                  progress=False)
    return runs


def test_analog_votes_in_a_backtest_and_is_scored(sp500_runs: dict[str, gs.BacktestReport]) -> None:
    r = sp500_runs["analog"]
    row = r.metrics.loc["Analog"]
    assert row["forecasts"] > 500
    assert set(r.signals["vote_Analog"].unique()) >= {"BUY", "SELL", "HOLD", "ABSTAIN"}
    assert 0.4 < row["hit_rate"] < 0.6  # as measured: no edge on the index (docs say so)


def test_the_controls_behave(sp500_runs: dict[str, gs.BacktestReport]) -> None:
    honest = sp500_runs["analog"].metrics.loc["Analog"]
    leaky = sp500_runs["leaky"].metrics.loc["Analog"]
    shuffled = sp500_runs["shuffled"].metrics.loc["Analog"]
    # Without the as-of filter the analogs include the bar itself and its outcome.
    assert leaky["hit_rate"] > 0.9 and leaky["ic"] > 0.5
    assert leaky["ic"] > honest["ic"] + 0.4
    # Outcomes drawn at random from those known: nothing left to find.
    assert abs(shuffled["ic"]) < 0.1


def test_compare_pairs_the_forecasts_and_tests_the_difference(
        sp500_runs: dict[str, gs.BacktestReport]) -> None:
    c = compare(sp500_runs["base"], sp500_runs["leaky"])
    assert c["paired_forecasts"] >= max(c["base"]["signals"], c["other"]["signals"])
    assert c["brier_other"] < c["brier_base"] and c["dm"] < -5 and c["dm_p"] < 1e-6
    lo, hi = c["sharpe_diff_interval"]
    assert 0 < lo < c["sharpe_diff"] < hi
    honest = compare(sp500_runs["base"], sp500_runs["analog"])
    assert honest["dm_p"] > 0.01  # as measured: no difference the test can tell
    lo, hi = honest["sharpe_diff_interval"]
    assert lo < 0 < hi
    same = compare(sp500_runs["base"], sp500_runs["base"])
    assert same["sharpe_diff"] == 0 and same["sharpe_diff_interval"] == (0.0, 0.0)
    other_data = gs.backtest("nasdaq", None, horizon=5, costs_bps=2, progress=False)
    with pytest.raises(gs.InvalidArgumentError, match="differ in data"):
        compare(sp500_runs["base"], other_data)


def test_bootstrap_sharpe_diff_interval() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(0.001, 0.01, 2000)
    assert bootstrap_sharpe_diff_interval(a, a, 20, 252) == (0.0, 0.0)
    lo, hi = bootstrap_sharpe_diff_interval(a + 0.002, a, 20, 252)
    assert 2.0 < lo < hi  # a clear edge: the interval excludes 0
    with pytest.raises(ValueError, match="block = 0 is not accepted"):
        bootstrap_sharpe_diff_interval(a, a, 0, 252)


def test_features_learn_and_nearest_from_python() -> None:
    data = gs.datasets.sp500()
    a = Analog(k=5)
    a.learn(data)
    assert len(a) == len(data) - 60 - 5
    close, volume = data["close"].to_numpy(), data["volume"].to_numpy()
    f = analog_features(close[:3000], volume[:3000])
    assert f is not None and len(f) == 9
    assert analog_features(close[:50], volume[:50]) is None
    as_of = data.index[2999]
    found = a.nearest(f, "SPX", as_of)
    assert len(found) == 5 and found[0]["distance"] <= found[-1]["distance"]
    limit = data.index[2999 - 5].value // 1_000_000  # outcome known by then
    assert all(m["time_ms"] <= limit for m in found)


def test_bad_options_are_named() -> None:
    with pytest.raises(gs.InvalidArgumentError, match=r"Analog k = 0 is not accepted; expected 1 to 1000"):
        Analog(k=0)
    with pytest.raises(gs.InvalidArgumentError, match="Analog timeout"):
        Analog(timeout=0)


def test_load_agents_takes_analog_by_name_and_as_a_spec() -> None:
    rt = gs.Runtime(symbols=["AAPL"])
    load_agents(rt, ["Analog"])
    assert rt.agents == ["Analog"]
    rt2 = gs.Runtime(symbols=["AAPL"])
    load_agents(rt2, ["goldensignals.agents:Analog"])
    assert rt2.agents == ["Analog"]


def test_the_native_server_makes_analog_natively() -> None:
    from test_native_server import start

    proc, port = start("--agents", "Analog", "--no-builtin-agents", "--db", "off")
    try:
        status = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/ws/status"))
        assert [a["name"] for a in status["agents"]] == ["Analog"]

        async def analog_reasoning() -> list[str]:
            async with websockets.connect(f"ws://127.0.0.1:{port}/ws/signals") as ws:
                await ws.send(json.dumps({"type": "subscribe", "symbol": "AAPL"}))
                for _ in range(200):
                    await ws.send(json.dumps({"type": "analyze", "symbol": "AAPL"}))
                    for _ in range(20):
                        m = json.loads(await asyncio.wait_for(ws.recv(), 20))
                        if m["type"] == "agent_update" and m["data"]["agent"] == "Analog" \
                                and m["data"].get("reasoning"):
                            return list(m["data"]["reasoning"])
                        if m["type"] == "decision_update":
                            break
                    await asyncio.sleep(0.1)
            return []

        why = asyncio.run(analog_reasoning())
        assert why and "past setups rose over the next 5 bars" in why[0], why
        assert any(w.startswith("analog ") for w in why[1:]), why
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "Python" not in out  # no interpreter was loaded for it
