"""``gs.Client``: an async WebSocket client for the GoldenSignals protocol (docs/protocol.md).

```python
async with gs.Client("ws://127.0.0.1:8000/ws/signals") as client:
    await client.subscribe("AAPL")
    await client.analyze("AAPL")
    async for msg in client:
        if msg.type == "signal_update":
            print(msg.data["action"], msg.data["confidence"])
```

It reconnects with exponential backoff when the connection drops and subscribes again to
every symbol it was subscribed to with ``since`` = the last ``seq`` it saw there, so a server
with history re-sends what was missed; room messages it has already seen (by ``seq``) are
dropped, so an application sees one continuous stream without duplicates. ``recovered``
holds each symbol's last answer (False: the server could not fill the gap).
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from goldensignals import wire

__all__ = ["Client", "Message"]


@dataclass(frozen=True)
class Message:
    """One server message: ``type``, the protocol's ``data`` (or {}), ``seq`` and the raw dict."""

    type: str
    data: dict[str, Any] = field(default_factory=dict)
    seq: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def symbol(self) -> str | None:
        return self.data.get("symbol") or self.raw.get("symbol")

    @classmethod
    def parse(cls, obj: dict[str, Any]) -> Message:
        data = obj.get("data")
        return cls(type=str(obj.get("type", "")), data=data if isinstance(data, dict) else {},
                   seq=obj.get("seq") if isinstance(obj.get("seq"), int) else None, raw=obj)


class Client:
    """Async client: ``async with Client(url, token=None) as c`` then ``async for msg in c``.

    ``format`` (``json``, ``msgpack`` or ``protobuf``; else the URL's ``?format=``, else
    json) is what the server sends; every format decodes to the same dicts
    (goldensignals.wire). ``token`` (a JWT) goes on the upgrade URL; ``ssl`` is an
    ``ssl.SSLContext`` for ``wss://`` (None: the system's default verification). A refusal
    for the token or the origin (HTTP 401 or 403) is raised at once, never retried.

    ``reconnect`` (default True) retries with backoff from ``backoff`` seconds up to
    ``max_backoff``; ``max_queue`` bounds the messages buffered for the iterator (the oldest
    are dropped past it, and counted in ``dropped``).
    """

    def __init__(self, url: str, token: str | None = None, *, ssl: Any = None, reconnect: bool = True,
                 backoff: float = 0.25, max_backoff: float = 10.0, max_queue: int = 10_000,
                 format: str | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss"):
            raise ValueError(f"Client: url {url!r} is not accepted; expected ws:// or wss://")
        query = dict(parse_qsl(parts.query))
        if format is not None:
            query["format"] = format
        self.format = query.get("format", "json")
        if self.format not in wire.FORMATS:
            raise ValueError(f"Client: format {self.format!r} is not accepted; expected one of "
                             f"{', '.join(wire.FORMATS)}")
        if self.format == "protobuf":
            wire.protobuf_classes()  # a missing protobuf package is said here, not mid-stream
        if token:
            query["token"] = token
        if query != dict(parse_qsl(parts.query)):
            url = urlunsplit(parts._replace(query=urlencode(query)))
        if ssl is not None and parts.scheme != "wss":
            raise ValueError(f"Client: ssl is only for wss:// URLs, not {url!r}")
        self.url = url
        self.ssl = ssl
        self.reconnect = reconnect
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.client_id: str | None = None
        self.connects = 0
        self.dropped = 0
        self._subs: set[str] = set()
        # Alerts and portfolios by (kind, id): sent again after a reconnect unless the server
        # keeps them for this token (their replies say "persistent").
        self._watches: dict[tuple[str, str], dict[str, Any]] = {}
        self._watches_kept = False
        self._last_seq: dict[str, int] = {}  # per symbol: the newest room seq seen
        self._epoch: dict[str, str] = {}  # per symbol: the history those seqs belong to
        self.recovered: dict[str, bool] = {}  # per symbol: the last resume's answer
        self.duplicates = 0  # room messages dropped because their seq was already seen
        self._queue: asyncio.Queue[Message | BaseException] = asyncio.Queue(max_queue)
        self._ws: Any = None
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._closing = False

    async def __aenter__(self) -> Client:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self, timeout: float = 10.0) -> None:
        """Connects (and keeps reconnecting in the background); returns once connected."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="goldensignals-client")
        waiter = asyncio.create_task(self._connected.wait())
        done, _ = await asyncio.wait({waiter, self._task}, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if waiter not in done:
            waiter.cancel()
            if self._task.done() and self._task.exception() is not None:
                raise self._task.exception()  # type: ignore[misc]
            raise TimeoutError(f"Client: could not connect to {self.url} within {timeout} s")

    async def _run(self) -> None:
        import websockets

        delay = self.backoff
        while not self._closing:
            last: BaseException | str = "the server closed the connection"
            try:
                extra = {"ssl": self.ssl} if self.ssl is not None else {}
                async with websockets.connect(self.url, max_size=None, **extra) as ws:
                    self._ws = ws
                    self.connects += 1
                    delay = self.backoff
                    for again in self._watches.values():  # alerts and portfolios not kept
                        if not self._watches_kept:
                            await ws.send(json.dumps(again))
                    for sym in sorted(self._subs):  # resume where the last connection was
                        req: dict[str, Any] = {"type": "subscribe", "symbol": sym}
                        if sym in self._last_seq:
                            req["since"] = self._last_seq[sym]
                            if sym in self._epoch:  # many nodes: a lost history is a reset
                                req["epoch"] = self._epoch[sym]
                        await ws.send(json.dumps(req))
                    self._connected.set()
                    async for raw in ws:
                        obj = wire.decode(raw, self.format)
                        msg = Message.parse(obj)
                        if msg.type == "heartbeat" and "client_id" in obj:
                            self.client_id = obj["client_id"]
                        elif msg.type in ("add_alert", "subscribe_portfolio"):
                            # With a token the server keeps them itself across reconnects.
                            self._watches_kept = bool(obj.get("persistent"))
                        elif msg.type == "subscribe":
                            sym = str(obj.get("symbol"))
                            if isinstance(obj.get("epoch"), str):
                                self._epoch[sym] = obj["epoch"]
                            if isinstance(obj.get("recovered"), bool):
                                self.recovered[sym] = obj["recovered"]
                                if not obj["recovered"]:  # a gap (another numbering): start over
                                    self._last_seq.pop(sym, None)
                        if msg.seq is not None and not self._fresh(msg):
                            self.duplicates += 1
                            continue
                        self._put(msg)
            except (OSError, asyncio.TimeoutError) as e:
                if not self.reconnect and self.connects == 0:
                    raise
                last = e
            except Exception as e:  # websockets' ConnectionClosed and handshake errors
                status = getattr(getattr(e, "response", None), "status_code", None)
                if status in (401, 403):
                    raise  # a refused token or origin: retrying cannot help
                if type(e).__module__.startswith("websockets") and (self.reconnect or self.connects):
                    last = e
                else:
                    raise
            finally:
                self._ws = None
                self._connected.clear()
            if self._closing or not self.reconnect:
                why = last if isinstance(last, str) else repr(last)
                self._put(ConnectionError(f"Client: disconnected from {self.url}: {why}"))
                return
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(self.max_backoff, delay * 2)

    def _fresh(self, msg: Message) -> bool:
        """True for a room message newer than any seen for its symbol (and remembers it)."""
        sym = msg.symbol
        if not sym or msg.raw.get("replay"):
            return True
        if msg.seq <= self._last_seq.get(sym, 0):  # type: ignore[operator]
            return False
        self._last_seq[sym] = msg.seq  # type: ignore[assignment]
        return True

    def last_seq(self, symbol: str) -> int | None:
        """The newest room ``seq`` seen for ``symbol`` (the ``since`` of the next resume)."""
        return self._last_seq.get(symbol.upper())

    def _put(self, item: Message | BaseException) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(item)

    async def send(self, message: dict[str, Any]) -> None:
        """Sends one client message (waits for a connection if it is being re-established)."""
        await self._connected.wait()
        await self._ws.send(json.dumps(message))

    async def subscribe(self, symbol: str) -> None:
        self._subs.add(symbol.upper())
        await self.send({"type": "subscribe", "symbol": symbol})

    async def unsubscribe(self, symbol: str) -> None:
        self._subs.discard(symbol.upper())
        await self.send({"type": "unsubscribe", "symbol": symbol})

    async def analyze(self, symbol: str) -> None:
        await self.send({"type": "analyze", "symbol": symbol})

    async def get_status(self) -> None:
        await self.send({"type": "get_status"})

    async def add_alert(self, symbol: str, condition: str, *, id: str | None = None,
                        cooldown: float | None = None, severity: str | None = None) -> str:
        """A custom alert (docs/protocol.md, "Custom alerts"): the server confirms with an
        ``add_alert`` message, or answers ``bad_request`` naming the error's position, and
        sends an ``alert`` with ``alert_type`` "custom" each time `condition` becomes true.
        Returns its id. Added again after a reconnect unless the server keeps it (a token)."""
        id = id or f"alert-{len(self._watches) + 1}"
        msg: dict[str, Any] = {"type": "add_alert", "id": id, "symbol": symbol,
                               "condition": condition}
        for key, value in (("cooldown", cooldown), ("severity", severity)):
            if value is not None:
                msg[key] = value
        self._watches[("alert", id)] = msg
        await self.send(msg)
        return id

    async def remove_alert(self, id: str) -> None:
        self._watches.pop(("alert", id), None)
        await self.send({"type": "remove_alert", "id": id})

    async def subscribe_portfolio(self, positions: dict[str, float], *,
                                  id: str | None = None) -> str:
        """Watches a portfolio (docs/protocol.md, "Portfolios"): weights per symbol (negative:
        short). The server joins each member's room and sends a ``portfolio_update`` on each
        member's price or signal. Returns its id; watched again after a reconnect unless the
        server keeps it (a token)."""
        id = id or f"portfolio-{len(self._watches) + 1}"
        msg = {"type": "subscribe_portfolio", "id": id, "positions": dict(positions)}
        self._watches[("portfolio", id)] = msg
        await self.send(msg)
        return id

    async def unsubscribe_portfolio(self, id: str) -> None:
        self._watches.pop(("portfolio", id), None)
        await self.send({"type": "unsubscribe_portfolio", "id": id})

    async def list_portfolios(self) -> None:
        await self.send({"type": "list_portfolios"})

    async def list_alerts(self) -> None:
        await self.send({"type": "list_alerts"})

    async def recv(self, timeout: float | None = None) -> Message:
        """The next message; raises ConnectionError when the client gave up."""
        item = await asyncio.wait_for(self._queue.get(), timeout)
        if isinstance(item, BaseException):
            raise item
        return item

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[Message]:
        while True:
            try:
                yield await self.recv()
            except ConnectionError:
                return

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None

