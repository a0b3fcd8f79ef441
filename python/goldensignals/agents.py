"""Python agents: subclass :class:`Agent`, or decorate a function with ``Runtime.agent``."""

from __future__ import annotations

from typing import Any

from ._core import AgentContext, Vote

__all__ = ["Agent", "AgentContext", "Vote"]


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

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, weight={self.weight}, timeout={self.timeout})"
