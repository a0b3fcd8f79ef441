"""Helpers shared by the runtime tests."""

from __future__ import annotations

import time

import goldensignals as gs


def replay_runtime(frame, **settings):
    settings.setdefault("analyze_on_start", False)
    settings.setdefault("signal_generation_interval", 3e7)  # only explicit analyses:
    settings.setdefault("move_threshold", 0.9)  # neither time nor moves trigger one
    return gs.Runtime(symbols=["AAPL"], feed=gs.feeds.Replay(frame, speed=0), **settings)


def wait_replayed(rt, frame, limit=30.0):
    """Waits until the replay delivered its last bar and no analysis is running."""
    last = float(frame["Close"].iloc[-1])
    end = time.monotonic() + limit
    while time.monotonic() < end:
        ctx = rt.context("AAPL")
        if ctx is not None and ctx.close[-1] == last:
            rt.wait_idle("AAPL")
            return
        time.sleep(0.02)
    raise AssertionError("replay did not finish")


def eventually(pred, limit=5.0):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.01)
    raise AssertionError("condition not met in time")
