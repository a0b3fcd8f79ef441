"""Fan-out peer: the `websockets` library's asyncio server and its broadcast()."""

from __future__ import annotations

import asyncio

from fanout_common import confirmation, parse_args, publisher, room_names, sample, subscribe_request
from websockets.asyncio.server import broadcast, serve


async def main() -> None:
    args = parse_args(__doc__)
    rooms: dict[str, set] = {r: set() for r in room_names(args.rooms)}
    members: dict[str, list] = {r: [] for r in rooms}

    async def handler(ws) -> None:
        joined = []
        try:
            async for text in ws:
                room = subscribe_request(text)
                if room is not None and ws not in rooms.setdefault(room, set()):
                    rooms[room].add(ws)
                    members.setdefault(room, []).append(ws)
                    joined.append(room)
                    await ws.send(confirmation(room))
        finally:
            for room in joined:
                rooms[room].discard(ws)

    def backlog() -> int:
        conns = sample(members[next(iter(members))])
        return max((c.transport.get_write_buffer_size() for c in conns), default=0)

    async with serve(handler, args.host, args.port, compression=None, ping_interval=None,
                     max_size=64 * 1024, backlog=4096):
        await publisher(
            args,
            lambda: sum(len(s) for s in rooms.values()),
            lambda room, text: broadcast(rooms[room], text),
            backlog,
        )
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
