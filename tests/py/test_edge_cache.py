"""Cacheable market data (docs/protocol.md, "Snapshots and bars over HTTP"): GET
/api/snapshot/{symbol} and /api/bars/{symbol} with ETag, Last-Modified and Cache-Control;
If-None-Match and If-Modified-Since answer 304; tokens make answers private; and through
HAProxy's cache (deploy/haproxy.cfg, the operators' configuration), repeated requests within
max-age never reach the server while a new bar after max-age does."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from cluster_helpers import HAPROXY, haproxy
from server_helpers import (
    TEST_SECRET,
    bar,
    connect,
    eventually,
    recv_until,
    run,
    send,
    served,
    token_for,
)


def get(url: str, headers: dict[str, str] | None = None,
        method: str = "GET") -> tuple[int, Any, bytes]:
    """Status, headers (case-insensitive: HAProxy writes them in lower case) and body."""
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.headers, e.read()


def test_snapshot_has_price_indicators_signal_and_validators():
    with served() as srv:
        status, h, body = get(srv.http + "/api/snapshot/aapl")
        assert status == 200 and h["Content-Type"] == "application/json"
        snap = json.loads(body)
        assert snap["symbol"] == "AAPL" and snap["price"] == 104.5  # make_runtime's last close
        assert snap["bars_seen"] == 5 and snap["last_bar"]["close"] == 104.5
        assert snap["as_of"].endswith("Z") and snap["signal"] is None
        assert "obv" in snap["indicators"]  # defined from the first bar
        assert "rsi_14" not in snap["indicators"]            # still in its lead-in
        assert h["Cache-Control"] == "public, max-age=1"
        etag, modified = h["ETag"], h["Last-Modified"]
        assert etag.startswith('"') and modified.endswith(" GMT")

        # Unchanged: 304 for the same tag (also weak, in a list, or *), and for the date.
        for inm in (etag, "W/" + etag, f'"other", {etag}', "*"):
            status, h2, body2 = get(srv.http + "/api/snapshot/AAPL", {"If-None-Match": inm})
            assert (status, body2) == (304, b""), inm
            assert h2["ETag"] == etag and h2["Cache-Control"] == "public, max-age=1"
        assert get(srv.http + "/api/snapshot/AAPL", {"If-Modified-Since": modified})[0] == 304
        assert get(srv.http + "/api/snapshot/AAPL",
                   {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})[0] == 200
        assert get(srv.http + "/api/snapshot/AAPL", {"If-None-Match": '"stale"'})[0] == 200
        assert get(srv.http + "/api/snapshot/AAPL", method="HEAD")[0] == 200

        # A signal changes the answer and its tag.
        async def analyze() -> None:
            ws, _ = await connect(srv.signals)
            async with ws:
                await send(ws, {"type": "analyze", "symbol": "AAPL"})
                await recv_until(ws, lambda m: m.get("type") == "signal_update")

        run(analyze())
        status, h3, body3 = get(srv.http + "/api/snapshot/AAPL", {"If-None-Match": etag})
        assert status == 200 and h3["ETag"] != etag
        assert json.loads(body3)["signal"]["action"] == "BUY"


def test_bars_are_the_newest_kept_oldest_first_and_change_with_each_bar():
    with served() as srv:
        status, h, body = get(srv.http + "/api/bars/AAPL?limit=3")
        assert status == 200
        got = json.loads(body)
        assert [b["close"] for b in got["bars"]] == [102.5, 103.5, 104.5]
        assert got["count"] == 3 and got["kept"] == 5
        assert set(got["bars"][0]) == {"time", "open", "high", "low", "close", "volume"}
        assert len(json.loads(get(srv.http + "/api/bars/AAPL")[2])["bars"]) == 5
        etag = h["ETag"]
        assert get(srv.http + "/api/bars/AAPL?limit=3", {"If-None-Match": etag})[0] == 304
        bar(srv.rt, 110.0, 0)
        status, h2, body2 = get(srv.http + "/api/bars/AAPL?limit=3", {"If-None-Match": etag})
        assert status == 200 and h2["ETag"] != etag
        assert [b["close"] for b in json.loads(body2)["bars"]] == [103.5, 104.5, 110.0]


def test_bad_requests_name_the_problem():
    with served() as srv:
        cases = [
            ("/api/bars/AAPL?limit=0", 400, "bad_request", "limit '0'"),
            ("/api/bars/AAPL?limit=abc", 400, "bad_request", "expected 1 to 100000"),
            ("/api/bars/AAPL?from=1", 400, "bad_request", "unknown parameter 'from'"),
            ("/api/snapshot/AAPL?limit=3", 400, "bad_request", "accepted: token"),
            ("/api/snapshot/TSLA", 404, "unknown_symbol", "tracked: AAPL, NVDA"),
            ("/api/snapshot/%3Cscript%3E", 400, "invalid_symbol", "not valid"),
            ("/api/bars/" + "A" * 40, 400, "invalid_symbol", "not valid"),
        ]
        for path, code, error, words in cases:
            status, h, body = get(srv.http + path)
            assert status == code, path
            msg = json.loads(body)
            assert msg["error"] == error and words in msg["message"], (path, msg)
            assert h["Cache-Control"] == "no-store", path


def test_a_symbol_without_data_yet_is_404_no_data():
    import goldensignals as gs

    rt = gs.Runtime(["AAPL"], analyze_on_start=False)
    with served(rt) as srv:
        status, _, body = get(srv.http + "/api/snapshot/AAPL")
        assert (status, json.loads(body)["error"]) == (404, "no_data")


def test_with_tokens_answers_are_private_and_follow_the_symbols_claim():
    with served(require_auth=True, jwt_secret=TEST_SECRET, cache_max_age=30) as srv:
        status, h, _ = get(srv.http + "/api/snapshot/AAPL")
        assert status == 401 and h["WWW-Authenticate"] == "Bearer"
        status, h, _ = get(srv.http + "/api/snapshot/AAPL",
                           {"Authorization": "Bearer " + token_for("alice")})
        assert status == 200
        assert h["Cache-Control"] == "private, max-age=30" and h["Vary"] == "Authorization"
        status, _, body = get(srv.http + "/api/bars/NVDA?token=" + token_for("alice", symbols=["AAPL"]))
        assert status == 403 and json.loads(body)["error"] == "forbidden"


@pytest.mark.skipif(HAPROXY is None, reason="haproxy missing: make test installs it")
def test_haproxy_caches_within_max_age_and_revalidates_after():
    with served(cache_max_age=2) as srv, haproxy([srv.port]) as lb:
        url = f"http://{lb}/api/snapshot/AAPL"

        def served_requests() -> float:
            return srv.metrics()["gs_http_requests_total"]

        first = get(url)
        assert first[0] == 200
        # HAProxy's health checks hit /health every second: count only what moves beyond them.
        before = served_requests()
        hits = [get(url) for _ in range(20)]
        assert all(h[0] == 200 and h[2] == first[2] for h in hits)
        assert any("Age" in h[1] for h in hits), "no answer came from the cache"
        during = served_requests() - before
        assert during < 10, f"{during} of 20 requests reached the server"  # ~2 health checks

        # Conditional through the cache: 304 without a body.
        status, _, body = get(url, {"If-None-Match": first[1]["ETag"]})
        assert (status, body) == (304, b"")

        # A new bar; once max-age has passed, the cache fetches the new snapshot.
        bar(srv.rt, 120.0, 0)
        def fresh() -> bool:
            return json.loads(get(url)[2])["price"] == 120.0
        eventually(fresh, 10, "the cache to serve the new price after max-age")

        # Other paths are never cached.
        n = served_requests()
        for _ in range(5):
            get(f"http://{lb}/api/signals?symbol=AAPL")
        assert served_requests() - n >= 5


def test_cached_snapshots_cost_the_stream_nothing():
    # Many snapshot requests while a subscriber is streaming: every price still arrives.
    with served() as srv:
        async def main() -> None:
            ws, _ = await connect(srv.signals)
            async with ws:
                await send(ws, {"type": "subscribe", "symbol": "AAPL"})
                await recv_until(ws, lambda m: m.get("type") == "subscribe")
                loop = asyncio.get_running_loop()
                fetch = loop.run_in_executor(None, lambda: [get(srv.http + "/api/bars/AAPL")
                                                            for _ in range(200)])
                for i in range(10):
                    bar(srv.rt, 100.0 + i, i)
                await recv_until(ws, lambda m: m.get("type") == "price_update"
                                 and m["data"]["price"] == 109.0)
                assert all(r[0] == 200 for r in await fetch)

        run(main())
