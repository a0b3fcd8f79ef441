"""The dashboard in headless Firefox (Debian's `firefox-esr`, over WebDriver BiDi; see
firefox_bidi.py) against a real `goldensignals serve`: the same use as in Chromium.

The page loads with no console error, watches the server's symbols with prices and
sparklines, unsubscribes and subscribes again with the controls, runs an analysis and shows
every agent's vote with its confidence bar and the consensus, shows the decision in the feed,
and survives a restart of the server (one without history: the page says that messages
sent while it was away are not shown). A screenshot goes to build/test-output/dashboard-firefox.png.
"""

from __future__ import annotations

import json

from browser_helpers import OUT, SYMBOLS, WATCHLIST_20, ServerProcess
from loopback import free_port
from firefox_bidi import firefox, needs_firefox

pytestmark = needs_firefox

WAIT = 30.0  # seconds; two cores shared with the rest of the suite
VOTED = ('#agents tbody tr[data-signal="BUY"], #agents tbody tr[data-signal="SELL"],'
         ' #agents tbody tr[data-signal="HOLD"]')


def _count(selector: str) -> str:
    return f"document.querySelectorAll({json.dumps(selector)}).length"


def test_dashboard_in_firefox():
    # Without history (--db off), unlike the Chromium test: a resumed page is told what it missed.
    srv = ServerProcess(free_port(), agents=("--agents", "goldensignals.examples:trend_regression",
                                             "--db", "off"))
    srv.start()
    try:
        with firefox(OUT / "firefox.log") as ff:
            ff.set_viewport(1440, 900)
            ff.goto(srv.url + "/")

            # Connected; every symbol the server tracks is watched, with a price and a sparkline.
            ff.wait_for("document.querySelector('#conn').dataset.state === 'open'", WAIT)
            ff.wait_for(f"{json.dumps(list(SYMBOLS))}.every(s => {{"
                        " const r = document.querySelector(`#watchlist tr[data-symbol=\"${s}\"]:not(.off)`);"
                        " return r && r.cells[1].textContent !== '–'"
                        " && window.goldensignals.points(s) >= 3; })", WAIT)
            # The sparkline is drawn: some pixel of its canvas is not transparent. It redraws a
            # few times a second at most, so the points may be in before the next drawing.
            ff.wait_for("(() => { const c = document.querySelector('#watchlist tr[data-symbol=\"AAPL\"] canvas');"
                        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                        " return d.some((v, k) => k % 4 === 3 && v > 0); })()", WAIT)
            ff.wait_for("document.querySelector('#server').textContent.startsWith('server: running')", WAIT)
            assert "history off" in ff.evaluate("document.querySelector('#server').textContent")

            # Unsubscribe and subscribe again with the controls, typed and clicked.
            ff.fill("#symbol", "spy")
            ff.click("#unsubscribe")
            ff.wait_for("document.querySelector('#watchlist tr[data-symbol=\"SPY\"]').classList.contains('off')",
                        WAIT)
            ff.fill("#symbol", "spy")
            ff.click("#subscribe")
            ff.wait_for("!document.querySelector('#watchlist tr[data-symbol=\"SPY\"]').classList.contains('off')",
                        WAIT)

            # Analyze a typed symbol (SPY is selected): the panel follows it and shows every
            # agent's vote with its bar, then the consensus.
            ff.wait_for("document.querySelector('#sel-title').textContent === 'SPY'", WAIT)
            ff.fill("#symbol", "nvda")
            ff.click("#analyze")
            ff.wait_for("document.querySelector('#sel-title').textContent === 'NVDA'", WAIT)
            assert ff.evaluate("document.querySelector('#symbol').value") == ""
            ff.wait_for(f"{_count(VOTED)} >= 5", WAIT)
            ff.wait_for("document.querySelector('#consensus').textContent.includes('Consensus')", WAIT)
            agents = ff.evaluate("[...document.querySelectorAll('#agents tbody tr')].map(r => r.dataset.agent)")
            assert {"TechnicalAnalyst", "Momentum", "trend_regression"} <= set(agents), agents
            bars = ff.evaluate("[...document.querySelectorAll('#agents .fill')].map(f => parseFloat(f.style.width))")
            assert bars and all(0 < b <= 100 for b in bars), bars
            ff.wait_for(f"{_count('#decisions li')} > 0", WAIT)
            # The simulated market makes signals on its own: one in the feed, marked on the chart.
            ff.wait_for(f"{_count('#signals li')} > 0", WAIT)

            entries = ff.log_entries()
            errors = [e for e in entries if e.get("level") == "error"]
            assert not errors, errors
            OUT.mkdir(parents=True, exist_ok=True)
            shot = OUT / "dashboard-firefox.png"
            ff.screenshot(shot)
            assert shot.stat().st_size > 20_000

            # Restart the server on the same port: the page reconnects and keeps updating.
            srv.stop()
            ff.wait_for("document.querySelector('#conn').dataset.state === 'reconnecting'", WAIT)
            before = ff.evaluate("document.querySelector('#watchlist tr[data-symbol=\"AAPL\"]').cells[1].textContent")
            n_decisions = ff.evaluate(_count("#decisions li"))
            srv.start()
            ff.wait_for("document.querySelector('#conn').dataset.state === 'open'", WAIT)
            ff.wait_for("document.querySelector('#notice').textContent.includes(\"not in the server's history\")",
                        WAIT)
            ff.wait_for("document.querySelector('#watchlist tr[data-symbol=\"AAPL\"]').cells[1].textContent"
                        f" !== {json.dumps(before)}", WAIT)
            ff.click('#watchlist tr[data-symbol="AAPL"] td.sym')
            ff.click("#analyze")
            ff.wait_for(f"{_count('#decisions li')} > {n_decisions}", WAIT)
            # While the server was down, Firefox may report the refused connection itself;
            # nothing from the page may be an error.
            errors = [e for e in ff.log_entries() if e.get("level") == "error"
                      and not (e.get("type") == "javascript" and "ws://" in e.get("text", ""))]
            assert not errors, errors
    finally:
        srv.stop()


def test_dashboard_in_firefox_batches_twenty_busy_symbols_per_animation_frame():
    """As in Chromium: 20 symbols with a bar every 50 ms each; Firefox draws at most once per
    animation frame and far less often than messages arrive."""
    srv = ServerProcess(free_port(), symbols=WATCHLIST_20, interval=0.05, agents=("--no-builtin-agents",))
    srv.start()
    try:
        with firefox(OUT / "firefox.log") as ff:
            ff.set_viewport(1440, 900)
            ff.goto(srv.url + "/")
            ff.wait_for(f"document.querySelectorAll('#watchlist tbody tr:not(.off)').length === {len(WATCHLIST_20)}",
                        WAIT)
            ff.wait_for(f"{json.dumps(list(WATCHLIST_20))}.every(s => window.goldensignals.points(s) >= 40)", WAIT)
            run = ff.evaluate("""new Promise(done => {
                const s0 = window.goldensignals.stats(); let frames = 0; const t0 = performance.now();
                const tick = () => { frames++; if (performance.now() - t0 < 3000) requestAnimationFrame(tick);
                                     else done({s0, s1: window.goldensignals.stats(), frames}); };
                requestAnimationFrame(tick); })""")
            errors = [e for e in ff.log_entries() if e.get("level") == "error"]
    finally:
        srv.stop()
    assert not errors, errors
    s0, s1 = run["s0"], run["s1"]
    messages, renders = s1["messages"] - s0["messages"], s1["renders"] - s0["renders"]
    print(f"firefox, 20 symbols: {messages} messages, {renders} renders, {run['frames']} frames in 3 s")
    assert messages > 300, messages
    assert renders <= run["frames"] + 1, (renders, run["frames"])
    assert renders * 2 < messages, (renders, messages)
