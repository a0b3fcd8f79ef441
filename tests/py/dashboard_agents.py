"""Python agents for the dashboard test's server (loaded with --agents dashboard_agents:NAME)."""

from __future__ import annotations

import time

import goldensignals as gs


def sleepy(ctx: gs.AgentContext) -> gs.Vote:
    """Answers long after any deadline the test sets: the dashboard shows TIMEOUT."""
    time.sleep(1.5)
    return gs.Vote("BUY", 0.9)


def broken(ctx: gs.AgentContext) -> gs.Vote:
    """Always raises: the dashboard shows FAILED with the reason."""
    raise RuntimeError("model file missing")
