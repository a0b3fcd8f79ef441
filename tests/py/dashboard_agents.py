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


# A panel with a known outcome: three confident BUYs and one BUY too weak to count.
def bull_a(ctx: gs.AgentContext) -> gs.Vote:
    return gs.Vote("BUY", 0.9, ["bull_a: breakout above resistance"], target_price=ctx.price * 1.05,
                   stop_loss=ctx.price * 0.97)


def bull_b(ctx: gs.AgentContext) -> gs.Vote:
    return gs.Vote("BUY", 0.8, ["bull_b: earnings beat"])


def bull_c(ctx: gs.AgentContext) -> gs.Vote:
    return gs.Vote("BUY", 0.7, ["bull_c: sector rotation"])


def unsure(ctx: gs.AgentContext) -> gs.Vote:
    return gs.Vote("BUY", 0.3, ["unsure: weak evidence"])
