"""The browser tests' common parts: a `goldensignals serve` process on a loopback port, and
headless Chromium (Debian's `chromium`, driven by Playwright; Firefox is in firefox_bidi.py).

Playwright never downloads a browser here: PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD is set and the
system Chromium is launched through `executable_path`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server_helpers import http_get

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

CHROMIUM = os.environ.get("GS_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "build" / "test-output"
CLI = Path(sys.executable).with_name("goldensignals")
SYMBOLS = ("AAPL", "MSFT", "NVDA", "SPY", "TSLA")
WATCHLIST_20 = ("AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA", "SPY", "QQQ", "JPM",
                "V", "MA", "UNH", "XOM", "JNJ", "PG", "HD", "KO", "PEP", "AVGO")
WAIT_MS = 30_000  # generous: two cores shared with the rest of the suite

needs_chromium = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                    reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--headless=new"])
        try:
            yield b
        finally:
            b.close()



class ServerProcess:
    """`goldensignals serve` on a fixed loopback port, fast simulated bars, agents that vote."""

    def __init__(self, port: int, symbols: tuple[str, ...] = SYMBOLS, interval: float = 0.1,
                 agents: tuple[str, ...] = ("--agents", "goldensignals.examples:trend_regression")) -> None:
        self.port = port
        self.symbols, self.interval, self.agents = symbols, interval, agents
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = OUT / "dashboard-server.log"

    def start(self) -> None:
        args = [str(CLI), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--quiet",
                "--symbols", ",".join(self.symbols), "--interval", str(self.interval), "--seed", "11",
                *self.agents,
                "--agent-consensus-threshold", "0.55", "--agent-min-confidence", "0.5",
                "--ws-heartbeat-interval", "5"]
        OUT.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).parent), *filter(None, [os.environ.get("PYTHONPATH")])])}
        with open(self.log, "a") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"server exited: {self.log.read_text()}"
            try:
                if http_get(self.url + "/health", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server on {self.url} not healthy within 60 s")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise
        finally:
            self.proc = None
        assert code == 0, f"server exited with {code}: {self.log.read_text()}"
