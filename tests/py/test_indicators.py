"""goldensignals.indicators against TA-Lib (the `ta-lib` wheel) on real and random data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import goldensignals._core as core
import goldensignals.indicators as gi

talib = pytest.importorskip("talib")
sp500 = pytest.importorskip("arch.data.sp500")

InvalidArgumentError = core.InvalidArgumentError


# --- data -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_ohlcv() -> dict[str, np.ndarray]:
    df = sp500.load()
    return {c.lower(): df[c].to_numpy(dtype=np.float64) for c in ("High", "Low", "Close", "Volume")}


def _ohlcv(close: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    spread = np.abs(close).max() * 0.01 + 1e-300
    return {
        "high": close + rng.uniform(0, 1, close.size) * spread,
        "low": close - rng.uniform(0, 1, close.size) * spread,
        "close": close,
        "volume": rng.integers(0, 10_000, close.size).astype(np.float64),
    }


def _random(kind: str, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = 600
    walk = 100.0 + np.cumsum(rng.normal(size=n))
    close = {
        "walk": walk,
        "constant": np.full(n, 42.5),
        "tiny": walk * 1e-9,
        "huge": walk * 1e12,
        "noise": rng.normal(size=n),  # crosses zero: ROC's zero base, RSI's sign changes
        "steps": np.round(rng.uniform(0, 3, n)),  # repeats and exact zeros
    }[kind]
    return _ohlcv(close, rng)


KINDS = ["walk", "constant", "tiny", "huge", "noise", "steps"]
SEEDS = [0, 1, 2]


def _datasets():
    for kind in KINDS:
        for seed in SEEDS:
            yield pytest.param(("random", kind, seed), id=f"{kind}-{seed}")
    yield pytest.param(("real",), id="sp500")


@pytest.fixture(params=list(_datasets()))
def data(request, real_ohlcv) -> dict[str, np.ndarray]:
    if request.param[0] == "real":
        return real_ohlcv
    return _random(request.param[1], request.param[2])


# --- comparison -----------------------------------------------------------------------------
def assert_same(got, want, *inputs) -> None:
    """Same NaN positions; values within 1e-9 relative, or a tiny absolute error at the inputs'
    scale for values near 0 (a MACD of a flat series, a band of a constant one)."""
    got = np.asarray(got)
    want = np.asarray(want)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    assert got.shape == want.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg="NaN positions differ")
    finite = [np.abs(a[np.isfinite(a)]) for a in (want, *inputs)]
    scale = max((float(a.max()) for a in finite if a.size), default=0.0)
    mask = ~np.isnan(want)
    np.testing.assert_allclose(got[mask], want[mask], rtol=1e-9, atol=1e-12 * scale)


def assert_same_tuple(got, want, *inputs) -> None:
    assert isinstance(got, tuple) and len(got) == len(want)
    for g, w in zip(got, want):
        assert_same(g, w, *inputs)


# --- every function against TA-Lib ----------------------------------------------------------
@pytest.mark.parametrize("period", [2, 5, 30, 200])
def test_sma_ema(data, period):
    c = data["close"]
    assert_same(gi.sma(c, period), talib.SMA(c, period), c)
    assert_same(gi.ema(c, period), talib.EMA(c, period), c)


@pytest.mark.parametrize("period", [2, 14, 50])
def test_rsi(data, period):
    c = data["close"]
    assert_same(gi.rsi(c, period), talib.RSI(c, period))


@pytest.mark.parametrize("params", [(12, 26, 9), (5, 35, 5), (2, 3, 1), (26, 12, 9), (12, 12, 9)])
def test_macd(data, params):
    c = data["close"]
    assert_same_tuple(gi.macd(c, *params), talib.MACD(c, *params), c)


@pytest.mark.parametrize(
    "params", [(5, 2.0, 2.0), (20, 2.0, 2.0), (10, 1.5, 2.5), (20, 1.0, 1.0), (3, 0.0, -1.0)]
)
def test_bbands(data, params):
    c = data["close"]
    assert_same_tuple(gi.bbands(c, *params), talib.BBANDS(c, *params, matype=0), c)


@pytest.mark.parametrize("period", [1, 2, 14, 50])
def test_atr(data, period):
    h, lo, c = data["high"], data["low"], data["close"]
    assert_same(gi.atr(h, lo, c, period), talib.ATR(h, lo, c, period), h, lo, c)


@pytest.mark.parametrize("period", [1, 10, 30])
def test_roc(data, period):
    c = data["close"]
    assert_same(gi.roc(c, period), talib.ROC(c, period))


def test_obv(data):
    c, v = data["close"], data["volume"]
    assert_same(gi.obv(c, v), talib.OBV(c, v), v)


def test_defaults_match_talib(real_ohlcv):
    c, h, lo, v = (real_ohlcv[k] for k in ("close", "high", "low", "volume"))
    assert_same(gi.sma(c), talib.SMA(c, 30))
    assert_same(gi.ema(c), talib.EMA(c, 30))
    assert_same(gi.rsi(c), talib.RSI(c, 14))
    assert_same_tuple(gi.macd(c), talib.MACD(c, 12, 26, 9), c)
    # The spec's BBANDS default is 5 (TA-Lib's classic one; TA-Lib C 0.6+ reports 20).
    assert_same_tuple(gi.bbands(c), talib.BBANDS(c, 5, 2.0, 2.0, 0), c)
    assert_same(gi.atr(h, lo, c), talib.ATR(h, lo, c, 14))
    assert_same(gi.roc(c), talib.ROC(c, 10))
    assert_same(gi.obv(c, v), talib.OBV(c, v))


# --- input handling -------------------------------------------------------------------------
def test_leading_nans_skipped_like_talib():
    rng = np.random.default_rng(5)
    c = 50 + np.cumsum(rng.normal(size=200))
    c[:7] = np.nan
    d = _ohlcv(c, rng)
    d["low"][7:11] = np.nan  # several inputs: start where none is NaN
    assert_same(gi.sma(c, 10), talib.SMA(c, 10))
    assert_same(gi.rsi(c, 14), talib.RSI(c, 14))
    assert_same_tuple(gi.macd(c), talib.MACD(c), c)
    assert_same_tuple(gi.bbands(c, 20), talib.BBANDS(c, 20), c)
    assert_same(gi.atr(d["high"], d["low"], c, 5), talib.ATR(d["high"], d["low"], c, 5))
    assert_same(gi.obv(c, d["volume"]), talib.OBV(c, d["volume"]))
    allnan = np.full(5, np.nan)
    assert np.isnan(gi.ema(allnan, 2)).all()


def test_short_and_empty_inputs():
    c = np.array([1.0, 2.0, 3.0])
    assert_same(gi.sma(c, 5), talib.SMA(c, 5))
    assert_same_tuple(gi.macd(c), talib.MACD(c), c)
    assert gi.sma(np.array([]), 5).shape == (0,)


def test_array_likes_and_pandas(real_ohlcv):
    c = real_ohlcv["close"]
    s = pd.Series(c, index=pd.date_range("2000-01-01", periods=c.size))
    out = gi.sma(s, 20)
    assert type(out) is np.ndarray
    assert_same(out, talib.SMA(c, 20))
    assert_same(gi.rsi(list(c[:100])), talib.RSI(c[:100]))
    ints = np.arange(1, 60)  # int64 is converted to float64
    assert_same(gi.ema(ints, 10), talib.EMA(ints.astype(np.float64), 10))
    strided = c[::2]  # not contiguous
    assert_same(gi.sma(strided, 7), talib.SMA(np.ascontiguousarray(strided), 7))
    vol = pd.Series(real_ohlcv["volume"], dtype="Int64")  # nullable dtype
    assert_same(gi.obv(s, vol), talib.OBV(c, real_ohlcv["volume"]))


# --- bad input ------------------------------------------------------------------------------
X = np.linspace(1.0, 2.0, 50)


def test_error_type_is_a_value_error():
    assert issubclass(InvalidArgumentError, ValueError)


@pytest.mark.parametrize(
    "call, expected",
    [
        (
            lambda: gi.sma(X, 1),
            "sma: timeperiod 1 is not accepted; expected an integer in [2, 100000]",
        ),
        (lambda: gi.ema(X, 100001), "ema: timeperiod 100001 is not accepted"),
        (lambda: gi.rsi(X, -3), "rsi: timeperiod -3 is not accepted"),
        (
            lambda: gi.roc(X, 0),
            "roc: timeperiod 0 is not accepted; expected an integer in [1, 100000]",
        ),
        (lambda: gi.atr(X, X, X, 0), "atr: timeperiod 0 is not accepted"),
        (lambda: gi.sma(X, 10**12), "sma: timeperiod 1000000000000 is not accepted"),
        (lambda: gi.macd(X, fastperiod=1), "macd: fastperiod 1 is not accepted"),
        (lambda: gi.macd(X, slowperiod=0), "macd: slowperiod 0 is not accepted"),
        (lambda: gi.macd(X, signalperiod=0), "macd: signalperiod 0 is not accepted"),
        (lambda: gi.bbands(X, timeperiod=1), "bbands: timeperiod 1 is not accepted"),
        (lambda: gi.bbands(X, nbdevup=float("nan")), "bbands: nbdevup nan is not accepted"),
        (lambda: gi.bbands(X, nbdevdn=float("inf")), "bbands: nbdevdn inf is not accepted"),
        (lambda: gi.bbands(X, matype=1), "bbands: matype 1 is not accepted"),
    ],
)
def test_bad_parameters(call, expected):
    with pytest.raises(InvalidArgumentError) as e:
        call()
    assert expected in str(e.value)


def test_non_integer_period_is_a_type_error():
    with pytest.raises(TypeError, match="timeperiod"):
        gi.sma(X, 2.5)
    with pytest.raises(TypeError, match="timeperiod"):
        gi.rsi(X, True)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_after_start(bad):
    x = X.copy()
    x[5] = bad
    with pytest.raises(InvalidArgumentError, match=r"sma: real\[5\]"):
        gi.sma(x, 3)
    h = X.copy()
    h[7] = bad
    with pytest.raises(InvalidArgumentError, match=r"atr: high\[7\]"):
        gi.atr(h, X, X)
    with pytest.raises(InvalidArgumentError, match=r"obv: volume\[7\]"):
        gi.obv(X, h)


def test_not_one_dimensional():
    with pytest.raises(InvalidArgumentError, match="sma: real must be a 1-D array; got 2"):
        gi.sma(X.reshape(5, 10), 3)
    with pytest.raises(InvalidArgumentError, match="atr: low must be a 1-D array"):
        gi.atr(X, X.reshape(10, 5), X)
    with pytest.raises(InvalidArgumentError, match="1-D"):
        gi.rsi(np.float64(3.0))


def test_mismatched_lengths():
    with pytest.raises(InvalidArgumentError, match="atr: inputs high, low, close .* 50, 49, 50"):
        gi.atr(X, X[:-1], X)
    with pytest.raises(InvalidArgumentError, match="obv: inputs real, volume .* 50, 10"):
        gi.obv(X, X[:10])
