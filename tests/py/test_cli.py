"""The goldensignals command line: help, settings as flags, the demo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CLI = str(Path(sys.executable).parent / "goldensignals")


@pytest.mark.parametrize("command", ["serve", "watch", "status", "demo"])
def test_every_command_answers_help(command):
    r = subprocess.run([CLI, command, "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "usage: goldensignals" in r.stdout


def test_serve_has_a_flag_per_setting_and_refuses_bad_values_by_name():
    out = subprocess.run([CLI, "serve", "--help"], capture_output=True, text=True, timeout=60).stdout
    for flag, env in (("--agent-min-confidence", "AGENT_MIN_CONFIDENCE"),
                      ("--ws-message-queue-size", "WS_MESSAGE_QUEUE_SIZE"), ("--port", "GS_PORT")):
        assert flag in out and env in out
    r = subprocess.run([CLI, "serve", "--agent-consensus-threshold", "1.5", "--seconds", "1"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "--agent-consensus-threshold '1.5' is not accepted" in r.stderr  # as given
    r = subprocess.run([CLI, "serve", "--feed", "ftp:x", "--seconds", "1"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "--feed 'ftp:x'" in r.stderr


def test_demo_prints_votes_and_decisions():
    r = subprocess.run([CLI, "demo", "--symbols", "AAPL,NVDA", "--interval", "0.05", "--seconds", "3"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "TechnicalAnalyst" in r.stdout and "trend_regression" in r.stdout
    assert "SIGNAL" in r.stdout or "NO_SIGNAL" in r.stdout
    assert "stopped:" in r.stdout.splitlines()[-1]
