"""GoldenSignals: a real-time multi-agent signal runtime.

Native C++ agents and Python model agents vote on each market event that matters; a
Byzantine-robust consensus turns the votes into a signal. See the README and docs/.

>>> import goldensignals as gs
>>> rt = gs.Runtime(symbols=["AAPL"], feed=gs.feeds.Simulated(seed=7))
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as _version

from . import _core, datasets, evaluation, feeds, indicators, settings
from ._core import (
    AgentContext,
    AgentUpdate,
    AnalysisTimeoutError,
    BadMarketDataError,
    ConsensusResult,
    Decision,
    GoldenSignalsError,
    InvalidArgumentError,
    RuntimeStateError,
    Signal,
    UnknownSymbolError,
    Vote,
    builtin_agent_names,
)
from .agents import Agent
from .client import Client
from .consensus import consensus
from .evaluation import BacktestReport, backtest, check_lookahead
from .runtime import OrchestratorSettings, Runtime, StoredEvent

try:
    __version__ = _version("goldensignals")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = _core.__version__

__all__ = [
    "Agent",
    "AgentContext",
    "AgentUpdate",
    "AnalysisTimeoutError",
    "BacktestReport",
    "BadMarketDataError",
    "Client",
    "ConsensusResult",
    "Decision",
    "GoldenSignalsError",
    "InvalidArgumentError",
    "OrchestratorSettings",
    "Runtime",
    "RuntimeStateError",
    "Signal",
    "StoredEvent",
    "UnknownSymbolError",
    "Vote",
    "__version__",
    "backtest",
    "builtin_agent_names",
    "check_lookahead",
    "consensus",
    "datasets",
    "evaluation",
    "feeds",
    "indicators",
    "settings",
]
