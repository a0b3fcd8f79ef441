"""The native goldensignals-server: the same protocol smoke test as the Python-started server."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import websockets

SERVER = Path(sys.executable).parent / "goldensignals-server"
pytestmark = pytest.mark.skipif(not SERVER.exists(), reason="goldensignals-server not installed")


def start(*args: str) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen([str(SERVER), "--port", "0", "--symbols", "AAPL,NVDA", "--interval",
                             "0.05", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    end = time.monotonic() + 30
    assert proc.stdout is not None
    while time.monotonic() < end:
        line = proc.stdout.readline()
        m = re.search(r"on http://127\.0\.0\.1:(\d+)/", line)
        if m:
            return proc, int(m.group(1))
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"server did not start: {proc.stdout.read()}")


async def smoke(port: int) -> dict[str, int]:
    seen: dict[str, int] = {}
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/signals") as ws:
        welcome = json.loads(await ws.recv())
        assert welcome["type"] == "heartbeat" and welcome["message"] == "Connected to GoldenSignals WebSocket"
        await ws.send(json.dumps({"type": "subscribe", "symbol": "aapl"}))
        await ws.send(json.dumps({"type": "analyze", "symbol": "AAPL"}))
        await ws.send(json.dumps({"type": "bogus"}))
        end = time.monotonic() + 20
        # A periodic analysis may already be half-way when the subscription lands, so its
        # decision can arrive after only part of its agent updates: read on until full ones did.
        while time.monotonic() < end and not ({"decision_update", "unknown_type"} <= seen.keys()
                                              and seen.get("agent_update", 0) >= 6):
            msg = json.loads(await asyncio.wait_for(ws.recv(), 20))
            seen[msg["type"]] = seen.get(msg["type"], 0) + 1
            if msg["type"] == "alert" and msg.get("code") == "unknown_type":
                seen["unknown_type"] = 1
    return seen


def test_native_server_speaks_the_protocol_and_stops_cleanly():
    proc, port = start()
    try:
        assert json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/health")) == {"status": "ok"}
        seen = asyncio.run(smoke(port))
        assert seen.get("subscribe") == 1 and seen.get("decision_update", 0) >= 1
        assert seen.get("agent_update", 0) >= 6 and seen.get("unknown_type") == 1
        status = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/ws/status"))
        assert status["orchestrator"]["running"] is True
        assert {a["name"] for a in status["agents"]} >= {"TechnicalAnalyst", "VolatilityRegime"}
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/").read().decode()
        assert "GoldenSignals" in page
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "stopped" in out


def test_native_server_loads_python_agents_through_the_embedded_interpreter():
    proc, port = start("--agents", "goldensignals.examples:trend_regression", "--log-level", "debug")
    try:
        status = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/ws/status"))
        assert "trend_regression" in {a["name"] for a in status["agents"]}
        asyncio.run(smoke(port))
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert re.search(r"debug AAPL trend_regression (BUY|SELL|HOLD)", out), out[-2000:]


def test_native_server_takes_the_python_agent_settings(tmp_path: Path) -> None:
    """GS_AGENT_TIMEOUT and GS_PYTHON_WORKERS reach the embedded interpreter's agents."""
    (tmp_path / "slow_agent.py").write_text(
        "import time\nimport goldensignals as gs\n\n"
        "def slow(ctx):\n    time.sleep(0.5)\n    return gs.Vote('BUY', 0.9)\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "GS_AGENT_TIMEOUT": "0.1",
           "GS_PYTHON_WORKERS": "3"}
    proc = subprocess.Popen([str(SERVER), "--port", "0", "--symbols", "AAPL", "--interval", "0.05",
                             "--signal-generation-interval", "1", "--agents", "slow_agent:slow",
                             "--breaker-faults", "1000"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        assert proc.stdout is not None
        port, lines = 0, []
        end = time.monotonic() + 30
        while time.monotonic() < end and not port:
            lines.append(proc.stdout.readline())
            m = re.search(r"on http://127\.0\.0\.1:(\d+)/", lines[-1])
            port = int(m.group(1)) if m else 0
        assert port, "".join(lines)
        assert "slow_agent:slow (3 Python workers)" in "".join(lines)
        stats: dict[str, object] = {}
        end = time.monotonic() + 30
        while time.monotonic() < end:
            status = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/ws/status"))
            stats = next(a for a in status["agents"] if a["name"] == "slow")
            if int(stats.get("timeouts", 0)) >= 2:
                break
            time.sleep(0.2)
        # A 0.5 s agent against the 0.1 s deadline: timeouts, never a vote in time.
        assert int(stats.get("timeouts", 0)) >= 2, stats
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0


def test_native_server_refuses_bad_settings_with_the_setting_named():
    for args, env, needle in (
        (["--port", "70000"], {}, "--port"),
        ([], {"AGENT_MIN_CONFIDENCE": "2"}, "AGENT_MIN_CONFIDENCE '2' is not accepted"),
        (["--agents", "no_such_module:x"], {}, "no_such_module"),
        (["--feed", "replay:/nonexistent.csv"], {}, "/nonexistent.csv"),
    ):
        r = subprocess.run([str(SERVER), *args], capture_output=True, text=True, timeout=60,
                           env={**os.environ, **env})
        assert r.returncode != 0
        assert needle in r.stderr + r.stdout, (args, r.stderr)


def test_native_server_help_names_every_setting():
    out = subprocess.run([str(SERVER), "--help"], capture_output=True, text=True, check=True).stdout
    for env in ("GS_HOST", "GS_PORT", "GS_SYMBOLS", "AGENT_MIN_CONFIDENCE", "AGENT_CONSENSUS_THRESHOLD",
                "SIGNAL_GENERATION_INTERVAL", "WS_HEARTBEAT_INTERVAL", "WS_MESSAGE_QUEUE_SIZE",
                "WS_MAX_CONNECTIONS"):
        assert env in out, env
    assert shutil.which("goldensignals-server") or SERVER.exists()
