"""Real clients against a served runtime: the original design document's Python snippet run
unchanged, ``gs.Client`` (including reconnect with re-subscribe after a restart on the same
port) and the ``goldensignals`` console script (watch, status, serve)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import goldensignals as gs
from goldensignals.client import Client
from server_helpers import AGENTS, WAIT, eventually, make_runtime, run, served

CLI = Path(sys.executable).with_name("goldensignals")

# Verbatim from the original GoldenSignals design document ("Python Client").
DESIGN_DOC_SNIPPET = '''
import asyncio
import json
import websockets

async def client():
    uri = "ws://localhost:8000/ws/signals"
    
    async with websockets.connect(uri) as websocket:
        # Subscribe to symbol
        await websocket.send(json.dumps({
            "type": "subscribe",
            "symbol": "NVDA"
        }))
        
        # Listen for updates
        async for message in websocket:
            data = json.loads(message)
            print(f"Received: {data['type']}")
'''


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _read_lines_until(proc: subprocess.Popen, pred, limit: float = 30.0) -> list[str]:
    """Lines of `proc`'s stdout until `pred(lines)`; the process is killed afterwards."""
    import selectors

    lines: list[str] = []
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    end = time.monotonic() + limit
    buf = b""
    try:
        while not pred(lines):
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"output incomplete after {limit} s: {lines}")
            if not sel.select(min(left, 0.5)):
                if proc.poll() is not None:
                    raise AssertionError(f"exited {proc.returncode}: {lines} "
                                         f"{proc.stderr.read().decode()}")
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                raise AssertionError(f"stdout closed: {lines} {proc.stderr.read().decode()}")
            buf += chunk
            *done, buf = buf.split(b"\n")
            lines += [x.decode() for x in done]
    finally:
        sel.close()
        proc.kill()
        proc.communicate(timeout=WAIT)
    return lines


# --- the design document's Python client -------------------------------------------------------
def test_design_doc_python_snippet_works_unchanged(tmp_path):
    rt = make_runtime(feed=gs.feeds.Simulated(seed=7, interval=0.05), agents=0)
    rt.add_builtin_agents()
    with served(rt) as srv:
        # Only the port differs from the document (8000 may be taken on a shared machine);
        # "localhost" stays, so the client resolves it as the document's user would.
        code = DESIGN_DOC_SNIPPET.replace("localhost:8000", f"localhost:{srv.port}")
        assert code.count(f"localhost:{srv.port}") == 1
        script = tmp_path / "client.py"
        script.write_text(code + "\nasyncio.run(client())\n")
        proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=_env())
        lines = _read_lines_until(
            proc, lambda ls: "Received: price_update" in ls and "Received: subscribe" in ls)
    assert lines[0] == "Received: heartbeat"  # the welcome
    assert lines[1] == "Received: subscribe"
    assert all(re.fullmatch(r"Received: [a-z_]+", x) for x in lines), lines


# --- gs.Client ----------------------------------------------------------------------------------
def test_client_is_exported_as_gs_client():
    assert gs.Client is Client


def test_client_subscribe_analyze_iterate():
    with served() as srv:
        async def main():
            async with Client(srv.signals) as c:
                await c.subscribe("aapl")
                await c.analyze("AAPL")
                got = []
                async def collect():
                    async for msg in c:
                        got.append(msg)
                        if msg.type == "decision_update":
                            return
                await asyncio.wait_for(collect(), WAIT)
                await c.get_status()
                while (m := await c.recv(timeout=WAIT)).type != "status_update":
                    pass
                await c.unsubscribe("AAPL")
                while (u := await c.recv(timeout=WAIT)).type != "unsubscribe":
                    pass
                return c.client_id, c.connects, got, m, u

        client_id, connects, got, status, unsub = run(main())
    assert client_id and connects == 1
    types = [m.type for m in got]
    assert types[0] == "heartbeat" and types[1] == "subscribe"
    assert "signal_update" in types and types[-1] == "decision_update"
    sig = next(m for m in got if m.type == "signal_update")
    assert sig.symbol == "AAPL" and sig.data["action"] == "BUY" and isinstance(sig.seq, int)
    votes = {m.data["agent"] for m in got if m.type == "agent_update"
             and m.data["signal"] == "BUY"}
    assert votes == set(AGENTS)
    assert status.data["websocket_connections"] == 1
    assert unsub.raw["status"] == "unsubscribed"


def test_client_reconnects_and_resubscribes_after_restart_on_same_port():
    first = served()
    srv = first.__enter__()
    port = srv.port
    try:
        async def main():
            async with Client(srv.signals, backoff=0.05, max_backoff=0.5) as c:
                await c.subscribe("AAPL")
                await c.subscribe("nvda")
                n = 0
                while n < 2:
                    n += (await c.recv(timeout=WAIT)).type == "subscribe"
                first_id = c.client_id
                await asyncio.to_thread(first.__exit__, None, None, None)  # 1001 to the client

                rt2 = make_runtime()
                rt2.serve(host="127.0.0.1", port=port, block=False)
                try:
                    def resubscribed():
                        st = rt2.server_status()
                        return st and st["websocket_manager"]["rooms"] == {"AAPL": 1, "NVDA": 1}
                    await asyncio.to_thread(eventually, resubscribed, 20.0, "re-subscribed")
                    rt2.publish_tick("NVDA", 222.0, 5)
                    seen = []
                    while True:
                        m = await c.recv(timeout=WAIT)
                        seen.append(m)
                        if m.type == "price_update":
                            break
                    return first_id, c.client_id, c.connects, seen
                finally:
                    await asyncio.to_thread(rt2.stop)

        first_id, second_id, connects, seen = run(main())
    finally:
        first.__exit__(None, None, None)
    assert connects == 2
    assert second_id and second_id != first_id
    types = [m.type for m in seen]
    assert types.count("subscribe") == 2 and "heartbeat" in types
    assert seen[-1].symbol == "NVDA" and seen[-1].data["price"] == 222.0


def test_client_without_reconnect_reports_the_end():
    with served() as srv:
        async def main():
            c = Client(srv.signals, reconnect=False)
            try:
                await c.connect()
                assert (await c.recv(timeout=WAIT)).type == "heartbeat"
                await asyncio.to_thread(srv.stop)
                with pytest.raises(ConnectionError):
                    while True:
                        await c.recv(timeout=3)
            finally:
                await c.close()  # also collects the background task's outcome

        run(main())


# --- the console script ------------------------------------------------------------------------
def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, timeout=timeout,
                          env=_env())


def test_cli_watch_prints_votes_signal_and_counts():
    with served() as srv:
        r = _cli("watch", srv.signals, "--symbol", "AAPL", "--analyze", "--seconds", "4")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    votes = [x for x in lines if re.match(r"^\s+AAPL\s+(Alpha|Beta|Gamma)\s+BUY\s+0\.90", x)]
    assert len(votes) == 3, r.stdout
    signals = [x for x in lines if x.startswith("SIGNAL AAPL")]
    assert len(signals) == 1 and " BUY " in signals[0], r.stdout
    counts_line = lines[-1]
    assert counts_line.startswith("messages by type: "), r.stdout
    counts = {k: int(v) for k, v in
              (p.split() for p in counts_line[len("messages by type: "):].split(", "))}
    assert counts["signal_update"] == 1 and counts["decision_update"] == 1
    assert counts["heartbeat"] == 1 and counts["subscribe"] == 1 and counts["alert"] == 1
    assert counts["agent_update"] >= 4  # ANALYZING and three votes at least


def test_cli_watch_no_signal_prints_the_decision():
    with served(agents=2) as srv:
        r = _cli("watch", srv.signals, "--symbol", "NVDA", "--analyze", "--seconds", "3")
    assert r.returncode == 0, r.stderr
    assert re.search(r"^NO_SIGNAL NVDA\s+quorum", r.stdout, re.M), r.stdout
    assert "decision_update 1" in r.stdout.splitlines()[-1]


def test_cli_status_prints_the_status_json():
    with served() as srv:
        r = _cli("status", srv.http)
        r2 = _cli("status", srv.signals)  # a ws:// URL works too
        direct = srv.status()
    assert r.returncode == 0 and r2.returncode == 0, (r.stderr, r2.stderr)
    body = json.loads(r.stdout)
    assert set(body) >= {"websocket_manager", "orchestrator", "agents"}  # fields may be added
    assert body["orchestrator"] == direct["orchestrator"]
    assert sorted(a["name"] for a in body["agents"]) == sorted(AGENTS)
    assert json.loads(r2.stdout)["orchestrator"]["running"] is True


def test_cli_status_unreachable_server_fails_with_one_line():
    from loopback import free_port

    port = free_port()
    r = _cli("status", f"http://127.0.0.1:{port}")
    assert r.returncode == 1 and "cannot read" in r.stderr and "Traceback" not in r.stderr


def test_cli_serve_help():
    r = _cli("serve", "--help")
    assert r.returncode == 0, r.stderr
    for flag in ("--host", "--port", "--symbols", "--agents", "--seconds"):
        assert flag in r.stdout


def test_cli_serve_serves_the_protocol():
    proc = subprocess.Popen(
        [str(CLI), "serve", "--port", "0", "--symbols", "AAPL", "--interval", "0.05",
         "--quiet", "--seconds", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    try:
        url = None
        end = time.monotonic() + 30
        while url is None:
            assert time.monotonic() < end, "serve printed no WebSocket URL"
            line = proc.stdout.readline().decode()
            assert line, f"serve exited {proc.wait(WAIT)}: {proc.stderr.read().decode()}"
            if "WebSocket" in line:
                url = line.split()[-1]
        assert re.fullmatch(r"ws://127\.0\.0\.1:\d+/ws/signals", url), url

        async def main():
            async with Client(url, reconnect=False) as c:
                await c.subscribe("AAPL")
                while (m := await c.recv(timeout=WAIT)).type != "price_update":
                    pass
                return m

        m = run(main())
        assert m.symbol == "AAPL" and m.data["price"] > 0
    finally:
        proc.kill()
        proc.communicate(timeout=WAIT)
