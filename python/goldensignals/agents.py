"""Python agents: subclass :class:`Agent`, or decorate a function with ``Runtime.agent``."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

from . import _core
from ._core import AgentContext, InvalidArgumentError, Vote, builtin_agent_names

__all__ = ["Agent", "AgentContext", "Analog", "Vote", "analog_features", "load_agent",
           "load_agents"]  # and NewsRetrieval, imported on first use (__getattr__)

#: Native agents made by name that are not in the default panel.
OPTIONAL_NATIVE = ("Analog",)


class Agent:
    """Base class of a Python agent.

    Override :meth:`analyze` (a plain or an ``async`` method) to return a :class:`Vote`, or
    ``None`` to abstain. ``name`` defaults to the class name; ``weight`` is the operator's
    weight of its vote in the consensus; ``timeout`` is its deadline in seconds per analysis.
    An agent that raises, times out or returns anything else abstains for that analysis with
    a status, and repeated faults trip its circuit breaker.
    """

    name: str = ""
    weight: float = 1.0
    timeout: float | None = None

    def __init__(self, name: str | None = None, weight: float | None = None,
                 timeout: float | None = None) -> None:
        if name is not None:
            self.name = name
        if not self.name:
            self.name = type(self).__name__
        if weight is not None:
            self.weight = weight
        if timeout is not None:
            self.timeout = timeout

    def analyze(self, ctx: AgentContext) -> Vote | None | Any:
        raise NotImplementedError(f"{type(self).__name__}.analyze(ctx) is not implemented")

    def prepare(self, data: Any) -> None:
        """Called by a backtest with the bars it is about to replay (a DataFrame in the
        format of :mod:`goldensignals.datasets`), before the first analysis. The place for
        precomputation; whatever it derives must be used only up to each analysis' time,
        which ``goldensignals backtest --check-lookahead`` verifies."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, weight={self.weight}, timeout={self.timeout})"


class Analog:
    """Native agent that votes with what followed the past setups most like the present one.

    Each bar gets nine scale-free features from that bar and the 60 before it (returns over
    1, 5, 20 and 60 bars in units of the 20-bar volatility, the 20/60-bar volatility ratio,
    RSI(14), the distance from the 20- and 50-bar averages, the volume z-score; see
    docs/agents.md). Once a bar's outcome is known (``horizon`` bars later), its features and
    forward log return are remembered. An analysis retrieves the ``k`` nearest setups whose
    outcome was known at its time (the as-of filter: exact, also with the HNSW index used
    past ``exact_limit`` setups), weighs them by closeness and votes BUY or SELL when their
    weighted agreement reaches ``min_agreement``; the reasoning names the closest analogs.
    It runs on the compute pool, never holding the GIL.

    ``cross_symbol`` also retrieves other symbols' setups. ``prepare(data)`` (called by
    :func:`goldensignals.backtest`) or :meth:`learn` give it a history up front; whatever it
    learnt, a vote only reads outcomes known at the analysis' time.

    ``as_of=False`` and ``shuffle_outcomes=True`` are the evaluation's controls, not settings:
    the first lets retrieval read outcomes that were not yet known (it must look too good),
    the second pairs each setup with an outcome drawn from those known (no skill may remain;
    ``seed`` draws them, and the HNSW graph's levels).
    """

    def __init__(self, *, k: int = 20, horizon: int = 5, min_history: int = 50,
                 min_agreement: float = 0.2, cross_symbol: bool = False,
                 exact_limit: int = 50_000, max_vectors: int = 1_000_000, as_of: bool = True,
                 shuffle_outcomes: bool = False, seed: int = 42, name: str = "Analog",
                 weight: float = 1.0, timeout: float = 1.0) -> None:
        self._native = _core.AnalogAgent(
            k=k, horizon=horizon, min_history=min_history, min_agreement=min_agreement,
            cross_symbol=cross_symbol, exact_limit=exact_limit, max_vectors=max_vectors,
            as_of=as_of, shuffle_outcomes=shuffle_outcomes, seed=seed, name=name, weight=weight,
            timeout=timeout)
        self.horizon = horizon

    @property
    def name(self) -> str:
        return str(self._native.name)

    @property
    def weight(self) -> float:
        return float(self._native.weight)

    @property
    def timeout(self) -> float:
        return float(self._native.timeout)

    def learn(self, data: Any) -> None:
        """Learns bars (a frame in the format of :mod:`goldensignals.datasets`, or anything
        :func:`goldensignals.datasets.load` takes), oldest first per symbol."""
        import numpy as np

        from .datasets import load

        frame = load(data)
        for symbol, rows in frame.groupby("symbol", sort=False):
            ms = rows.index.as_unit("ms").asi8.astype(np.int64)
            self._native.learn(str(symbol), ms.tolist(), rows["close"].tolist(),
                               rows["volume"].tolist())

    prepare = learn  # a backtest hands its data over before the first analysis

    def nearest(self, features: Any, symbol: str, as_of: Any) -> list[dict[str, Any]]:
        """The analogs a vote of ``symbol`` at time ``as_of`` would read for ``features``
        (nine numbers, as :func:`analog_features` gives), nearest first."""
        import numpy as np
        import pandas as pd

        if isinstance(as_of, (int, np.integer)) and not isinstance(as_of, bool):
            ms = int(as_of)  # milliseconds since the epoch
        else:
            ts = pd.Timestamp(as_of)
            ms = (ts.tz_localize("UTC") if ts.tzinfo is None else ts).value // 1_000_000
        return list(self._native.nearest([float(x) for x in features], symbol, ms))

    def __len__(self) -> int:
        return int(self._native.size())

    def __repr__(self) -> str:
        return f"Analog(name={self.name!r}, horizon={self.horizon}, setups={len(self)})"


def analog_features(close: Any, volume: Any, j: int = -1) -> list[float] | None:
    """The Analog agent's nine features of bar ``j`` (default the last), from bars up to it."""
    c = [float(x) for x in close]
    v = [float(x) for x in volume]
    if not -len(c) <= j < len(c):
        raise InvalidArgumentError(f"analog_features: bar {j} is outside the {len(c)} bars given")
    return _core.analog_features(c, v, j % len(c))


def __getattr__(name: str) -> Any:
    """``gs.agents.NewsRetrieval``: the text retrieval agent of :mod:`goldensignals.news`
    (imported on first use)."""
    if name == "NewsRetrieval":
        from .news import NewsRetrieval

        return NewsRetrieval
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_agent(spec: str) -> Any:
    """The object a ``module:object`` spec names (as ``--agents`` takes it)."""
    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise InvalidArgumentError(f"--agents {spec!r} is not accepted; expected module:object")
    try:
        obj = importlib.import_module(module)
    except ImportError as e:
        raise InvalidArgumentError(f"--agents {spec}: module {module!r} cannot be imported ({e})") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InvalidArgumentError(f"--agents {spec}: {module} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def python_agent(spec: str) -> tuple[str, float, float | None, Any]:
    """(name, weight, timeout, fn) of the Python agent a ``module:object`` spec names: a
    :class:`Agent` subclass or instance, or a callable ``fn(ctx) -> Vote | None`` (named by
    its ``__name__``). goldensignals-server's ``--agents module:object`` registers agents
    through this, as ``goldensignals serve --agents`` does through :func:`load_agents`."""
    obj = load_agent(spec)
    if isinstance(obj, type) and issubclass(obj, Agent):
        obj = obj()
    if isinstance(obj, Agent):
        return obj.name, float(obj.weight), obj.timeout, obj.analyze
    if callable(obj):
        return getattr(obj, "__name__", spec.partition(":")[2]), 1.0, None, obj
    raise InvalidArgumentError(
        f"--agents {spec}: {type(obj).__name__} is not accepted; expected a gs.Agent or a "
        "callable(ctx) -> Vote")


def load_agents(rt: Any, agents: Any, *, data: Any = None) -> None:
    """Registers ``agents`` with the runtime ``rt``.

    ``agents``: None or ``"builtin"`` (every built-in agent), or an iterable of built-in
    names, ``module:object`` specs, :class:`Agent` instances or subclasses, and plain or
    async callables ``fn(ctx) -> Vote | None`` (named by ``__name__``). With ``data``, each
    Python agent that has a ``prepare(data)`` method gets it first.
    """
    if agents is None:
        agents = "builtin"
    items: Iterable[Any] = [agents] if isinstance(agents, (str, Agent)) or callable(agents) else agents
    builtins = set(builtin_agent_names())
    for item in items:
        if isinstance(item, str):
            if item == "builtin":
                rt.add_builtin_agents()
                continue
            if item in builtins:
                rt.add_builtin_agents([item])
                continue
            if item == "Analog":
                item = Analog()
            elif item == "NewsRetrieval":
                from .news import NewsRetrieval

                item = NewsRetrieval()
            elif ":" not in item:
                raise InvalidArgumentError(
                    f"agent {item!r} is not accepted; expected a built-in agent "
                    f"({', '.join(sorted(builtins))}), {', '.join(OPTIONAL_NATIVE)}, "
                    "NewsRetrieval, 'builtin' or module:object")
            else:
                item = load_agent(item)
        if isinstance(item, type) and issubclass(item, (Agent, Analog)):
            item = item()
        if data is not None and callable(getattr(item, "prepare", None)):
            item.prepare(data)
        if isinstance(item, Analog):
            rt.add_native_agent(item)
        elif isinstance(item, Agent):
            rt.add_agent(item)
        elif callable(item):
            rt.agent(getattr(item, "__name__", "agent"))(item)
        else:
            raise InvalidArgumentError(
                f"agent {item!r} is not accepted; expected a gs.Agent, a callable(ctx) -> Vote, "
                "a built-in agent's name or module:object")
