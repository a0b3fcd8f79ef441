"""Dated text retrieval: the store never returns text published at or after the analysis'
time, the real MiniLM embeddings, the corpus loader's errors, the NewsRetrieval agent in the
look-ahead checker, and the chat-model example's parser and deadline against a real HTTP
server on loopback."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any, ClassVar

import goldensignals as gs
import numpy as np
import pandas as pd
import pytest
from goldensignals.examples import ChatModelAgent, parse_reply
from goldensignals.news import (
    HashedWords,
    MiniLM,
    NewsRetrieval,
    NewsStore,
    load_news,
    market_headlines,
)

DAY = 86_400_000


def corpus(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2020-01-01", tz="UTC")
    times = start + pd.to_timedelta(np.sort(rng.integers(0, 200 * 24 * 60, n)), unit="min")
    words = ["shares jump", "stock plunges", "market rallies", "earnings miss", "new CEO"]
    return pd.DataFrame({"time": times, "symbol": rng.choice(["AAPL", "MSFT", "*"], n),
                         "text": [f"headline {i}: {words[i % 5]}" for i in range(n)]})


def test_the_store_never_returns_text_published_at_or_after_the_time() -> None:
    frame = corpus()
    store = NewsStore(frame, HashedWords())
    times = store.times
    rng = np.random.default_rng(1)
    checked = 0
    for t in list(rng.choice(times, 100)) + list(rng.integers(times[0], times[-1], 100)):
        found = store.search("AAPL shares jump", symbol="AAPL", before_ms=int(t), k=50)
        for h in found:
            assert h.time.value // 1_000_000 < t  # strictly before, even when equal exists
            assert h.symbol in ("AAPL", "*")
            checked += 1
    assert checked > 1000
    # The window's start is inclusive, its end exclusive; the leak control moves the end.
    t = int(times[200])
    week = store.search("x", symbol="MSFT", before_ms=t, k=1000, lookback_ms=7 * DAY)
    assert all(t - 7 * DAY <= h.time.value // 1_000_000 < t for h in week)
    leak = store.search("x", symbol="MSFT", before_ms=t, k=1000, lookback_ms=7 * DAY,
                        after_ms=t + 7 * DAY)
    assert any(h.time.value // 1_000_000 >= t for h in leak)


def test_minilm_embeds_offline_and_understands_meaning() -> None:
    m = MiniLM()
    v = m.encode(["Stocks plunge as the market tumbles", "Shares fall sharply in a selloff",
                  "The company names a new chief executive"])
    assert v.shape == (3, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.1  # the two falls are closer than the CEO news
    assert np.allclose(m.encode(["Stocks plunge as the market tumbles"])[0], v[0], atol=1e-6)


def test_load_news_names_the_bad_row(tmp_path: Any) -> None:
    good = corpus(5)
    assert list(load_news(good).columns) == ["time", "symbol", "text"]
    bad = good.assign(time=["2020-01-01", "soon", "2020-01-02", "2020-01-03", "2020-01-04"])
    with pytest.raises(gs.InvalidArgumentError, match=r"row 1: time 'soon' is not a date"):
        load_news(bad)
    with pytest.raises(gs.InvalidArgumentError, match="has no column text"):
        load_news(good.drop(columns="text"))
    with pytest.raises(gs.InvalidArgumentError, match="row 2: the text is empty"):
        load_news(good.assign(text=["a", "b", " ", "c", "d"]))
    with pytest.raises(gs.InvalidArgumentError, match="symbol 'not a ticker'"):
        load_news(good.assign(symbol=["AAPL", "not a ticker", "*", "A", "B"]))
    path = tmp_path / "news.csv"
    good.to_csv(path, index=False)
    assert len(load_news(path)) == 5


def test_market_headlines_are_published_after_the_close() -> None:
    pytest.importorskip("arch")
    h = market_headlines("sp500")
    assert len(h) > 1000
    assert (h["time"].dt.hour == 21).all()
    assert h["text"].str.contains(r"^S&P 500 (?:soars|surges|jumps|gains|plunges|tumbles|slides|"
                                  r"slips|extends|closes)").all()


def test_news_retrieval_passes_the_lookahead_check_and_the_leak_control_does_not() -> None:
    pytest.importorskip("arch")
    data = gs.datasets.sp500().iloc[:1200]
    store = NewsStore(market_headlines(data), HashedWords())

    # Each replay makes a fresh agent whose corpus is written from the bars it is given
    # (prepare): the run on data cut at t has no headline after t, the full run has them all.
    class Honest(NewsRetrieval):
        def __init__(self) -> None:
            super().__init__(embedder=HashedWords(), name="Honest")

    class Leaky(NewsRetrieval):
        def __init__(self) -> None:
            super().__init__(embedder=HashedWords(), lookahead_days=5, name="Leaky")

    assert gs.check_lookahead(data, [Honest], samples=8) == []
    assert [f.agent for f in gs.check_lookahead(data, [Leaky], samples=8)] == ["Leaky"]
    ctx = SimpleNamespace(symbol="SPX", time=np.array([int(store.times[300]) + DAY]))
    v = NewsRetrieval(store).analyze(ctx)
    assert v is not None and " headlines of the 7 days before " in v.reasoning[0], v
    assert '"S&P 500' in v.reasoning[1]


def test_sentiment_knows_the_finance_words() -> None:
    agent = NewsRetrieval(corpus(3), embedder=HashedWords())
    assert agent.sentiment("S&P 500 tumbles 3.4% to 1,234.56") < -0.3
    assert agent.sentiment("S&P 500 soars 6.1% to 1,234.56") > 0.3
    with pytest.raises(gs.InvalidArgumentError, match="NewsRetrieval k = 0"):
        NewsRetrieval(k=0)


# --- the chat-model example against a real server on loopback ----------------------------

class Model(BaseHTTPRequestHandler):
    replies: ClassVar[dict[str, Any]] = {}

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Model.replies["last_request"] = body
        if self.path != "/v1/chat/completions":
            self.send_error(404)
            return
        time.sleep(Model.replies.get("delay", 0.0))
        content = Model.replies["content"]
        out = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]})
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out.encode())
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up at its deadline: what the timeout test wants

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def model_server() -> Any:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Model)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def ctx_for(symbol: str = "AAPL") -> SimpleNamespace:
    times = np.arange(30, dtype=np.int64) * DAY + 1_600_000_000_000
    return SimpleNamespace(symbol=symbol, time=times, close=np.linspace(100, 110, 30))


def test_chat_model_agent_votes_from_a_strict_reply(model_server: str) -> None:
    store = NewsStore(corpus(), HashedWords())
    agent = ChatModelAgent(model_server, "fingpt", news=store, timeout=5.0)
    Model.replies.update(delay=0.0, content='```json\n{"action": "BUY", "confidence": 0.7, '
                                            '"reason": "earnings beat"}\n```')
    v = agent.analyze(ctx_for())
    assert (v.action, v.confidence, list(v.reasoning)) == ("BUY", 0.7, ["model: earnings beat"])
    sent = Model.replies["last_request"]
    assert sent["model"] == "fingpt" and "AAPL, last 10 daily closes" in sent["messages"][1]["content"]
    Model.replies["content"] = "I think you should buy, confidence high"
    with pytest.raises(gs.InvalidArgumentError, match="not one JSON object"):
        agent.analyze(ctx_for())


def test_chat_model_agent_times_out_at_its_deadline(model_server: str) -> None:
    agent = ChatModelAgent(model_server, "slow", timeout=0.5)
    Model.replies.update(delay=2.0, content='{"action": "HOLD", "confidence": 0.5, "reason": ""}')
    t = time.monotonic()
    with pytest.raises(TimeoutError, match="did not answer within 0.5 s"):
        agent.analyze(ctx_for())
    assert time.monotonic() - t < 1.5


@pytest.mark.parametrize("reply, message", [
    ('{"action": "STRONG BUY", "confidence": 0.9, "reason": "x"}', "action 'STRONG BUY'"),
    ('{"action": "BUY", "confidence": 1.5, "reason": "x"}', "confidence 1.5"),
    ('{"action": "BUY", "confidence": true, "reason": "x"}', "confidence True"),
    ('{"action": "BUY", "confidence": 0.5}', "expected exactly action, confidence and reason"),
    ('{"action": "BUY", "confidence": 0.5, "reason": "x", "extra": 1}', "expected exactly"),
    ('[1, 2]', "has list"),
    ('{"action": "BUY", "confidence": 0.5, "reason": "' + "x" * 501 + '"}', "at most 500"),
    ('Sure! {"action": "BUY", "confidence": 0.5, "reason": "x"}', "not one JSON object"),
])
def test_parse_reply_refuses_anything_but_the_contract(reply: str, message: str) -> None:
    with pytest.raises(gs.InvalidArgumentError, match=message.replace("(", r"\(")):
        parse_reply(reply)


def test_parse_reply_accepts_the_contract() -> None:
    v = parse_reply(' {"action": "SELL", "confidence": 0, "reason": "guidance cut"} ')
    assert (v.action, v.confidence) == ("SELL", 0.0)


def test_news_retrieval_by_name_in_a_live_runtime_writes_headlines_from_its_bars() -> None:
    from goldensignals.agents import NewsRetrieval as ByAttribute
    from goldensignals.agents import load_agents

    assert ByAttribute is NewsRetrieval
    rt = gs.Runtime(symbols=["AAPL"], feed=gs.feeds.Simulated(seed=3, volatility=0.02,
                                                              interval=0, max_bars=5))
    load_agents(rt, ["NewsRetrieval"])
    assert rt.agents == ["NewsRetrieval"]
    with rt:
        # The first call embeds the window's headlines and may miss its 2 s deadline (it
        # finishes on its thread anyway); later ones find them embedded.
        end = time.monotonic() + 60
        while True:
            d = rt.analyze("AAPL", timeout=60)
            if d.agent_statuses["NewsRetrieval"] != "timeout" or time.monotonic() > end:
                break
            time.sleep(1.0)
    assert d.agent_statuses["NewsRetrieval"] == "ok", d.agent_statuses
    vote = d.votes["NewsRetrieval"]
    assert " headlines of the 7 days before " in vote.reasoning[0], vote.reasoning
    assert vote.reasoning[1].split(" ", 1)[1].startswith('"AAPL '), vote.reasoning
