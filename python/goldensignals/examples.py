"""Example Python agents, used by ``make run`` and the docs."""

from __future__ import annotations

import numpy as np

from ._core import AgentContext, Vote

__all__ = ["trend_regression"]


def trend_regression(ctx: AgentContext, window: int = 30) -> Vote | None:
    """Votes with the slope of a least-squares line through the last ``window`` closes.

    The slope is scaled by the residual noise, so a steady trend earns more confidence than a
    noisy one; it abstains until it has ``window`` bars.
    """
    close = ctx.close
    if len(close) < window:
        return None
    y = np.log(close[-window:])
    x = np.arange(window, dtype=float)
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (slope * x + intercept)
    noise = float(resid.std()) or 1e-12
    t = slope * window / noise  # move over the window, in units of noise
    confidence = float(min(0.95, abs(t) / 8.0))
    pct = slope * window * 100.0
    if abs(t) < 2.0:
        return Vote("HOLD", min(0.9, 0.5 + (2.0 - abs(t)) / 4.0),
                    [f"{window}-bar trend {pct:+.2f}% is within noise (t={t:.1f})"])
    action = "BUY" if t > 0 else "SELL"
    return Vote(action, confidence, [f"{window}-bar trend {pct:+.2f}% (t={t:.1f})"])
