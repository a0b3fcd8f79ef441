"""Analog agent retrieval: latency per analysis and what the index costs to build.

1. Ten symbols of 20 years of daily bars (seeded random walks, 5,040 bars each; 50,090
   stored setups): the k=20 nearest as of a random date, for one symbol and across all ten
   (cross_symbol), exact below exact_limit as the agent does.
2. One million stored setups of one symbol: exact search, and the HNSW index the agent
   switches to past exact_limit (50,000), as of the last bar (everything eligible) and as of
   the middle (the as-of filter keeps half: the index over-fetches and filters).
The peer in the same run: NumPy's vectorized brute force over the same vectors (the exact
answer, which also gives the index's recall@20).

Run: .venv/bin/python bench/analog.py [--queries Q] [--million N]
Writes bench/results/analog-<UTC date>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
from goldensignals import _core
from goldensignals.agents import Analog

HERE = Path(__file__).resolve().parent
DAY = 86_400_000
START = 946_684_800_000


def walk(n: int, seed: int) -> tuple[list[int], list[float], list[float]]:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.012, n)))
    volume = 1e6 * rng.uniform(0.5, 1.5, n)
    return [START + i * DAY for i in range(n)], close.tolist(), volume.tolist()


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs), q))


def timed(fn: Any, queries: list[tuple[list[float], str, int]]) -> tuple[list[float], list[Any]]:
    lat, out = [], []
    for q in queries:
        t = time.perf_counter_ns()
        out.append(fn(*q))
        lat.append((time.perf_counter_ns() - t) / 1e3)
    return lat, out


def row(name: str, lat: list[float], peer: list[float] | None = None) -> dict[str, Any]:
    r = {"case": name, "p50_us": round(pct(lat, 50), 1), "p99_us": round(pct(lat, 99), 1)}
    if peer is not None:
        r["numpy_p99_us"] = round(pct(peer, 99), 1)
        r["ratio_p99_numpy_over_ours"] = round(pct(peer, 99) / pct(lat, 99), 2)
    return r


def numpy_peer(vectors: np.ndarray, times: np.ndarray, known: np.ndarray, k: int):
    def search(features: list[float], _symbol: str, as_of: int) -> np.ndarray:
        n = int(np.searchsorted(known, as_of, side="right"))
        d = ((vectors[:n] - np.asarray(features, np.float32)) ** 2).sum(axis=1)
        idx = np.argpartition(d, k)[:k] if n > k else np.arange(n)
        return times[idx[np.argsort(d[idx])]]
    return search


def memory_of(time_ms: list[int], close: list[float], volume: list[float],
              horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The vectors, bar times and outcome times the agent stores, rebuilt for the peer."""
    c, v = np.asarray(close), np.asarray(volume)
    vec, bar, known = [], [], []
    for j in range(60, len(close) - horizon):
        f = _core.analog_features(c[j - 60: j + 1].tolist(), v[j - 60: j + 1].tolist(), 60)
        if f is not None:
            vec.append(f)
            bar.append(time_ms[j])
            known.append(time_ms[j + horizon])
    return np.asarray(vec, np.float32), np.asarray(bar), np.asarray(known)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--million", type=int, default=1_000_000, help="setups in the large case")
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    results: list[dict[str, Any]] = []

    # 1. Ten symbols x 20 years.
    symbols = [f"S{i}" for i in range(10)]
    data = {s: walk(5040, i) for i, s in enumerate(symbols)}
    one, cross = Analog(), Analog(cross_symbol=True)
    t = time.process_time()
    for s, (tm, c, v) in data.items():
        one._native.learn(s, tm, c, v)
        cross._native.learn(s, tm, c, v)
    build_s = (time.process_time() - t) / 2
    queries = []
    for _ in range(args.queries):
        s = symbols[int(rng.integers(10))]
        tm, c, v = data[s]
        j = int(rng.integers(300, 5040))
        queries.append((_core.analog_features(c[j - 60: j + 1], v[j - 60: j + 1], 60), s, tm[j]))
    vec, bar, known = memory_of(*data["S0"], horizon=5)
    peer = numpy_peer(vec, bar, known, 20)
    q0 = [(f, "S0", as_of) for f, _s, as_of in queries]
    lat_one, _ = timed(one._native.nearest, q0)
    lat_peer, _ = timed(peer, q0)
    lat_cross, _ = timed(cross._native.nearest, queries)
    results.append(row("1 symbol, 20 years (5,000 setups), exact", lat_one, lat_peer))
    results.append(row("10 symbols across, 20 years each (50,000 setups), exact", lat_cross))
    results[-2]["learn_cpu_s_per_symbol"] = round(build_s / 10, 3)

    # 2. One million setups of one symbol.
    n = args.million + 65
    tm, c, v = walk(n, 99)
    exact, approx = Analog(exact_limit=10**9), Analog()
    t = time.process_time()
    approx._native.learn("M", tm, c, v)
    learn_s = time.process_time() - t
    exact._native.learn("M", tm, c, v)
    vec, bar, known = memory_of(tm, c, v, horizon=5)
    peer = numpy_peer(vec, bar, known, 20)
    for label, lo in (("as of the last bar", n - 10), ("as of the middle (half eligible)", n // 2)):
        qs = []
        for _ in range(min(args.queries, 300)):
            j = int(rng.integers(300, n - 10))
            qs.append((_core.analog_features(c[j - 60: j + 1], v[j - 60: j + 1], 60), "M", tm[lo]))
        lat_e, _ = timed(exact._native.nearest, qs)
        lat_h, got = timed(approx._native.nearest, qs)
        lat_p, truth = timed(peer, qs)
        recall = np.mean([len({int(m["time_ms"]) for m in g} & set(t_.tolist())) / 20
                          for g, t_ in zip(got, truth)])
        results.append(row(f"{len(vec):,} setups, exact, {label}", lat_e, lat_p))
        r = row(f"{len(vec):,} setups, HNSW, {label}", lat_h, lat_p)
        r["recall_at_20"] = round(float(recall), 3)
        results.append(r)
    results[-1]["learn_cpu_s_with_hnsw"] = round(learn_s, 1)

    for r in results:
        print(json.dumps(r))
    out = HERE / "results" / f"analog-{dt.datetime.now(dt.timezone.utc):%Y-%m-%d}.json"
    out.write_text(json.dumps({"machine": platform.platform(), "cpus": 2, "results": results},
                              indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
