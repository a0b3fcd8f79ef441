"""A JavaScript client in headless Chromium (Debian's `chromium`, driven by Playwright;
see browser_helpers.py)."""

from __future__ import annotations

import pytest

import goldensignals as gs
from browser_helpers import chromium, needs_chromium
from server_helpers import make_runtime, served

pytestmark = needs_chromium

# Verbatim from the original GoldenSignals design document ("JavaScript/Browser").
DESIGN_DOC_JS = """
// Create WebSocket client
const ws = new WebSocket('ws://localhost:8000/ws/signals');

// Handle connection
ws.onopen = () => {
  console.log('Connected to GoldenSignals');
  
  // Subscribe to AAPL
  ws.send(JSON.stringify({
    type: 'subscribe',
    symbol: 'AAPL'
  }));
  
  // Trigger analysis
  ws.send(JSON.stringify({
    type: 'analyze',
    symbol: 'AAPL'
  }));
};

// Handle messages
ws.onmessage = (event) => {
  const data = JSON.parse(event.data);
  
  switch(data.type) {
    case 'agent_update':
      console.log(`Agent ${data.data.agent}: ${data.data.signal}`);
      break;
      
    case 'signal_update':
      console.log(`Signal: ${data.data.action} with ${data.data.confidence} confidence`);
      break;
  }
};
"""

# A page that also records every message, for assertions on what the browser received.
RECORDER_JS = """
window.received = [];
window.closeCode = null;
const rec = new WebSocket(window.WS_URL);
rec.onopen = () => {
  rec.send(JSON.stringify({type: 'subscribe', symbol: 'AAPL'}));
  rec.send(JSON.stringify({type: 'analyze', symbol: 'AAPL'}));
};
rec.onmessage = (e) => { window.received.push(JSON.parse(e.data)); };
rec.onclose = (e) => { window.closeCode = e.code; };
"""


def _wait_until(page, pred, limit_ms: int = 20_000) -> None:
    """Polls `pred` while letting the page's events reach Python."""
    waited = 0
    while not pred():
        assert waited < limit_ms, f"condition not met within {limit_ms} ms"
        page.wait_for_timeout(50)
        waited += 50


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def test_design_doc_javascript_client_in_chromium(browser):
    with served() as srv:
        js = DESIGN_DOC_JS.replace("localhost:8000", f"localhost:{srv.port}")
        assert js.count(f"localhost:{srv.port}") == 1
        page = browser.new_page()
        try:
            logs: list[str] = []
            page.on("console", lambda m: logs.append(m.text))
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.set_content("<!doctype html><title>client</title>")
            page.add_script_tag(content=js)
            _wait_until(page, lambda: any(x.startswith("Signal: ") for x in logs))
        finally:
            page.close()
    assert not errors, errors
    assert logs[0] == "Connected to GoldenSignals", logs
    votes = [x for x in logs if x.startswith("Agent ") and x.endswith(": BUY")]
    assert sorted(votes) == ["Agent Alpha: BUY", "Agent Beta: BUY", "Agent Gamma: BUY"], logs
    assert "Agent Orchestrator: ANALYZING" in logs
    signals = [x for x in logs if x.startswith("Signal: ")]
    assert signals and signals[0].startswith("Signal: BUY with 0.9"), logs


def test_browser_client_receives_the_analysis_and_a_clean_close(browser):
    rt = make_runtime(feed=None)
    with served(rt) as srv:
        page = browser.new_page()
        try:
            page.set_content("<!doctype html><title>recorder</title>")
            page.evaluate(f"window.WS_URL = {srv.signals!r}")
            page.add_script_tag(content=RECORDER_JS)
            page.wait_for_function(
                "() => window.received.some(m => m.type === 'decision_update')", timeout=20_000)
            received = page.evaluate("window.received")
            srv.stop()  # closes the browser's connection with 1001
            page.wait_for_function("() => window.closeCode !== null", timeout=20_000)
            close_code = page.evaluate("window.closeCode")
        finally:
            page.close()
    types = [m["type"] for m in received]
    assert types[0] == "heartbeat" and received[0]["client_id"]
    assert types[1] == "subscribe" and received[1]["status"] == "subscribed"
    assert any(m["type"] == "alert" and m["message"] == "Analysis started for AAPL"
               for m in received)
    assert types.index("signal_update") < types.index("decision_update")
    sig = received[types.index("signal_update")]["data"]
    dec = received[types.index("decision_update")]["data"]
    assert sig["action"] == "BUY" and dec["decision"]["signal_id"] == sig["signal_id"]
    assert close_code == 1001


def test_dashboard_page_loads_and_streams(browser):
    rt = make_runtime(feed=gs.feeds.Simulated(seed=7, interval=0.05), agents=0)
    rt.add_builtin_agents()
    with served(rt) as srv:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        opened: list[str] = []
        page.on("websocket", lambda ws: opened.append(ws.url))
        frames: list[str] = []

        def on_ws(ws):
            ws.on("framereceived", lambda payload: frames.append(
                payload if isinstance(payload, str) else payload.decode("utf-8", "replace")))

        page.on("websocket", on_ws)
        try:
            page.goto(srv.http + "/", wait_until="load", timeout=20_000)
            _wait_until(page, lambda: any('"price_update"' in f for f in frames))
        finally:
            page.close()
    assert not errors, errors
    assert any(u.endswith("/ws/signals") or "/ws/" in u for u in opened), opened
    assert any('"price_update"' in f for f in frames), frames[:5]
