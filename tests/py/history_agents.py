"""Agents for the history tests' server processes (loaded with --agents history_agents:NAME):
deterministic votes, so every analysis ends in a signal."""

from __future__ import annotations

import goldensignals as gs


def buy_a(ctx: gs.AgentContext) -> gs.Vote:
    return gs.Vote("BUY", 0.9)


def buy_b(ctx: gs.AgentContext) -> gs.Vote:
    return gs.Vote("BUY", 0.8)


def buy_c(ctx: gs.AgentContext) -> gs.Vote:
    return gs.Vote("BUY", 0.85)
