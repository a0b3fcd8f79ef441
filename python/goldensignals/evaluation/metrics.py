"""Scoring statistics for trading signals: calibration, skill, information, risk and tests.

Pure NumPy (pandas only for :func:`reliability_table`). Every function takes 1-D array-likes
(lists, NumPy arrays, pandas Series), converts them to float64 and returns Python floats,
tuples, dicts or a DataFrame (the two ``*_predict`` functions and :func:`isotonic_fit` return
NumPy arrays).

Conventions shared by all functions:

* Empty input returns NaN (or a tuple/dict of NaN) rather than raising.
* Bad input raises :class:`ValueError` whose message names the function, the argument, the
  bad value (with the first bad index for arrays) and what is accepted, e.g.
  ``"brier_score: p[3] = 1.2 is not accepted; expected a probability in [0, 1]"``. Bad input is:
  arrays of different lengths or not 1-D, NaN or inf anywhere, probabilities outside [0, 1],
  outcomes other than 0 and 1, ``bins < 1``, ``lags < 0`` and other out-of-range parameters.
* Statistics that are undefined for the data given (too few points, a constant series, a zero
  denominator) are NaN; no NumPy warning is emitted.
* HAC (Newey-West) variances use Bartlett weights ``1 - l / (lags + 1)`` and no small-sample
  correction, as statsmodels' ``cov_type="HAC"`` with ``use_correction=False``; ``lags=0`` is
  White's HC0.
"""

from __future__ import annotations

import math
import operator
from typing import Any, TypedDict

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "ICResult",
    "bootstrap_mean_diff_interval",
    "bootstrap_sharpe_diff_interval",
    "brier_score",
    "brier_skill_score",
    "diebold_mariano",
    "expected_calibration_error",
    "information_coefficient",
    "isotonic_fit",
    "isotonic_predict",
    "log_loss",
    "max_drawdown",
    "newey_west_slope_t",
    "normal_ppf",
    "normal_sf",
    "platt_fit",
    "platt_predict",
    "reliability_table",
    "sharpe",
    "sharpe_t",
    "sortino",
    "total_return",
    "wilson_interval",
]

FloatArray = npt.NDArray[np.float64]

_NAN = float("nan")
_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)


class ICResult(TypedDict):
    """What :func:`information_coefficient` returns."""

    ic: float
    ic_t: float
    rank_ic: float
    rank_ic_t: float
    n: int


# --------------------------------------------------------------------------------------------
# Input checking
# --------------------------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    """A value as it appears in an error message (floats by repr: 1.2, nan, inf)."""
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return repr(value)


def _array(fn: str, name: str, x: Any) -> FloatArray:
    """``x`` as a 1-D float64 array with only finite values."""
    if hasattr(x, "to_numpy") and not isinstance(x, np.ndarray):
        try:
            x = x.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{fn}: {name} is not accepted ({exc}); expected a 1-D array of real numbers"
            ) from None
    raw = np.asarray(x)
    if raw.dtype.kind == "c":
        raise ValueError(
            f"{fn}: {name} of complex dtype is not accepted; expected a 1-D array of real numbers"
        )
    try:
        arr = raw.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{fn}: {name} is not accepted ({exc}); expected a 1-D array of real numbers"
        ) from None
    if arr.ndim != 1:
        raise ValueError(f"{fn}: {name} of shape {arr.shape} is not accepted; expected a 1-D array")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{fn}: {name}[{i}] = {_fmt(arr[i])} is not accepted; expected a finite number"
        )
    return arr


def _probabilities(fn: str, name: str, x: Any) -> FloatArray:
    """``x`` as a 1-D float64 array of probabilities in [0, 1]."""
    arr = _array(fn, name, x)
    bad = np.flatnonzero((arr < 0.0) | (arr > 1.0))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{fn}: {name}[{i}] = {_fmt(arr[i])} is not accepted; expected a probability in [0, 1]"
        )
    return arr


def _outcomes(fn: str, name: str, x: Any) -> FloatArray:
    """``x`` as a 1-D float64 array of 0s and 1s."""
    arr = _array(fn, name, x)
    bad = np.flatnonzero((arr != 0.0) & (arr != 1.0))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{fn}: {name}[{i}] = {_fmt(arr[i])} is not accepted; expected an outcome 0 or 1"
        )
    return arr


def _same_length(fn: str, **arrays: FloatArray) -> int:
    """The common length of ``arrays``; raises when they differ."""
    items = list(arrays.items())
    name0, a0 = items[0]
    for name, a in items[1:]:
        if a.shape[0] != a0.shape[0]:
            raise ValueError(
                f"{fn}: {name} has length {a.shape[0]} but {name0} has length {a0.shape[0]}; "
                "expected arrays of equal length"
            )
    return int(a0.shape[0])


def _integer(fn: str, name: str, value: Any, lo: int) -> int:
    """An integer parameter ``>= lo`` (bools and floats are refused)."""
    ok = not isinstance(value, (bool, np.bool_))
    v = 0
    if ok:
        try:
            v = operator.index(value)
        except TypeError:
            ok = False
    if not ok or v < lo:
        raise ValueError(
            f"{fn}: {name} = {_fmt(value)} is not accepted; expected an integer >= {lo}"
        )
    return v


def _real(fn: str, name: str, value: Any, lo: float, hi: float, what: str) -> float:
    """A real parameter strictly inside (lo, hi); ``what`` describes the accepted range."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = _NAN
    if isinstance(value, (bool, np.bool_)) or not (lo < v < hi):
        raise ValueError(f"{fn}: {name} = {_fmt(value)} is not accepted; expected {what}")
    return v


def _confidence(fn: str, value: Any) -> float:
    return _real(fn, "confidence", value, 0.0, 1.0, "a confidence level in (0, 1)")


# --------------------------------------------------------------------------------------------
# Normal distribution
# --------------------------------------------------------------------------------------------

# Rational approximations of the inverse normal CDF (P. J. Acklam, 2003), relative error
# below 1.15e-9, refined below by one Halley step on the exact CDF (math.erfc).
_A = (
    -3.969683028665376e01,
    2.209460984245205e02,
    -2.759285104469687e02,
    1.383577518672690e02,
    -3.066479806614716e01,
    2.506628277459239e00,
)
_B = (
    -5.447609879822406e01,
    1.615858368580409e02,
    -1.556989798598866e02,
    6.680131188771972e01,
    -1.328068155288572e01,
)
_C = (
    -7.784894002430293e-03,
    -3.223964580411365e-01,
    -2.400758277161838e00,
    -2.549732539343734e00,
    4.374664141464968e00,
    2.938163982698783e00,
)
_D = (
    7.784695709041462e-03,
    3.224671290700398e-01,
    2.445134137142996e00,
    3.754408661907416e00,
)
_P_LOW = 0.02425
_BOOT_CHUNK = 1 << 21  # block starts drawn at once by bootstrap_mean_diff_interval


def _lower_ppf(p: float) -> float:
    """Normal quantile for 0 < p <= 0.5 (computed in the lower tail, where p is exact)."""
    if p < _P_LOW:
        q = math.sqrt(-2.0 * math.log(p))
        x = (((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / (
            (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0
        )
    else:
        q = p - 0.5
        r = q * q
        x = (
            (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5])
            * q
            / (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0)
        )
    # One Halley step on F(x) = Phi(x) - p; exp(x^2 / 2) overflows only for p < ~1e-306,
    # where the rational approximation is left as it is.
    if x * x / 2.0 < 700.0:
        e = 0.5 * math.erfc(-x / _SQRT2) - p
        u = e * _SQRT2PI * math.exp(x * x / 2.0)
        x = x - u / (1.0 + x * u / 2.0)
    return x


def normal_ppf(p: float) -> float:
    """Standard normal quantile (inverse CDF): ``Phi(normal_ppf(p)) == p``.

    Acklam's rational approximation refined by one Halley step; relative error below 1e-12.
    ``p = 0`` and ``p = 1`` give ``-inf`` and ``inf``; p outside [0, 1] raises ValueError.
    """
    v = _real("normal_ppf", "p", p, -math.inf, math.inf, "a probability in [0, 1]")
    if not 0.0 <= v <= 1.0:
        raise ValueError(
            f"normal_ppf: p = {_fmt(p)} is not accepted; expected a probability in [0, 1]"
        )
    if v == 0.0:
        return -math.inf
    if v == 1.0:
        return math.inf
    if v <= 0.5:
        return _lower_ppf(v)
    return -_lower_ppf(1.0 - v)  # 1 - v is exact for v in [0.5, 1]


def normal_sf(x: float) -> float:
    """Standard normal survival function ``P(Z > x) = erfc(x / sqrt 2) / 2`` (NaN gives NaN)."""
    return 0.5 * math.erfc(float(x) / _SQRT2)


def wilson_interval(hits: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``hits / n``; ``n == 0`` gives (nan, nan).

    ``z = normal_ppf(1 - (1 - confidence) / 2)``; the bounds are clipped to [0, 1].
    """
    fn = "wilson_interval"
    n_ = _integer(fn, "n", n, 0)
    k = _integer(fn, "hits", hits, 0)
    if k > n_:
        raise ValueError(f"{fn}: hits = {k} is not accepted; expected an integer in [0, n = {n_}]")
    conf = _confidence(fn, confidence)
    if n_ == 0:
        return (_NAN, _NAN)
    z = -normal_ppf((1.0 - conf) / 2.0)
    z2 = z * z
    phat = k / n_
    denom = 1.0 + z2 / n_
    center = (phat + z2 / (2.0 * n_)) / denom
    half = z * math.sqrt(phat * (1.0 - phat) / n_ + z2 / (4.0 * n_ * n_)) / denom
    lo = 0.0 if k == 0 else min(max(center - half, 0.0), 1.0)
    hi = 1.0 if k == n_ else min(max(center + half, 0.0), 1.0)
    return (float(lo), float(hi))


# --------------------------------------------------------------------------------------------
# Probability scores and calibration
# --------------------------------------------------------------------------------------------


def brier_score(p: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Brier score ``mean((p - y)^2)`` of probabilities p for outcomes y in {0, 1}."""
    fn = "brier_score"
    pa = _probabilities(fn, "p", p)
    ya = _outcomes(fn, "y", y)
    if _same_length(fn, p=pa, y=ya) == 0:
        return _NAN
    return float(np.mean((pa - ya) ** 2))


def brier_skill_score(p: npt.ArrayLike, y: npt.ArrayLike, p_ref: npt.ArrayLike | float) -> float:
    """Brier skill score ``1 - BS(p) / BS(p_ref)`` against a reference forecast.

    ``p_ref`` is one probability for every outcome (e.g. the base rate) or an array like p.
    NaN when empty or when the reference is perfect (``BS(p_ref) == 0``).
    """
    fn = "brier_skill_score"
    pa = _probabilities(fn, "p", p)
    ya = _outcomes(fn, "y", y)
    n = _same_length(fn, p=pa, y=ya)
    if np.ndim(p_ref) == 0 and not hasattr(p_ref, "to_numpy"):
        what = "a probability in [0, 1] or an array of them"
        v = _real(fn, "p_ref", p_ref, -math.inf, math.inf, what)
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{fn}: p_ref = {_fmt(p_ref)} is not accepted; expected {what}")
        ref = np.full(n, v)
    else:
        ref = _probabilities(fn, "p_ref", p_ref)
        _same_length(fn, p=pa, p_ref=ref)
    if n == 0:
        return _NAN
    bs = float(np.mean((pa - ya) ** 2))
    bs_ref = float(np.mean((ref - ya) ** 2))
    if bs_ref == 0.0:
        return _NAN
    return 1.0 - bs / bs_ref


def log_loss(p: npt.ArrayLike, y: npt.ArrayLike, eps: float = 1e-6) -> float:
    """Mean negative log-likelihood ``-mean(y log p + (1 - y) log(1 - p))`` (natural log).

    p is clipped to ``[eps, 1 - eps]`` first, so certain wrong forecasts cost ``-log(eps)``.
    """
    fn = "log_loss"
    pa = _probabilities(fn, "p", p)
    ya = _outcomes(fn, "y", y)
    e = _real(fn, "eps", eps, 0.0, 0.5, "a number in (0, 0.5)")
    if _same_length(fn, p=pa, y=ya) == 0:
        return _NAN
    pc = np.clip(pa, e, 1.0 - e)
    return float(-np.mean(ya * np.log(pc) + (1.0 - ya) * np.log1p(-pc)))


def _binned(
    fn: str, p: npt.ArrayLike, y: npt.ArrayLike, bins: int
) -> tuple[FloatArray, npt.NDArray[np.int64], FloatArray, FloatArray]:
    """Edges, counts, sums of p and sums of y over equal-width bins of [0, 1]."""
    pa = _probabilities(fn, "p", p)
    ya = _outcomes(fn, "y", y)
    nb = _integer(fn, "bins", bins, 1)
    _same_length(fn, p=pa, y=ya)
    edges = np.linspace(0.0, 1.0, nb + 1)
    # Bin i holds edges[i] <= p < edges[i + 1]; the last bin also holds p == 1.
    idx = np.searchsorted(edges[1:-1], pa, side="right")
    counts = np.bincount(idx, minlength=nb).astype(np.int64)
    sum_p = np.bincount(idx, weights=pa, minlength=nb)
    sum_y = np.bincount(idx, weights=ya, minlength=nb)
    return edges, counts, sum_p, sum_y


def _ratio(num: FloatArray, counts: npt.NDArray[np.int64]) -> FloatArray:
    out = np.full(num.shape, np.nan)
    np.divide(num, counts, out=out, where=counts > 0)
    return out


def reliability_table(p: npt.ArrayLike, y: npt.ArrayLike, bins: int = 10) -> pd.DataFrame:
    """Reliability (calibration) table over ``bins`` equal-width bins of [0, 1].

    Bin i holds ``bin_lo <= p < bin_hi`` (p == 1 goes in the last bin). Columns ``bin_lo,
    bin_hi, count, mean_confidence, hit_rate``; every bin has a row, NaN means for empty bins.
    """
    edges, counts, sum_p, sum_y = _binned("reliability_table", p, y, bins)
    return pd.DataFrame(
        {
            "bin_lo": edges[:-1],
            "bin_hi": edges[1:],
            "count": counts,
            "mean_confidence": _ratio(sum_p, counts),
            "hit_rate": _ratio(sum_y, counts),
        }
    )


def expected_calibration_error(p: npt.ArrayLike, y: npt.ArrayLike, bins: int = 10) -> float:
    """ECE: ``sum_bins count / N * |hit_rate - mean_confidence|`` over the bins of
    :func:`reliability_table` (empty bins add nothing); NaN when empty.
    """
    _, counts, sum_p, sum_y = _binned("expected_calibration_error", p, y, bins)
    total = int(counts.sum())
    if total == 0:
        return _NAN
    # count / N * |sum_y / count - sum_p / count| = |sum_y - sum_p| / N
    return float(np.sum(np.abs(sum_y - sum_p)) / total)


# --------------------------------------------------------------------------------------------
# Regression with HAC standard errors, information coefficient
# --------------------------------------------------------------------------------------------


def _hac_sum(u: FloatArray, lags: int) -> float:
    """``sum_t u_t^2 + 2 sum_{l=1..lags} (1 - l / (lags + 1)) sum_t u_t u_{t-l}``."""
    s = float(np.dot(u, u))
    for lag in range(1, min(lags, u.shape[0] - 1) + 1):
        s += 2.0 * (1.0 - lag / (lags + 1.0)) * float(np.dot(u[lag:], u[:-lag]))
    return s


def _is_constant(a: FloatArray) -> bool:
    return bool(a.shape[0] == 0 or a.max() == a.min())


def _exponent(*arrays: FloatArray) -> int:
    """k with ``max |a| * 2**-k`` in [0.5, 1) over ``arrays`` (0 when all are 0 or empty).

    Scaling by a power of two is exact, so statistics computed on ``ldexp(a, -k)`` equal the
    unscaled ones bit for bit, but cannot overflow (values near 1e308) or underflow in squares
    (values near 1e-300).
    """
    top = max((float(np.max(np.abs(a))) for a in arrays if a.shape[0]), default=0.0)
    return math.frexp(top)[1] if top > 0.0 else 0


def _unit(a: FloatArray) -> FloatArray:
    """``a`` scaled by a power of two to ``max |a|`` in [0.5, 1)."""
    return np.ldexp(a, -_exponent(a))


def _slope_t(x: FloatArray, y: FloatArray, lags: int) -> tuple[float, float]:
    """OLS slope of y on [1, x] and its HAC t statistic (inputs already checked)."""
    n = x.shape[0]
    if n < 3 or _is_constant(x):
        return (_NAN, _NAN)
    kx, ky = _exponent(x), _exponent(y)
    x, y = np.ldexp(x, -kx), np.ldexp(y, -ky)  # the t statistic is scale invariant
    # Centring x changes the intercept only: the slope and its variance are unchanged, and
    # X'X becomes diag(n, sxx), so var(slope) = S_22 / sxx^2 with S the HAC "meat".
    xc = x - x.mean()
    yc = y - y.mean()
    sxx = float(np.dot(xc, xc))
    slope = float(np.dot(xc, yc)) / sxx
    resid = yc - slope * xc
    var = _hac_sum(xc * resid, lags) / (sxx * sxx)
    t = slope / math.sqrt(var) if var > 0.0 else _NAN
    with np.errstate(over="ignore"):  # a slope beyond 1e308 is inf
        slope = float(np.ldexp(slope, ky - kx))
    return (slope, t)


def newey_west_slope_t(x: npt.ArrayLike, y: npt.ArrayLike, lags: int) -> tuple[float, float]:
    """OLS of y on [1, x]: ``(slope, t)`` with a Newey-West HAC standard error.

    Bartlett weights ``1 - l / (lags + 1)``, no small-sample correction (statsmodels
    ``use_correction=False``); ``lags=0`` is White's HC0. (nan, nan) if n < 3 or x is constant;
    t is NaN when the residuals are all zero.
    """
    fn = "newey_west_slope_t"
    xa = _array(fn, "x", x)
    ya = _array(fn, "y", y)
    lg = _integer(fn, "lags", lags, 0)
    _same_length(fn, x=xa, y=ya)
    return _slope_t(xa, ya, lg)


def _pearson(x: FloatArray, y: FloatArray) -> float:
    if x.shape[0] < 2 or _is_constant(x) or _is_constant(y):
        return _NAN
    x, y = _unit(x), _unit(y)
    xc = x - x.mean()
    yc = y - y.mean()
    denom = math.sqrt(float(np.dot(xc, xc)) * float(np.dot(yc, yc)))
    if denom == 0.0:
        return _NAN
    return float(min(1.0, max(-1.0, float(np.dot(xc, yc)) / denom)))


def _average_ranks(a: FloatArray) -> FloatArray:
    """Ranks 1..n, tied values sharing the mean of their ranks."""
    n = a.shape[0]
    order = np.argsort(a, kind="mergesort")
    sorted_a = a[order]
    starts = np.concatenate(([0], np.flatnonzero(sorted_a[1:] != sorted_a[:-1]) + 1))
    ends = np.concatenate((starts[1:], [n]))
    mean_rank = (starts + 1 + ends) / 2.0  # mean of start+1 .. end
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def _standardize(a: FloatArray) -> FloatArray:
    a = _unit(a)
    c = a - a.mean()
    return c / math.sqrt(float(np.dot(c, c)) / a.shape[0])


def information_coefficient(score: npt.ArrayLike, ret: npt.ArrayLike, lags: int = 0) -> ICResult:
    """Information coefficient of a score for forward returns, with HAC t statistics.

    ``ic`` is the Pearson correlation; ``ic_t`` the Newey-West t (Bartlett, ``lags``) of the
    slope of standardized ret on standardized score; ``rank_ic`` and ``rank_ic_t`` the same on
    average ranks (Spearman). NaN where undefined (n < 3, a constant input).
    """
    fn = "information_coefficient"
    s = _array(fn, "score", score)
    r = _array(fn, "ret", ret)
    lg = _integer(fn, "lags", lags, 0)
    n = _same_length(fn, score=s, ret=r)
    out: ICResult = {"ic": _NAN, "ic_t": _NAN, "rank_ic": _NAN, "rank_ic_t": _NAN, "n": n}
    if n < 3 or _is_constant(s) or _is_constant(r):
        return out
    zs, zr = _standardize(s), _standardize(r)
    out["ic"] = _pearson(s, r)
    out["ic_t"] = _slope_t(zs, zr, lg)[1]
    rs, rr = _average_ranks(s), _average_ranks(r)
    out["rank_ic"] = _pearson(rs, rr)
    out["rank_ic_t"] = _slope_t(_standardize(rs), _standardize(rr), lg)[1]
    return out


# --------------------------------------------------------------------------------------------
# Returns: risk-adjusted performance
# --------------------------------------------------------------------------------------------


def _periods(fn: str, value: Any) -> float:
    return _real(fn, "periods_per_year", value, 0.0, math.inf, "a finite number > 0")


def sharpe(returns: npt.ArrayLike, periods_per_year: float) -> float:
    """Annualized Sharpe ratio ``mean / std(ddof=1) * sqrt(periods_per_year)`` (no risk-free).

    NaN when n < 2 or the returns are all equal.
    """
    r = _array("sharpe", "returns", returns)
    return float(_sharpe_rows(r[None, :], periods_per_year)[0])


def _sharpe_rows(returns: FloatArray, periods_per_year: float) -> FloatArray:
    """:func:`sharpe` of each row of a 2-D array of finite returns in one pass (the backtest's
    random draws; sharpe() is its one-row case): each row scaled by its own power of two (the
    ratio is scale invariant), then mean / std along the rows."""
    ppy = _periods("sharpe", periods_per_year)
    out = np.full(returns.shape[0], _NAN)
    if returns.shape[1] < 2:
        return out
    ok = returns.max(axis=1) != returns.min(axis=1)
    k = np.frexp(np.max(np.abs(returns[ok]), axis=1))[1]
    r = np.ldexp(returns[ok], -k[:, None])
    out[ok] = r.mean(axis=1) / r.std(axis=1, ddof=1) * math.sqrt(ppy)
    return out


def sortino(returns: npt.ArrayLike, periods_per_year: float) -> float:
    """Annualized Sortino ratio ``mean / sqrt(mean(min(r, 0)^2)) * sqrt(periods_per_year)``.

    The downside deviation averages over all periods (target 0). NaN when it is 0 or empty.
    """
    fn = "sortino"
    r = _array(fn, "returns", returns)
    ppy = _periods(fn, periods_per_year)
    if r.shape[0] == 0:
        return _NAN
    r = _unit(r)  # the ratio is scale invariant
    dd = math.sqrt(float(np.mean(np.minimum(r, 0.0) ** 2)))
    if dd == 0.0:
        return _NAN
    return float(r.mean() / dd * math.sqrt(ppy))


def sharpe_t(returns: npt.ArrayLike) -> tuple[float, float]:
    """``(t, p)`` for a per-period Sharpe ratio SR > 0 with Lo's (2002) iid standard error.

    ``t = SR sqrt(n) / sqrt(1 + SR^2 / 2)`` with ``SR = mean / std(ddof=1)``; p is one-sided,
    ``normal_sf(t)``. (nan, nan) when n < 2 or the returns are all equal.
    """
    r = _array("sharpe_t", "returns", returns)
    n = r.shape[0]
    if n < 2 or _is_constant(r):
        return (_NAN, _NAN)
    r = _unit(r)
    sr = float(r.mean() / r.std(ddof=1))
    t = sr * math.sqrt(n) / math.sqrt(1.0 + sr * sr / 2.0)
    return (t, normal_sf(t))


def max_drawdown(returns: npt.ArrayLike) -> float:
    """Largest peak-to-trough fall of the equity ``prod(1 + r)`` as a positive fraction.

    0.25 means a 25% fall; the starting equity 1.0 counts as a peak; 0 if it never falls.
    """
    r = _array("max_drawdown", "returns", returns)
    if r.shape[0] == 0:
        return _NAN
    with np.errstate(over="ignore", invalid="ignore"):
        equity = np.concatenate(([1.0], np.cumprod(1.0 + r)))
        peak = np.maximum.accumulate(equity)  # >= 1 > 0, so the division is safe
        worst = float(np.max(1.0 - equity / peak))
    if math.isfinite(worst):
        return worst
    # The equity overflowed: follow its ratio to the running peak instead, which stays in
    # [0, 1] while returns are >= -1 (below -1 the equity turns negative and may run off).
    ratio, worst = 1.0, 0.0
    for growth in (1.0 + r).tolist():
        ratio = min(1.0, ratio * growth)
        worst = max(worst, 1.0 - ratio)
        if not math.isfinite(worst):
            return math.inf
    return worst


def total_return(returns: npt.ArrayLike) -> float:
    """Compounded return ``prod(1 + r) - 1``; NaN when empty."""
    r = _array("total_return", "returns", returns)
    if r.shape[0] == 0:
        return _NAN
    with np.errstate(over="ignore", invalid="ignore"):  # beyond 1e308 it is +-inf (or nan)
        return float(np.prod(1.0 + r) - 1.0)


# --------------------------------------------------------------------------------------------
# Recalibration maps: isotonic regression and Platt scaling
# --------------------------------------------------------------------------------------------


def isotonic_fit(
    x: npt.ArrayLike, y: npt.ArrayLike, w: npt.ArrayLike | None = None
) -> tuple[FloatArray, FloatArray]:
    """Increasing isotonic regression of y on x (weighted least squares, pool adjacent
    violators). Returns ``(thresholds_x, fitted_y)``: the distinct x with positive weight,
    sorted, and the fitted value at each (tied x share the weighted mean of their y).
    """
    fn = "isotonic_fit"
    xa = _array(fn, "x", x)
    ya = _array(fn, "y", y)
    _same_length(fn, x=xa, y=ya)
    if w is None:
        wa = np.ones_like(xa)
    else:
        wa = _array(fn, "w", w)
        _same_length(fn, x=xa, w=wa)
        neg = np.flatnonzero(wa < 0.0)
        if neg.size:
            i = int(neg[0])
            raise ValueError(
                f"{fn}: w[{i}] = {_fmt(wa[i])} is not accepted; expected a weight >= 0"
            )
    # Weighted means are invariant to the scale of w and follow that of y: work with both
    # scaled by powers of two, so that products and sums cannot overflow. A weight that is
    # 0 at that scale (below 2**-1074 of the largest) drops its point.
    wa = np.ldexp(wa, -_exponent(wa) - len(wa).bit_length())  # sum(w) < 1
    keep = wa > 0.0
    xa, ya, wa = xa[keep], ya[keep], wa[keep]
    if xa.shape[0] == 0:
        return (np.empty(0), np.empty(0))
    ky = _exponent(ya)
    ya = np.ldexp(ya, -ky)
    ux, inverse = np.unique(xa, return_inverse=True)
    wsum = np.bincount(inverse, weights=wa, minlength=ux.shape[0])
    ymean = np.bincount(inverse, weights=wa * ya, minlength=ux.shape[0]) / wsum
    # Pool adjacent violators: a stack of blocks (mean, weight, number of distinct x).
    means: list[float] = []
    weights: list[float] = []
    sizes: list[int] = []
    for value, weight in zip(ymean.tolist(), wsum.tolist(), strict=True):
        means.append(value)
        weights.append(weight)
        sizes.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            w2, m2, s2 = weights.pop(), means.pop(), sizes.pop()
            w1 = weights[-1]
            total = w1 + w2
            means[-1] = (means[-1] * w1 + m2 * w2) / total
            weights[-1] = total
            sizes[-1] += s2
    # A pooled mean lies within its values; clipping undoes rounding beyond them (which could
    # overflow when scaled back near 1e308).
    pooled = np.clip(np.asarray(means, dtype=np.float64), ya.min(), ya.max())
    fitted = np.repeat(np.ldexp(pooled, ky), sizes)
    return (ux, fitted)


def isotonic_predict(
    model: tuple[npt.ArrayLike, npt.ArrayLike], x_new: npt.ArrayLike
) -> FloatArray:
    """Evaluate an :func:`isotonic_fit` model: linear interpolation between the thresholds,
    clipped to the end values outside them. Same shape as ``x_new``; NaN where x_new is NaN
    and everywhere for an empty model.
    """
    fn = "isotonic_predict"
    tx = _array(fn, "model[0]", model[0])
    ty = _array(fn, "model[1]", model[1])
    _same_length(fn, **{"model[0]": tx, "model[1]": ty})
    xn = np.asarray(x_new, dtype=np.float64)
    if tx.shape[0] == 0:
        return np.full(xn.shape, np.nan)
    return np.asarray(np.interp(xn, tx, ty), dtype=np.float64)


def _sigmoid(z: FloatArray) -> FloatArray:
    """``1 / (1 + exp(-z))`` without overflow."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


def _logistic_newton(design: FloatArray, y: FloatArray, max_iter: int) -> FloatArray:
    """Unpenalized logistic regression by Newton's method with Levenberg damping when the
    Hessian is (near) singular and Armijo backtracking; finite even for separable data.
    """
    k = design.shape[1]
    theta = np.zeros(k)

    def nll(t: FloatArray) -> float:
        z = design @ t
        return float(np.sum(np.logaddexp(0.0, z) - y * z))

    f = nll(theta)
    for _ in range(max_iter):
        z = design @ theta
        p = _sigmoid(z)
        grad = design.T @ (p - y)
        hess = (design * (p * (1.0 - p))[:, None]).T @ design
        step = None
        scale = float(np.trace(hess)) / k
        damping = 0.0
        for _attempt in range(30):
            try:
                chol = np.linalg.cholesky(hess + damping * np.eye(k))
                cand = -np.linalg.solve(chol.T, np.linalg.solve(chol, grad))
            except np.linalg.LinAlgError:
                cand = None
            if cand is not None and np.all(np.isfinite(cand)):
                step = cand
                break
            damping = max(damping * 100.0, 1e-12 * scale, 1e-300)
        if step is None:  # pragma: no cover - Cholesky of H + big * I always succeeds
            step = -grad
        decrement = float(-grad @ step)  # > 0 for a descent direction
        if not decrement > 1e-16 * (1.0 + abs(f)):
            break
        if decrement <= 1e-10 * (1.0 + abs(f)):
            # Quadratic region: the full step is reliable, and the Armijo test below would
            # only measure rounding in f.
            theta = theta + step
            f = nll(theta)
            continue
        t = 1.0
        accepted = False
        for _ls in range(60):
            cand_theta = theta + t * step
            f_new = nll(cand_theta)
            if f_new <= f - 1e-4 * t * decrement:
                accepted = True
                break
            t *= 0.5
        if not accepted:
            break
        theta, f = cand_theta, f_new
    return theta


def platt_fit(x: npt.ArrayLike, y: npt.ArrayLike, max_iter: int = 100) -> tuple[float, float]:
    """Platt scaling: ``(a, b)`` of the logistic fit ``P(y = 1) = 1 / (1 + exp(-(a x + b)))``.

    Maximum likelihood, no regularization, by damped Newton with line search; for separable
    data (no finite maximum) it stops at a large but finite fit. (nan, nan) when empty.
    """
    fn = "platt_fit"
    xa = _array(fn, "x", x)
    ya = _outcomes(fn, "y", y)
    it = _integer(fn, "max_iter", max_iter, 1)
    n = _same_length(fn, x=xa, y=ya)
    if n == 0:
        return (_NAN, _NAN)
    if _is_constant(xa):
        (b,) = _logistic_newton(np.ones((n, 1)), ya, it)
        return (0.0, float(b))
    # Fit on standardized x (a well-conditioned Hessian), then map back; x is first scaled by
    # a power of two so that its mean and spread cannot overflow.
    k = _exponent(xa)
    xs = np.ldexp(xa, -k)
    m = float(xs.mean())
    s = float(xs.std())
    design = np.column_stack(((xs - m) / s, np.ones(n)))
    a_std, b_std = _logistic_newton(design, ya, it)
    big = float(np.finfo(np.float64).max)
    with np.errstate(over="ignore"):  # x spread below ~1e-300 on separable data: a huge slope
        a = float(np.clip(np.ldexp(a_std / s, -k), -big, big))
    return (a, float(b_std - a_std * m / s))


def platt_predict(ab: tuple[float, float], x: npt.ArrayLike) -> FloatArray:
    """Probabilities ``1 / (1 + exp(-(a x + b)))`` of a :func:`platt_fit` model, shaped like x."""
    a, b = float(ab[0]), float(ab[1])
    xa = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore"):  # a x + b = +-inf gives exactly 1 or 0
        z = a * xa + b
    return np.asarray(_sigmoid(z), dtype=np.float64)


# --------------------------------------------------------------------------------------------
# Comparing two forecasters
# --------------------------------------------------------------------------------------------


def diebold_mariano(loss_a: npt.ArrayLike, loss_b: npt.ArrayLike, lags: int) -> tuple[float, float]:
    """Diebold-Mariano test of equal expected loss: ``(DM, two-sided p)``.

    ``DM = mean(d) / sqrt(HAC var / n^2)`` on ``d = loss_a - loss_b`` (Bartlett weights, no
    small-sample correction); DM > 0 means a has the larger loss. (nan, nan) if n < 2 or d is
    constant.
    """
    fn = "diebold_mariano"
    a = _array(fn, "loss_a", loss_a)
    b = _array(fn, "loss_b", loss_b)
    lg = _integer(fn, "lags", lags, 0)
    n = _same_length(fn, loss_a=a, loss_b=b)
    k = _exponent(a, b)  # DM is scale invariant; scaled, a - b cannot overflow
    d = np.ldexp(a, -k) - np.ldexp(b, -k)
    if n < 2 or _is_constant(d):
        return (_NAN, _NAN)
    dbar = float(d.mean())
    var = _hac_sum(d - dbar, lg) / (n * n)
    if not var > 0.0:
        return (_NAN, _NAN)
    dm = dbar / math.sqrt(var)
    return (dm, min(1.0, 2.0 * normal_sf(abs(dm))))


def bootstrap_mean_diff_interval(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    block: int,
    n_boot: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Moving-block bootstrap percentile interval for ``mean(a) - mean(b)`` of paired series.

    Each replicate joins ``ceil(n / block)`` blocks of consecutive pairs whose starts are drawn
    uniformly from ``0 .. n - block`` by ``numpy.random.default_rng(seed)``, cut to length n
    (``block`` above n is taken as n). (nan, nan) when empty.
    """
    fn = "bootstrap_mean_diff_interval"
    aa = _array(fn, "a", a)
    ba = _array(fn, "b", b)
    blk = _integer(fn, "block", block, 1)
    nb = _integer(fn, "n_boot", n_boot, 1)
    conf = _confidence(fn, confidence)
    n = _same_length(fn, a=aa, b=ba)
    if n == 0:
        return (_NAN, _NAN)
    blk = min(blk, n)
    k = _exponent(aa, ba)  # work at a scale where a - b and its sums cannot overflow
    d = np.ldexp(aa, -k) - np.ldexp(ba, -k)
    cs = np.concatenate(([0.0], np.cumsum(d)))
    n_blocks = -(-n // blk)
    last = n - (n_blocks - 1) * blk  # length of the final, possibly cut, block
    rng = np.random.default_rng(seed)
    means = np.empty(nb)
    chunk = max(1, _BOOT_CHUNK // n_blocks)  # replicates per draw, to bound memory
    for first in range(0, nb, chunk):
        rows = min(chunk, nb - first)
        starts = rng.integers(0, n - blk + 1, size=(rows, n_blocks))
        # Block sums from the cumulative sum: sum(d[s : s + L]) = cs[s + L] - cs[s].
        full = cs[starts[:, :-1] + blk] - cs[starts[:, :-1]]
        tail = cs[starts[:, -1] + last] - cs[starts[:, -1]]
        means[first : first + rows] = (full.sum(axis=1) + tail) / n
    alpha = 1.0 - conf
    with np.errstate(over="ignore"):  # bounds beyond 1e308 are +-inf
        lo, hi = np.ldexp(np.quantile(means, [alpha / 2.0, 1.0 - alpha / 2.0]), k)
    return (float(lo), float(hi))


def bootstrap_sharpe_diff_interval(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    block: int,
    periods_per_year: float,
    n_boot: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Moving-block bootstrap percentile interval for ``sharpe(a) - sharpe(b)`` of paired
    per-period returns (the same periods), drawn as in :func:`bootstrap_mean_diff_interval`:
    the pairs stay together, so what the two series share cancels. A replicate where either
    series is constant counts as a difference of 0. (nan, nan) when n < 2.
    """
    fn = "bootstrap_sharpe_diff_interval"
    aa = _unit(_array(fn, "a", a))
    ba = _unit(_array(fn, "b", b))
    blk = _integer(fn, "block", block, 1)
    nb = _integer(fn, "n_boot", n_boot, 1)
    ppy = _periods(fn, periods_per_year)
    conf = _confidence(fn, confidence)
    n = _same_length(fn, a=aa, b=ba)
    if n < 2:
        return (_NAN, _NAN)
    blk = min(blk, n)
    n_blocks = -(-n // blk)
    rng = np.random.default_rng(seed)
    diffs = np.empty(nb)
    offsets = np.arange(blk)
    chunk = max(1, _BOOT_CHUNK // (n_blocks * blk))
    for first in range(0, nb, chunk):
        rows = min(chunk, nb - first)
        starts = rng.integers(0, n - blk + 1, size=(rows, n_blocks))
        idx = (starts[:, :, None] + offsets).reshape(rows, -1)[:, :n]
        sa, sb = aa[idx], ba[idx]
        sda, sdb = sa.std(axis=1, ddof=1), sb.std(axis=1, ddof=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            d = sa.mean(axis=1) / sda - sb.mean(axis=1) / sdb
        d[~((sda > 0) & (sdb > 0))] = 0.0
        diffs[first : first + rows] = d * math.sqrt(ppy)
    alpha = 1.0 - conf
    lo, hi = np.quantile(diffs, [alpha / 2.0, 1.0 - alpha / 2.0])
    return (float(lo), float(hi))
