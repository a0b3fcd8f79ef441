"""Does an agent help? Two backtests of the same data, with and without it, compared pair by
pair: the consensus's forecasts on the same analyses and its returns on the same bars."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .. import _core
from . import metrics as m

__all__ = ["compare"]


def _p_up(signals: pd.DataFrame) -> pd.Series:
    """Each signal as a probability that the price rises over the horizon."""
    side = signals["action"].map({"BUY": 1.0, "SELL": -1.0}).fillna(0.0)
    return 0.5 + 0.5 * side * signals["confidence"].astype(float)


def _returns(report: Any) -> np.ndarray:
    """Per-bar returns of following the consensus (the report's equity curve undone)."""
    eq = report.equity["consensus"].to_numpy(float)
    return np.diff(np.concatenate(([1.0], eq))) / np.concatenate(([1.0], eq[:-1]))


def compare(base: Any, other: Any, *, block: int | None = None, n_boot: int = 2000,
            seed: int = 0, confidence: float = 0.95) -> dict[str, Any]:
    """Compares the consensus of ``other`` (say, the panel with a new agent) with ``base``
    (the panel without it): two :class:`BacktestReport` of the same data, horizon, costs and
    ``score_from``.

    - Forecasts are paired by (symbol, analysis time) over every analysis where either run
      made a signal; a run without a signal there forecasts 0.5. Each forecast is the
      probability that the price rises over the horizon (0.5 +- confidence / 2), scored by
      Brier against the forward return. ``dm``, ``dm_p``: the Diebold-Mariano test on the
      Brier differences (``other - base``; negative: ``other`` is better), averaged over the
      symbols at each analysis time, with Newey-West errors over ``horizon - 1`` lags (the
      horizons overlap).
    - ``sharpe_diff``: Sharpe after costs of ``other`` minus ``base``, on the same bars, with
      a moving-block bootstrap interval (blocks of ``block`` bars, default 4 x horizon).
    - Each run's own figures (signals, hit rate, IC, Sharpe) from its metrics.
    """
    keys = ("data", "horizon", "costs_bps", "scored_from", "first_bar", "last_bar")
    for k in keys:
        if base.meta.get(k) != other.meta.get(k):
            raise _core.InvalidArgumentError(
                f"compare: the two backtests differ in {k} ({base.meta.get(k)!r} and "
                f"{other.meta.get(k)!r}); expected the same data and settings")
    horizon = int(base.meta["horizon"])
    a = base.signals.set_index(["symbol", "time"])
    b = other.signals.set_index(["symbol", "time"])
    index = a.index.union(b.index)
    fwd = a["forward_return"].reindex(index).fillna(b["forward_return"].reindex(index))
    y = (fwd.to_numpy(float) > 0).astype(float)
    pa = _p_up(a).reindex(index).fillna(0.5).to_numpy(float)
    pb = _p_up(b).reindex(index).fillna(0.5).to_numpy(float)
    brier_a, brier_b = (pa - y) ** 2, (pb - y) ** 2
    # Forecasts of several symbols at one time are not independent (the market moves them
    # together): the test runs on the mean Brier per analysis time, a series in time.
    per_time = pd.DataFrame({"t": index.get_level_values("time"), "a": brier_a, "b": brier_b}
                            ).groupby("t", sort=True).mean()
    dm, dm_p = m.diebold_mariano(per_time["b"].to_numpy(), per_time["a"].to_numpy(),
                                 lags=max(0, horizon - 1))
    ra, rb = _returns(base), _returns(other)
    ppy = float(base.meta["periods_per_year"])
    lo, hi = m.bootstrap_sharpe_diff_interval(rb, ra, block or 4 * horizon, ppy, n_boot=n_boot,
                                              seed=seed, confidence=confidence)

    def figures(report: Any) -> dict[str, float]:
        row = report.metrics.loc["consensus"]
        return {"signals": int(row["forecasts"]), "hit_rate": float(row["hit_rate"]),
                "ic": float(row["ic"]), "sharpe": float(row["sharpe"])}

    fa, fb = figures(base), figures(other)
    return {
        "base": fa, "other": fb, "paired_forecasts": len(index), "analysis_times": len(per_time),
        "brier_base": float(brier_a.mean()) if len(index) else math.nan,
        "brier_other": float(brier_b.mean()) if len(index) else math.nan,
        "dm": dm, "dm_p": dm_p,
        "sharpe_diff": m.sharpe(rb, ppy) - m.sharpe(ra, ppy),
        "sharpe_diff_interval": (lo, hi), "confidence": confidence,
    }
