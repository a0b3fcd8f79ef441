"""goldensignals.evaluation.metrics against statsmodels, scikit-learn and scipy, on real data
(S&P 500 daily returns shipped with the `arch` package) and random data, plus small cases
computed by hand."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn
import statsmodels.api as sm
from scipy import stats
from sklearn.calibration import calibration_curve
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss
from sklearn.metrics import log_loss as sk_log_loss
from statsmodels.stats.proportion import proportion_confint

from goldensignals.evaluation import metrics

NAN = float("nan")


# --- data and oracles -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def sp500() -> np.ndarray:
    """Daily simple returns of the S&P 500, 1999-2018 (5030 values)."""
    data = pytest.importorskip("arch.data.sp500")
    close = data.load()["Adj Close"].to_numpy(dtype=np.float64)
    return close[1:] / close[:-1] - 1.0


def ar1(rng: np.random.Generator, n: int, phi: float, scale: float = 1.0) -> np.ndarray:
    e = rng.standard_normal(n) * scale
    out = np.empty(n)
    out[0] = e[0] / math.sqrt(1.0 - phi * phi)
    for t in range(1, n):
        out[t] = phi * out[t - 1] + e[t]
    return out


def sm_hac(
    x: np.ndarray, y: np.ndarray, lags: int, correction: bool = False
) -> tuple[float, float]:
    """(slope, t) of y on [1, x] with statsmodels' Newey-West standard error."""
    res = sm.OLS(y, sm.add_constant(x)).fit(
        cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": correction}
    )
    return float(res.params[1]), float(res.tvalues[1])


def sk_logistic(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Unpenalized logistic regression with scikit-learn (spelled per version)."""
    major, minor = (int(v) for v in sklearn.__version__.split(".")[:2])
    kw: dict[str, Any] = {"C": np.inf} if (major, minor) >= (1, 8) else {"penalty": None}
    model = LogisticRegression(tol=1e-12, max_iter=100_000, **kw).fit(x[:, None], y)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def forecasts(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Overconfident probability forecasts and outcomes drawn from the true probabilities."""
    true_p = rng.beta(2.0, 2.0, n)
    y = (rng.uniform(size=n) < true_p).astype(float)
    logit = np.log(true_p / (1 - true_p))
    p = 1.0 / (1.0 + np.exp(-1.7 * logit))
    return p, y


# --- normal distribution --------------------------------------------------------------------
def test_normal_ppf_matches_scipy() -> None:
    ps = np.concatenate(
        [
            np.logspace(-300, -1, 400),
            [0.02425, np.nextafter(0.02425, 0), np.nextafter(0.02425, 1), 0.5, 0.975],
            np.linspace(0.001, 0.999, 997),
            1.0 - np.logspace(-15, -1, 200),
        ]
    )
    got = np.array([metrics.normal_ppf(float(p)) for p in ps])
    want = stats.norm.ppf(ps)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_normal_ppf_inverts_the_cdf() -> None:
    # Independent of scipy: Phi(ppf(p)) = p with Phi from math.erfc, to 1e-12 relative.
    for p in np.logspace(-300, math.log10(0.5), 300):
        x = metrics.normal_ppf(float(p))
        assert 0.5 * math.erfc(-x / math.sqrt(2)) == pytest.approx(p, rel=1e-12)


def test_normal_ppf_edges() -> None:
    assert metrics.normal_ppf(0.5) == 0.0
    assert metrics.normal_ppf(0.0) == -math.inf
    assert metrics.normal_ppf(1.0) == math.inf
    assert metrics.normal_ppf(0.975) == pytest.approx(1.959963984540054, abs=1e-14)
    assert metrics.normal_ppf(0.25) == pytest.approx(-metrics.normal_ppf(0.75), abs=1e-15)
    assert math.isfinite(metrics.normal_ppf(5e-324))
    for bad in (-0.1, 1.1, NAN, math.inf):
        with pytest.raises(ValueError, match=r"normal_ppf: p = .* expected a probability"):
            metrics.normal_ppf(bad)


def test_normal_sf_matches_scipy() -> None:
    xs = np.linspace(-37.5, 37.5, 1001)  # scipy flushes the subnormal tail beyond to 0
    got = np.array([metrics.normal_sf(float(x)) for x in xs])
    np.testing.assert_allclose(got, stats.norm.sf(xs), rtol=1e-12, atol=0)
    assert metrics.normal_sf(0.0) == 0.5
    assert metrics.normal_sf(math.inf) == 0.0
    assert math.isnan(metrics.normal_sf(NAN))


# --- Wilson interval ------------------------------------------------------------------------
@pytest.mark.parametrize("confidence", [0.5, 0.8, 0.9, 0.95, 0.99, 0.999999])
def test_wilson_matches_statsmodels(confidence: float) -> None:
    for n in (1, 2, 3, 5, 10, 37, 100, 1000, 123457):
        for hits in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            got = metrics.wilson_interval(hits, n, confidence)
            lo, hi = proportion_confint(hits, n, alpha=1 - confidence, method="wilson")
            want = (min(max(lo, 0.0), 1.0), min(max(hi, 0.0), 1.0))
            assert got == pytest.approx(want, abs=1e-12), (hits, n)
            assert isinstance(got[0], float) and isinstance(got[1], float)


def test_wilson_by_hand() -> None:
    z = 1.959963984540054
    # 5 of 10: centred on 1/2, half-width z sqrt(1/40 + z^2/400) / (1 + z^2/10).
    half = z * math.sqrt(0.25 / 10 + z * z / 400) / (1 + z * z / 10)
    assert metrics.wilson_interval(5, 10) == pytest.approx((0.5 - half, 0.5 + half), abs=1e-14)
    # 0 of 10: [0, (z^2/n) / (1 + z^2/n)].
    assert metrics.wilson_interval(0, 10) == pytest.approx(
        (0.0, 0.38414588206941 / 1.38414588206941)
    )
    assert metrics.wilson_interval(10, 10)[1] == 1.0
    assert metrics.wilson_interval(0, 10)[0] == 0.0
    lo, hi = metrics.wilson_interval(0, 0)
    assert math.isnan(lo) and math.isnan(hi)


# --- Brier, skill, log loss -----------------------------------------------------------------
def test_brier_matches_sklearn() -> None:
    rng = np.random.default_rng(1)
    for n in (1, 7, 1000):
        p, y = forecasts(rng, n)
        assert metrics.brier_score(p, y) == pytest.approx(brier_score_loss(y, p), rel=1e-12)
    assert metrics.brier_score([0.1, 0.9, 0.5], [0, 1, 1]) == pytest.approx(0.09, rel=1e-14)
    assert metrics.brier_score(pd.Series([1.0, 0.0]), [True, False]) == 0.0
    assert math.isnan(metrics.brier_score([], []))


def test_brier_skill_score() -> None:
    rng = np.random.default_rng(2)
    p, y = forecasts(rng, 2000)
    base = float(y.mean())
    want = 1 - brier_score_loss(y, p) / brier_score_loss(y, np.full_like(p, base))
    assert metrics.brier_skill_score(p, y, base) == pytest.approx(want, rel=1e-12)
    ref = np.clip(p + rng.normal(0, 0.1, p.size), 0, 1)
    want = 1 - brier_score_loss(y, p) / brier_score_loss(y, ref)
    assert metrics.brier_skill_score(p, y, ref) == pytest.approx(want, rel=1e-12)
    # By hand: BS(p) = 0.09, BS(0.5) = 0.25 -> 1 - 0.36 = 0.64.
    assert metrics.brier_skill_score([0.1, 0.9, 0.5], [0, 1, 1], 0.5) == pytest.approx(0.64)
    assert metrics.brier_skill_score([0.3, 0.7], [0, 1], [0.5, 0.5]) == pytest.approx(
        1 - 0.09 / 0.25
    )
    assert math.isnan(metrics.brier_skill_score([0.2, 0.8], [0, 1], [0.0, 1.0]))  # perfect ref
    assert math.isnan(metrics.brier_skill_score([], [], 0.5))
    with pytest.raises(ValueError, match=r"brier_skill_score: p_ref = 1\.5 .*\[0, 1\]"):
        metrics.brier_skill_score([0.2], [0], 1.5)
    with pytest.raises(ValueError, match=r"brier_skill_score: p_ref\[1\] = -0\.5 .*\[0, 1\]"):
        metrics.brier_skill_score([0.2, 0.3], [0, 1], [0.5, -0.5])
    with pytest.raises(ValueError, match="p_ref has length 3 but p has length 2"):
        metrics.brier_skill_score([0.2, 0.3], [0, 1], [0.5, 0.5, 0.5])


def test_log_loss_matches_sklearn() -> None:
    rng = np.random.default_rng(3)
    p, y = forecasts(rng, 1000)
    p[:5] = [0.0, 1.0, 1e-9, 1 - 1e-9, 0.5]  # some get clipped
    for eps in (1e-6, 1e-3, 1e-15):
        want = sk_log_loss(y, np.clip(p, eps, 1 - eps), labels=[0, 1])
        assert metrics.log_loss(p, y, eps=eps) == pytest.approx(want, rel=1e-12)
    assert metrics.log_loss([0.5] * 4, [0, 1, 1, 0]) == pytest.approx(math.log(2), rel=1e-15)
    # Certain and wrong: -log(eps) each.
    assert metrics.log_loss([0.0, 1.0], [1, 0]) == pytest.approx(-math.log(1e-6), rel=1e-10)
    assert metrics.log_loss([0.0], [0]) == pytest.approx(1e-6, rel=1e-6)
    assert math.isnan(metrics.log_loss([], []))


# --- reliability and ECE --------------------------------------------------------------------
@pytest.mark.parametrize("bins", [1, 3, 10, 20])
def test_reliability_table_matches_sklearn(bins: int) -> None:
    rng = np.random.default_rng(bins)
    p, y = forecasts(rng, 3000)
    p = 0.2 + 0.45 * p  # only part of [0, 1]: several empty bins when bins >= 3
    table = metrics.reliability_table(p, y, bins=bins)
    assert list(table.columns) == ["bin_lo", "bin_hi", "count", "mean_confidence", "hit_rate"]
    assert len(table) == bins
    edges = np.linspace(0, 1, bins + 1)
    np.testing.assert_allclose(table["bin_lo"], edges[:-1], rtol=0, atol=1e-15)
    np.testing.assert_allclose(table["bin_hi"], edges[1:], rtol=0, atol=1e-15)
    counts, _ = np.histogram(p, bins=edges)
    np.testing.assert_array_equal(table["count"].to_numpy(), counts)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=bins, strategy="uniform")
    filled = table[table["count"] > 0]
    np.testing.assert_allclose(filled["hit_rate"], prob_true, rtol=1e-12)
    np.testing.assert_allclose(filled["mean_confidence"], prob_pred, rtol=1e-12)
    empty = table[table["count"] == 0]
    assert empty["hit_rate"].isna().all() and empty["mean_confidence"].isna().all()
    if bins >= 3:
        assert len(empty) > 0
    ece = float(np.sum(counts[counts > 0] / p.size * np.abs(prob_true - prob_pred)))
    assert metrics.expected_calibration_error(p, y, bins=bins) == pytest.approx(ece, rel=1e-12)


def test_reliability_table_by_hand() -> None:
    p = [0.0, 0.05, 0.1, 0.5, 0.95, 1.0]
    y = [0, 0, 1, 1, 0, 1]
    two = metrics.reliability_table(p, y, bins=2)
    assert two["count"].tolist() == [3, 3]
    assert two["mean_confidence"].tolist() == pytest.approx([0.05, 2.45 / 3])
    assert two["hit_rate"].tolist() == pytest.approx([1 / 3, 2 / 3])
    ten = metrics.reliability_table(p, y, bins=10)
    # 0 and 0.05 in bin 0, 0.1 in bin 1, 0.5 in bin 5, 0.95 and 1.0 in bin 9.
    assert ten["count"].tolist() == [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]
    assert ten.loc[9, "mean_confidence"] == pytest.approx(0.975)
    assert ten.loc[9, "hit_rate"] == 0.5
    assert ten["hit_rate"].isna().sum() == 6
    ece = 0.5 * abs(1 / 3 - 0.05) + 0.5 * abs(2 / 3 - 2.45 / 3)
    assert metrics.expected_calibration_error(p, y, bins=2) == pytest.approx(ece, rel=1e-12)
    assert metrics.expected_calibration_error([0.25] * 4, [1, 0, 0, 0], bins=4) == 0.0
    assert metrics.expected_calibration_error([0.9, 0.9], [0, 0], bins=1) == pytest.approx(0.9)


def test_reliability_table_empty() -> None:
    table = metrics.reliability_table([], [], bins=4)
    assert len(table) == 4 and table["count"].sum() == 0
    assert table["hit_rate"].isna().all()
    assert math.isnan(metrics.expected_calibration_error([], []))


# --- Newey-West regression ------------------------------------------------------------------
@pytest.mark.parametrize("lags", [0, 1, 3, 10, 40])
def test_newey_west_matches_statsmodels(lags: int) -> None:
    rng = np.random.default_rng(10 + lags)
    for n in (5, 50, 800):
        x = ar1(rng, n, 0.7) + 3.0
        y = 0.3 * x + ar1(rng, n, 0.6) * (1 + 0.5 * np.abs(x - 3))  # autocorrelated, hetero
        slope, t = metrics.newey_west_slope_t(x, y, lags)
        want_slope, want_t = sm_hac(x, y, lags)  # lags >= n too: the extra terms are 0
        assert slope == pytest.approx(want_slope, rel=1e-10)
        assert t == pytest.approx(want_t, rel=1e-10)
        assert isinstance(slope, float) and isinstance(t, float)


def test_newey_west_zero_lags_is_hc0_and_differs_from_corrected() -> None:
    rng = np.random.default_rng(20)
    x = rng.standard_normal(60)
    y = x + rng.standard_normal(60) * (1 + x**2)
    res = sm.OLS(y, sm.add_constant(x)).fit(cov_type="HC0")
    assert metrics.newey_west_slope_t(x, y, 0)[1] == pytest.approx(res.tvalues[1], rel=1e-10)
    # statsmodels' small-sample correction n / (n - 2) is not applied: t differs by its root.
    corrected = sm_hac(x, y, 4, correction=True)[1]
    t = metrics.newey_west_slope_t(x, y, 4)[1]
    assert t == pytest.approx(corrected * math.sqrt(60 / 58), rel=1e-10)
    assert t != pytest.approx(corrected, rel=1e-3)


def test_newey_west_by_hand() -> None:
    # x = [0, 1, 2, 3], y = [0, 2, 1, 3]: slope 0.8, residuals [-0.3, 0.9, -0.9, 0.3]; the
    # sandwich with X'X of the centred design diag(4, 5) gives var = sum_l w_l G_l / 25.
    x = np.array([0.0, 1.0, 2.0, 3.0])
    y = np.array([0.0, 2.0, 1.0, 3.0])
    xc = x - 1.5
    e = (y - 1.5) - 0.8 * xc
    u = xc * e
    g0 = float(u @ u)
    g1 = float(u[1:] @ u[:-1])
    slope, t0 = metrics.newey_west_slope_t(x, y, 0)
    assert slope == pytest.approx(0.8, rel=1e-14)
    assert t0 == pytest.approx(0.8 / math.sqrt(g0 / 25), rel=1e-12)
    _, t1 = metrics.newey_west_slope_t(x, y, 1)
    assert t1 == pytest.approx(0.8 / math.sqrt((g0 + 2 * 0.5 * g1) / 25), rel=1e-12)


def test_newey_west_real(sp500: np.ndarray) -> None:
    x, y = sp500[:-1], sp500[1:]  # next-day return on today's
    for lags in (0, 5, 20):
        got = metrics.newey_west_slope_t(x, y, lags)
        assert got == pytest.approx(sm_hac(x, y, lags), rel=1e-9)


def test_newey_west_degenerate() -> None:
    for x, y in (([], []), ([1.0], [2.0]), ([1.0, 2.0], [3.0, 5.0]), ([0.1] * 5, [1, 2, 3, 4, 5])):
        slope, t = metrics.newey_west_slope_t(x, y, 2)
        assert math.isnan(slope) and math.isnan(t)
    slope, t = metrics.newey_west_slope_t([0, 1, 2, 3], [1, 3, 5, 7], 1)  # exact fit
    assert slope == 2.0 and math.isnan(t)
    slope, t = metrics.newey_west_slope_t([0, 1, 2, 3], [4, 4, 4, 4], 1)  # constant y
    assert slope == 0.0 and math.isnan(t)


# --- information coefficient ----------------------------------------------------------------
def _ic_oracle(score: np.ndarray, ret: np.ndarray, lags: int) -> dict[str, float]:
    def z(a: np.ndarray) -> np.ndarray:
        return (a - a.mean()) / a.std()

    rs, rr = stats.rankdata(score), stats.rankdata(ret)
    return {
        "ic": float(stats.pearsonr(score, ret)[0]),
        "ic_t": sm_hac(z(score), z(ret), lags)[1],
        "rank_ic": float(stats.spearmanr(score, ret)[0]),
        "rank_ic_t": sm_hac(z(rs), z(rr), lags)[1],
    }


@pytest.mark.parametrize("lags", [0, 2, 7])
def test_information_coefficient_matches_scipy_statsmodels(lags: int) -> None:
    rng = np.random.default_rng(30 + lags)
    n = 600
    score = ar1(rng, n, 0.8)
    ret = 0.1 * score + rng.standard_t(4, n)
    for s in (score, np.round(score, 1)):  # the rounded one has many ties
        got = metrics.information_coefficient(s, ret, lags=lags)
        want = _ic_oracle(s, ret, lags)
        assert got["n"] == n
        for key, value in want.items():
            assert got[key] == pytest.approx(value, rel=1e-10), key
    # ic is the slope of standardized ret on standardized score
    got = metrics.information_coefficient(score, ret, lags=lags)
    zs, zr = (score - score.mean()) / score.std(), (ret - ret.mean()) / ret.std()
    assert got["ic"] == pytest.approx(sm_hac(zs, zr, lags)[0], rel=1e-10)


def test_information_coefficient_real(sp500: np.ndarray) -> None:
    # Score: the trailing 5-day return; target: the next day's return.
    trail = pd.Series(sp500).rolling(5).sum().to_numpy()
    score, ret = trail[4:-1], sp500[5:]
    got = metrics.information_coefficient(score, ret, lags=5)
    want = _ic_oracle(score, ret, 5)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=1e-9), key


def test_information_coefficient_by_hand() -> None:
    got = metrics.information_coefficient([1, 2, 3, 4], [1, 3, 2, 4])
    assert got["ic"] == pytest.approx(0.8) and got["rank_ic"] == pytest.approx(0.8)
    # Ties: score ranks [1.5, 1.5, 3, 4] -> 4.5 / sqrt(4.5 * 5).
    got = metrics.information_coefficient([1, 1, 2, 3], [1, 2, 3, 4])
    assert got["rank_ic"] == pytest.approx(4.5 / math.sqrt(22.5), rel=1e-14)
    got = metrics.information_coefficient([3, 1, 2], [30, 10, 20])
    assert got["ic"] == pytest.approx(1.0) and got["rank_ic"] == 1.0
    assert math.isnan(got["ic_t"])  # perfect fit: zero residuals


def test_information_coefficient_degenerate() -> None:
    for score, ret in (
        ([], []),
        ([1, 2], [2, 1]),
        ([1, 1, 1, 1], [1, 2, 3, 4]),
        ([1, 2, 3], [5] * 3),
    ):
        got = metrics.information_coefficient(score, ret, lags=1)
        assert got["n"] == len(score)
        assert all(math.isnan(got[k]) for k in ("ic", "ic_t", "rank_ic", "rank_ic_t"))


# --- returns --------------------------------------------------------------------------------
def test_sharpe_and_sortino_real(sp500: np.ndarray) -> None:
    s = pd.Series(sp500)
    assert metrics.sharpe(sp500, 252) == pytest.approx(
        s.mean() / s.std() * math.sqrt(252), rel=1e-12
    )
    downside = math.sqrt((s.clip(upper=0) ** 2).mean())
    want = s.mean() / downside * math.sqrt(252)
    assert metrics.sortino(sp500, 252) == pytest.approx(want, rel=1e-12)


def test_sharpe_and_sortino_by_hand() -> None:
    assert metrics.sharpe([0.01, 0.02, 0.03], 4) == pytest.approx(4.0, rel=1e-12)
    assert metrics.sharpe([-0.01, 0.01], 1) == 0.0
    # mean 0.005, downside sqrt((0.01^2 + 0.02^2) / 4) = sqrt(0.000125)
    r = [0.02, -0.01, 0.03, -0.02]
    assert metrics.sortino(r, 9) == pytest.approx(0.005 / math.sqrt(0.000125) * 3, rel=1e-12)
    assert metrics.sortino([-0.02], 1) == -1.0
    for value in (
        metrics.sharpe([0.01], 252),
        metrics.sharpe([], 252),
        metrics.sharpe([0.01] * 10, 252),  # zero spread (even though the mean is not exact)
        metrics.sortino([0.01, 0.02, 0.0], 252),  # no downside
        metrics.sortino([], 252),
    ):
        assert math.isnan(value)


def test_sharpe_of_many_rows_is_sharpe_of_each_bit_for_bit(sp500: np.ndarray) -> None:
    # The backtest's random baseline takes 200 draws' Sharpe ratios in one pass.
    rng = np.random.default_rng(7)
    rows = np.vstack([sp500, sp500 * 1e-290, sp500 * 1e290, np.zeros_like(sp500),
                      np.full_like(sp500, 0.01), rng.normal(0.0, 0.02, (20, len(sp500)))])
    got = metrics._sharpe_rows(rows, 252)
    want = np.array([metrics.sharpe(r, 252) for r in rows])
    assert np.array_equal(got, want, equal_nan=True)
    assert np.isnan(got[3]) and np.isnan(got[4]) and np.isfinite(got[0])
    assert np.isnan(metrics._sharpe_rows(rows[:, :1], 252)).all()


def test_sharpe_t() -> None:
    rng = np.random.default_rng(40)
    r = 0.0005 + 0.01 * rng.standard_normal(500)
    sr = r.mean() / r.std(ddof=1)
    t_want = sr * math.sqrt(500) / math.sqrt(1 + sr * sr / 2)
    t, p = metrics.sharpe_t(r)
    assert t == pytest.approx(t_want, rel=1e-12)
    assert p == pytest.approx(stats.norm.sf(t_want), rel=1e-12)
    # By hand: SR = 2 (mean 0.02, sd 0.01), n = 3 -> t = 2 sqrt 3 / sqrt 3 = 2.
    t, p = metrics.sharpe_t([0.01, 0.02, 0.03])
    assert t == pytest.approx(2.0, rel=1e-12) and p == pytest.approx(stats.norm.sf(2.0), rel=1e-12)
    assert metrics.sharpe_t([-0.01, 0.01]) == (0.0, 0.5)
    for bad in ([], [0.01], [0.02] * 4):
        t, p = metrics.sharpe_t(bad)
        assert math.isnan(t) and math.isnan(p)


def test_sharpe_t_real_is_close_to_the_ordinary_t(sp500: np.ndarray) -> None:
    # A daily SR ~ 0.02 makes Lo's correction 1 + SR^2 / 2 negligible: t ~ the one-sample t.
    t, p = metrics.sharpe_t(sp500)
    res = stats.ttest_1samp(sp500, 0.0, alternative="greater")
    assert t == pytest.approx(res.statistic, rel=1e-3)
    assert p == pytest.approx(res.pvalue, rel=1e-2)


def _drawdown_brute_force(r: np.ndarray) -> float:
    equity = np.concatenate([[1.0], np.cumprod(1 + r)])
    worst = 0.0
    for j in range(equity.size):
        for i in range(j + 1):
            worst = max(worst, 1 - equity[j] / equity[i])
    return worst


def test_max_drawdown() -> None:
    assert metrics.max_drawdown([0.1, -0.5, 0.2]) == pytest.approx(0.5, rel=1e-14)
    assert metrics.max_drawdown([-0.2, 0.1]) == pytest.approx(0.2, rel=1e-14)  # start is a peak
    assert metrics.max_drawdown([0.1, -0.1, -0.1, 0.5, -0.3]) == pytest.approx(0.3, rel=1e-14)
    assert metrics.max_drawdown([0.01, 0.02, 0.0]) == 0.0
    assert metrics.max_drawdown([0.5, -1.0, 0.3]) == 1.0
    assert math.isnan(metrics.max_drawdown([]))
    rng = np.random.default_rng(50)
    for _ in range(20):
        r = rng.normal(0.0, 0.05, int(rng.integers(1, 60)))
        assert metrics.max_drawdown(r) == pytest.approx(_drawdown_brute_force(r), rel=1e-12)


def test_max_drawdown_and_total_return_real(sp500: np.ndarray) -> None:
    equity = pd.Series(np.cumprod(1 + sp500))
    want = float(-(equity / np.maximum(equity.cummax(), 1.0) - 1).min())
    assert metrics.max_drawdown(sp500) == pytest.approx(want, rel=1e-12)
    assert 0.5 < want < 0.6  # 2007-2009
    want = math.expm1(float(np.log1p(sp500).sum()))
    assert metrics.total_return(sp500) == pytest.approx(want, rel=1e-9)


def test_total_return_by_hand() -> None:
    assert metrics.total_return([0.1, -0.1]) == pytest.approx(-0.01, rel=1e-12)
    assert metrics.total_return([0.5]) == 0.5
    assert math.isnan(metrics.total_return([]))


# --- isotonic regression --------------------------------------------------------------------
def test_isotonic_matches_sklearn() -> None:
    rng = np.random.default_rng(60)
    for n, weighted in ((1, False), (2, True), (30, False), (500, True), (2000, False)):
        x = np.round(rng.uniform(-2, 2, n), 1)  # ties
        y = np.tanh(x) + rng.normal(0, 0.5, n)
        w = rng.uniform(0.1, 3.0, n) if weighted else None
        model = metrics.isotonic_fit(x, y, w)
        iso = IsotonicRegression(out_of_bounds="clip").fit(x, y, sample_weight=w)
        x_new = np.concatenate([rng.uniform(-3, 3, 300), x, [-10.0, 10.0]])
        np.testing.assert_allclose(
            metrics.isotonic_predict(model, x_new), iso.predict(x_new), rtol=1e-10, atol=1e-12
        )
        thresholds, fitted = model
        np.testing.assert_array_equal(thresholds, np.unique(x))
        assert np.all(np.diff(fitted) >= 0)
        np.testing.assert_allclose(fitted, iso.predict(thresholds), rtol=1e-10, atol=1e-12)


def test_isotonic_real(sp500: np.ndarray) -> None:
    # Calibrate "tomorrow is up" against today's return.
    x, y = sp500[:-1], (sp500[1:] > 0).astype(float)
    model = metrics.isotonic_fit(x, y)
    iso = IsotonicRegression(out_of_bounds="clip").fit(x, y)
    grid = np.linspace(-0.12, 0.12, 500)
    np.testing.assert_allclose(
        metrics.isotonic_predict(model, grid), iso.predict(grid), rtol=1e-10, atol=1e-12
    )


def test_isotonic_by_hand() -> None:
    tx, ty = metrics.isotonic_fit([1, 2, 3], [3, 1, 2])
    assert tx.tolist() == [1, 2, 3] and ty.tolist() == [2, 2, 2]
    model = metrics.isotonic_fit([4, 1, 3, 2], [4, 1, 2, 3])  # unsorted input
    assert model[1].tolist() == [1, 2.5, 2.5, 4]
    pred = metrics.isotonic_predict(model, [0, 1.5, 2.5, 3.5, 9])
    assert pred.tolist() == pytest.approx([1, 1.75, 2.5, 3.25, 4])
    # Weights: (1 * 3 + 3 * 1) / 4 = 1.5; a zero weight drops its point.
    tx, ty = metrics.isotonic_fit([1, 2, 3], [3, 1, 0], [1, 3, 0])
    assert tx.tolist() == [1, 2] and ty.tolist() == [1.5, 1.5]
    # Tied x share the mean of their y.
    tx, ty = metrics.isotonic_fit([1, 1, 2], [0, 1, 2])
    assert tx.tolist() == [1, 2] and ty.tolist() == [0.5, 2]
    tx, ty = metrics.isotonic_fit([], [])
    assert tx.size == 0 and ty.size == 0
    assert np.isnan(metrics.isotonic_predict((tx, ty), [0.3, 0.5])).all()
    with pytest.raises(ValueError, match=r"isotonic_fit: w\[1\] = -1\.0 .*weight >= 0"):
        metrics.isotonic_fit([1, 2], [1, 2], [1, -1])


# --- Platt scaling --------------------------------------------------------------------------
def test_platt_matches_statsmodels_and_sklearn() -> None:
    rng = np.random.default_rng(70)
    for n, shift in ((20, 0.0), (300, 5.0), (3000, -100.0)):
        x = rng.standard_normal(n) * 2 + shift
        y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(0.8 * (x - shift) - 0.3)))).astype(float)
        a, b = metrics.platt_fit(x, y)
        res = sm.Logit(y, sm.add_constant(x)).fit(disp=0, method="newton", maxiter=100)
        assert (b, a) == pytest.approx(tuple(res.params), rel=1e-7, abs=1e-9)
        if n <= 300:  # lbfgs is slow on the large, badly centred one
            assert (a, b) == pytest.approx(sk_logistic(x, y), rel=1e-4, abs=1e-6)
        want = 1 / (1 + np.exp(-(res.params[1] * x + res.params[0])))
        np.testing.assert_allclose(metrics.platt_predict((a, b), x), want, rtol=1e-7)


def test_platt_real(sp500: np.ndarray) -> None:
    x, y = sp500[:-1] * 100, (sp500[1:] > 0).astype(float)
    a, b = metrics.platt_fit(x, y)
    res = sm.Logit(y, sm.add_constant(x)).fit(disp=0, method="newton")
    assert (b, a) == pytest.approx(tuple(res.params), rel=1e-7)


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ([0, 1, 2, 3], [0, 0, 1, 1]),  # separable
        ([3, 2, 1, 0, 5, 6], [1, 1, 1, 1, 0, 0]),  # separable, decreasing
        ([0, 1, 1, 2], [0, 0, 1, 1]),  # quasi-separable
        ([0, 1, 2, 3], [0, 0, 0, 0]),  # one class
        ([1e6, 1e6 + 1, 1e6 + 2], [0, 1, 1]),
    ],
)
def test_platt_separable_is_finite(x: list[float], y: list[float]) -> None:
    a, b = metrics.platt_fit(x, y)
    assert math.isfinite(a) and math.isfinite(b)
    p = metrics.platt_predict((a, b), x)
    assert np.all(np.isfinite(p))
    xa, ya = np.asarray(x, float), np.asarray(y, float)
    tie = np.isin(xa, xa[ya == 0]) & np.isin(xa, xa[ya == 1])
    assert np.all((p > 0.5)[~tie] == (ya == 1)[~tie])
    assert np.all(np.abs(p[tie] - 0.5) < 1e-6)


def test_platt_by_hand() -> None:
    # Constant x: only the intercept is identified, b = logit(mean y).
    a, b = metrics.platt_fit([5, 5, 5, 5], [1, 0, 0, 0])
    assert a == 0.0 and b == pytest.approx(math.log(1 / 3), rel=1e-10)
    # x in {0, 1}: the fit reproduces each group's frequency, 1/4 and 3/4.
    a, b = metrics.platt_fit([0, 0, 0, 0, 1, 1, 1, 1], [1, 0, 0, 0, 1, 1, 1, 0])
    assert b == pytest.approx(-math.log(3), rel=1e-10)
    assert a == pytest.approx(2 * math.log(3), rel=1e-10)
    p = metrics.platt_predict((1.0, 0.0), [-800.0, 0.0, 800.0])
    assert p.tolist() == [0.0, 0.5, 1.0]
    a, b = metrics.platt_fit([], [])
    assert math.isnan(a) and math.isnan(b)


# --- Diebold-Mariano ------------------------------------------------------------------------
@pytest.mark.parametrize("lags", [0, 2, 5, 12])
def test_diebold_mariano_matches_statsmodels(lags: int) -> None:
    rng = np.random.default_rng(80 + lags)
    n = 400
    target = ar1(rng, n, 0.5)
    loss_a = (target - ar1(rng, n, 0.3, 0.9)) ** 2
    loss_b = (target - ar1(rng, n, 0.3, 1.0)) ** 2
    dm, p = metrics.diebold_mariano(loss_a, loss_b, lags)
    d = loss_a - loss_b
    res = sm.OLS(d, np.ones((n, 1))).fit(
        cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": False}
    )
    assert dm == pytest.approx(float(res.tvalues[0]), rel=1e-10)
    assert p == pytest.approx(2 * stats.norm.sf(abs(res.tvalues[0])), rel=1e-10)


def test_diebold_mariano_real(sp500: np.ndarray) -> None:
    # Squared errors of "tomorrow = 0" against "tomorrow = today".
    target, today = sp500[1:], sp500[:-1]
    loss_zero, loss_naive = target**2, (target - today) ** 2
    dm, p = metrics.diebold_mariano(loss_naive, loss_zero, 10)
    d = loss_naive - loss_zero
    res = sm.OLS(d, np.ones((d.size, 1))).fit(
        cov_type="HAC", cov_kwds={"maxlags": 10, "use_correction": False}
    )
    assert dm == pytest.approx(float(res.tvalues[0]), rel=1e-10)
    assert dm > 3 and p < 0.01  # the random walk forecast loses


def test_diebold_mariano_by_hand() -> None:
    # d = [1, 2, 3]: mean 2, sum of squared deviations 2 -> var = 2 / 9, DM = 2 / sqrt(2/9).
    dm, p = metrics.diebold_mariano([1, 2, 3], [0, 0, 0], 0)
    assert dm == pytest.approx(3 * math.sqrt(2), rel=1e-14)
    assert p == pytest.approx(2 * stats.norm.sf(3 * math.sqrt(2)), rel=1e-12)
    # lag 1 (weight 1/2): + 2 * 1/2 * ((-1)(0) + (0)(1)) = 0 -> the same.
    assert metrics.diebold_mariano([1, 2, 3], [0, 0, 0], 1)[0] == pytest.approx(dm, rel=1e-14)
    # Swapping a and b flips the sign and keeps p.
    dm2, p2 = metrics.diebold_mariano([0, 0, 0], [1, 2, 3], 0)
    assert dm2 == pytest.approx(-dm) and p2 == pytest.approx(p)
    for a, b in (([], []), ([1.0], [2.0]), ([1, 2, 3], [1, 2, 3]), ([1, 2, 3], [0, 1, 2])):
        dm, p = metrics.diebold_mariano(a, b, 1)
        assert math.isnan(dm) and math.isnan(p)


# --- block bootstrap ------------------------------------------------------------------------
def test_bootstrap_is_deterministic_per_seed() -> None:
    rng = np.random.default_rng(90)
    a, b = rng.standard_normal(300), rng.standard_normal(300)
    first = metrics.bootstrap_mean_diff_interval(a, b, block=10, seed=7)
    assert first == metrics.bootstrap_mean_diff_interval(a, b, block=10, seed=7)
    assert first != metrics.bootstrap_mean_diff_interval(a, b, block=10, seed=8)
    lo, hi = first
    assert isinstance(lo, float) and lo < float(np.mean(a - b)) < hi


def test_bootstrap_finds_a_large_difference() -> None:
    rng = np.random.default_rng(91)
    noise = ar1(rng, 500, 0.6)
    a = 0.5 + noise + 0.3 * ar1(rng, 500, 0.6)
    b = noise
    lo, hi = metrics.bootstrap_mean_diff_interval(a, b, block=20, seed=1)
    assert lo < 0.5 < hi
    assert lo > 0.0


def test_bootstrap_coverage_on_autocorrelated_data() -> None:
    # 300 paired AR(1) series whose true mean difference is 0.2: a 90% interval should cover
    # it in roughly 90% of them (block bootstraps undercover a little at this length).
    rng = np.random.default_rng(92)
    covered = 0
    reps, n = 300, 300
    for rep in range(reps):
        d = 0.2 + ar1(rng, n, 0.5)
        lo, hi = metrics.bootstrap_mean_diff_interval(
            d, np.zeros(n), block=15, n_boot=400, seed=rep, confidence=0.9
        )
        covered += lo <= 0.2 <= hi
    assert 0.78 <= covered / reps <= 0.97


def test_bootstrap_iid_width_matches_normal_theory() -> None:
    rng = np.random.default_rng(93)
    n = 1000
    a, b = rng.standard_normal(n) + 1.0, rng.standard_normal(n)
    lo, hi = metrics.bootstrap_mean_diff_interval(a, b, block=1, n_boot=3000, seed=3)
    d = a - b
    half = stats.norm.ppf(0.975) * d.std() / math.sqrt(n)
    assert (hi - lo) / 2 == pytest.approx(half, rel=0.08)
    assert (lo + hi) / 2 == pytest.approx(d.mean(), abs=0.2 * half)


def test_bootstrap_by_hand() -> None:
    # d = [0, 0, 3], block 2: a replicate is a full block (start 0 or 1, sum 0 or 3) and the
    # first value of a cut block (start 0 or 1, value 0), so its mean is 0 or 1 only.
    assert metrics.bootstrap_mean_diff_interval([0, 0, 3], [0, 0, 0], block=2) == (0.0, 1.0)
    # Block 1 on d = [0, 1, 2] is the iid bootstrap: the mean is k / 3 with k = 0..6 of
    # probability (1, 3, 6, 7, 6, 3, 1) / 27, so P(k = 0) = 3.7% and P(k <= 1) = 14.8%.
    args = ([1, 2, 3], [1, 1, 1])
    lo, hi = metrics.bootstrap_mean_diff_interval(*args, block=1, n_boot=20000, confidence=0.9)
    assert (lo, hi) == pytest.approx((1 / 3, 5 / 3))
    lo, hi = metrics.bootstrap_mean_diff_interval(*args, block=1, n_boot=20000, confidence=0.95)
    assert (lo, hi) == (0.0, 2.0)


def test_bootstrap_edges() -> None:
    a, b = [1.0, 2.0, 4.0], [0.0, 1.0, 1.0]
    lo, hi = metrics.bootstrap_mean_diff_interval(a, b, block=5)  # block > n: one block
    assert lo == pytest.approx(5 / 3) and hi == pytest.approx(5 / 3)
    lo, hi = metrics.bootstrap_mean_diff_interval([], [], block=2)
    assert math.isnan(lo) and math.isnan(hi)


# --- extreme magnitudes ---------------------------------------------------------------------
def test_extreme_magnitudes_give_the_scaled_answers_without_warnings() -> None:
    # Finite inputs near 1e308 (overflow in squares and sums) or 1e-300 (underflow in squares)
    # give the same statistics as moderate ones; warnings are errors here.
    rng = np.random.default_rng(100)
    x, y = rng.standard_normal(50), rng.standard_normal(50)
    r = 0.001 + 0.01 * rng.standard_normal(50)
    for scale in (2.0**1000, 2.0**-1000, 1e300, 1e-300):
        nw = metrics.newey_west_slope_t(x * scale, y * scale, 3)
        assert nw == pytest.approx(metrics.newey_west_slope_t(x, y, 3), rel=1e-12)
        ic, ic_scaled = (
            metrics.information_coefficient(x, y, 2),
            metrics.information_coefficient(x * scale, y, 2),
        )
        assert [ic_scaled[k] for k in ("ic", "ic_t")] == pytest.approx(
            [ic["ic"], ic["ic_t"]], rel=1e-12
        )
        assert metrics.sharpe(r * scale, 252) == pytest.approx(metrics.sharpe(r, 252), rel=1e-12)
        assert metrics.sortino(r * scale, 252) == pytest.approx(metrics.sortino(r, 252), rel=1e-12)
        assert metrics.sharpe_t(r * scale) == pytest.approx(metrics.sharpe_t(r), rel=1e-12)
        dm = metrics.diebold_mariano(x * scale, y * scale, 2)
        assert dm == pytest.approx(metrics.diebold_mariano(x, y, 2), rel=1e-12)
        lo, hi = metrics.bootstrap_mean_diff_interval(x * scale, y * scale, 5, n_boot=200)
        want = metrics.bootstrap_mean_diff_interval(x, y, 5, n_boot=200)
        assert (lo / scale, hi / scale) == pytest.approx(want, rel=1e-12)
        tx, ty = metrics.isotonic_fit(x, y * scale, np.abs(y) * scale)
        np.testing.assert_allclose(ty / scale, metrics.isotonic_fit(x, y, np.abs(y))[1], rtol=1e-12)
        a, b = metrics.platt_fit(x * scale, y > 0)
        assert np.isfinite([a, b]).all()
    big = np.array([1.7e308, -1.7e308, 1.0e308, -0.5e308])
    assert metrics.diebold_mariano(big, -big, 1)[0] == pytest.approx(
        metrics.diebold_mariano(big / 1e300, -big / 1e300, 1)[0], rel=1e-12
    )
    # The equity overflows after 1100 doublings; the drawdown is still exact.
    r = np.concatenate([np.ones(1100), [-0.5, 0.2, -0.5]])
    assert metrics.max_drawdown(r) == pytest.approx(1 - 0.5 * 1.2 * 0.5, rel=1e-14)
    assert metrics.total_return(r) == math.inf
    assert metrics.max_drawdown(np.concatenate([np.ones(1100), [-1.0, 3.0]])) == 1.0
    # Separable on a spread of 1e-310: the slope would be ~1e311, clipped to the largest float.
    a, b = metrics.platt_fit([0.0, 1e-310, 2e-310, 3e-310], [0, 0, 1, 1])
    assert math.isfinite(a) and math.isfinite(b) and a > 0
    assert metrics.platt_predict((1e308, 0.0), [1e308, -1e308]).tolist() == [1.0, 0.0]


# --- bad input ------------------------------------------------------------------------------
BAD_INPUT: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], str]] = [
    (
        metrics.brier_score,
        ([0.1, 0.2, 0.3, 1.2], [0, 1, 0, 1]),
        {},
        "brier_score: p[3] = 1.2 is not accepted; expected a probability in [0, 1]",
    ),
    (metrics.brier_score, ([0.1, NAN], [0, 1]), {}, "brier_score: p[1] = nan is not accepted"),
    (
        metrics.brier_score,
        ([0.1, 0.2], [0, 0.5]),
        {},
        "y[1] = 0.5 is not accepted; expected an outcome 0 or 1",
    ),
    (metrics.brier_score, ([0.1, 0.2], [0, 1, 1]), {}, "y has length 3 but p has length 2"),
    (metrics.brier_score, ([[0.1, 0.2]], [[0, 1]]), {}, "brier_score: p of shape (1, 2)"),
    (metrics.brier_score, (["a"], [0]), {}, "brier_score: p is not accepted"),
    (metrics.brier_score, ([0.5 + 1j], [0]), {}, "brier_score: p of complex dtype"),
    (metrics.log_loss, ([-0.1], [1]), {}, "log_loss: p[0] = -0.1 is not accepted"),
    (metrics.log_loss, ([0.1], [1]), {"eps": 0.0}, "log_loss: eps = 0.0 is not accepted"),
    (metrics.log_loss, ([0.1], [2]), {}, "log_loss: y[0] = 2.0"),
    (
        metrics.reliability_table,
        ([0.1], [1]),
        {"bins": 0},
        "reliability_table: bins = 0 is not accepted; expected an integer >= 1",
    ),
    (metrics.reliability_table, ([0.1], [1]), {"bins": 2.5}, "bins = 2.5 is not accepted"),
    (metrics.reliability_table, ([0.1], [1]), {"bins": True}, "bins = True is not accepted"),
    (metrics.expected_calibration_error, ([0.1, math.inf], [1, 0]), {}, "p[1] = inf"),
    (
        metrics.newey_west_slope_t,
        ([1, 2, 3], [1, 2, 3], -1),
        {},
        "newey_west_slope_t: lags = -1 is not accepted; expected an integer >= 0",
    ),
    (
        metrics.newey_west_slope_t,
        ([1, 2, 3], [1, 2]),
        {"lags": 1},
        "y has length 2 but x has length 3",
    ),
    (metrics.newey_west_slope_t, ([1, NAN, 3], [1, 2, 3]), {"lags": 1}, "x[1] = nan"),
    (
        metrics.information_coefficient,
        ([1, 2, 3], [1, 2, math.inf]),
        {},
        "information_coefficient: ret[2] = inf",
    ),
    (metrics.information_coefficient, ([1, 2, 3], [1, 2, 3]), {"lags": -3}, "lags = -3"),
    (metrics.diebold_mariano, ([1, 2], [1, 2], -1), {}, "diebold_mariano: lags = -1"),
    (
        metrics.diebold_mariano,
        ([1, 2], [1]),
        {"lags": 0},
        "loss_b has length 1 but loss_a has length 2",
    ),
    (metrics.sharpe, ([0.01, 0.02],), {"periods_per_year": 0}, "sharpe: periods_per_year = 0"),
    (metrics.sortino, ([0.01, NAN],), {"periods_per_year": 252}, "sortino: returns[1] = nan"),
    (metrics.sharpe_t, ([0.01, -math.inf],), {}, "sharpe_t: returns[1] = -inf"),
    (metrics.max_drawdown, ([NAN],), {}, "max_drawdown: returns[0] = nan"),
    (metrics.total_return, ([0.1, math.inf],), {}, "total_return: returns[1] = inf"),
    (metrics.wilson_interval, (11, 10), {}, "wilson_interval: hits = 11 is not accepted"),
    (metrics.wilson_interval, (1, -1), {}, "wilson_interval: n = -1 is not accepted"),
    (
        metrics.wilson_interval,
        (1, 10),
        {"confidence": 1.0},
        "confidence = 1.0 is not accepted; expected a confidence level in (0, 1)",
    ),
    (metrics.brier_skill_score, ([0.1], [1], NAN), {}, "brier_skill_score: p_ref = nan"),
    (metrics.isotonic_fit, ([1, 2], [1, NAN]), {}, "isotonic_fit: y[1] = nan"),
    (metrics.platt_fit, ([1, 2], [0, 2]), {}, "platt_fit: y[1] = 2.0"),
    (metrics.platt_fit, ([1, 2], [0, 1]), {"max_iter": 0}, "max_iter = 0"),
    (
        metrics.bootstrap_mean_diff_interval,
        ([1, 2], [1, 2], 0),
        {},
        "bootstrap_mean_diff_interval: block = 0",
    ),
    (
        metrics.bootstrap_mean_diff_interval,
        ([1, 2], [1, 2], 1),
        {"confidence": 1.5},
        "confidence = 1.5",
    ),
    (metrics.bootstrap_mean_diff_interval, ([1, 2], [1, 2], 1), {"n_boot": 0}, "n_boot = 0"),
    (
        metrics.bootstrap_mean_diff_interval,
        ([1, 2], [1]),
        {"block": 1},
        "b has length 1 but a has length 2",
    ),
]


@pytest.mark.parametrize(("fn", "args", "kwargs", "message"), BAD_INPUT)
def test_bad_input_raises_value_error(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        fn(*args, **kwargs)


def test_pandas_na_is_reported_as_nan() -> None:
    p = pd.Series([0.1, None, 0.3], dtype="Float64")
    with pytest.raises(ValueError, match=re.escape("brier_score: p[1] = nan is not accepted")):
        metrics.brier_score(p, [0, 1, 0])


def test_empty_input_gives_nan() -> None:
    scalars = [
        metrics.brier_score([], []),
        metrics.brier_skill_score([], [], []),
        metrics.log_loss([], []),
        metrics.expected_calibration_error([], []),
        metrics.sharpe([], 12),
        metrics.sortino([], 12),
        metrics.max_drawdown([]),
        metrics.total_return([]),
    ]
    assert all(isinstance(v, float) and math.isnan(v) for v in scalars)
    pairs = [
        metrics.newey_west_slope_t([], [], 3),
        metrics.sharpe_t([]),
        metrics.diebold_mariano([], [], 3),
        metrics.platt_fit([], []),
        metrics.bootstrap_mean_diff_interval([], [], 3),
    ]
    assert all(math.isnan(a) and math.isnan(b) for a, b in pairs)
    ic = metrics.information_coefficient([], [])
    assert ic["n"] == 0 and math.isnan(ic["ic"]) and math.isnan(ic["rank_ic_t"])
