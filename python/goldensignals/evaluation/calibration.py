"""Walk-forward calibration of the consensus's confidence: each signal's confidence is mapped
to a probability of being right by a map fitted only on signals whose horizon had closed
before that signal was made, so no signal is ever scored with a map that saw its outcome."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from . import metrics as m

__all__ = ["METHODS", "walk_forward_calibrate"]

METHODS = ("isotonic", "platt")


def walk_forward_calibrate(confidence: npt.ArrayLike, hit: npt.ArrayLike,
                           decided_ms: npt.ArrayLike, closed_ms: npt.ArrayLike, *,
                           method: str = "isotonic", min_fit: int = 50) -> np.ndarray:
    """Calibrated confidences, one per forecast (any order).

    For forecast i the map is fitted on the forecasts whose outcome was known when it was
    made (``closed_ms <= decided_ms[i]``: ``closed_ms`` is the time of the bar whose close
    ended the horizon, ``decided_ms`` that of the bar whose close it was made on). With fewer
    than ``min_fit`` of them, the forecast gets their hit rate (0.5 with none): a
    climatological forecast, still walk-forward.
    """
    if method not in METHODS:
        raise ValueError(f"calibrate: method {method!r} is not accepted; expected one of "
                         f"{', '.join(METHODS)}")
    conf = np.asarray(confidence, float)
    y = np.asarray(hit, float)
    decided = np.asarray(decided_ms, np.int64)
    closed = np.asarray(closed_ms, np.int64)
    order = np.argsort(closed, kind="stable")
    closed_sorted = closed[order]
    out = np.empty(len(conf))
    known_before = np.searchsorted(closed_sorted, decided, side="right")
    cache: dict[int, object] = {}
    for i in range(len(conf)):
        k = int(known_before[i])
        if k < min_fit:
            out[i] = y[order[:k]].mean() if k else 0.5
            continue
        fit = cache.get(k)
        if fit is None:
            idx = order[:k]
            fit = (m.isotonic_fit(conf[idx], y[idx]) if method == "isotonic"
                   else m.platt_fit(conf[idx], y[idx]))
            cache = {k: fit}  # forecasts come roughly in time order: keep the latest fit
        p = (m.isotonic_predict(fit, conf[i:i + 1]) if method == "isotonic"  # type: ignore[arg-type]
             else m.platt_predict(fit, conf[i:i + 1]))  # type: ignore[arg-type]
        out[i] = float(np.clip(p[0], 0.0, 1.0))
    return out
