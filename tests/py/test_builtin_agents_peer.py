"""The pure-Python peer of the built-in agents (bench/peers) must vote as the native agents do,
or the agent benchmark compares different work."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH / "peers"))
sys.path.append(str(BENCH))  # bench/native.py; the peers' python_agents comes first
import python_agents as peer
from native import load

gs_bench = load()  # _gs_bench, built by make test in build/cpp

sp500 = pytest.importorskip("arch.data.sp500")

NAMES = ["TechnicalAnalyst", "Momentum", "MeanReversion", "VolumeAnalyst", "VolatilityRegime"]


@pytest.fixture(scope="module")
def cols() -> list[np.ndarray]:
    df = sp500.load()
    return [df[k].to_numpy(dtype=np.float64) for k in ("Open", "High", "Low", "Close", "Volume")]


def test_peer_votes_as_the_native_agents_on_sp500(cols):
    actions, conf, names, reasons = gs_bench.builtin_agent_votes(*cols, with_reasoning=True)
    assert names == NAMES == [n for n, _ in peer.AGENTS]
    assert actions.shape == (len(cols[0]), 5)
    py_votes = peer.agent_votes(*(c.tolist() for c in cols))
    mismatches = []
    for i in range(peer.WARMUP, len(py_votes)):
        for j, vote in enumerate(py_votes[i]):
            native = None if actions[i, j] == -1 else (int(actions[i, j]), conf[i, j], reasons[i][j])
            mine = None if vote is None else (vote[0], vote[1], tuple(vote[2]))
            same = (native is None and mine is None) or (
                native is not None and mine is not None and native[0] == mine[0]
                and math.isclose(native[1], mine[1], rel_tol=0, abs_tol=1e-12)
                and native[2] == mine[2])
            if not same:
                mismatches.append((i, names[j], native, mine))
    assert not mismatches, f"{len(mismatches)} differences, first: {mismatches[:3]}"
    # Every agent votes on every warm bar of real data, and not always the same way.
    warm = actions[peer.WARMUP:]
    assert (warm >= 0).all()
    for j in range(5):
        assert len(set(warm[:, j].tolist())) >= 2, names[j]


def test_native_bench_reports_counts_and_rates(cols):
    r = gs_bench.native_agents(*cols, repeats=2)
    warm_bars = len(cols[0]) - 50
    assert r["bars"] == 2 * len(cols[0])
    assert r["evaluations"] == 2 * 5 * warm_bars
    assert sum(r["votes"].values()) == r["evaluations"]
    assert set(r["votes"]) == {"BUY", "SELL", "HOLD", "ABSTAIN"}
    assert r["agents_cpu_seconds"] > 0 and r["market_cpu_seconds"] > 0
    assert r["cpu_seconds"] >= r["agents_cpu_seconds"]
    assert r["evaluations_per_cpu_second"] > 0 and r["bars_per_cpu_second"] > 0
    py = peer.bench(*(c[:600].tolist() for c in cols))
    assert py["evaluations"] == 5 * (600 - 50)
    assert set(py) >= {"evaluations", "cpu_seconds", "evaluations_per_cpu_second", "votes"}


def test_bench_rejects_bad_input(cols):
    with pytest.raises(ValueError, match="repeats"):
        gs_bench.native_agents(*cols, repeats=0)
    with pytest.raises(ValueError, match="one length"):
        gs_bench.native_agents(cols[0][:10], *cols[1:])
    with pytest.raises(ValueError, match="Astrologer"):
        gs_bench.builtin_agent_votes(*cols, names=["Astrologer"])
