"""Headless Firefox (Debian's `firefox-esr`) driven over WebDriver BiDi, for the browser tests.

Playwright's own Firefox build cannot be had here, and Debian's Firefox speaks the W3C
WebDriver BiDi protocol itself when started with ``--remote-debugging-port``: this module starts
it with a fresh profile, opens a BiDi session over a WebSocket (the ``websockets`` package) and
offers the few commands the tests need. Clicks and typing go through ``input.performActions``
(real pointer and key events, as a person's), console messages and uncaught errors arrive as
``log.entryAdded`` events. Every wait is bounded.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loopback import free_port

FIREFOX = os.environ.get("GS_TEST_FIREFOX") or shutil.which("firefox-esr") or shutil.which("firefox") \
    or "/usr/bin/firefox-esr"

needs_firefox = pytest.mark.skipif(not os.path.exists(FIREFOX),
                                   reason=f"no Firefox at {FIREFOX} (apt-get install firefox-esr)")

# A quiet profile: no first-run pages, no update or telemetry traffic (there is no network).
_PREFS = {
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.startup.page": 0,
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "app.update.disabledForTesting": True,
    "app.normandy.enabled": False,
    "extensions.update.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "browser.region.network.url": "",
}


class BiDiError(AssertionError):
    pass


class Firefox:
    """One headless Firefox and one BiDi session on its first tab."""

    def __init__(self, log_path: Path) -> None:
        from websockets.sync.client import connect

        self._profile = tempfile.mkdtemp(prefix="gs-firefox-")
        with open(os.path.join(self._profile, "user.js"), "w") as f:
            for k, v in _PREFS.items():
                f.write(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n")
        port = free_port()
        log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "MOZ_HEADLESS": "1", "HOME": self._profile, "MOZ_CRASHREPORTER_DISABLE": "1"}
        with open(log_path, "a") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [FIREFOX, "--headless", "--no-remote", "--profile", self._profile,
                 "--remote-debugging-port", str(port), "about:blank"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        self.events: list[dict[str, Any]] = []
        self._id = 0
        self._stack = contextlib.ExitStack()
        self._ws: Any = None
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise BiDiError(f"firefox exited with {self.proc.returncode}: {log_path.read_text()[-2000:]}")
            try:
                # Entered as a context manager (what websockets >= 17.1 asks), closed in close().
                self._ws = self._stack.enter_context(
                    connect(f"ws://127.0.0.1:{port}/session", open_timeout=5, max_size=64 << 20))
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.close()
                    raise BiDiError(f"firefox: no WebDriver BiDi on port {port} within 60 s") from None
                time.sleep(0.2)
        try:
            self.command("session.new", {"capabilities": {"alwaysMatch": {"acceptInsecureCerts": True}}})
            tree = self.command("browsingContext.getTree", {})
            self.context = tree["contexts"][0]["context"]
            self.command("session.subscribe", {"events": ["log.entryAdded"]})
        except BaseException:
            self.close()
            raise

    # -- protocol ---------------------------------------------------------------------------------
    def command(self, method: str, params: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
        self._id += 1
        my = self._id
        self._ws.send(json.dumps({"id": my, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BiDiError(f"{method}: no answer within {timeout} s")
            msg = json.loads(self._ws.recv(timeout=left))
            if msg.get("type") == "event":
                self.events.append(msg)
            elif msg.get("id") == my:
                if msg.get("type") == "error":
                    raise BiDiError(f"{method}: {msg.get('error')}: {msg.get('message')}")
                return dict(msg["result"])

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page (promises are awaited)."""
        r = self.command("script.evaluate", {
            "expression": f"(async () => JSON.stringify(await ({expression})))()",
            "target": {"context": self.context}, "awaitPromise": True, "resultOwnership": "none"})
        if r["type"] != "success":
            details = r.get("exceptionDetails", {})
            raise BiDiError(f"evaluate {expression!r}: {details.get('text')}")
        value = r["result"]
        return None if value["type"] == "undefined" else json.loads(value["value"])

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        """Polls until the expression is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BiDiError(f"waited {timeout} s for {expression!r}; last value {value!r}")
            time.sleep(0.1)

    def _element(self, selector: str) -> dict[str, Any]:
        r = self.command("script.evaluate", {
            "expression": f"document.querySelector({json.dumps(selector)})",
            "target": {"context": self.context}, "awaitPromise": False, "resultOwnership": "root"})
        if r["type"] != "success" or r["result"].get("type") != "node":
            raise BiDiError(f"no element matches {selector!r}")
        return {"sharedId": r["result"]["sharedId"]}

    # -- what a person does -----------------------------------------------------------------------
    def goto(self, url: str) -> None:
        self.command("browsingContext.navigate", {"context": self.context, "url": url, "wait": "complete"})

    def set_viewport(self, width: int, height: int) -> None:
        self.command("browsingContext.setViewport",
                     {"context": self.context, "viewport": {"width": width, "height": height}})

    def click(self, selector: str) -> None:
        """A real left click at the middle of the element."""
        element = self._element(selector)
        self.command("input.performActions", {"context": self.context, "actions": [{
            "type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
            "actions": [{"type": "pointerMove", "x": 0, "y": 0, "origin": {"type": "element", "element": element}},
                        {"type": "pointerDown", "button": 0}, {"type": "pointerUp", "button": 0}]}]})
        self.command("input.releaseActions", {"context": self.context})

    def fill(self, selector: str, text: str) -> None:
        """Clicks into a field, clears it and types the text key by key."""
        self.click(selector)
        self.evaluate(f"document.querySelector({json.dumps(selector)}).select()")
        keys: list[dict[str, Any]] = [{"type": "keyDown", "value": "\ue003"}, {"type": "keyUp", "value": "\ue003"}]
        for ch in text:
            keys += [{"type": "keyDown", "value": ch}, {"type": "keyUp", "value": ch}]
        self.command("input.performActions", {"context": self.context, "actions": [
            {"type": "key", "id": "keyboard", "actions": keys}]})
        self.command("input.releaseActions", {"context": self.context})

    def screenshot(self, path: Path) -> None:
        r = self.command("browsingContext.captureScreenshot", {"context": self.context})
        path.write_bytes(base64.b64decode(r["data"]))

    def log_entries(self) -> list[dict[str, Any]]:
        """Console messages and uncaught errors so far: {level, type, text}."""
        self.evaluate("0")  # collects the events that arrived since the last command
        return [e["params"] for e in self.events if e.get("method") == "log.entryAdded"]

    # -- end --------------------------------------------------------------------------------------
    def close(self) -> None:
        ws = getattr(self, "_ws", None)
        if ws is not None:
            with contextlib.suppress(Exception):
                self.command("session.end", {}, timeout=10)
            with contextlib.suppress(Exception):
                self._stack.close()
            self._ws = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        shutil.rmtree(self._profile, ignore_errors=True)


@contextlib.contextmanager
def firefox(log_path: Path) -> Iterator[Firefox]:
    ff = Firefox(log_path)
    try:
        yield ff
    finally:
        ff.close()
