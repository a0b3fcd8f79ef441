"""gs.backtest: the leak-free convention, the look-ahead checker with teeth, controls that
must fail to find skill, and figures that agree with a hand computation."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import goldensignals as gs
from eval_agents import NextBarPeeker, Oracle
from goldensignals.evaluation import metrics as m

pytest.importorskip("arch")
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def spx() -> pd.DataFrame:
    return gs.datasets.sp500()


@pytest.fixture(scope="module")
def spx_report(spx: pd.DataFrame) -> gs.BacktestReport:
    return gs.backtest(spx, horizon=5, costs_bps=2.0, progress=False)


def test_every_builtin_agent_votes_the_same_on_data_cut_at_t(spx: pd.DataFrame) -> None:
    # Correctness 1: truncation invariance, at 25 analysis times spread over 2000-2004.
    part = spx.loc[:"2004-12-31"]
    assert gs.check_lookahead(part, None, samples=25) == []


def test_a_leaky_agent_is_caught_and_its_backtest_shows_absurd_skill(spx: pd.DataFrame) -> None:
    # Correctness 2: the checker has teeth.
    part = spx.loc[:"2002-12-31"]
    found = gs.check_lookahead(part, [NextBarPeeker()], samples=10, horizon=1)
    assert [f.agent for f in found] == ["NextBarPeeker"]
    assert found[0].symbol == "SPX" and found[0].time >= part.index[0]
    assert "NextBarPeeker: look-ahead at SPX" in str(found[0])
    r = gs.backtest(part, [NextBarPeeker()], horizon=1, progress=False, random_draws=0)
    peek = r.metrics.loc["NextBarPeeker"]
    assert peek["forecasts"] > 300
    assert peek["hit_rate"] == 1.0  # it knows the very bar it is scored on
    assert peek["ic"] > 0.5


def test_on_a_random_walk_nothing_looks_skilful() -> None:
    # Correctness 3.
    walk = gs.datasets.random_walk(n=4000, seed=3, volatility=0.01)
    r = gs.backtest(walk, horizon=5, costs_bps=5.0, progress=False, random_draws=50)
    c = r.metrics.loc["consensus"]
    assert c["forecasts"] > 200
    assert c["hit_rate_lo"] <= 0.5 <= c["hit_rate_hi"], c[["hit_rate_lo", "hit_rate_hi"]]
    assert abs(c["ic"]) < 0.1
    assert c["sharpe_p"] > 0.05  # not significantly positive after costs
    for agent in r.meta["agents"]:
        a = r.metrics.loc[agent]
        if a["forecasts"] >= 30:
            assert abs(a["ic_t"]) < 3.5, (agent, a["ic_t"])


def test_an_oracle_scores_hit_rate_one_and_ic_one(spx: pd.DataFrame) -> None:
    # Correctness 4: pins the sign conventions (side x confidence against the forward return).
    part = spx.loc[:"2003-12-31"]
    r = gs.backtest(part, [Oracle(horizon=5, scale=5.0)], horizon=5, progress=False,
                    random_draws=0, exits="horizon")
    o = r.metrics.loc["Oracle"]
    assert o["forecasts"] > 200
    assert o["hit_rate"] == 1.0
    assert o["ic"] > 0.999 and o["rank_ic"] == pytest.approx(1.0)
    assert o["brier"] < 0.9  # confident only when the move is large
    assert o["direction_score"] == 1.0
    assert math.isnan(o["magnitude_score"])  # the oracle names no target
    # With exits at the horizon only, every trade return is the forward return in its favour.
    f = r.forecasts[r.forecasts["source"] == "Oracle"]
    np.testing.assert_allclose(f["trade_return"], f["side"] * f["forward_return"], atol=1e-12)


def test_costs_lower_sharpe_and_a_late_entry_does_not_help(spx: pd.DataFrame) -> None:
    # Correctness 5.
    part = spx.loc[:"2006-12-31"]
    sharpes = [gs.backtest(part, horizon=5, costs_bps=c, progress=False, random_draws=0)
               .metrics.loc["consensus", "sharpe"] for c in (0.0, 10.0, 40.0)]
    assert sharpes[0] > sharpes[1] > sharpes[2], sharpes
    on_time = gs.backtest(part, [Oracle(5, 5.0)], horizon=5, progress=False, random_draws=0)
    late = gs.backtest(part, [Oracle(5, 5.0)], horizon=5, entry_delay=1, progress=False,
                       random_draws=0)
    assert late.metrics.loc["Oracle", "hit_rate"] < on_time.metrics.loc["Oracle", "hit_rate"]
    assert late.metrics.loc["Oracle", "sharpe"] < on_time.metrics.loc["Oracle", "sharpe"]
    assert (late.forecasts["entry_time"] > late.forecasts["decided_time"]
            + pd.Timedelta(days=1)).all()


def test_the_reported_hit_rate_equals_a_hand_computation(spx_report: gs.BacktestReport) -> None:
    # Correctness 6.
    s = spx_report.signals
    side = np.where(s["action"] == "BUY", 1.0, -1.0)
    hits = int((side * s["forward_return"] > 0).sum())
    c = spx_report.metrics.loc["consensus"]
    assert c["forecasts"] == len(s) > 500
    assert c["hit_rate"] == hits / len(s)
    lo, hi = m.wilson_interval(hits, len(s))
    assert (c["hit_rate_lo"], c["hit_rate_hi"]) == (lo, hi)
    # Entry is always the next bar's open, never the decision bar's.
    spx_open = gs.datasets.sp500()["open"]
    assert (s["entry_time"] > s["time"]).all()
    for _, row in s.head(50).iterrows():
        nxt = spx_open.index[spx_open.index.get_loc(row["time"]) + 1]
        assert row["entry_time"] == nxt and row["entry_price"] == spx_open[nxt]
    # The target/stop rule: a stop exit is at the stop or worse (a gap).
    stops = s[s["exit_reason"] == "stop"]
    buys = stops[stops["action"] == "BUY"]
    assert (buys["exit_price"] <= buys["stop_loss"] + 1e-9).all()
    # Every agent's vote is on the signal's row.
    for agent in spx_report.meta["agents"]:
        assert s[f"vote_{agent}"].notna().all()


def test_the_report_as_json_and_html(spx_report: gs.BacktestReport, tmp_path: Path) -> None:
    data = json.loads(spx_report.to_json(str(tmp_path / "r.json")))
    assert json.loads((tmp_path / "r.json").read_text()) == data
    rows = {r["source"]: r for r in data["metrics"]}
    assert set(rows) >= {"consensus", "buy_and_hold", *spx_report.meta["agents"]}
    assert rows["consensus"]["forecasts"] == len(spx_report.signals)
    assert len(data["signals"]) == len(spx_report.signals)
    assert data["meta"]["horizon"] == 5 and data["meta"]["costs_bps"] == 2.0
    text = spx_report.to_html(str(tmp_path / "r.html"))
    assert text.startswith("<!doctype html>") and 'id="report-data"' in text
    assert "<script src" not in text and "http" not in text.split("<body>")[1].split("report-data")[0]


def test_bad_arguments_are_named(spx: pd.DataFrame) -> None:
    with pytest.raises(gs.InvalidArgumentError, match="horizon 0 is not accepted"):
        gs.backtest(spx, horizon=0)
    with pytest.raises(gs.InvalidArgumentError, match="costs_bps -1 is not accepted"):
        gs.backtest(spx, costs_bps=-1)
    with pytest.raises(gs.InvalidArgumentError, match="exits 'close' is not accepted"):
        gs.backtest(spx.iloc[:50], exits="close")
    with pytest.raises(gs.InvalidArgumentError, match="agent 'Nope' is not accepted"):
        gs.backtest(spx.iloc[:50], ["Nope"])


def test_live_scoring_reaches_status() -> None:
    walk = gs.datasets.random_walk(n=300, seed=5)
    rt = gs.Runtime(feed=gs.feeds.Replay(walk.reset_index(), speed=0), analyze_on_start=False,
                    signal_generation_interval=3 * 86_400, score_horizon=3, bar_seconds=0)
    rt.add_builtin_agents()
    with rt:
        while not rt._core.wait_feed(0.1):
            pass
        rt.wait_idle("RW")
        st = rt.status()["scores"]
    assert st["horizon_bars"] == 3
    c = st["consensus"]
    assert c["analyses"] > 50 and c["scored"] > 0 and 0.0 <= c["hit_rate"] <= 1.0
    names = {a["name"] for a in st["agents"]}
    assert names == set(gs.builtin_agent_names())
    # Nothing was dropped: every forecast is either scored or still open at the end.
    for a in [c, *st["agents"]]:
        assert a["forecasts"] == a["scored"] + a["open"], a
    assert st["dropped"] == 0


def test_the_command_line_backtest(tmp_path: Path) -> None:
    walk = gs.datasets.random_walk(n=600, seed=9)
    csv = tmp_path / "walk.csv"
    walk.reset_index().to_csv(csv, index=False)
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    exe = Path(sys.executable).with_name("goldensignals")
    out = subprocess.run([str(exe), "backtest", "--data", str(csv), "--horizon", "3", "--quiet",
                          "--calibrate", "--adaptive-weights",
                          "--json", str(tmp_path / "r.json"), "--report", str(tmp_path / "r.html")],
                         check=False, capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert "bars per CPU-second" in out.stdout and "consensus" in out.stdout
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["meta"]["bars"] == 600 and data["meta"]["horizon"] == 3
    sources = [row["source"] for row in data["metrics"]]
    assert "consensus_calibrated" in sources and "consensus_static" in sources
    assert (tmp_path / "r.html").stat().st_size > 2000
    leak = subprocess.run([str(exe), "backtest", "--data", str(csv), "--horizon", "1", "--quiet",
                           "--agents", "eval_agents:peeker", "--check-lookahead",
                           "--lookahead-samples", "5"],
                          check=False, capture_output=True, text=True, timeout=120, env=env)
    assert leak.returncode == 1, leak.stdout + leak.stderr
    assert "LOOK-AHEAD NextBarPeeker: look-ahead at RW " in leak.stdout
    bad = subprocess.run([str(exe), "backtest", "--data", "nowhere.csv", "--quiet"],
                         check=False, capture_output=True, text=True, timeout=60, env=env)
    assert bad.returncode == 2 and "nowhere.csv" in bad.stderr
    assert math.isfinite(data["metrics"][0]["hit_rate"] or 0.0)


def test_calibration_is_walk_forward() -> None:
    from goldensignals.evaluation.calibration import walk_forward_calibrate

    rng = np.random.default_rng(4)
    n = 400
    decided = np.arange(n, dtype=np.int64) * 10
    closed = decided + 35  # each outcome is known 3.5 forecasts later
    conf = rng.uniform(0.5, 0.95, n)
    hit = (rng.random(n) < conf - 0.2).astype(float)  # overconfident by 0.2
    cal = walk_forward_calibrate(conf, hit, decided, closed, min_fit=50)
    # Changing an outcome changes no calibrated confidence made before it was known.
    flipped = hit.copy()
    flipped[300:] = 1 - flipped[300:]
    cal2 = walk_forward_calibrate(conf, flipped, decided, closed, min_fit=50)
    first_known = int(np.searchsorted(decided, closed[300], side="left"))
    np.testing.assert_array_equal(cal[:first_known], cal2[:first_known])
    assert not np.array_equal(cal[first_known:], cal2[first_known:])
    # Before 50 outcomes are known: the hit rate so far (0.5 with none).
    assert cal[0] == 0.5
    # And it removes the overconfidence it was shown.
    late = slice(200, None)
    assert abs(m.expected_calibration_error(cal[late], hit[late])) < \
        abs(m.expected_calibration_error(conf[late], hit[late])) / 2
    with pytest.raises(ValueError, match="method 'magic' is not accepted"):
        walk_forward_calibrate(conf, hit, decided, closed, method="magic")


def test_calibration_and_adaptive_weights_report_before_and_after(spx: pd.DataFrame) -> None:
    part = spx.loc[:"2008-12-31"]
    panel = ["builtin", Oracle(5, 100.0), "eval_agents:contrarian"]
    r = gs.backtest(part, panel, horizon=5, progress=False, random_draws=0, calibrate=True,
                    adaptive_weights=True, exits="horizon")
    rows = r.metrics.index
    assert {"consensus", "consensus_static", "consensus_calibrated"} <= set(rows)
    c, static, cal = (r.metrics.loc[k] for k in ("consensus", "consensus_static",
                                                 "consensus_calibrated"))
    # The oracle's weight rises to the cap and its contrarian's falls to the floor: the
    # consensus follows the one that is right, far more than with fixed weights.
    assert c["ic"] > static["ic"] + 0.2 and c["hit_rate"] > static["hit_rate"] + 0.1
    # Calibration changes the confidence only: the same signals, the same direction figures.
    assert cal["forecasts"] == c["forecasts"] and cal["hit_rate"] == c["hit_rate"]
    assert cal["ece"] < c["ece"]
    assert r.meta["adaptive_weights"] == {"floor": 0.25, "cap": 2.0}
    assert r.meta["calibrate"] == "isotonic"
    assert "consensus_static" in r.equity.columns
    with pytest.raises(gs.InvalidArgumentError, match="calibrate 'magic' is not accepted"):
        gs.backtest(part.iloc[:60], calibrate="magic")


def test_magnitude_score_by_hand() -> None:
    from goldensignals.evaluation.backtest import magnitude_score

    rows = pd.DataFrame({
        "target_price": [110.0, 110.0, 90.0, None, 110.0],
        "entry_price": [100.0, 100.0, 100.0, 100.0, 100.0],
        "side": [1.0, 1.0, -1.0, 1.0, 1.0],
        "forward_return": [0.10, 0.05, -0.15, 0.2, -0.01],
    })
    # exact 1; half-way 0.5; overshoot by half 0.5; no target: left out; wrong direction 0
    assert magnitude_score(rows) == pytest.approx((1.0 + 0.5 + 0.5 + 0.0) / 4)


def test_the_horizon_closes_on_the_right_bar() -> None:
    # Calibration may only use outcomes known at a signal's bar: the close of its horizon.
    from goldensignals.evaluation.backtest import _Bars, _closed_ms

    frame = gs.datasets.random_walk(n=30, seed=1)
    ts = frame.index.as_unit("ms").asi8
    rows = pd.DataFrame({"symbol": ["RW", "RW"], "entry_ts_ms": [ts[3], ts[27]]})
    closed = _closed_ms(rows, 5, _Bars(frame))
    assert closed.tolist() == [ts[7], ts[29]]  # entry bar + 4; clipped at the data's end


def test_the_random_baseline_matches_the_trades_taken(spx: pd.DataFrame) -> None:
    from goldensignals.evaluation.backtest import _Bars, forecasts_frame, run_replay, trade_returns

    part = spx.loc[:"2004-12-31"]
    fc = forecasts_frame(run_replay(part, None, horizon=5)["scored"])
    cons = fc[fc["consensus"]]
    _, info = trade_returns(cons, _Bars(part), 0.001)
    assert info["trades"] < len(cons)  # overlapping signals are not traded
    assert sum(info["per_symbol"].values()) == len(info["lengths"]) == info["trades"]
    assert 0 < info["buy_share"] < 1 and (info["lengths"] >= 1).all()


def test_settings_that_a_backtest_owns_are_refused(spx: pd.DataFrame) -> None:
    with pytest.raises(gs.InvalidArgumentError, match="score_horizon is not accepted here; "
                                                      "give horizon= instead"):
        gs.backtest(spx.iloc[:100], score_horizon=10)
    with pytest.raises(gs.InvalidArgumentError, match="score_from 'not a date' is not accepted"):
        gs.backtest(spx.iloc[:100], score_from="not a date")
    with pytest.raises(gs.InvalidArgumentError, match="horizon 20000 is not accepted"):
        gs.backtest(spx.iloc[:100], horizon=20_000)
    with pytest.raises(gs.InvalidArgumentError, match="samples 0 is not accepted"):
        gs.check_lookahead(spx.iloc[:100], samples=0)


def test_a_leak_through_the_levels_alone_is_caught(spx: pd.DataFrame) -> None:
    class LevelPeeker(gs.Agent):
        """Always BUY 0.8; only its target peeks at the next bar's high."""

        def prepare(self, data: Any) -> None:
            self.ts = data.index.as_unit("ms").asi8
            self.high = data["high"].to_numpy(float)

        def analyze(self, ctx: gs.AgentContext) -> gs.Vote:
            i = int(np.searchsorted(self.ts, ctx.time[-1])) + 1
            target = float(self.high[i]) if i < len(self.high) else ctx.price * 1.05
            return gs.Vote("BUY", 0.8, target_price=target)

    found = gs.check_lookahead(spx.loc[:"2000-12-31"], [LevelPeeker()], samples=6)
    assert [f.agent for f in found] == ["LevelPeeker"]
    assert "target" in found[0].full


def test_the_random_baseline_binding_refuses_bad_input_by_name() -> None:
    from goldensignals import _core

    flat = np.zeros(10)
    none = np.empty(0, np.int64)
    lengths = np.array([1, 2], np.int64)
    out = _core.random_trade_sharpes([(flat, flat, none, 2)], lengths, 0.5, 0.0, 252.0, 3, 0, 10)
    assert out.shape == (3,) and np.isnan(out).all()  # every bar returns 0: no Sharpe ratio
    bad = [
        ([(flat, flat, 2)], {}, "symbol 0 must be \\(close_to_close, open_to_close, slot, trades\\)"),
        ([(np.zeros((2, 5)), flat, none, 1)], {}, "close_to_close of symbol 0 must be a 1-D array"),
        ([(flat, flat, none, -2)], {}, "trades -2 of symbol 0 is not accepted"),
        ([(flat, flat, none, 11)], {}, "11 trades are not accepted; expected at most its 10 bars"),
        ([(flat, flat, none, 1)], {"draws": -1}, "draws -1 is not accepted; expected >= 0"),
        ([(flat, flat, none, 1)], {"seed": -5}, "seed -5 is not accepted"),
    ]
    for symbols, over, message in bad:
        args = {"draws": 3, "seed": 0, **over}
        with pytest.raises(gs.InvalidArgumentError, match=message):
            _core.random_trade_sharpes(symbols, lengths, 0.5, 0.0, 252.0, args["draws"],
                                       args["seed"], 10)


def test_a_signals_ballots_are_columns_of_the_forecasts(spx: pd.DataFrame) -> None:
    r = gs.backtest(spx.loc[:"2003-12-31"], horizon=5, progress=False, random_draws=0)
    fc, sig = r.forecasts, r.signals
    agents = r.meta["agents"]
    assert len(agents) == 5 and len(sig) > 50
    for a in agents:
        votes = fc[f"vote_{a}"]
        # The consensus's rows carry every agent's vote or status; the agents' own rows none.
        assert votes[fc["consensus"]].notna().all()
        assert votes[~fc["consensus"]].isna().all()
        assert set(votes.dropna()) <= {"BUY", "SELL", "HOLD", "ABSTAIN", "TIMEOUT", "FAILED"}
        voted = fc["consensus"] & votes.isin(["BUY", "SELL", "HOLD"])
        assert fc.loc[voted, f"conf_{a}"].between(0, 1).all()
        assert fc.loc[fc["consensus"] & ~voted, f"conf_{a}"].isna().all()
        # The signals show the same ballots, row by row.
        cons = fc[fc["consensus"]].sort_values(["decided_time", "symbol"], kind="stable")
        assert sig[f"vote_{a}"].tolist() == cons[f"vote_{a}"].tolist()
