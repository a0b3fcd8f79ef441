"""Walk-forward calibration of the consensus's confidence: each signal's confidence is mapped
to a probability of being right by a map fitted only on signals whose horizon had closed
before that signal was made, so no signal is ever scored with a map that saw its outcome."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from . import metrics as m

__all__ = ["METHODS", "walk_forward_calibrate"]

# method: (fit a map on confidences and outcomes, apply it to confidences)
METHODS: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "isotonic": (m.isotonic_fit, m.isotonic_predict),
    "platt": (m.platt_fit, m.platt_predict),
}


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
    fit_map, apply_map = METHODS[method]
    conf = np.asarray(confidence, float)
    y = np.asarray(hit, float)
    decided = np.asarray(decided_ms, np.int64)
    closed = np.asarray(closed_ms, np.int64)
    order = np.argsort(closed, kind="stable")
    closed_sorted = closed[order]
    out = np.empty(len(conf))
    known_before = np.searchsorted(closed_sorted, decided, side="right")
    fitted_on, fitted = -1, None  # the last map (forecasts come roughly in time order)
    for i in range(len(conf)):
        k = int(known_before[i])
        if k < min_fit:
            out[i] = y[order[:k]].mean() if k else 0.5
            continue
        if k != fitted_on:
            fitted_on, fitted = k, fit_map(conf[order[:k]], y[order[:k]])
        out[i] = float(np.clip(apply_map(fitted, conf[i:i + 1])[0], 0.0, 1.0))
    return out
