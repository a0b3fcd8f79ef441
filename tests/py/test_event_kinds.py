"""Only the events Python listens to are turned into Python objects: a callback registered at
any time starts its kind flowing, and kinds nobody listens to never fill the event queue."""

from __future__ import annotations

import time

import goldensignals as gs


def test_unheard_events_never_fill_the_queue_and_late_callbacks_still_hear() -> None:
    walk = gs.datasets.random_walk(n=3000, seed=2)
    # A queue of 16 would overflow at once if the 3,000 prices and every agent step went in.
    rt = gs.Runtime(feed=gs.feeds.Replay(walk.reset_index(), speed=0), event_queue=16,
                    analyze_on_start=False, signal_generation_interval=3e7, move_threshold=0.9)
    rt.add_builtin_agents()
    with rt:
        while not rt._core.wait_feed(0.1):
            pass
        assert rt.status()["events"]["dropped"] == 0
        decisions: list[gs.Decision] = []
        updates: list[gs.AgentUpdate] = []
        rt.on_decision(decisions.append)
        rt.analyze("RW")
        deadline = time.monotonic() + 10
        while not decisions and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(decisions) == 1 and updates == []
        rt.on_agent_update(updates.append)  # registered while running
        rt.analyze("RW")
        while len(decisions) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        agents = {u.agent for u in updates if u.signal in ("BUY", "SELL", "HOLD", "ABSTAIN")}
        assert agents == set(gs.builtin_agent_names()), updates
        assert rt.status()["events"]["dropped"] == 0
