"""Agents for the evaluation tests: one that peeks at the next bar (the look-ahead checker
must catch it) and an oracle (pins the sign conventions). Both see the whole data set in
prepare(), as a careless model agent would."""

from __future__ import annotations

from typing import Any

import numpy as np

import goldensignals as gs


def _by_symbol(data: Any) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    out = {}
    for sym, g in data.groupby("symbol"):
        ts = g.index.as_unit("ms").asi8
        out[str(sym)] = (ts, g["open"].to_numpy(float), g["close"].to_numpy(float))
    return out


class NextBarPeeker(gs.Agent):
    """Votes the direction of the next bar (open to close): look-ahead by construction."""

    name = "NextBarPeeker"

    def prepare(self, data: Any) -> None:
        self.bars = _by_symbol(data)

    def analyze(self, ctx: gs.AgentContext) -> gs.Vote | None:
        ts, o, c = self.bars[ctx.symbol]
        i = int(np.searchsorted(ts, ctx.time[-1])) + 1
        if i >= len(ts):  # the data ends here: nothing to peek at
            return gs.Vote("HOLD", 0.5)
        return gs.Vote("BUY" if c[i] > o[i] else "SELL", 0.9)


class Oracle(gs.Agent):
    """Votes the sign of the forward return the scorer will measure (entry at the next open,
    exit at the close `horizon` bars later), with confidence proportional to its size."""

    name = "Oracle"

    def __init__(self, horizon: int = 5, scale: float = 1.0) -> None:
        super().__init__()
        self.horizon, self.scale = horizon, scale

    def prepare(self, data: Any) -> None:
        self.bars = _by_symbol(data)

    def analyze(self, ctx: gs.AgentContext) -> gs.Vote | None:
        ts, o, c = self.bars[ctx.symbol]
        i = int(np.searchsorted(ts, ctx.time[-1]))
        if i + self.horizon >= len(ts):
            return None
        r = c[i + self.horizon] / o[i + 1] - 1.0
        if r == 0:
            return None
        return gs.Vote("BUY" if r > 0 else "SELL", min(0.99, abs(r) * self.scale))


peeker = NextBarPeeker()


class Contrarian(Oracle):
    """The oracle's opposite: always wrong, and sure of it."""

    name = "Contrarian"

    def analyze(self, ctx: gs.AgentContext) -> gs.Vote | None:
        v = super().analyze(ctx)
        if v is None:
            return None
        return gs.Vote("SELL" if v.action == "BUY" else "BUY", 0.9)


contrarian = Contrarian(5, 5.0)
