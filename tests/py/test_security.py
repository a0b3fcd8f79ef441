"""Security and limits (docs/security.md), each attack or limit against a real server on
loopback: tokens minted by PyJWT (or forged by hand where PyJWT refuses to), raw sockets for
what a well-behaved client would never send. Every refusal is checked on the wire (HTTP status
and JSON reason, close code, alert) and in /metrics."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import time
import urllib.error
import urllib.request
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from server_helpers import (
    WAIT,
    RawWS,
    Rejected,
    eventually,
    http_get,
    is_alert,
    is_type,
    make_runtime,
    parse_metrics,
    served,
)

SECRET = "a-test-secret-that-is-64-bytes-long-so-that-hs512-is-happy-too!!"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _keypair(kind: str) -> tuple[Any, bytes]:
    key = rsa.generate_private_key(65537, 2048) if kind == "rsa" else ec.generate_private_key(ec.SECP256R1())
    pub = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return key, pub


RSA_KEY, RSA_PUB = _keypair("rsa")
EC_KEY, EC_PUB = _keypair("ec")


def claims(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"sub": "alice", "exp": int(time.time()) + 600}
    base.update(kw)
    return {k: v for k, v in base.items() if v is not None}


def hs(c: dict[str, Any] | None = None, key: str | bytes = SECRET, alg: str = "HS256") -> str:
    return jwt.encode(c if c is not None else claims(), key, algorithm=alg)


def hand_signed(header: dict[str, Any], c: dict[str, Any], key: bytes) -> str:
    """An HS256 token signed with any key bytes (PyJWT rightly refuses a PEM as HMAC key)."""
    signing = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(c).encode())}"
    return f"{signing}.{b64(hmac.new(key, signing.encode(), hashlib.sha256).digest())}"


def tampered() -> str:
    head, _, sig = hs().split(".")
    return f"{head}.{b64(json.dumps(claims(sub='mallory')).encode())}.{sig}"


@pytest.fixture(scope="module")
def pubkey_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    p = tmp_path_factory.mktemp("keys") / "rsa.pub.pem"
    p.write_bytes(RSA_PUB)
    return str(p)


@pytest.fixture(scope="module")
def authsrv(pubkey_file: str):
    with served(require_auth=True, jwt_secret=SECRET, jwt_public_key=pubkey_file, jwt_leeway=30,
                admin_token="admin-token-1") as srv:
        yield srv


def upgrade(srv: Any, path: str = "/ws/signals", **kw: Any) -> tuple[int, dict[str, Any]]:
    """101 and the welcome, or the refusal's status and JSON body."""
    try:
        with RawWS(srv.port, path, **kw) as ws:
            return 101, ws.wait_for(lambda m: "client_id" in m)
    except Rejected as e:
        return e.status, json.loads(e.body or b"{}")


def refusals(srv: Any) -> dict[str, float]:
    return {k.split('"')[1]: v for k, v in srv_metrics(srv).items()
            if k.startswith("gs_security_refusals_total{")}


def srv_metrics(srv: Any, token: str = "admin-token-1") -> dict[str, float]:
    status, _, body = http_get(srv.http + "/metrics", token=token)
    assert status == 200, body
    return parse_metrics(body.decode())


# --- authentication at the upgrade ------------------------------------------------------------
TOKEN_CASES = [
    # (case, token or a callable making it, status, reason)
    ("no token", None, 401, "missing_token"),
    ("not a JWT", "not-a-jwt", 401, "malformed_token"),
    ("header not JSON", f"{b64(b'{oops')}.{b64(b'{}')}.c2ln", 401, "malformed_token"),
    ("alg none", lambda: jwt.encode(claims(), None, algorithm="none"), 401, "alg_none"),
    ("alg PS256 (unsupported)", lambda: jwt.encode(claims(), RSA_KEY, algorithm="PS256"), 401,
     "alg_not_allowed"),
    ("ES256 without an EC key", lambda: jwt.encode(claims(), EC_KEY, algorithm="ES256"), 401,
     "bad_signature"),
    ("wrong secret", lambda: hs(key="another-secret-another-secret!!!"), 401, "bad_signature"),
    ("tampered claims", tampered, 401, "bad_signature"),
    ("HS256 keyed with the RSA public key", lambda: hand_signed({"alg": "HS256", "typ": "JWT"},
                                                                claims(), RSA_PUB), 401,
     "bad_signature"),
    ("expired past the leeway", lambda: hs(claims(exp=int(time.time()) - 120)), 401, "expired"),
    ("not yet valid", lambda: hs(claims(nbf=int(time.time()) + 600)), 401, "not_yet_valid"),
    ("sub not a string", lambda: hs(claims(sub=None, uid=1) | {"sub": 5}), 401, "bad_claims"),
    ("exp not a number", lambda: hs(claims(exp="tomorrow")), 401, "bad_claims"),
    ("expired within the leeway", lambda: hs(claims(exp=int(time.time()) - 5)), 101, None),
    ("valid HS256", hs, 101, None),
    ("valid HS512", lambda: hs(alg="HS512"), 101, None),
    ("valid RS256", lambda: jwt.encode(claims(), RSA_KEY, algorithm="RS256"), 101, None),
]


@pytest.mark.parametrize("case,token,status,reason", TOKEN_CASES, ids=[c[0] for c in TOKEN_CASES])
def test_upgrade_token(authsrv, case, token, status, reason):
    tok = token() if callable(token) else token
    before = refusals(authsrv)
    got, body = upgrade(authsrv, "/ws/signals" + (f"?token={tok}" if tok else ""))
    assert got == status, (case, body)
    if reason:
        assert body["error"] == reason, body
        assert body["message"], body
        assert refusals(authsrv)[reason] == before[reason] + 1
    else:
        assert body["client_id"] == "alice"


def test_bearer_header_works_like_the_query(authsrv):
    status, body = upgrade(authsrv, headers={"Authorization": f"Bearer {hs()}"})
    assert status == 101 and body["client_id"] == "alice"
    status, body = upgrade(authsrv, headers={"Authorization": "Bearer x.y.z"})
    assert (status, body["error"]) == (401, "malformed_token")


def test_es256_with_an_ec_public_key(tmp_path):
    (tmp_path / "ec.pem").write_bytes(EC_PUB)
    with served(require_auth=True, jwt_public_key=str(tmp_path / "ec.pem")) as srv:
        assert upgrade(srv, f"/ws/signals?token={jwt.encode(claims(), EC_KEY, algorithm='ES256')}")[0] == 101
        # no secret configured: any HS token is refused before its signature is looked at
        status, body = upgrade(srv, f"/ws/signals?token={hs()}")
        assert (status, body["error"]) == (401, "alg_not_allowed")
        assert "GS_JWT_SECRET" in body["message"]


def test_auth_off_still_verifies_a_present_token():
    with served(jwt_secret=SECRET) as srv:
        assert upgrade(srv)[0] == 101  # anonymous is fine when auth is not required
        status, body = upgrade(srv, f"/ws/signals?token={hs(key='wrong-secret-wrong-secret-wrong!')}")
        assert (status, body["error"]) == (401, "bad_signature")
        status, body = upgrade(srv, f"/ws/signals?token={hs(claims(sub='bob'))}")
        assert status == 101 and body["client_id"] == "bob"


def test_a_bad_key_file_is_refused_naming_it(tmp_path):
    import goldensignals as gs

    (tmp_path / "k.pem").write_text("not a key")
    rt = make_runtime(require_auth=True, jwt_public_key=str(tmp_path / "k.pem"))
    try:
        with pytest.raises(gs.InvalidArgumentError, match="k.pem"):
            rt.serve(host="127.0.0.1", port=0, block=False)
        with pytest.raises(gs.InvalidArgumentError, match="GS_JWT_SECRET or GS_JWT_PUBLIC_KEY"):
            make_runtime(require_auth=True).serve(host="127.0.0.1", port=0, block=False)
    finally:
        rt.stop()


# --- claims: sub, scope, symbols, expiry --------------------------------------------------------
def test_sub_is_the_client_id_in_status(authsrv):
    with RawWS(authsrv.port, f"/ws/signals?token={hs(claims(sub='carol'))}") as ws:
        assert ws.wait_for(lambda m: "client_id" in m)["client_id"] == "carol"
        st = json.loads(http_get(authsrv.http + "/ws/status", token="admin-token-1")[2])
        assert st["websocket_manager"]["clients"].get("carol") == 1


SCOPE_CASES = [
    # (claims, request, alert code or the reply type)
    ({"scope": "subscribe"}, {"type": "analyze", "symbol": "AAPL"}, "forbidden"),
    ({"scope": "analyze"}, {"type": "subscribe", "symbol": "AAPL"}, "forbidden"),
    ({"scope": "subscribe"}, {"type": "subscribe", "symbol": "AAPL"}, "subscribe"),
    ({"scope": ["subscribe", "analyze"]}, {"type": "analyze", "symbol": "AAPL"}, "analysis_started"),
    ({"scope": "admin"}, {"type": "analyze", "symbol": "AAPL"}, "analysis_started"),
    ({"symbols": ["AAPL"]}, {"type": "subscribe", "symbol": "NVDA"}, "forbidden"),
    ({"symbols": ["aapl"]}, {"type": "subscribe", "symbol": "AAPL"}, "subscribe"),
    ({"symbols": ["AAPL"]}, {"type": "analyze", "symbol": "NVDA"}, "forbidden"),
]


@pytest.mark.parametrize("extra,request_,answer", SCOPE_CASES)
def test_scope_and_symbols_claims(authsrv, extra, request_, answer):
    before = srv_metrics(authsrv)["gs_forbidden_total"]
    with RawWS(authsrv.port, f"/ws/signals?token={hs(claims(**extra))}") as ws:
        ws.wait_for(lambda m: "client_id" in m)
        ws.send_json(request_)
        want = ("alert", "subscribe") if answer in ("subscribe", "forbidden") else ("alert",)
        m = ws.wait_for(lambda m: m.get("type") in want)
        if answer == "subscribe":
            assert m["type"] == "subscribe" and m["symbol"] == request_["symbol"], m
        else:
            assert m.get("code") == answer, m
        if answer == "forbidden":
            assert m["symbol"] == request_["symbol"] and "token" in m["message"]
            assert srv_metrics(authsrv)["gs_forbidden_total"] == before + 1
        ws.send_json({"type": "ping"})
        ws.wait_for(is_type("pong"))  # the connection stays usable


def test_symbols_claim_applies_to_the_symbol_endpoint(authsrv):
    with RawWS(authsrv.port, f"/ws/symbols/NVDA?token={hs(claims(symbols=['AAPL']))}") as ws:
        m = ws.wait_for(is_alert("forbidden"))
        assert m["symbol"] == "NVDA"


def test_token_expiring_while_connected_closes_1008():
    with served(require_auth=True, jwt_secret=SECRET, jwt_leeway=0) as srv:
        t0 = time.monotonic()
        with RawWS(srv.port, f"/ws/signals?token={hs(claims(exp=int(time.time()) + 2))}") as ws:
            ws.wait_for(lambda m: "client_id" in m)
            assert ws.read_until_closed() == 1008
            assert ws.close_reason == "token expired"
        assert 0.5 < time.monotonic() - t0 < 5
        assert srv.metrics()["gs_websocket_token_expired_closes_total"] == 1


def test_signal_history_follows_the_token_rules(authsrv):
    url = authsrv.http + "/api/signals?symbol=AAPL"
    status, headers, body = http_get(url)
    assert (status, json.loads(body)["error"]) == (401, "missing_token")
    assert headers.get("WWW-Authenticate") == "Bearer"
    status, _, body = http_get(url, token=hs(key="another-secret-another-secret!!!"))
    assert (status, json.loads(body)["error"]) == (401, "bad_signature")
    status, _, body = http_get(url, token=hs(claims(symbols=["NVDA"])))
    assert (status, json.loads(body)["error"]) == (403, "forbidden")
    status, _, body = http_get(url + f"&token={hs()}")
    assert status == 200 and json.loads(body)["symbol"] == "AAPL", body


# --- admin endpoints -----------------------------------------------------------------------------
ADMIN_CASES = [
    (None, 401),
    ("wrong", 401),
    ("admin-token-1", 200),
    ("jwt-admin", 200),
    ("jwt-user", 401),
]


@pytest.mark.parametrize("path", ["/ws/status", "/metrics"])
@pytest.mark.parametrize("token,status", ADMIN_CASES)
def test_admin_endpoints_need_the_admin_token(authsrv, path, token, status):
    tok = {"jwt-admin": hs(claims(scope="admin")), "jwt-user": hs(claims(scope="subscribe"))}.get(token, token)
    got, headers, body = (http_get(authsrv.http + path, token=tok) if tok
                          else http_get(authsrv.http + path))
    assert got == status, body
    if status == 401:
        assert json.loads(body)["error"] == "admin_required"
        assert headers.get("WWW-Authenticate") == "Bearer"
    if tok:  # the query works as well as the header
        assert http_get(authsrv.http + path + f"?token={tok}")[0] == status
    assert http_get(authsrv.http + "/health")[0] == 200  # health stays open


# --- origins -----------------------------------------------------------------------------------
def test_origin_allowlist():
    with served(allowed_origins="self, https://app.example.com") as srv:
        for origin, status in (
            ("http://evil.example", 403),
            ("null", 403),
            (f"http://127.0.0.1:{srv.port}", 101),
            ("https://app.example.com", 101),
            ("https://app.example.com.evil.example", 403),
            (None, 101),  # not a browser
        ):
            got, body = upgrade(srv, headers={"Origin": origin} if origin else None)
            assert got == status, (origin, body)
            if status == 403:
                assert body["error"] == "forbidden_origin" and origin in body["message"]
        assert srv.metrics()['gs_security_refusals_total{reason="forbidden_origin"}'] == 3


def test_origin_open_by_default():
    with served() as srv:
        assert upgrade(srv, headers={"Origin": "null"})[0] == 101
        assert upgrade(srv, headers={"Origin": "http://anywhere.example"})[0] == 101


# --- connection limits -------------------------------------------------------------------------
def test_connections_per_ip_429_and_total_503():
    with served(ws_max_connections_per_ip=2) as srv:
        a, b = RawWS(srv.port), RawWS(srv.port)
        try:
            status, body = upgrade(srv)
            assert (status, body["error"]) == (429, "too_many_connections_per_ip")
            assert "127.0.0.1" in body["message"]
            a.close()
            eventually(lambda: upgrade(srv)[0] == 101, what="a freed per-IP slot")
        finally:
            a.close()
            b.close()
        assert srv.metrics()['gs_security_refusals_total{reason="too_many_connections_per_ip"}'] == 1
    with served(ws_max_connections=1) as srv, RawWS(srv.port):
        status, body = upgrade(srv)
        assert (status, body["error"]) == (503, "too_many_connections")


# --- per-client limits ---------------------------------------------------------------------------
def test_message_flood_closes_1008():
    with served(ws_max_messages_per_second=5) as srv, RawWS(srv.port) as ws:
        ws.wait_for(lambda m: "client_id" in m)
        for _ in range(40):
            ws.send_json({"type": "ping"})
        assert ws.read_until_closed() == 1008
        assert ws.close_reason == "message flood"
        assert len([m for m in ws.messages() if m["type"] == "pong"]) <= 11  # the burst, at most
        assert srv.metrics()["gs_websocket_message_flood_closes_total"] == 1


def test_oversize_message_closes_1009():
    with served(ws_max_message_size=1024) as srv, RawWS(srv.port) as ws:
        ws.wait_for(lambda m: "client_id" in m)
        ws.send_text(json.dumps({"type": "ping", "pad": "x" * 2000}))
        assert ws.read_until_closed() == 1009
        assert srv.metrics()["gs_websocket_oversize_closes_total"] == 1


def test_analyze_rate_limited_with_retry_after():
    with served(ws_analyze_rate=0.5, ws_analyze_burst=1) as srv, RawWS(srv.port) as ws:
        ws.wait_for(lambda m: "client_id" in m)
        ws.send_json({"type": "analyze", "symbol": "AAPL"})
        ws.wait_for(is_alert("analysis_started"))
        ws.send_json({"type": "analyze", "symbol": "AAPL"})
        m = ws.wait_for(is_alert("rate_limited"))
        assert 0 < m["retry_after"] <= 2.0 and m["symbol"] == "AAPL"
        assert srv.metrics()["gs_analyze_rate_limited_total"] == 1


def test_subscriptions_per_client():
    with served(ws_max_subscriptions=1) as srv, RawWS(srv.port) as ws:
        ws.wait_for(lambda m: "client_id" in m)
        ws.send_json({"type": "subscribe", "symbol": "AAPL"})
        ws.wait_for(is_type("subscribe"))
        ws.send_json({"type": "subscribe", "symbol": "NVDA"})
        m = ws.wait_for(is_alert("too_many_subscriptions"))
        assert m["symbol"] == "NVDA" and m["limit"] == 1
        assert srv.metrics()["gs_subscriptions_refused_total"] == 1


def test_global_analysis_budget_refuses_new_work_with_an_alert():
    rt = make_runtime(max_active_analyses=1, agents=0)

    @rt.agent("Slow", weight=1.0, timeout=5.0)
    def slow(ctx):
        time.sleep(0.8)
        return None

    with served(rt) as srv, RawWS(srv.port) as a, RawWS(srv.port) as b:
        a.wait_for(lambda m: "client_id" in m)
        b.wait_for(lambda m: "client_id" in m)
        a.send_json({"type": "analyze", "symbol": "AAPL"})
        a.wait_for(is_alert("analysis_started"))
        b.send_json({"type": "analyze", "symbol": "NVDA"})
        m = b.wait_for(lambda m: m.get("code") in ("server_busy", "analysis_started"))
        assert m["code"] == "server_busy" and m["symbol"] == "NVDA" and m["limit"] == 1, m
        assert "GS_MAX_ACTIVE_ANALYSES" in m["message"] and m["retry_after"] > 0
        assert srv.metrics()["gs_analyses_refused_total"] == 1


# --- HTTP limits and handshake timeout -----------------------------------------------------------
def _raw_http(port: int, data: bytes, wait: float = WAIT) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def test_http_header_and_body_limits():
    with served(http_max_header=2048, http_max_body=100) as srv:
        big = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 4096 + b"\r\n\r\n"
        assert _raw_http(srv.port, big).startswith(b"HTTP/1.1 431")
        post = b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"b" * 1000
        assert _raw_http(srv.port, post).startswith(b"HTTP/1.1 413")
        assert srv.metrics()["gs_http_too_large_total"] == 2


@pytest.mark.parametrize("attack", ["silent", "slowloris"])
def test_handshake_timeout_closes_connections_that_never_upgrade(attack):
    with served(ws_handshake_timeout=0.3) as srv:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT) as s:
            t0 = time.monotonic()
            if attack == "slowloris":
                s.sendall(b"GET /ws/signals HTTP/1.1\r\n")
                s.settimeout(0.05)
                for i in range(100):  # a header line every 50 ms, never the end
                    try:
                        s.sendall(f"X-{i}: y\r\n".encode())
                        if s.recv(1) == b"":
                            break
                    except (TimeoutError, socket.timeout):
                        continue
                    except OSError:
                        break
            s.settimeout(WAIT)
            try:
                assert s.recv(1) == b""
            except ConnectionResetError:
                pass
            assert time.monotonic() - t0 < 3
        eventually(lambda: srv.metrics()["gs_handshake_timeouts_total"] == 1, what="counted")
        # a well-behaved client on the same server is unaffected
        assert upgrade(srv)[0] == 101


def test_metrics_name_every_limit():
    with served() as srv:
        m = srv.metrics()
    for name in ("gs_websocket_message_flood_closes_total", "gs_websocket_oversize_closes_total",
                 "gs_websocket_token_expired_closes_total", "gs_analyze_rate_limited_total",
                 "gs_analyses_refused_total", "gs_forbidden_total", "gs_subscriptions_refused_total",
                 "gs_handshake_timeouts_total", "gs_http_too_large_total",
                 "gs_websocket_connections_rejected_total"):
        assert m[name] == 0, name
    for reason in ("missing_token", "malformed_token", "alg_none", "alg_not_allowed", "bad_signature",
                   "expired", "not_yet_valid", "bad_claims", "forbidden_origin",
                   "too_many_connections_per_ip", "admin_required"):
        assert m[f'gs_security_refusals_total{{reason="{reason}"}}'] == 0, reason


# --- TLS -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and localhost, made by the openssl CLI."""
    import subprocess

    d = tmp_path_factory.mktemp("tls")
    crt, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(crt)], check=True, capture_output=True,
                   timeout=60)
    return str(crt), str(key)


def tls_context(cafile: str) -> Any:
    import ssl

    ctx = ssl.create_default_context(cafile=cafile)  # verification and hostname check on
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    return ctx


def test_tls_wss_and_https_with_verification(cert):
    import asyncio
    import ssl

    import goldensignals as gs

    crt, key = cert
    with served(tls_cert=crt, tls_key=key, jwt_secret=SECRET, require_auth=True,
                allowed_origins="self") as srv:
        assert srv.http.startswith("https://127.0.0.1:")
        ctx = tls_context(crt)
        status, _, body = http_get(srv.http + "/health", context=ctx)
        assert status == 200 and json.loads(body) == {"status": "ok"}
        # WebSocket over TLS: the token check, the origin check (self is https://) and frames
        with RawWS(srv.port, f"/ws/signals?token={hs()}", ssl=ctx,
                   headers={"Origin": f"https://127.0.0.1:{srv.port}"}) as ws:
            assert ws.wait_for(lambda m: "client_id" in m)["client_id"] == "alice"
            ws.send_json({"type": "ping"})
            ws.wait_for(is_type("pong"))
        status, body = upgrade(srv, ssl=ctx)
        assert (status, body["error"]) == (401, "missing_token")
        status, body = upgrade(srv, f"/ws/signals?token={hs()}", ssl=ctx,
                               headers={"Origin": f"http://127.0.0.1:{srv.port}"})
        assert (status, body["error"]) == (403, "forbidden_origin")

        # gs.Client over wss:// with the same verification
        async def client() -> str | None:
            async with gs.Client(f"wss://127.0.0.1:{srv.port}/ws/signals", token=hs(), ssl=ctx,
                                 reconnect=False) as c:
                await c.subscribe("AAPL")
                async for msg in c:
                    if msg.type == "subscribe":
                        return c.client_id
            return None

        assert asyncio.run(asyncio.wait_for(client(), WAIT)) == "alice"

        # An unverified certificate is refused by the client; plain TCP gets no HTTP answer.
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            urllib.request.urlopen(srv.http + "/health", context=ssl.create_default_context(),
                                   timeout=WAIT)
        reply = _raw_http(srv.port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert not reply.startswith(b"HTTP/"), reply[:40]


def test_tls_handshake_timeout_and_bad_files(cert, tmp_path):
    import goldensignals as gs

    crt, key = cert
    with served(tls_cert=crt, tls_key=key, ws_handshake_timeout=0.3) as srv:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT) as s:
            t0 = time.monotonic()
            assert s.recv(1) == b""  # never started TLS: closed at the timeout
            assert time.monotonic() - t0 < 3
        eventually(lambda: srv_metrics_tls(srv, crt)["gs_handshake_timeouts_total"] == 1,
                   what="counted")
    (tmp_path / "bad.pem").write_text("nope")
    for kw, needle in (({"tls_cert": str(tmp_path / "bad.pem"), "tls_key": key}, "GS_TLS_CERT"),
                       ({"tls_cert": crt, "tls_key": str(tmp_path / "bad.pem")}, "GS_TLS_KEY"),
                       ({"tls_cert": crt}, "both files")):
        rt = make_runtime(**kw)
        try:
            with pytest.raises(gs.InvalidArgumentError, match=needle):
                rt.serve(host="127.0.0.1", port=0, block=False)
        finally:
            rt.stop()


def srv_metrics_tls(srv: Any, cafile: str) -> dict[str, float]:
    return parse_metrics(http_get(srv.http + "/metrics", context=tls_context(cafile))[2].decode())
