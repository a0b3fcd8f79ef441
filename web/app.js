// A minimal live view of the protocol: one connection, one symbol's agents, the signal feed.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const url = new URL("/ws/signals", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  let ws = null;
  let retry = 250;

  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  function row(u) {
    const body = $("agents").tBodies[0];
    let tr = body.querySelector(`tr[data-agent="${CSS.escape(u.agent)}"]`);
    if (!tr) {
      tr = body.insertRow();
      tr.dataset.agent = u.agent;
      for (let i = 0; i < 5; i++) tr.insertCell();
    }
    tr.cells[0].textContent = u.agent;
    tr.cells[1].textContent = u.signal;
    tr.cells[1].className = u.signal;
    tr.cells[2].textContent = u.confidence.toFixed(2);
    tr.cells[3].textContent = `${u.latency_ms.toFixed(2)} ms`;
    tr.cells[4].textContent = (u.reasoning || [])[0] || "";
  }

  function feed(text, cls) {
    const li = document.createElement("li");
    li.textContent = text;
    if (cls) li.className = cls;
    $("feed").prepend(li);
    while ($("feed").children.length > 200) $("feed").lastChild.remove();
  }

  function onMessage(ev) {
    const m = JSON.parse(ev.data);
    switch (m.type) {
      case "agent_update":
        if (m.data.symbol === $("symbol").value.toUpperCase()) row(m.data);
        break;
      case "signal_update":
        feed(`${m.data.timestamp} SIGNAL ${m.data.symbol} ${m.data.action} ` +
             `${m.data.confidence.toFixed(2)} at ${m.data.price}`, m.data.action);
        break;
      case "decision_update":
        if (m.data.decision.action === "NO_SIGNAL") {
          feed(`${m.data.timestamp} NO_SIGNAL ${m.data.symbol}: ${m.data.decision.reason}`);
        }
        break;
      case "alert":
        feed(`${m.timestamp} ${m.severity}: ${m.message}`);
        break;
    }
  }

  function connect() {
    ws = new WebSocket(url);
    ws.onopen = () => {
      retry = 250;
      $("conn").textContent = "connected";
      $("conn").className = "state open";
      send({ type: "subscribe", symbol: $("symbol").value });
    };
    ws.onmessage = onMessage;
    ws.onclose = () => {
      $("conn").textContent = "reconnecting…";
      $("conn").className = "state";
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10000);
    };
  }

  $("subscribe").onclick = () => send({ type: "subscribe", symbol: $("symbol").value });
  $("analyze").onclick = () => send({ type: "analyze", symbol: $("symbol").value });
  connect();
})();
