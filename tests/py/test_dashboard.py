"""The dashboard (web/, served at `/`) in headless Chromium against a real `goldensignals serve`.

One scenario, in the order a person would use it: the page loads clean, watches the server's
symbols, subscribes and unsubscribes, runs an analysis and shows the agents' votes and the
decision, survives a restart of the server on the same port, and keeps updating. A screenshot
goes to build/test-output/dashboard.png, and to docs/images/dashboard.png when
GS_UPDATE_SCREENSHOT=1.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from loopback import free_port

from browser_helpers import (OUT, ROOT, SYMBOLS, WAIT_MS, WATCHLIST_20, ServerProcess, chromium,
                             needs_chromium)

pytestmark = needs_chromium

@pytest.fixture
def server():
    srv = ServerProcess(free_port())
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def _row_price(page: Any, sym: str) -> str:
    return page.inner_text(f'#watchlist tr[data-symbol="{sym}"] td:nth-child(2)')


def test_dashboard_live_analysis_restart_and_screenshot(browser, server):
    page = browser.new_page(viewport={"width": 1440, "height": 900}, device_scale_factor=1)
    console: list[tuple[str, str]] = []
    errors: list[str] = []
    sent: list[dict[str, Any]] = []
    page.on("console", lambda m: console.append((m.type, m.text)))
    page.on("pageerror", lambda e: errors.append(str(e)))

    received: list[dict[str, Any]] = []

    def on_ws(ws: Any) -> None:
        ws.on("framesent", lambda p: sent.append(json.loads(p)) if isinstance(p, str) else None)
        ws.on("framereceived", lambda p: received.append(json.loads(p)) if isinstance(p, str) else None)

    page.on("websocket", on_ws)
    try:
        page.goto(server.url + "/", wait_until="load", timeout=WAIT_MS)

        # Connected; every symbol the server tracks is watched, with a price and a sparkline.
        page.wait_for_selector('#conn[data-state="open"]', timeout=WAIT_MS)
        for sym in SYMBOLS:
            page.wait_for_selector(f'#watchlist tr[data-symbol="{sym}"]:not(.off)', timeout=WAIT_MS)
        page.wait_for_function(
            "syms => syms.every(s => { const r = document.querySelector(`#watchlist tr[data-symbol=\"${s}\"]`);"
            " return r && r.cells[1].textContent !== '–'; })", arg=list(SYMBOLS), timeout=WAIT_MS)
        assert page.inner_text("#server").startswith("server: running"), page.inner_text("#server")
        assert "history ok" in page.inner_text("#server"), page.inner_text("#server")

        # Unsubscribe and subscribe again with the controls.
        page.fill("#symbol", "spy")
        page.click("#unsubscribe")
        page.wait_for_selector('#watchlist tr[data-symbol="SPY"].off', timeout=WAIT_MS)
        page.fill("#symbol", "spy")
        page.click("#subscribe")
        page.wait_for_selector('#watchlist tr[data-symbol="SPY"]:not(.off)', timeout=WAIT_MS)
        assert {"type": "unsubscribe", "symbol": "SPY"} in sent
        assert {"type": "subscribe", "symbol": "SPY"} in sent

        # Analyze the selected symbol: every agent's vote, then the consensus or NO_SIGNAL.
        page.click('#watchlist tr[data-symbol="NVDA"] td.sym')
        # The page draws on the next animation frame.
        page.wait_for_function("() => document.querySelector('#sel-title').textContent === 'NVDA'",
                               timeout=WAIT_MS)
        page.click("#analyze")
        page.wait_for_function(
            "() => document.querySelectorAll('#agents tbody tr[data-signal=\"BUY\"],"
            " #agents tbody tr[data-signal=\"SELL\"], #agents tbody tr[data-signal=\"HOLD\"]').length >= 5",
            timeout=WAIT_MS)
        assert {"type": "analyze", "symbol": "NVDA"} in sent
        page.wait_for_function("() => document.querySelector('#consensus').textContent.includes('Consensus')",
                               timeout=WAIT_MS)
        agents = page.eval_on_selector_all("#agents tbody tr", "rs => rs.map(r => r.dataset.agent)")
        assert {"TechnicalAnalyst", "Momentum", "trend_regression"} <= set(agents), agents
        page.wait_for_function("() => document.querySelector('#decisions li') !== null", timeout=WAIT_MS)
        bars = page.eval_on_selector_all("#agents .fill", "fs => fs.map(f => parseFloat(f.style.width))")
        assert bars and all(0 < b <= 100 for b in bars), bars

        # The simulated market produces signals on its own; show one on the chart.
        page.wait_for_selector("#signals li", timeout=WAIT_MS)
        sig_sym = page.get_attribute("#signals li", "data-symbol")
        page.click(f'#watchlist tr[data-symbol="{sig_sym}"] td.sym')
        # Enough history for a readable chart (a bar every 0.1 s), then the latest analysis.
        page.wait_for_function("s => (window.goldensignals.points(s) >= 100)", arg=sig_sym, timeout=WAIT_MS)
        page.wait_for_function("() => document.querySelector('#consensus').textContent !== ''"
                               " && !document.querySelector('#agents .badge.PROCESSING')", timeout=WAIT_MS)

        # Live scoring: each agent's track record (hit rate and Brier of its scored votes,
        # five bars after each) and the consensus's, from the server's status.
        page.wait_for_function("() => [...document.querySelectorAll('#agents td.record')]"
                               ".some(td => td.dataset.hitRate !== undefined)", timeout=WAIT_MS)
        records = page.eval_on_selector_all(
            "#agents td.record", "tds => tds.map(t => [t.textContent, t.dataset.hitRate ?? null, t.title])")
        scored = [r for r in records if r[1] is not None]
        assert scored, records
        for text, rate, title in scored:
            assert 0.0 <= float(rate) <= 1.0 and text.startswith(f"{math.floor(float(rate) * 100 + 0.5)}% · ")
            assert "scored 5 bars later" in title, title
        assert page.locator("#consensus-record").count() == 1
        # A signal's result, once its horizon closed, is marked on it in the feed.
        page.wait_for_selector("#signals li[data-hit] .outcome", timeout=WAIT_MS)
        hit, mark = page.eval_on_selector("#signals li[data-hit]",
                                          "li => [li.dataset.hit, li.querySelector('.outcome').textContent]")
        assert mark.startswith("✓ +" if hit == "true" else "✗ "), (hit, mark)
        assert mark.endswith("%") and (hit == "true") == (float(mark[2:-1]) > 0), (hit, mark)

        assert not errors, errors
        assert not [c for c in console if c[0] == "error"], console
        OUT.mkdir(parents=True, exist_ok=True)
        shot = OUT / "dashboard.png"
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 20_000
        if os.environ.get("GS_UPDATE_SCREENSHOT") == "1":
            shutil.copyfile(shot, ROOT / "docs" / "images" / "dashboard.png")

        # Restart the server on the same port and the same history file (GS_DB): the page
        # reconnects, resumes each symbol with `since`, and the numbering goes on.
        n_sent, n_received = len(sent), len(received)
        server.stop()
        page.wait_for_selector('#conn[data-state="reconnecting"]', timeout=WAIT_MS)
        seq_before = page.evaluate("() => window.goldensignals.lastSeq('AAPL')")
        assert seq_before > 0
        before = _row_price(page, "AAPL")
        server.start()
        page.wait_for_selector('#conn[data-state="open"]', timeout=WAIT_MS)
        resumed = [m for m in sent[n_sent:] if m.get("type") == "subscribe" and m.get("symbol") == "AAPL"]
        assert resumed and resumed[0].get("since") == seq_before, resumed
        page.wait_for_function("s => window.goldensignals.lastSeq('AAPL') > s", arg=seq_before, timeout=WAIT_MS)
        after = received[n_received:]
        confirm = next(k for k, m in enumerate(after) if m.get("type") == "subscribe" and m.get("symbol") == "AAPL")
        assert after[confirm].get("recovered") is True, after[confirm]
        first = next(m for m in after[confirm + 1:] if m.get("seq") and m.get("data", {}).get("symbol") == "AAPL")
        assert first["seq"] > seq_before, (first, seq_before)
        assert "not in the server's history" not in page.inner_text("#notice")
        page.wait_for_function(
            "before => document.querySelector('#watchlist tr[data-symbol=\"AAPL\"]').cells[1].textContent !== before"
            " && window.goldensignals.lastSeq('AAPL') > 0", arg=before, timeout=WAIT_MS)
        page.click('#watchlist tr[data-symbol="AAPL"] td.sym')
        n_decisions = page.eval_on_selector_all("#decisions li", "ls => ls.length")
        page.click("#analyze")
        page.wait_for_function("n => document.querySelectorAll('#decisions li').length > n",
                               arg=n_decisions, timeout=WAIT_MS)
        page.wait_for_function(
            "() => document.querySelectorAll('#agents tbody tr[data-signal=\"BUY\"],"
            " #agents tbody tr[data-signal=\"SELL\"], #agents tbody tr[data-signal=\"HOLD\"]').length >= 5",
            timeout=WAIT_MS)
    finally:
        page.close()
    assert not errors, errors
    # While the server was down, the browser itself reports the refused connection attempts;
    # nothing else may be an error.
    others = [t for k, t in console if k == "error"
              and "ERR_CONNECTION_REFUSED" not in t and "WebSocket connection to" not in t]
    assert not others, console


def test_dashboard_batches_twenty_busy_symbols_per_animation_frame(browser):
    """20 symbols, a bar every 50 ms each (400 price updates a second, plus the analyses):
    every row keeps updating and the page draws at most once per animation frame, so the work
    per frame does not grow with the message rate."""
    srv = ServerProcess(free_port(), symbols=WATCHLIST_20, interval=0.05, agents=())
    srv.start()
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(srv.url + "/", wait_until="load", timeout=WAIT_MS)
        page.wait_for_function("n => document.querySelectorAll('#watchlist tbody tr:not(.off)').length === n",
                               arg=len(WATCHLIST_20), timeout=WAIT_MS)
        page.wait_for_function("syms => syms.every(s => window.goldensignals.points(s) >= 40)",
                               arg=list(WATCHLIST_20), timeout=WAIT_MS)
        start = page.evaluate("""() => new Promise(done => {
            const s0 = window.goldensignals.stats(); let frames = 0; const t0 = performance.now();
            const tick = () => { frames++; if (performance.now() - t0 < 3000) requestAnimationFrame(tick);
                                 else done({s0, s1: window.goldensignals.stats(), frames,
                                            ms: performance.now() - t0}); };
            requestAnimationFrame(tick); })""")
    finally:
        page.close()
        srv.stop()
    assert not errors, errors
    s0, s1 = start["s0"], start["s1"]
    messages, renders = s1["messages"] - s0["messages"], s1["renders"] - s0["renders"]
    print(f"20 symbols: {messages} messages, {renders} renders, {start['frames']} frames in "
          f"{start['ms']:.0f} ms; mean render {s1['renderMs'] / max(1, s1['renders']):.2f} ms, "
          f"max {s1['maxRenderMs']:.1f} ms")
    assert messages > 300, messages
    assert renders <= start["frames"] + 1, (renders, start["frames"])
    assert renders * 2 < messages, (renders, messages)


def test_dashboard_sends_the_token_on_the_upgrade_url(browser):
    srv = ServerProcess(free_port(), symbols=("AAPL",), interval=0.5, agents=())
    srv.start()
    page = browser.new_page()
    urls: list[str] = []
    page.on("websocket", lambda ws: urls.append(ws.url))
    try:
        page.goto(srv.url + "/?token=tok-from-url", wait_until="load", timeout=WAIT_MS)
        page.wait_for_selector('#conn[data-state="open"]', timeout=WAIT_MS)
        assert urls == [f"ws://127.0.0.1:{srv.port}/ws/signals?token=tok-from-url"], urls
        page.fill("#token", "a.b+c")
        with page.expect_websocket(timeout=WAIT_MS) as opened:
            page.click("#reconnect")
        assert opened.value.url == f"ws://127.0.0.1:{srv.port}/ws/signals?token=a.b%2Bc", urls
        page.wait_for_selector('#conn[data-state="open"]', timeout=WAIT_MS)
    finally:
        page.close()
        srv.stop()


@contextlib.contextmanager
def _aapl_page(browser: Any, agents: tuple[str, ...], symbols: tuple[str, ...] = ("AAPL",),
               interval: float = 0.5) -> Iterator[Any]:
    """A server of AAPL (and `symbols`) with these agents (analyses only when asked) and the
    dashboard on it, AAPL selected; no page error may happen."""
    srv = ServerProcess(free_port(), symbols=symbols, interval=interval,
                        agents=(*agents, "--move-threshold", "0.5", "--signal-generation-interval", "3600"))
    srv.start()
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(srv.url + "/", wait_until="load", timeout=WAIT_MS)
        page.wait_for_selector('#watchlist tr[data-symbol="AAPL"]:not(.off)', timeout=WAIT_MS)
        page.wait_for_function("() => window.goldensignals.selected === 'AAPL'", timeout=WAIT_MS)
        yield page
    finally:
        page.close()
        srv.stop()
    assert not errors, errors


def test_agent_panel_shows_processing_timeout_and_failed(browser):
    """A slow agent past its deadline and one that raises, next to the native agents."""
    with _aapl_page(browser, ("--agents", "dashboard_agents:sleepy", "--agents", "dashboard_agents:broken",
                              "--agent-timeout", "0.4", "--breaker-faults", "1000000")) as page:
        page.click("#analyze")
        page.wait_for_selector('#agents tr[data-agent="sleepy"][data-signal="PROCESSING"]', timeout=WAIT_MS)
        page.wait_for_selector('#agents tr[data-agent="sleepy"][data-signal="TIMEOUT"]', timeout=WAIT_MS)
        page.wait_for_selector('#agents tr[data-agent="broken"][data-signal="FAILED"]', timeout=WAIT_MS)
        why = page.inner_text('#agents tr[data-agent="broken"] td.why')
        assert "model file missing" in why, why
        page.wait_for_function("() => document.querySelector('#consensus').textContent.includes('Consensus')",
                               timeout=WAIT_MS)
        assert page.eval_on_selector_all('#agents tr[data-signal="BUY"], #agents tr[data-signal="SELL"],'
                                         ' #agents tr[data-signal="HOLD"]', "rs => rs.length") >= 3


def test_consensus_breakdown_of_a_known_panel(browser):
    """Three confident BUYs and one BUY below min_confidence (0.5): the panel shows each vote,
    marks the weak one as not counted, and the consensus breakdown has the engine's numbers."""
    agents = ("--no-builtin-agents", *[a for n in ("bull_a", "bull_b", "bull_c", "unsure")
                                       for a in ("--agents", f"dashboard_agents:{n}")])
    with _aapl_page(browser, agents) as page:
        page.click("#analyze")
        page.wait_for_function("() => document.querySelector('#consensus').textContent.includes('agreement')",
                               timeout=WAIT_MS)
        rows = page.eval_on_selector_all(
            "#agents tbody tr", "rs => rs.map(r => [r.dataset.agent, r.dataset.signal, r.classList.contains('uncounted'),"
            " r.querySelector('.barval').textContent])")
        assert rows == [["bull_a", "BUY", False, "0.90"], ["bull_b", "BUY", False, "0.80"],
                        ["bull_c", "BUY", False, "0.70"], ["unsure", "BUY", True, "0.30"]], rows
        kv = dict(page.eval_on_selector_all("#consensus .kv", "ks => ks.map(k => [k.children[0].textContent,"
                                            " k.children[1].textContent])"))
        assert kv["action"] == "BUY" and kv["agreement"] == "1.00" and kv["strength"] == "STRONG", kv
        assert kv["quorum"] == "3" and kv["answered"] == "4 of 4", kv
        price = float(kv["price"])
        assert float(kv["target"]) == pytest.approx(price * 1.05, abs=0.02), kv
        assert float(kv["stop"]) == pytest.approx(price * 0.97, abs=0.02), kv
        weights = page.inner_text("#consensus .weights")
        assert all(f"{n} 1.00" in weights for n in ("bull_a", "bull_b", "bull_c", "unsure")), weights
        reasons = page.eval_on_selector_all("#consensus .reasons li", "ls => ls.map(l => l.textContent)")
        assert reasons == ["bull_a: breakout above resistance", "bull_b: earnings beat",
                           "bull_c: sector rotation"], reasons
        page.wait_for_selector('#signals li[data-symbol="AAPL"] .badge.BUY', timeout=WAIT_MS)


def test_a_refused_upgrade_is_explained_and_cleared_once_connected(browser):
    """The server is up but refuses the page's upgrade (here: its only connection slot is
    taken): the page says so, keeps trying, and clears the message once it gets in."""
    from websockets.sync.client import connect

    srv = ServerProcess(free_port(), symbols=("AAPL",), interval=0.5,
                        agents=("--no-builtin-agents", "--ws-max-connections", "1"))
    srv.start()
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        with connect(f"ws://127.0.0.1:{srv.port}/ws/signals", open_timeout=10):
            page.goto(srv.url + "/", wait_until="load", timeout=WAIT_MS)
            page.wait_for_function("() => document.querySelector('#notice').textContent"
                                   ".includes('The server is up but refused the connection')", timeout=WAIT_MS)
            assert "may require a token" in page.inner_text("#notice")
            assert page.get_attribute("#conn", "data-state") == "reconnecting"
        page.wait_for_selector('#conn[data-state="open"]', timeout=WAIT_MS)
        page.wait_for_function("() => document.querySelector('#notice').textContent === ''", timeout=WAIT_MS)
    finally:
        page.close()
        srv.stop()
    assert not errors, errors


def test_dashboard_with_auth_required(browser):
    """GS_REQUIRE_AUTH on: without a token the page is refused and says a token may be needed;
    a token signed with another key is refused too; a real HS256 token (PyJWT) limited to AAPL
    and NVDA connects, watches those two (the server refuses MSFT: shown unwatched) and
    analyses; the server's origin check lets the page it serves in (GS_ALLOWED_ORIGINS=self)."""
    import time

    import jwt

    secret = "dashboard-test-secret-0123456789abcdef"
    srv = ServerProcess(free_port(), symbols=("AAPL", "MSFT", "NVDA"), interval=0.2,
                        agents=("--require-auth", "true", "--jwt-secret", secret,
                                "--allowed-origins", "self"))
    srv.start()
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(srv.url + "/", wait_until="load", timeout=WAIT_MS)
        page.wait_for_function("() => document.querySelector('#notice').textContent.includes('may require a token')",
                               timeout=WAIT_MS)
        assert page.get_attribute("#conn", "data-state") == "reconnecting"

        now = int(time.time())
        forged = jwt.encode({"sub": "desk-1", "exp": now + 600}, "not-the-server-secret-0123456789",
                            algorithm="HS256")
        page.fill("#token", forged)
        page.click("#reconnect")
        page.wait_for_function("() => document.querySelector('#notice').textContent.includes('wrong or expired')",
                               timeout=WAIT_MS)
        assert page.get_attribute("#conn", "data-state") == "reconnecting"

        token = jwt.encode({"sub": "desk-1", "exp": now + 600, "scope": "subscribe analyze",
                            "symbols": ["AAPL", "NVDA"]}, secret, algorithm="HS256")
        page.fill("#token", token)
        page.click("#reconnect")
        page.wait_for_selector('#conn[data-state="open"]', timeout=WAIT_MS)
        for sym in ("AAPL", "NVDA"):
            page.wait_for_selector(f'#watchlist tr[data-symbol="{sym}"]:not(.off)', timeout=WAIT_MS)
        page.wait_for_selector('#watchlist tr[data-symbol="MSFT"].off', timeout=WAIT_MS)
        page.wait_for_selector("#decisions li.alert-error", timeout=WAIT_MS)
        assert "MSFT" in page.inner_text("#decisions li.alert-error")
        assert "refused the connection" not in page.inner_text("#notice")

        page.click('#watchlist tr[data-symbol="AAPL"] td.sym')
        page.wait_for_function("() => document.querySelector('#sel-title').textContent === 'AAPL'",
                               timeout=WAIT_MS)
        page.click("#analyze")
        page.wait_for_function(
            "() => document.querySelectorAll('#agents tbody tr[data-signal=\"BUY\"],"
            " #agents tbody tr[data-signal=\"SELL\"], #agents tbody tr[data-signal=\"HOLD\"]').length >= 5",
            timeout=WAIT_MS)
    finally:
        page.close()
        srv.stop()
    assert not errors, errors


def test_alerts_panel_adds_fires_survives_a_reconnect_and_removes(browser):
    """A custom alert from the Alerts panel: it fires (true at once on a live price), a bad
    condition is explained with its position, the alert comes back after a reconnect of this
    anonymous page (whose alerts end with the connection), and × removes it."""
    with _aapl_page(browser, ("--no-builtin-agents", "--agents", "dashboard_agents:bull_a")) as page:
        sent: list[dict[str, Any]] = []
        page.on("websocket", lambda ws: ws.on(
            "framesent", lambda p: sent.append(json.loads(p)) if isinstance(p, str) else None))
        page.fill("#alert-condition", "price > 0 and volume >= 0")
        page.click("#alert-add")
        page.wait_for_selector('#alerts tr[data-id="a1"]', timeout=WAIT_MS)
        page.wait_for_function(
            "() => document.querySelector('#alerts tr[data-id=\"a1\"]').cells[2].textContent === '1'",
            timeout=WAIT_MS)
        cells = page.eval_on_selector('#alerts tr[data-id="a1"]', "r => [...r.cells].map(c => c.textContent)")
        assert cells[:3] == ["AAPL", "price > 0 and volume >= 0", "1"], cells
        assert cells[3], cells  # the time it fired
        page.wait_for_function(
            "() => [...document.querySelectorAll('#decisions li')].some(l => l.textContent.includes("
            "'ALERT AAPL: price > 0 and volume >= 0 (price '))", timeout=WAIT_MS)

        page.fill("#alert-condition", "price > 200 and rsi < 30")
        page.click("#alert-add")
        page.wait_for_function(
            "() => document.querySelector('#notice').textContent.includes('at position 16')",
            timeout=WAIT_MS)
        assert "unknown name 'rsi'" in page.inner_text("#notice")
        assert page.eval_on_selector_all("#alerts tbody tr", "rs => rs.length") == 1

        # A new connection: the server has no alerts for it; the page adds its own again.
        page.click("#reconnect")
        page.wait_for_function(
            "n => window.goldensignals.connection === 'open'", arg=0, timeout=WAIT_MS)
        page.wait_for_function(
            "() => { const r = document.querySelector('#alerts tr[data-id=\"a1\"]');"
            " return r && r.cells[2].textContent === '1'; }", timeout=WAIT_MS)
        assert [m for m in sent if m.get("type") == "add_alert" and m.get("id") == "a1"], sent

        page.click('#alerts tr[data-id="a1"] button.rm')
        page.wait_for_selector('#alerts tr[data-id="a1"]', state="detached", timeout=WAIT_MS)


def test_portfolio_panel_watches_and_shows_value_exposure_and_conflicts(browser):
    """The Portfolio panel: positions typed as symbol:weight, the server's portfolio_update
    shown (value, exposure, weighted signal), and a conflict once a BUY meets the short."""
    agents = ("--no-builtin-agents", *[a for n in ("bull_a", "bull_b", "bull_c")
                                       for a in ("--agents", f"dashboard_agents:{n}")])
    with _aapl_page(browser, agents, symbols=("AAPL", "NVDA"), interval=0.2) as page:
        page.fill("#portfolio-positions", "aapl:0.6, NVDA:-0.4")
        page.click("#portfolio-watch")
        page.wait_for_function("() => window.goldensignals.portfolio() !== null", timeout=WAIT_MS)
        first = page.evaluate("() => window.goldensignals.portfolio()")
        assert first["id"] == "dashboard"
        assert first["data"]["exposure"]["long"] == pytest.approx(0.6, abs=0.05)
        assert first["data"]["exposure"]["short"] == pytest.approx(-0.4, abs=0.05)
        # Shown at the next frame the page renders (the state above is set first).
        page.wait_for_function(
            "() => document.querySelector('#portfolio').textContent.includes('weighted signal')",
            timeout=WAIT_MS)
        text = page.inner_text("#portfolio")
        assert "value" in text and "long / short / net" in text and "weighted signal" in text, text
        # Prices move every 0.2 s: the shown value follows the updates.
        page.wait_for_function(
            "() => { const p = window.goldensignals.portfolio(); return p && p.trigger !== 'subscribe'; }",
            timeout=WAIT_MS)
        # Three agents vote BUY on NVDA, which the portfolio is short: a conflict.
        page.evaluate("() => window.goldensignals.select('NVDA')")
        page.click("#analyze")
        page.wait_for_function(
            "() => document.querySelector('#portfolio').textContent.includes('NVDA: weight -0.40 against BUY')",
            timeout=WAIT_MS)
