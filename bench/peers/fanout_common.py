"""What every fan-out peer under bench/peers/ shares with goldensignals-server --bench-*.

The same room semantics (``{"type":"subscribe","symbol":S}`` joins room S and is answered by the
same confirmation), the same ~400-byte ``signal_update`` payload carrying ``published_ns``
(``time.monotonic_ns()``, the clock goldensignals-bench reads), and the same publisher: once
``--subscribers`` clients have joined the rooms, publish round-robin into the rooms flat out
(``--rate 0``, pausing while the sampled connections have more than ``BACKLOG_BYTES`` unsent) or
at a fixed rate, for ``--duration`` seconds. Flat out, BURST messages are published per turn of
the event loop, so a server that batches writes (asyncio's transports, uWebSockets' corking) can.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable

BACKLOG_BYTES = 64 * 1024  # flat out: about 160 unsent messages per sampled connection
BURST = 32  # flat out: messages published per event-loop iteration, so writes can batch


def parse_args(description: str) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--rooms", type=int, default=1, help="rooms BENCH (1) or BENCH0..BENCHn-1")
    p.add_argument("--subscribers", type=int, default=1, help="publish once this many joined")
    p.add_argument("--rate", type=float, default=0.0, help="messages per second (0: flat out)")
    p.add_argument("--duration", type=float, default=3.0, help="seconds of publishing")
    p.add_argument("--payload-bytes", type=int, default=400)
    return p.parse_args()


def room_names(rooms: int) -> list[str]:
    return ["BENCH"] if rooms == 1 else [f"BENCH{i}" for i in range(rooms)]


def subscribe_request(text: str | bytes) -> str | None:
    """The room a client message asks to join, else None."""
    try:
        msg = json.loads(text)
    except ValueError:
        return None
    if isinstance(msg, dict) and msg.get("type") == "subscribe":
        symbol = msg.get("symbol")
        return symbol if isinstance(symbol, str) else None
    return None


def confirmation(room: str) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return json.dumps(
        {"type": "subscribe", "symbol": room, "status": "subscribed", "timestamp": stamp},
        separators=(",", ":"),
    )


class Payloads:
    """The signal_update texts, as goldensignals-server --bench-* makes them (seq per room)."""

    def __init__(self, rooms: list[str], size: int) -> None:
        self.heads = {}
        self.seq = dict.fromkeys(rooms, 0)
        for r in rooms:
            head = (
                '"type":"signal_update","data":{"symbol":"' + r + '","action":"BUY",'
                '"confidence":0.8125,"agreement":0.8,"price":187.42,"reasoning":["'
            )
            pad = max(0, size - len(head) - 41)
            self.heads[r] = head + "x" * pad

    def make(self, room: str, due_ns: int | None = None) -> str:
        """The next message of `room`, stamped now or, at a fixed rate, when it was due."""
        self.seq[room] += 1
        stamp = time.monotonic_ns() if due_ns is None else due_ns
        return (
            '{"seq":' + str(self.seq[room]) + "," + self.heads[room]
            + '"],"published_ns":' + str(stamp) + "}}"
        )


async def publisher(
    args: argparse.Namespace,
    joined: Callable[[], int],
    publish: Callable[[str, str], Awaitable[None] | None],
    backlog: Callable[[], int],
) -> None:
    """Waits for every subscriber, then publishes as the module docstring says."""
    rooms = room_names(args.rooms)
    payloads = Payloads(rooms, args.payload_bytes)
    while joined() < args.subscribers:
        await asyncio.sleep(0.005)
    start_ns = time.monotonic_ns()
    start = start_ns / 1e9
    i = 0
    while True:
        if args.rate > 0:
            if i >= args.rate * args.duration:
                break
            delay = start + i / args.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            room = rooms[i % len(rooms)]
            # Stamped when it was due: falling behind the rate shows as latency.
            r = publish(room, payloads.make(room, start_ns + int(i * 1e9 / args.rate)))
            if r is not None:
                await r
            else:
                await asyncio.sleep(0)
            i += 1
            continue
        if time.monotonic() - start >= args.duration:
            break
        while backlog() > BACKLOG_BYTES:
            await asyncio.sleep(0.0005)
        for _ in range(BURST):
            room = rooms[i % len(rooms)]
            r = publish(room, payloads.make(room))
            if r is not None:
                await r
            i += 1
        await asyncio.sleep(0)


def sample(items: list, k: int = 3) -> list:
    """Up to k members spread over the list: first, middle, last."""
    if len(items) <= k:
        return list(items)
    return [items[0], items[len(items) // 2], items[-1]]
