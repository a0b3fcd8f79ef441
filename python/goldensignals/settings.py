"""Runtime settings: keyword > environment > default, each validated with a clear message.

The names in docs/protocol.md's "Configuration names" are kept as they are
(``AGENT_MIN_CONFIDENCE`` ...); every other setting uses the ``GS_`` prefix. The keyword of a setting is its environment
name in lower case without the ``GS_`` prefix (``GS_MOVE_THRESHOLD`` -> ``move_threshold``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ._core import InvalidArgumentError

DEFAULT_SYMBOLS = ("AAPL", "GOOGL", "MSFT", "TSLA", "NVDA", "SPY", "QQQ")


@dataclass(frozen=True)
class Setting:
    env: str
    default: Any
    parse: Callable[[str, Any], Any]
    help: str

    @property
    def keyword(self) -> str:
        name = self.env.lower()
        return name[3:] if name.startswith("gs_") else name


def _number(kind: type, lo: float, hi: float, *, lo_open: bool = False) -> Callable[[str, Any], Any]:
    def parse(name: str, raw: Any) -> Any:
        try:
            if isinstance(raw, bool):
                raise ValueError
            value = kind(raw)
            if kind is int and isinstance(raw, float) and raw != int(raw):
                raise ValueError
        except (TypeError, ValueError):
            raise InvalidArgumentError(
                f"{name} {raw!r} is not accepted; expected {'an integer' if kind is int else 'a number'}"
                f" in {'(' if lo_open else '['}{lo}, {hi}]"
            ) from None
        if value != value or value > hi or value < lo or (lo_open and value == lo):
            raise InvalidArgumentError(
                f"{name} {raw!r} is not accepted; expected a value in "
                f"{'(' if lo_open else '['}{lo}, {hi}]"
            )
        return value

    return parse


def _bool(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise InvalidArgumentError(f"{name} {raw!r} is not accepted; expected true or false")


def _text(name: str, raw: Any) -> str:
    if not isinstance(raw, str):
        raise InvalidArgumentError(f"{name} {raw!r} is not accepted; expected a string")
    return raw.strip()


def _symbols(name: str, raw: Any) -> tuple[str, ...]:
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    out = tuple(str(s).strip().upper() for s in items if str(s).strip())
    if not out:
        raise InvalidArgumentError(f"{name} {raw!r} is not accepted; expected at least one symbol")
    return out


def _db(name: str, raw: Any) -> str:
    text = str(raw).strip()
    if text.lower() in ("", "off", "none", "false", "0"):
        return ""
    if "\0" in text:
        raise InvalidArgumentError(f"{name} {raw!r} is not accepted; expected a file path or off")
    return text


SETTINGS: tuple[Setting, ...] = (
    Setting("GS_SYMBOLS", DEFAULT_SYMBOLS, _symbols, "symbols monitored (comma-separated)"),
    Setting("GS_HOST", "127.0.0.1", lambda name, raw: str(raw), "address the server binds"),
    Setting("GS_PORT", 8000, _number(int, 0, 65_535), "port the server binds (0: any free port)"),
    Setting("GS_IO_THREADS", 1, _number(int, 1, 64), "the server's network threads"),
    Setting("AGENT_MIN_CONFIDENCE", 0.6, _number(float, 0.0, 1.0), "votes below this do not count"),
    Setting("AGENT_CONSENSUS_THRESHOLD", 0.7, _number(float, 0.0, 1.0),
            "agreement needed for a signal (never below 0.5)"),
    Setting("SIGNAL_GENERATION_INTERVAL", 30.0, _number(float, 0.0, 31_622_400.0, lo_open=True),
            "seconds of market time without an analysis that trigger one"),
    Setting("GS_MIN_AGENTS_FOR_SIGNAL", 3, _number(int, 1, 10_000), "quorum floor"),
    Setting("GS_MOVE_THRESHOLD", 0.01, _number(float, 0.0, 1.0, lo_open=True),
            "price move since the last analysis that triggers one (0.01 = 1%)"),
    Setting("GS_HISTORY_BARS", 512, _number(int, 2, 1_000_000), "bars kept per symbol"),
    Setting("GS_BAR_SECONDS", 60.0, _number(float, 0.0, 86_400.0),
            "length of the bars that publish_tick builds (0: ticks form no bars)"),
    Setting("GS_COMPUTE_THREADS", 1, _number(int, 1, 256), "threads for native agents and consensus"),
    Setting("GS_PYTHON_WORKERS", 2, _number(int, 1, 64), "threads that run Python agents"),
    Setting("GS_ANALYZE_ON_START", True, _bool, "analyse each symbol once as soon as it has data"),
    Setting("GS_BREAKER_FAULTS", 5, _number(int, 1, 1_000_000),
            "consecutive faults that disable an agent"),
    Setting("GS_BREAKER_COOLDOWN", 30.0, _number(float, 0.0, 3600.0, lo_open=True),
            "seconds a disabled agent rests before a trial call"),
    Setting("GS_EVENT_QUEUE", 65_536, _number(int, 16, 10_000_000),
            "events waiting for Python callbacks, at most (more are dropped and counted)"),
    Setting("GS_AGENT_TIMEOUT", 1.0, _number(float, 0.0, 3600.0, lo_open=True),
            "default deadline of a Python agent, seconds"),
    Setting("GS_SCORE_HORIZON", 5, _number(int, 0, 10_000),
            "bars after which each signal and each BUY/SELL vote is scored (0: no live scoring)"),
    Setting("GS_SCORE_COST_BPS", 0.0, _number(float, 0.0, 10_000.0),
            "fees and half-spread per side, in basis points, taken from scored trades"),
    Setting("WS_HEARTBEAT_INTERVAL", 30.0, _number(float, 0.0, 3600.0, lo_open=True),
            "seconds between server heartbeats"),
    Setting("WS_MESSAGE_QUEUE_SIZE", 1000, _number(int, 1, 10_000_000),
            "messages queued per WebSocket client, at most"),
    Setting("WS_MAX_CONNECTIONS", 1000, _number(int, 1, 10_000_000), "WebSocket connections, at most"),
    Setting("GS_DB", "goldensignals.db", _db,
            "SQLite file of the signal history the server keeps (off: no history, no recovery)"),
    Setting("GS_STORE_PRICES", False, _bool, "store price_update messages in the history too"),
    Setting("GS_RETENTION_DAYS", 30.0, _number(float, 0.0, 36_500.0, lo_open=True),
            "history older than this many days is deleted"),
    Setting("GS_RETENTION_ROWS", 100_000, _number(int, 1, 1_000_000_000),
            "history messages kept per symbol, at most"),
    # Security and limits (docs/security.md).
    Setting("GS_REQUIRE_AUTH", False, _bool,
            "refuse upgrades without a valid JWT (401); needs GS_JWT_SECRET or GS_JWT_PUBLIC_KEY"),
    Setting("GS_JWT_SECRET", "", _text, "shared secret of HS256/384/512 tokens"),
    Setting("GS_JWT_PUBLIC_KEY", "", _text, "PEM file of the RSA or EC public key of RS*/ES* tokens"),
    Setting("GS_JWT_LEEWAY", 30.0, _number(float, 0.0, 3600.0),
            "seconds of clock skew allowed on a token's exp and nbf"),
    Setting("GS_ADMIN_TOKEN", "", _text,
            "token that /ws/status and /metrics require when set (or a JWT with scope admin)"),
    Setting("GS_ALLOWED_ORIGINS", "", _text,
            "browser origins allowed to connect: empty or * any, self, or a comma list (else 403)"),
    Setting("GS_TLS_CERT", "", _text, "PEM certificate chain; with GS_TLS_KEY the server speaks only TLS"),
    Setting("GS_TLS_KEY", "", _text, "PEM private key of GS_TLS_CERT"),
    Setting("WS_MAX_CONNECTIONS_PER_IP", 100, _number(int, 1, 1_000_000),
            "WebSocket connections per client address, at most (more get 429)"),
    Setting("WS_MAX_SUBSCRIPTIONS", 100, _number(int, 1, 100_000),
            "rooms one client may join (alert too_many_subscriptions)"),
    Setting("WS_ANALYZE_RATE", 5.0, _number(float, 0.0, 1_000_000.0, lo_open=True),
            "analyze requests per second per client (alert rate_limited with retry_after)"),
    Setting("WS_ANALYZE_BURST", 10.0, _number(float, 1.0, 1_000_000.0),
            "analyze requests a client may save up"),
    Setting("WS_MAX_MESSAGES_PER_SECOND", 100.0, _number(float, 0.0, 1_000_000.0, lo_open=True),
            "messages per second per client, burst 2x (past it: close 1008 message flood)"),
    Setting("WS_MAX_MESSAGE_SIZE", 65_536, _number(int, 128, 64 * 1024 * 1024),
            "bytes of one client message, at most (past it: close 1009)"),
    Setting("WS_HANDSHAKE_TIMEOUT", 10.0, _number(float, 0.0, 600.0, lo_open=True),
            "seconds a new connection has for its first request or upgrade (and TLS handshake)"),
    Setting("GS_HTTP_MAX_HEADER", 16_384, _number(int, 1024, 1024 * 1024),
            "bytes of HTTP request headers, at most (431)"),
    Setting("GS_HTTP_MAX_BODY", 65_536, _number(int, 0, 64 * 1024 * 1024),
            "bytes of an HTTP request body, at most (413)"),
    Setting("GS_MAX_ACTIVE_ANALYSES", 64, _number(int, 1, 1_000_000),
            "analyses running at once server-wide; more analyze requests get alert server_busy"),
)

BY_KEYWORD = {s.keyword: s for s in SETTINGS}

# The settings that Runtime.serve hands to the server as its `security` mapping.
SERVER_SECURITY = (
    "require_auth", "jwt_secret", "jwt_public_key", "jwt_leeway", "admin_token", "allowed_origins",
    "tls_cert", "tls_key", "ws_max_connections_per_ip", "ws_max_subscriptions", "ws_analyze_rate",
    "ws_analyze_burst", "ws_max_messages_per_second", "ws_max_message_size",
    "ws_handshake_timeout", "http_max_header", "http_max_body", "max_active_analyses",
)


def resolve(overrides: Mapping[str, Any], env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Returns every setting by keyword: keyword > environment > default, validated."""
    env = os.environ if env is None else env
    unknown = sorted(set(overrides) - set(BY_KEYWORD))
    if unknown:
        raise TypeError(
            f"unknown setting(s) {', '.join(unknown)}; accepted: {', '.join(sorted(BY_KEYWORD))}"
        )
    out: dict[str, Any] = {}
    for s in SETTINGS:
        if s.keyword in overrides and overrides[s.keyword] is not None:
            out[s.keyword] = s.parse(s.keyword, overrides[s.keyword])
        elif s.env in env:
            out[s.keyword] = s.parse(s.env, env[s.env])
        else:
            out[s.keyword] = s.default
    return out
