"""The short soak and chaos run (`make soak` runs the long one): the native server with 200
WebSocket subscribers for 100 s, killed with SIGKILL and restarted every 30 s, a Python agent
that hangs on every 20th call, and the history on a small ext4 loop file system that is
filled up (with a kill and restart inside) and, later, frozen with fsfreeze. No client may
miss a stored message, see one twice, or fail to recover with `since` unless the run it was
on sent messages unstored; every seq a client got must be in the file or declared unstored."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER = Path(sys.executable).parent / "goldensignals-server"
DISK_TOOLS = ("unshare", "mount", "mkfs.ext4", "fsfreeze")


@pytest.mark.timeout(400)
@pytest.mark.skipif(not SERVER.exists(), reason="goldensignals-server is not installed")
@pytest.mark.skipif(os.geteuid() != 0 or not all(shutil.which(t) for t in DISK_TOOLS),
                    reason="the disk faults need root and " + ", ".join(DISK_TOOLS))
def test_kills_and_disk_faults_lose_nothing_and_clients_resume(tmp_path: Path) -> None:
    report = tmp_path / "soak.json"
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "soak.py"), "--seconds", "100",
                        "--subscribers", "200", "--kill-every", "30", "--hang-every", "20",
                        "--disk-every", "30", "--disk-hold", "8", "--kill-in-full",
                        "--disk-mib", "128", "--json", str(report)],
                       capture_output=True, text=True, timeout=380, check=False)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    s = json.loads(report.read_text())
    assert s["kills"] >= 3  # two on the clock, one while the disk was full
    assert s["reconnects"] >= 3 * 200  # every client came back after every kill
    assert s["messages"] > 20_000
    assert s["seqs_checked_in_store"] > 1_000
    assert s["lost"] == [] and s["duplicates"] == [] and s["unrecovered"] == []
    assert s["missing_in_store"] == [] and s["problems"] == []
    assert s["hung_agent"]["timeouts"] >= 1  # the hang happened and was a timeout, not a stall

    full, stuck = s["disk_events"][0], s["disk_events"][1]
    assert full["kind"] == "full" and stuck["kind"] == "stuck"
    # Full: degraded with the cause named, live messages went on, writing resumed.
    assert full["degraded_after_s"] is not None and "disk is full" in full["reason"]
    assert full["messages_while_full"] > 0 and full["healthy_after_freed_s"] is not None
    # Messages went out unstored, the file's floor covers them, and the restart inside the
    # full disk jumped seq: the clients on that run were told recovered: false.
    assert s["unstored_received"] > 0
    assert s["unrecovered_after_degraded"] >= 200
    # Stuck: nothing went out unstored, the network thread kept answering, /health said so.
    assert stuck["pong_while_frozen_s"] is not None
    assert stuck["degraded_after_s"] is not None and "waited" in stuck["reason"]
    assert stuck["messages_while_frozen"] == 0
    assert stuck["healthy_after_thaw_s"] is not None
