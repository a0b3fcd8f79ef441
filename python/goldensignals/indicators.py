"""Technical indicators over whole series, with TA-Lib's names, parameters, defaults and numbers.

Every function takes 1-D array-likes (NumPy arrays, lists, pandas Series), converts them to
float64 and returns NumPy float64 arrays of the same length. As with TA-Lib's Python wrapper:

* the first ``lookback`` outputs are NaN (e.g. ``timeperiod - 1`` for :func:`sma`);
* leading NaNs in the input are skipped: the output is NaN over them and the indicator starts
  after them (for several inputs, after the first index where none of them is NaN).

Unlike TA-Lib, a NaN or inf after the first valid value raises
:class:`goldensignals.InvalidArgumentError` (a ``ValueError``) naming the input and the index,
instead of silently spreading NaN; so do out-of-range parameters, inputs that are not 1-D and
inputs of different lengths.

The computation runs in the native core (``goldensignals._core.indicators``) with the GIL
released. It runs the same streaming code the runtime uses bar by bar, so these numbers are
also the live ones.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _core

__all__ = ["atr", "bbands", "ema", "macd", "obv", "roc", "rsi", "sma"]

_native = _core.indicators
_MAX_PERIOD = 100_000
_INT_MAX = 2**31 - 1

FloatArray = npt.NDArray[np.float64]


def _real(x: Any) -> Any:
    """pandas Series (and other objects with ``to_numpy``) as NumPy, with NA as NaN."""
    if hasattr(x, "to_numpy") and not isinstance(x, np.ndarray):
        return x.to_numpy(dtype=np.float64, na_value=np.nan)
    return x


def _period(fn: str, name: str, value: Any, lo: int) -> int:
    """An integer parameter; values beyond a C int get the same message the core gives."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{fn}: {name} must be an integer; got bool {value!r}")
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(
            f"{fn}: {name} must be an integer; got {type(value).__name__} {value!r}"
        ) from None
    if not -_INT_MAX <= v <= _INT_MAX:
        raise _core.InvalidArgumentError(
            f"{fn}: {name} {v} is not accepted; expected an integer in [{lo}, {_MAX_PERIOD}]"
        )
    return v


def sma(real: npt.ArrayLike, timeperiod: int = 30) -> FloatArray:
    """Simple moving average (TA-Lib ``SMA``).

    ``out[i]`` is the mean of ``real[i - timeperiod + 1 : i + 1]``; NaN for the first
    ``timeperiod - 1`` values. ``timeperiod`` is in [2, 100000].
    """
    return _native.sma(_real(real), _period("sma", "timeperiod", timeperiod, 2))


def ema(real: npt.ArrayLike, timeperiod: int = 30) -> FloatArray:
    """Exponential moving average (TA-Lib ``EMA``).

    Seeded at index ``timeperiod - 1`` with the mean of the first ``timeperiod`` values, then
    ``ema += (x - ema) * k`` with ``k = 2 / (timeperiod + 1)``. ``timeperiod`` is in [2, 100000].
    """
    return _native.ema(_real(real), _period("ema", "timeperiod", timeperiod, 2))


def rsi(real: npt.ArrayLike, timeperiod: int = 14) -> FloatArray:
    """Relative strength index with Wilder smoothing (TA-Lib ``RSI``), in [0, 100].

    The first average gain and loss are plain means of the first ``timeperiod`` changes; the
    output starts at index ``timeperiod``. When the average gain and loss are both zero (a flat
    series) the RSI is 0, as in TA-Lib. ``timeperiod`` is in [2, 100000].
    """
    return _native.rsi(_real(real), _period("rsi", "timeperiod", timeperiod, 2))


def macd(
    real: npt.ArrayLike, fastperiod: int = 12, slowperiod: int = 26, signalperiod: int = 9
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Moving average convergence/divergence (TA-Lib ``MACD``).

    Returns ``(macd, macdsignal, macdhist)``: ``macd = EMA(fast) - EMA(slow)``,
    ``macdsignal = EMA(macd, signalperiod)``, ``macdhist = macd - macdsignal``. All three are
    NaN for the first ``slowperiod + signalperiod - 2`` values. As in TA-Lib, both EMAs start
    at index ``slowperiod - 1`` (the fast one seeded with the mean of the last ``fastperiod``
    of those values), and a fast period above the slow one is swapped with it.
    ``fastperiod`` and ``slowperiod`` are in [2, 100000], ``signalperiod`` in [1, 100000].
    """
    return _native.macd(
        _real(real),
        _period("macd", "fastperiod", fastperiod, 2),
        _period("macd", "slowperiod", slowperiod, 2),
        _period("macd", "signalperiod", signalperiod, 1),
    )


def bbands(
    real: npt.ArrayLike,
    timeperiod: int = 5,
    nbdevup: float = 2.0,
    nbdevdn: float = 2.0,
    matype: int = 0,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Bollinger bands (TA-Lib ``BBANDS``).

    Returns ``(upperband, middleband, lowerband)``: the middle band is the SMA, the others
    are ``middle + nbdevup * sd`` and ``middle - nbdevdn * sd`` with ``sd`` the population
    standard deviation over the window (exactly 0 for a constant window, as in TA-Lib).
    NaN for the first ``timeperiod - 1`` values. ``timeperiod`` is in [2, 100000];
    ``nbdevup``/``nbdevdn`` must be finite; only ``matype=0`` (SMA) is supported.
    """
    if isinstance(matype, (bool, np.bool_)) or matype != 0:
        raise _core.InvalidArgumentError(
            f"bbands: matype {matype!r} is not accepted; only 0 (SMA) is supported"
        )
    return _native.bbands(
        _real(real), _period("bbands", "timeperiod", timeperiod, 2), float(nbdevup), float(nbdevdn)
    )


def atr(
    high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, timeperiod: int = 14
) -> FloatArray:
    """Average true range with Wilder smoothing (TA-Lib ``ATR``).

    The true range starts at index 1; the first ATR, at index ``timeperiod``, is the mean of
    the first ``timeperiod`` true ranges. The three inputs must have the same length.
    ``timeperiod`` is in [1, 100000].
    """
    return _native.atr(
        _real(high), _real(low), _real(close), _period("atr", "timeperiod", timeperiod, 1)
    )


def roc(real: npt.ArrayLike, timeperiod: int = 10) -> FloatArray:
    """Rate of change in percent (TA-Lib ``ROC``): ``(real[i] / real[i - timeperiod] - 1) * 100``.

    0 where the earlier value is 0, as in TA-Lib. NaN for the first ``timeperiod`` values.
    ``timeperiod`` is in [1, 100000].
    """
    return _native.roc(_real(real), _period("roc", "timeperiod", timeperiod, 1))


def obv(real: npt.ArrayLike, volume: npt.ArrayLike) -> FloatArray:
    """On-balance volume (TA-Lib ``OBV``).

    Starts at ``volume[0]``; then adds the volume when the price rises, subtracts it when the
    price falls. Defined from the first value. Both inputs must have the same length.
    """
    return _native.obv(_real(real), _real(volume))
