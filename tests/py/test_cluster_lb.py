"""Three nodes behind HAProxy with deploy/haproxy.cfg, the configuration docs/operations.md
shows: a gs.Client through the load balancer keeps one stream when the node it is on is
killed (it reconnects to another node and resumes with `since`), and the dashboard served
through it says which node analyzes the selected symbol."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import goldensignals as gs
import pytest
from cluster_helpers import (
    HAPROXY,
    REDIS,
    SERVER,
    Node,
    cluster,
    eventually,
    haproxy,
    once_in_order,
)

pytestmark = [
    pytest.mark.skipif(not SERVER.exists(), reason="goldensignals-server not installed"),
    pytest.mark.skipif(REDIS is None, reason="redis-server missing: make test installs it"),
    pytest.mark.skipif(HAPROXY is None, reason="haproxy missing: make test installs it"),
]


def serving(nodes: dict[str, Node]) -> Node:
    """The node the (one) WebSocket client is connected to."""
    def find() -> Node | None:
        for n in nodes.values():
            if n.proc.poll() is None and n.get("/ws/status")[1]["websocket_manager"][
                    "active_connections"] > 0:
                return n
        return None
    return eventually(find, 10, "the node serving the client")


def test_a_client_through_the_balancer_survives_its_node_being_killed(tmp_path: Path) -> None:
    with cluster(tmp_path, lease=1.0) as (redis, nodes), haproxy([n.port for n in nodes.values()]) as lb:
        async def run() -> tuple[list[int], dict[str, Any], int]:
            seqs: list[int] = []
            async with gs.Client(f"ws://{lb}/ws/signals", backoff=0.1, max_backoff=0.5) as c:
                await c.subscribe("NVDA")
                killed = False
                end = time.monotonic() + 20
                while time.monotonic() < end and (not killed or c.connects < 2 or len(seqs) < 60):
                    msg = await c.recv(timeout=10)
                    if msg.seq is not None and msg.symbol == "NVDA":
                        seqs.append(msg.seq)
                    if not killed and len(seqs) >= 30:
                        victim = await asyncio.to_thread(serving, nodes)
                        victim.proc.kill()
                        killed = True
                return seqs, dict(c.recovered), c.connects

        seqs, recovered, connects = asyncio.run(run())
        assert connects >= 2  # it moved to another node
        assert recovered.get("NVDA") is True, recovered  # that node had what it missed
        once_in_order(redis, "NVDA", seqs)  # one stream: no gap, no duplicate


def test_the_dashboard_says_which_node_analyzes_the_symbol(tmp_path: Path) -> None:
    from browser_helpers import CHROMIUM, chromium
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium missing: make test installs it")
    with cluster(tmp_path, ("a", "b"), lease=1.0) as (_redis, nodes), \
            haproxy([n.port for n in nodes.values()]) as lb, chromium() as browser:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"http://{lb}/")
        page.fill("#symbol", "TSLA")
        page.click("#subscribe")
        page.click('#watchlist tr[data-symbol="TSLA"]')
        owner = nodes["a"].cluster()["owners"]["TSLA"]
        page.wait_for_function(
            "want => document.querySelector('#sel-owner').textContent === want",
            arg=f"analyzed on {owner}", timeout=20_000)
        assert "of 2" in page.inner_text("#server")  # node X of 2
        assert not errors, errors
