"""The short soak and chaos run (`make soak` runs the long one): the native server with 200
WebSocket subscribers for 60 s, killed with SIGKILL and restarted every 20 s, a Python agent
that hangs on every 20th call. No client may miss a stored message, see one twice, or fail to
recover with `since`; every seq a client got must be in the file after each kill."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER = Path(sys.executable).parent / "goldensignals-server"


@pytest.mark.timeout(300)
@pytest.mark.skipif(not SERVER.exists(), reason="goldensignals-server is not installed")
def test_kill_nine_restarts_lose_nothing_and_clients_resume(tmp_path: Path) -> None:
    report = tmp_path / "soak.json"
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "soak.py"), "--seconds", "60",
                        "--subscribers", "200", "--kill-every", "20", "--hang-every", "20",
                        "--json", str(report)], capture_output=True, text=True, timeout=280, check=False)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    s = json.loads(report.read_text())
    assert s["kills"] >= 2
    assert s["reconnects"] >= 2 * 200  # every client came back after every kill
    assert s["messages"] > 20_000
    assert s["seqs_checked_in_store"] > 1_000
    assert s["lost"] == [] and s["duplicates"] == [] and s["unrecovered"] == []
    assert s["missing_in_store"] == [] and s["problems"] == []
    assert s["hung_agent"]["timeouts"] >= 1  # the hang happened and was a timeout, not a stall
