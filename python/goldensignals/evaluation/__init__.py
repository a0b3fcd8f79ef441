"""Signal evaluation: a leak-free backtest through the live runtime, its metrics, the report,
and the look-ahead checker. See docs/evaluating-signals.md."""

from __future__ import annotations

from . import metrics
from .backtest import backtest
from .compare import compare
from .lookahead import LookaheadFinding, check_lookahead
from .report import BacktestReport

__all__ = ["BacktestReport", "LookaheadFinding", "backtest", "check_lookahead", "compare", "metrics"]
