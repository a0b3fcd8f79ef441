"""Python agents: subclass :class:`Agent`, or decorate a function with ``Runtime.agent``."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

from ._core import AgentContext, InvalidArgumentError, Vote, builtin_agent_names

__all__ = ["Agent", "AgentContext", "Vote", "load_agent", "load_agents"]


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
            if ":" not in item:
                raise InvalidArgumentError(
                    f"agent {item!r} is not accepted; expected a built-in agent "
                    f"({', '.join(sorted(builtins))}), 'builtin' or module:object")
            item = load_agent(item)
        if isinstance(item, type) and issubclass(item, Agent):
            item = item()
        if data is not None and callable(getattr(item, "prepare", None)):
            item.prepare(data)
        if isinstance(item, Agent):
            rt.add_agent(item)
        elif callable(item):
            rt.agent(getattr(item, "__name__", "agent"))(item)
        else:
            raise InvalidArgumentError(
                f"agent {item!r} is not accepted; expected a gs.Agent, a callable(ctx) -> Vote, "
                "a built-in agent's name or module:object")
