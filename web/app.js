// GoldenSignals live dashboard: plain JavaScript, no framework, no build step.
//
// Messages only change the state below; one render per animation frame draws what changed,
// so twenty symbols updating several times a second cost one DOM pass a frame.
// The wire format is docs/protocol.md; only standard Web APIs are used.
(() => {
  "use strict";

  const MAX_POINTS = 600;    // prices kept per symbol for the chart
  const SPARK_POINTS = 120;  // of which the sparkline shows the last
  const MAX_FEED = 100;      // entries kept in each feed
  const MAX_SIGNALS = 50;    // signals kept per symbol for the chart markers
  const STATUS_EVERY_MS = 5000;
  const SPARK_EVERY_MS = 200;
  const VOTES = new Set(["BUY", "SELL", "HOLD"]);

  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const num = (x, d = 2) => (typeof x === "number" && isFinite(x) ? x.toFixed(d) : "–");
  const hms = (ts) => (typeof ts === "string" && ts.length >= 19 ? ts.slice(11, 19) : "");

  // --- state ---------------------------------------------------------------------------------
  const symbols = new Map();     // symbol -> Sym
  // Recently shown signal ids and decisions, so a snapshot or a replay never shows twice.
  class Recent {
    constructor(limit) { this.limit = limit; this.set = new Set(); }
    add(key) { // false when already there
      if (this.set.has(key)) return false;
      this.set.add(key);
      if (this.set.size > this.limit) this.set.delete(this.set.values().next().value);
      return true;
    }
  }
  // Custom alerts (add_alert): id -> {id, symbol, condition, fired, last, flash}. Kept in the
  // page too, so an anonymous connection (whose alerts end with it) adds them again.
  const alerts = new Map();
  let alertsKept = false;  // the server keeps them for this token's subject
  // The watched portfolio: the request (sent again on reconnect when not kept) and the last
  // portfolio_update.
  const portfolio = { request: null, kept: false, update: null };
  const seenSignals = new Recent(5000);
  const seenDecisions = new Recent(5000);
  const dirty = { rows: new Set(), chart: false, agents: false, status: false, conn: false,
                  alerts: false, portfolio: false };
  const pending = { signals: [], decisions: [] };
  let selected = null;
  let serverStatus = null;
  const conn = { ws: null, state: "connecting", detail: "", retry: 250, timer: 0, attempts: 0,
                 opened: false, statusTimer: 0 };

  class Sym {
    constructor(name) {
      this.name = name;
      this.subscribed = false;
      this.price = null;
      this.change = null;
      this.changePct = null;
      this.points = [];  // {i, p}: i counts every price ever seen, so markers survive trimming
      this.n = 0;
      this.lastSeq = 0;  // last room `seq` seen: the `since` of a resumed subscription
      this.epoch = "";   // the history those seqs belong to (many nodes), from the confirmation
      this.signals = []; // {i, action, price, target, stop, confidence}
      this.analysis = null;
      this.row = null;
      this.sparkAt = -Infinity; // when its sparkline was last drawn
    }
  }

  function sym(name) {
    let s = symbols.get(name);
    if (!s) {
      s = new Sym(name);
      symbols.set(name, s);
      dirty.rows.add(s);
    }
    return s;
  }

  function schedule() {
    if (!schedule.queued) {
      schedule.queued = true;
      requestAnimationFrame(render);
    }
  }

  function saveWatchlist() {
    const list = [...symbols.values()].filter((s) => s.subscribed).map((s) => s.name);
    try { localStorage.setItem("gs.watchlist", JSON.stringify(list)); } catch (e) { /* private mode */ }
  }

  function loadWatchlist() {
    try {
      const list = JSON.parse(localStorage.getItem("gs.watchlist") || "null");
      return Array.isArray(list) ? list.filter((x) => typeof x === "string") : null;
    } catch (e) {
      return null;
    }
  }

  function notice(text, cls) {
    const n = $("notice");
    n.textContent = text;
    n.className = "notice " + (cls || "");
  }

  // --- connection ----------------------------------------------------------------------------
  function wsUrl() {
    const url = new URL("ws/signals", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    url.search = "";
    url.hash = "";
    const token = $("token").value.trim();
    if (token) url.searchParams.set("token", token);
    return url.toString();
  }

  function setConn(state, detail) {
    conn.state = state;
    conn.detail = detail || "";
    dirty.conn = true;
    schedule();
  }

  function send(msg) {
    if (conn.ws && conn.ws.readyState === WebSocket.OPEN) {
      conn.ws.send(JSON.stringify(msg));
      return true;
    }
    return false;
  }

  function subscribeMsg(s) {
    const m = { type: "subscribe", symbol: s.name };
    if (s.lastSeq > 0) {
      m.since = s.lastSeq;
      if (s.epoch) m.epoch = s.epoch;  // many nodes: a history lost in Redis is a reset
    }
    return m;
  }

  function connect() {
    clearTimeout(conn.timer);
    conn.attempts += 1;
    conn.opened = false;
    setConn(conn.attempts > 1 ? "reconnecting" : "connecting");
    let ws;
    try {
      ws = new WebSocket(wsUrl());
    } catch (e) {
      setConn("closed", String(e.message || e));
      return;
    }
    conn.ws = ws;
    ws.onopen = () => {
      if (conn.ws !== ws) return;
      conn.opened = true;
      conn.retry = 250;
      setConn("open", conn.attempts > 1 ? "resumed" : "");
      if ($("notice").classList.contains("auth")) notice("");
      conn.attempts = 1;
      for (const s of symbols.values()) if (s.subscribed) send(subscribeMsg(s));
      send({ type: "get_status" });
      send({ type: "list_alerts" });
      if (portfolio.request && !portfolio.kept) send(portfolio.request);
      clearInterval(conn.statusTimer);
      conn.statusTimer = setInterval(() => send({ type: "get_status" }), STATUS_EVERY_MS);
    };
    ws.onmessage = (ev) => {
      if (conn.ws !== ws || typeof ev.data !== "string") return;
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      onMessage(m);
    };
    ws.onclose = (ev) => {
      if (conn.ws !== ws) return;
      clearInterval(conn.statusTimer);
      conn.ws = null;
      const wait = Math.round(conn.retry * (0.75 + Math.random() * 0.5));
      conn.retry = Math.min(conn.retry * 2, 10000);
      const why = conn.opened ? `closed ${ev.code}${ev.reason ? " " + ev.reason : ""}` :
        "server unreachable or refused the upgrade";
      setConn("reconnecting", `${why}; retry in ${(wait / 1000).toFixed(1)} s`);
      if (!conn.opened && conn.attempts % 3 === 2) probeAuth();
      conn.timer = setTimeout(connect, wait);
    };
  }

  // A refused upgrade (401 without a valid token, 403 for a foreign origin, 429 ...) looks
  // like any failed connection to a page. When the server answers /health, it is up and
  // refused this page: most likely it wants a token, or a different one.
  function probeAuth() {
    const token = $("token").value.trim();
    fetch(new URL("health", location.href), { cache: "no-store" })
      .then(() => {
        if (conn.ws && conn.ws.readyState === WebSocket.OPEN) return;
        notice(token ? "The server is up but refused the connection: the token may be wrong or expired."
          : "The server is up but refused the connection: it may require a token (enter it above).", "warn auth");
      })
      .catch(() => { /* server down: the reconnect loop goes on */ });
  }

  function reconnectNow() {
    if (conn.ws) {
      const old = conn.ws;
      conn.ws = null;
      old.close(1000, "reconnect");
    }
    conn.retry = 250;
    conn.attempts = 0;
    connect();
  }

  // --- messages -------------------------------------------------------------------------------
  function onMessage(m) {
    stats.messages += 1;
    switch (m.type) {
      case "price_update": return onPrice(m);
      case "agent_update": return onAgent(m);
      case "signal_update": return onSignal(m);
      case "decision_update": return onDecision(m);
      case "signal_outcome": return onOutcome(m);
      case "subscribe": return onSubscribed(m);
      case "unsubscribe": return onUnsubscribed(m);
      case "status_update": return onStatus(m.data);
      case "alert": return onAlert(m);
      case "subscribe_portfolio":
        portfolio.kept = !!m.persistent;
        return undefined;
      case "portfolio_update": return onPortfolio(m);
      case "add_alert": return onAlertAdded(m);
      case "remove_alert": return onAlertRemoved(m);
      case "list_alerts": return onAlertList(m);
      case "replay_complete": return feedDecision({ kind: "info", ts: m.timestamp, text: `replay of ${m.symbol || ""} complete` });
      default: return undefined; // heartbeat, pong, history
    }
  }

  // Room messages carry `seq`; remember the last one per symbol for `since` on reconnect.
  function track(s, m) {
    if (typeof m.seq === "number" && m.seq > s.lastSeq) s.lastSeq = m.seq;
  }

  function onSubscribed(m) {
    const s = sym(m.symbol);
    s.subscribed = true;
    s.epoch = typeof m.epoch === "string" ? m.epoch : "";
    // Without a recovered history the counter may have restarted with the server.
    if (m.recovered !== true) s.lastSeq = 0;
    if (m.recovered === false) notice(`${m.symbol}: messages missed while disconnected are not in the server's history`, "warn");
    if (!selected) select(s.name);
    dirty.rows.add(s);
    saveWatchlist();
    schedule();
  }

  function onUnsubscribed(m) {
    const s = symbols.get(m.symbol);
    if (!s) return;
    s.subscribed = false;
    dirty.rows.add(s);
    saveWatchlist();
    schedule();
  }

  function onPrice(m) {
    const d = m.data || {};
    const s = sym(d.symbol);
    track(s, m);
    if (typeof d.price !== "number") return;
    s.price = d.price;
    s.change = d.change;
    s.changePct = d.change_percent;
    s.points.push({ i: s.n++, p: d.price });
    if (s.points.length > MAX_POINTS) s.points.splice(0, s.points.length - MAX_POINTS);
    dirty.rows.add(s);
    if (s.name === selected) dirty.chart = true;
    schedule();
  }

  function analysisFor(s, id) {
    if (!s.analysis || s.analysis.id !== id) {
      s.analysis = { id, state: "running", started: null, agents: new Map(), signal: null, decision: null };
    }
    return s.analysis;
  }

  function onAgent(m) {
    const d = m.data || {};
    const s = sym(d.symbol);
    track(s, m);
    if (d.signal === "ANALYZING") {
      const a = analysisFor(s, d.analysis_id);
      a.started = d.timestamp;
      // Every enabled agent is asked: show them waiting until each one reports.
      for (const ag of (serverStatus && serverStatus.agents) || []) {
        if (ag.enabled !== false && !a.agents.has(ag.name)) {
          a.agents.set(ag.name, { name: ag.name, signal: "QUEUED", confidence: 0, weight: ag.weight });
        }
      }
    } else {
      const a = analysisFor(s, d.analysis_id);
      const prev = a.agents.get(d.agent) || {};
      a.agents.set(d.agent, {
        name: d.agent, signal: d.signal, confidence: d.confidence, latency: d.latency_ms,
        reasoning: d.reasoning || [], weight: prev.weight,
      });
    }
    if (s.name === selected) dirty.agents = true;
    schedule();
  }

  function onSignal(m) {
    const d = m.data || {};
    const s = sym(d.symbol);
    track(s, m);
    const md = d.metadata || {};
    if (seenSignals.add(d.signal_id)) {
      s.signals.push({ i: s.n - 1, action: d.action, price: d.price, target: md.target_price,
                       stop: md.stop_loss, confidence: d.confidence, ts: d.timestamp });
      if (s.signals.length > MAX_SIGNALS) s.signals.shift();
      pending.signals.push({ d, snapshot: m.snapshot === true, replay: m.replay === true });
      if (s.name === selected) dirty.chart = true;
    }
    if (!m.snapshot && !m.replay) {
      const a = analysisFor(s, d.analysis_id);
      a.signal = d;
      const details = (d.agents_consensus || {}).agent_details || {};
      for (const [name, det] of Object.entries(details)) {
        const cur = a.agents.get(name) || { name, signal: det.signal, confidence: det.confidence, reasoning: [] };
        cur.weight = det.weight;
        cur.counted = det.counted; // false: a vote below min_confidence, or no vote
        if (cur.latency === undefined) cur.latency = det.latency_ms;
        a.agents.set(name, cur);
      }
      if (s.name === selected) dirty.agents = true;
    }
    schedule();
  }

  // A signal's result once its horizon closed: marked on the signal in the feed.
  const outcomes = new Map(); // signal_id -> data, until that signal is drawn (bounded)
  function onOutcome(m) {
    const d = m.data || {};
    track(sym(d.symbol), m);
    const li = document.querySelector(`#signals li[data-signal-id="${CSS.escape(d.signal_id || "")}"]`);
    if (li) {
      markOutcome(li, d);
    } else {
      outcomes.set(d.signal_id, d);
      if (outcomes.size > MAX_FEED) outcomes.delete(outcomes.keys().next().value);
    }
  }

  function markOutcome(li, d) {
    if (li.querySelector(".outcome")) return;
    const signed = (x) => typeof x === "number" ? `${x >= 0 ? "+" : ""}${(x * 100).toFixed(2)}%` : "?";
    // The mark judges direction over the horizon: shown with the move in the signal's favour.
    const moved = (d.action === "SELL" ? -1 : 1) * d.forward_return;
    const span = el("span", "outcome " + (d.hit ? "hit" : "miss"), `${d.hit ? "✓" : "✗"} ${signed(moved)}`);
    span.title = `${d.horizon_bars} bars later the price had moved ${signed(moved)} in the signal's ` +
      `favour (${d.hit ? "right" : "wrong"} direction); the trade from ${num(d.entry_price)} to ` +
      `${num(d.exit_price)} (${d.exit_reason}) returned ${signed(d.return)} after costs`;
    li.dataset.hit = String(d.hit);
    li.append(span);
  }

  function onDecision(m) {
    const d = m.data || {};
    const s = sym(d.symbol);
    track(s, m);
    const key = d.analysis_id + "/" + (m.seq || "");
    if (seenDecisions.add(key)) {
      const dec = d.decision || {};
      let text;
      if (dec.action === "NO_SIGNAL") {
        text = `${d.symbol} NO_SIGNAL: ${dec.reason || ""}`;
      } else {
        text = `${d.symbol} ${dec.action} confidence ${num(dec.confidence)}` +
          (typeof dec.position_size === "number" ? `, position ${(dec.position_size * 100).toFixed(1)}%` : "");
      }
      feedDecision({ kind: dec.action || "", ts: d.timestamp, text, replay: m.replay === true });
    }
    if (!m.replay) {
      const a = analysisFor(s, d.analysis_id);
      a.decision = d.decision || {};
      a.state = "done";
      if (s.name === selected) dirty.agents = true;
    }
    schedule();
  }

  function onAlertAdded(m) {
    const a = alerts.get(m.id) || { fired: 0, last: "" };
    alerts.set(m.id, { ...a, id: m.id, symbol: m.symbol, condition: m.condition });
    alertsKept = !!m.persistent;
    dirty.alerts = true;
    schedule();
  }

  function onAlertRemoved(m) {
    alerts.delete(m.id);
    dirty.alerts = true;
    schedule();
  }

  // On every (re)connect: the server's list. Alerts the server does not keep (an anonymous
  // connection ended) are added again from the page.
  function onAlertList(m) {
    alertsKept = !!m.persistent;
    const listed = new Set();
    for (const a of m.data || []) {
      listed.add(a.id);
      alerts.set(a.id, { id: a.id, symbol: a.symbol, condition: a.condition, fired: a.fired || 0,
                         last: a.last_fired || "" });
    }
    for (const a of alerts.values()) {
      if (listed.has(a.id)) continue;
      if (alertsKept) alerts.delete(a.id);
      else send({ type: "add_alert", id: a.id, symbol: a.symbol, condition: a.condition });
    }
    dirty.alerts = true;
    schedule();
  }

  function onCustomAlert(m) {
    const a = alerts.get(m.id);
    if (a) {
      a.fired = m.fired || a.fired + 1;
      a.last = m.timestamp || "";
      a.flash = true;
      dirty.alerts = true;
    }
    const vals = Object.entries(m.values || {})
      .map(([k, v]) => `${k} ${typeof v === "number" ? num(v) : v === null ? "–" : v}`).join(", ");
    const sev = m.severity || "warning";
    feedDecision({ kind: "alert-" + sev, ts: m.timestamp,
                   text: `ALERT ${m.symbol}: ${m.condition}${vals ? " (" + vals + ")" : ""}` });
    notice(`Alert ${m.id} on ${m.symbol}: ${m.condition}`, "warn");
  }

  function onPortfolio(m) {
    if (!portfolio.request || m.id !== portfolio.request.id) {
      // One kept for this token from an earlier visit: show it.
      portfolio.request = { type: "subscribe_portfolio", id: m.id,
                            positions: Object.fromEntries(Object.entries(m.data.positions || {})
                              .map(([k, p]) => [k, p.weight])) };
      portfolio.kept = true;
    }
    portfolio.update = m;
    dirty.portfolio = true;
    schedule();
  }

  // "AAPL:0.4, NVDA 0.3, SPY:-0.3" -> {AAPL: 0.4, ...}; null when it does not read.
  function parsePositions(text) {
    const out = {};
    for (const part of text.split(/[,;]+/)) {
      const t = part.trim();
      if (!t) continue;
      const m = /^([A-Za-z0-9.\-^=]+)\s*[: ]\s*(-?[0-9]*\.?[0-9]+)$/.exec(t);
      if (!m) return null;
      out[m[1].toUpperCase()] = Number(m[2]);
    }
    return Object.keys(out).length ? out : null;
  }

  function watchPortfolio() {
    const positions = parsePositions($("portfolio-positions").value);
    if (!positions) {
      notice("positions: write symbol:weight pairs, e.g. AAPL:0.4, SPY:-0.3", "warn");
      return;
    }
    portfolio.request = { type: "subscribe_portfolio", id: "dashboard", positions };
    portfolio.update = null;
    dirty.portfolio = true;  // "waiting for prices…" until the first update
    schedule();
    send(portfolio.request);
  }

  function renderPortfolio() {
    const box = $("portfolio");
    const u = portfolio.update;
    if (!u) {
      box.textContent = portfolio.request ? "waiting for prices…" : "no portfolio watched";
      return;
    }
    const d = u.data || {};
    const e = d.exposure || {};
    box.className = "portfolio";
    box.replaceChildren(
      kv("value", num(d.value, 4)),
      kv("return", typeof d.return === "number" ? `${(d.return * 100).toFixed(2)}%` : "–",
         d.return >= 0 ? "up" : "down"),
      kv("long / short / net", `${num(e.long)} / ${num(e.short)} / ${num(e.net)}`),
      kv("weighted signal", num(d.weighted_signal, 3)));
    const list = el("ul", "conflicts");
    for (const c of d.conflicts || []) {
      list.append(el("li", "", `${c.symbol}: weight ${num(c.weight)} against ${c.action} ${num(c.confidence)}`));
    }
    if (list.children.length) box.append(el("div", "muted", "conflicts"), list);
    box.dataset.value = String(d.value);
  }

  function addAlert() {
    const condition = $("alert-condition").value.trim();
    const symbol = selected || typedSymbol();
    if (!condition) return;
    if (!symbol) {
      notice("select a symbol for the alert first", "warn");
      return;
    }
    let id = "";
    for (let k = alerts.size + 1; !id || alerts.has(id); k += 1) id = "a" + k;
    if (send({ type: "add_alert", id, symbol, condition })) $("alert-condition").value = "";
  }

  function renderAlerts() {
    const body = $("alerts").tBodies[0];
    body.replaceChildren();
    for (const a of [...alerts.values()].sort((x, y) => x.id.localeCompare(y.id))) {
      const tr = el("tr", a.flash ? "fired" : "");
      tr.dataset.id = a.id;
      a.flash = false;
      const rm = el("button", "rm", "×");
      rm.type = "button";
      rm.title = "remove this alert";
      rm.addEventListener("click", () => send({ type: "remove_alert", id: a.id }));
      const last = el("td", "", hms(a.last));
      tr.append(el("td", "", a.symbol), el("td", "cond", a.condition), el("td", "num", String(a.fired)),
                last, el("td", "", ""));
      tr.lastChild.append(rm);
      body.append(tr);
    }
  }

  function onAlert(m) {
    if (m.alert_type === "custom") return onCustomAlert(m);
    if (m.code === "analysis_started") {
      notice(m.message || "", "");
      return;
    }
    // A token limited to some symbols: the others cannot be watched with it.
    if (m.code === "forbidden" && m.symbol && symbols.has(m.symbol)) {
      const s = symbols.get(m.symbol);
      s.subscribed = false;
      s.lastSeq = 0;
      dirty.rows.add(s);
    }
    const sev = m.severity || m.alert_type || "info";
    feedDecision({ kind: "alert-" + sev, ts: m.timestamp, text: `${sev.toUpperCase()}: ${m.message || m.code || ""}` });
    if (sev === "error" || sev === "warning") notice(m.message || m.code || "", "warn");
  }

  function onStatus(data) {
    serverStatus = data || {};
    dirty.status = true;
    dirty.agents = true; // the track records in the agent panel
    // A first visit watches every symbol the server tracks.
    if (!onStatus.seeded) {
      onStatus.seeded = true;
      const saved = loadWatchlist();
      const list = saved && saved.length ? saved : serverStatus.symbols || [];
      for (const name of list) {
        const s = sym(name);
        if (!s.subscribed) send({ type: "subscribe", symbol: name });
      }
    }
    schedule();
  }

  function feedDecision(item) {
    pending.decisions.push(item);
    schedule();
  }

  // --- controls ------------------------------------------------------------------------------
  function typedSymbol() {
    return $("symbol").value.trim().toUpperCase();
  }

  function select(name) {
    selected = name;
    for (const s of symbols.values()) dirty.rows.add(s);
    dirty.chart = true;
    dirty.agents = true;
    schedule();
  }

  $("controls").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const name = typedSymbol();
    if (!name) return;
    sym(name);
    if (!send({ type: "subscribe", symbol: name })) {
      symbols.get(name).subscribed = true; // sent when the connection opens
      saveWatchlist();
    }
    select(name);
    $("symbol").value = "";
  });

  function unsubscribe(name) {
    const s = symbols.get(name);
    if (!s) return;
    send({ type: "unsubscribe", symbol: name });
    s.subscribed = false;
    s.lastSeq = 0;
    dirty.rows.add(s);
    saveWatchlist();
    schedule();
  }

  $("unsubscribe").addEventListener("click", () => unsubscribe(typedSymbol() || selected));

  $("analyze").addEventListener("click", () => {
    const name = typedSymbol() || selected;
    if (!name) {
      notice("Subscribe to a symbol first.", "warn");
      return;
    }
    // The panel follows the symbol being analysed, typed or selected; a typed one is used once.
    if (name !== selected) select(name);
    $("symbol").value = "";
    if (!send({ type: "analyze", symbol: name })) notice("Not connected: the request was not sent.", "warn");
  });

  $("auth").addEventListener("submit", (ev) => {
    ev.preventDefault();
    try { sessionStorage.setItem("gs.token", $("token").value.trim()); } catch (e) { /* ignore */ }
    reconnectNow();
  });

  $("watchlist").addEventListener("click", (ev) => {
    const tr = ev.target.closest("tr[data-symbol]");
    if (!tr) return;
    if (ev.target.closest("button")) {
      unsubscribe(tr.dataset.symbol);
      return;
    }
    select(tr.dataset.symbol);
  });

  // --- rendering -----------------------------------------------------------------------------
  const stats = { messages: 0, renders: 0, renderMs: 0, maxRenderMs: 0 };

  function render() {
    schedule.queued = false;
    const t0 = performance.now();
    renderAll();
    const ms = performance.now() - t0;
    stats.renders += 1;
    stats.renderMs += ms;
    stats.maxRenderMs = Math.max(stats.maxRenderMs, ms);
  }

  function renderAll() {
    if (dirty.conn) renderConn();
    if (dirty.status) renderStatus();
    if (dirty.rows.size) renderRows();
    if (dirty.chart) renderChart();
    if (dirty.agents) renderAgents();
    if (dirty.alerts) {
      dirty.alerts = false;
      renderAlerts();
    }
    if (dirty.portfolio) {
      dirty.portfolio = false;
      renderPortfolio();
    }
    if (pending.signals.length) renderSignals();
    if (pending.decisions.length) renderDecisions();
  }

  function renderConn() {
    dirty.conn = false;
    const c = $("conn");
    const label = { open: "live", connecting: "connecting…", reconnecting: "reconnecting…", closed: "closed" }[conn.state];
    c.textContent = label + (conn.detail ? ` (${conn.detail})` : "");
    c.dataset.state = conn.state;
    if (conn.state !== "open") $("server").textContent = "server: unreachable";
  }

  function renderStatus() {
    dirty.status = false;
    const st = serverStatus || {};
    const o = st.orchestrator || {};
    const w = st.websocket_manager || {};
    const parts = [
      o.running ? "running" : (o.state || "not running"),
      `${w.active_connections ?? st.websocket_connections ?? "?"} clients`,
      `${o.active_agents ?? st.active_agents ?? "?"} agents`,
      `${o.analyses_completed ?? "?"} analyses`,
      `${o.signals_generated ?? "?"} signals`,
    ];
    if (w.messages_dropped) parts.push(`${w.messages_dropped} dropped`);
    if (st.history && st.history.status) parts.push(`history ${st.history.status}`); // ok, degraded, off
    const cl = st.cluster || {};
    if (cl.status && cl.status !== "off") {  // one node of many
      parts.push(`node ${cl.node_id} of ${(cl.nodes || []).length}` + (cl.status === "ok" ? "" : ` (Redis ${cl.status})`));
    }
    // The feed by its kind ("simulated"); its parameters on hover.
    if (st.feed) parts.push(String(st.feed).replace(/\(.*$/, ""));
    $("server").textContent = "server: " + parts.join(" · ");
    $("server").title = "server status (status_update)" + (st.feed ? `\nfeed: ${st.feed}` : "");
    renderOwner();
  }

  // Many nodes: which one owns (analyzes) the selected symbol, from the last status_update.
  function renderOwner() {
    const owners = serverStatus && serverStatus.cluster && serverStatus.cluster.owners;
    const owner = owners && selected ? owners[selected] : "";
    $("sel-owner").textContent = owner ? `analyzed on ${owner}` : "";
  }

  function renderRows() {
    const now = performance.now();
    const later = [];
    const body = $("watchlist").tBodies[0];
    const order = [...symbols.keys()].sort();
    for (const s of dirty.rows) {
      if (!s.row) {
        const tr = el("tr");
        tr.dataset.symbol = s.name;
        tr.append(el("td", "sym", s.name), el("td", "num"), el("td", "num"));
        const spark = el("canvas", "spark");
        spark.width = 96;
        spark.height = 28;
        const td = el("td");
        td.append(spark);
        const x = el("button", "x", "×");
        x.type = "button";
        x.title = "unsubscribe";
        const tdx = el("td");
        tdx.append(x);
        tr.append(td, tdx);
        s.row = tr;
        const next = order.slice(order.indexOf(s.name) + 1).map((n) => symbols.get(n).row).find((r) => r && r.parentNode);
        body.insertBefore(tr, next || null);
      }
      const cells = s.row.cells;
      cells[1].textContent = num(s.price);
      const pct = s.changePct;
      cells[2].textContent = typeof pct === "number" ? `${pct >= 0 ? "+" : ""}${pct.toFixed(2)}%` : "–";
      cells[2].className = "num " + (pct > 0 ? "up" : pct < 0 ? "down" : "");
      s.row.classList.toggle("selected", s.name === selected);
      s.row.classList.toggle("off", !s.subscribed);
      // A sparkline needs no more than a few redraws a second; a later frame catches up.
      if (now - s.sparkAt >= SPARK_EVERY_MS) {
        s.sparkAt = now;
        drawSpark(cells[3].firstChild, s);
      } else {
        later.push(s);
      }
    }
    dirty.rows.clear();
    for (const s of later) dirty.rows.add(s);
    if (later.length) schedule();
  }

  function sizeCanvas(c) {
    const ratio = window.devicePixelRatio || 1;
    const w = c.clientWidth || c.width;
    const h = c.clientHeight || c.height;
    if (c.width !== Math.round(w * ratio) || c.height !== Math.round(h * ratio)) {
      c.width = Math.round(w * ratio);
      c.height = Math.round(h * ratio);
    }
    const g = c.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, w, h);
    return { g, w, h };
  }

  function drawSpark(c, s) {
    const { g, w, h } = sizeCanvas(c);
    const pts = s.points.slice(-SPARK_POINTS);
    if (pts.length < 2) return;
    let lo = Infinity, hi = -Infinity;
    for (const p of pts) { lo = Math.min(lo, p.p); hi = Math.max(hi, p.p); }
    const span = hi - lo || 1;
    g.strokeStyle = pts[pts.length - 1].p >= pts[0].p ? "#4cc38a" : "#ef5b5b";
    g.lineWidth = 1.2;
    g.beginPath();
    pts.forEach((p, k) => {
      const x = (k / (pts.length - 1)) * (w - 2) + 1;
      const y = h - 2 - ((p.p - lo) / span) * (h - 4);
      if (k) g.lineTo(x, y); else g.moveTo(x, y);
    });
    g.stroke();
  }

  function renderChart() {
    dirty.chart = false;
    const s = selected && symbols.get(selected);
    $("sel-title").textContent = s ? s.name : "Select a symbol";
    $("sel-price").textContent = s && s.price !== null ? num(s.price) : "";
    renderOwner();
    const { g, w, h } = sizeCanvas($("chart"));
    if (!s || s.points.length < 2) {
      g.fillStyle = "#8a93a3";
      g.font = "13px system-ui, sans-serif";
      g.fillText(s ? "waiting for prices…" : "subscribe to a symbol and select it", 16, 24);
      return;
    }
    const pts = s.points;
    const i0 = pts[0].i, i1 = pts[pts.length - 1].i;
    // Signals from before the first price seen (a snapshot) have no place on this chart.
    const marks = s.signals.filter((m) => m.i >= i0);
    const trades = marks.filter((m) => m.action === "BUY" || m.action === "SELL");
    const last = trades[trades.length - 1]; // its target and stop are drawn
    let lo = Infinity, hi = -Infinity;
    for (const p of pts) { lo = Math.min(lo, p.p); hi = Math.max(hi, p.p); }
    for (const m of marks) { lo = Math.min(lo, m.price); hi = Math.max(hi, m.price); }
    if (last) for (const v of [last.target, last.stop]) if (typeof v === "number") { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    const pad = (hi - lo) * 0.08 || 1;
    lo -= pad; hi += pad;
    const L = 8, R = 64, T = 24, B = 18;
    const X = (i) => L + ((i - i0) / Math.max(1, i1 - i0)) * (w - L - R);
    const Y = (p) => T + (1 - (p - lo) / (hi - lo)) * (h - T - B);

    g.font = "11px system-ui, sans-serif";
    g.lineWidth = 1;
    for (let k = 0; k <= 4; k++) {
      const p = lo + ((hi - lo) * k) / 4;
      const y = Y(p);
      g.strokeStyle = "#232733";
      g.beginPath(); g.moveTo(L, y); g.lineTo(w - R, y); g.stroke();
      g.fillStyle = "#8a93a3";
      g.fillText(p.toFixed(2), w - R + 6, y + 4);
    }

    if (last) {
      // A dashed line from the signal to the right edge, its value in a tag on the price axis
      // (where it never covers the price line).
      const level = (v, color, label) => {
        if (typeof v !== "number") return;
        const y = Y(v);
        g.save();
        g.setLineDash([5, 4]);
        g.strokeStyle = color;
        g.beginPath(); g.moveTo(X(Math.max(i0, last.i)), y); g.lineTo(w - R, y); g.stroke();
        g.restore();
        g.fillStyle = color;
        g.fillRect(w - R + 1, y - 8, R - 2, 16);
        g.fillStyle = "#0f1115";
        g.fillText(`${label} ${v.toFixed(2)}`, w - R + 4, y + 4);
      };
      level(last.target, "#4cc38a", "T");
      level(last.stop, "#ef5b5b", "S");
    }

    // Legend, in the band above the plot.
    let lx = L;
    for (const [text, color] of [["▲ BUY", "#4cc38a"], ["▼ SELL", "#ef5b5b"], ["● HOLD", "#d6b656"],
      ["T target", "#4cc38a"], ["S stop", "#ef5b5b"]]) {
      g.fillStyle = color;
      g.fillText(text, lx, 12);
      lx += g.measureText(text).width + 14;
    }

    g.strokeStyle = "#f5c542";
    g.lineWidth = 1.5;
    g.beginPath();
    pts.forEach((p, k) => { if (k) g.lineTo(X(p.i), Y(p.p)); else g.moveTo(X(p.i), Y(p.p)); });
    g.stroke();

    for (const m of marks) {
      const x = X(m.i), y = Y(m.price);
      g.beginPath();
      if (m.action === "BUY") {
        g.fillStyle = "#4cc38a";
        g.moveTo(x, y + 4); g.lineTo(x - 6, y + 15); g.lineTo(x + 6, y + 15);
      } else if (m.action === "SELL") {
        g.fillStyle = "#ef5b5b";
        g.moveTo(x, y - 4); g.lineTo(x - 6, y - 15); g.lineTo(x + 6, y - 15);
      } else {
        g.fillStyle = "#d6b656"; // HOLD: a consensus to stay put
        g.arc(x, y, 2.5, 0, 2 * Math.PI);
      }
      g.closePath();
      g.fill();
    }
  }

  // The first reason on one line; all of them on hover.
  function whyCell(reasons) {
    const td = el("td", "why", reasons[0] || "");
    if (reasons.length) td.title = reasons.join("\n");
    return td;
  }

  function stateCell(a) {
    const td = el("td");
    const badge = el("span", "badge " + a.signal, a.signal === "QUEUED" ? "waiting" : a.signal);
    td.append(badge);
    return td;
  }

  // Live track record of an agent (or of the consensus): the scores of /ws/status.
  function recordOf(name) {
    const sc = serverStatus && serverStatus.scores;
    if (!sc) return null;
    if (name === null) return sc.consensus || null;
    return (sc.agents || []).find((r) => r.name === name) || null;
  }

  function pct(x) {
    return typeof x === "number" ? `${Math.round(x * 100)}%` : "–";
  }

  function recordText(r) {
    return r && r.recent > 0 ? `${pct(r.recent_hit_rate)} · ${r.recent_brier.toFixed(2)}` : "–";
  }

  function recordTitle(r) {
    if (!r) return "not scored yet";
    const h = serverStatus.scores.horizon_bars;
    return `${r.forecasts} BUY/SELL forecasts in ${r.analyses} analyses; ${r.scored} scored ` +
      `${h} bars later (hit rate ${pct(r.hit_rate)}, Brier ${typeof r.brier === "number" ? r.brier.toFixed(3) : "–"}), ` +
      `${r.open} still open; shown: the last ${r.recent}`;
  }

  function recordCell(name) {
    const r = recordOf(name);
    const td = el("td", "num record", recordText(r));
    td.title = recordTitle(r);
    if (r && r.recent > 0) td.dataset.hitRate = String(r.recent_hit_rate);
    return td;
  }

  function renderAgents() {
    dirty.agents = false;
    const s = selected && symbols.get(selected);
    const a = s && s.analysis;
    const body = $("agents").tBodies[0];
    const rows = document.createDocumentFragment();
    if (a) {
      const names = [...a.agents.keys()].filter((n) => n !== "Orchestrator").sort();
      for (const name of names) {
        const ag = a.agents.get(name);
        const tr = el("tr");
        tr.dataset.agent = name;
        tr.dataset.signal = ag.signal;
        if (ag.counted === false && VOTES.has(ag.signal)) {
          tr.className = "uncounted";
          tr.title = "below the minimum confidence: this vote did not count";
        }
        const bar = el("td");
        if (VOTES.has(ag.signal)) {
          const outer = el("div", "bar");
          const inner = el("div", "fill " + ag.signal);
          inner.style.width = `${Math.round(Math.max(0, Math.min(1, ag.confidence)) * 100)}%`;
          outer.append(inner);
          bar.append(outer, el("span", "barval", num(ag.confidence)));
        }
        tr.append(el("td", "name", name), stateCell(ag), bar,
          el("td", "num", typeof ag.weight === "number" ? ag.weight.toFixed(2) : ""),
          el("td", "num", typeof ag.latency === "number" && ag.signal !== "QUEUED" && ag.signal !== "PROCESSING" ? `${ag.latency.toFixed(2)} ms` : ""),
          recordCell(name),
          whyCell(ag.reasoning || []));
        rows.append(tr);
      }
    }
    body.replaceChildren(rows);
    const st = $("analysis-state");
    st.textContent = !a ? "no analysis yet: press Analyze now" :
      a.state === "done" ? `analysis ${a.id.slice(0, 8)} done at ${hms(a.started)}` :
      `analysis ${a.id ? a.id.slice(0, 8) : ""} running…`;
    renderConsensus(a);
  }

  function kv(label, value, cls) {
    const d = el("div", "kv");
    d.append(el("span", "k", label), el("span", "v " + (cls || ""), value));
    return d;
  }

  function renderConsensus(a) {
    const box = $("consensus");
    const out = document.createDocumentFragment();
    const dec = a && a.decision;
    if (a && a.signal) {
      const sg = a.signal;
      const c = sg.agents_consensus || {};
      const md = sg.metadata || {};
      out.append(el("h3", "", "Consensus"));
      const grid = el("div", "grid");
      grid.append(
        kv("action", sg.action, sg.action),
        kv("confidence", num(sg.confidence)),
        kv("agreement", num(c.agreement)),
        kv("strength", c.consensus_strength || "–"),
        kv("answered", `${c.completed_agents ?? "?"} of ${c.total_agents ?? "?"}`),
        kv("quorum", `${c.quorum ?? "?"}`),
        kv("price", num(sg.price)),
        kv("target", num(md.target_price), "BUY"),
        kv("stop", num(md.stop_loss), "SELL"));
      if (dec && typeof dec.position_size === "number") grid.append(kv("position", `${(dec.position_size * 100).toFixed(1)}%`));
      if ((c.faulty_agents || []).length) grid.append(kv("faulty", c.faulty_agents.join(", "), "SELL"));
      const rec = recordOf(null);
      const recKv = kv("record", recordText(rec));
      recKv.id = "consensus-record";
      recKv.title = "the consensus's signals: " + recordTitle(rec);
      grid.append(recKv);
      out.append(grid);
      const weights = Object.values(c.agent_details || {}).map((d) => `${d.name} ${num(d.weight)}`).join(" · ");
      if (weights) out.append(el("p", "weights", "weights: " + weights));
      const why = md.reasoning || [];
      if (why.length) {
        const ul = el("ul", "reasons");
        for (const r of why) ul.append(el("li", "", r));
        out.append(el("h3", "", "Reasoning"), ul);
      }
    } else if (dec && dec.action === "NO_SIGNAL") {
      out.append(el("h3", "", "Consensus"), kv("decision", "NO_SIGNAL", "HOLD"), el("p", "reason", dec.reason || ""));
      const summary = Object.entries(dec.agent_summary || {}).map(([k, v]) => `${k} ${v}`).join(" · ");
      if (summary) out.append(el("p", "weights", "votes: " + summary));
    }
    box.replaceChildren(out);
  }

  function trim(list) {
    while (list.children.length > MAX_FEED) list.lastChild.remove();
  }

  function renderSignals() {
    const frag = document.createDocumentFragment();
    for (const { d, snapshot, replay } of pending.signals.reverse()) {
      const md = d.metadata || {};
      const c = d.agents_consensus || {};
      const li = el("li", "sig " + d.action);
      li.dataset.symbol = d.symbol;
      li.dataset.signalId = d.signal_id || "";
      li.append(el("time", "", hms(d.timestamp)), el("b", "", d.symbol), el("span", "badge " + d.action, d.action),
        el("span", "", `${num(d.confidence)} at ${num(d.price)}`));
      if (typeof md.target_price === "number") li.append(el("span", "muted", `target ${num(md.target_price)} stop ${num(md.stop_loss)}`));
      if (c.consensus_strength) li.append(el("span", "muted", c.consensus_strength));
      if (snapshot) li.append(el("span", "tag", "latest"));
      if (replay) li.append(el("span", "tag", "replay"));
      const done = outcomes.get(d.signal_id);
      if (done) {
        outcomes.delete(d.signal_id);
        markOutcome(li, done);
      }
      frag.append(li);
    }
    pending.signals = [];
    $("signals").prepend(frag);
    trim($("signals"));
  }

  function renderDecisions() {
    const frag = document.createDocumentFragment();
    for (const item of pending.decisions.reverse()) {
      const li = el("li", "dec " + item.kind);
      li.append(el("time", "", hms(item.ts)), el("span", "", item.text));
      if (item.replay) li.append(el("span", "tag", "replay"));
      frag.append(li);
    }
    pending.decisions = [];
    $("decisions").prepend(frag);
    trim($("decisions"));
  }

  $("portfolio-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    watchPortfolio();
  });

  $("alert-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    addAlert();
  });

  window.addEventListener("resize", () => { dirty.chart = true; schedule(); });

  // --- start ---------------------------------------------------------------------------------
  const params = new URLSearchParams(location.search);
  let token = params.get("token") || "";
  try { token = token || sessionStorage.getItem("gs.token") || ""; } catch (e) { /* ignore */ }
  $("token").value = token;
  for (const name of loadWatchlist() || []) sym(name).subscribed = true;
  // The dashboard as an object for tests and the console: read-only views of the state.
  window.goldensignals = {
    get connection() { return conn.state; },
    get selected() { return selected; },
    lastSeq: (name) => (symbols.get(name) || {}).lastSeq || 0,
    points: (name) => ((symbols.get(name) || {}).points || []).length,
    alerts: () => [...alerts.values()].map((a) => ({ ...a })),
    portfolio: () => (portfolio.update ? JSON.parse(JSON.stringify(portfolio.update)) : null),
    stats: () => ({ ...stats }),
    select,
  };
  connect();
  schedule();
})();
