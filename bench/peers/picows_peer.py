"""Fan-out peer: picows (asyncio with a C-accelerated WebSocket protocol)."""

from __future__ import annotations

import asyncio

from fanout_common import confirmation, parse_args, publisher, room_names, sample, subscribe_request
from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport, ws_create_server


async def main() -> None:
    args = parse_args(__doc__)
    rooms: dict[str, dict[WSTransport, None]] = {r: {} for r in room_names(args.rooms)}

    class Client(WSListener):
        def __init__(self) -> None:
            self.joined: list[str] = []

        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            if frame.msg_type == WSMsgType.TEXT:
                room = subscribe_request(frame.get_payload_as_bytes())
                if room is not None and transport not in rooms.setdefault(room, {}):
                    rooms[room][transport] = None
                    self.joined.append(room)
                    transport.send(WSMsgType.TEXT, confirmation(room).encode())
            elif frame.msg_type == WSMsgType.CLOSE:
                transport.send_close(WSCloseCode.OK)
                transport.disconnect()

        def on_ws_disconnected(self, transport: WSTransport) -> None:
            for room in self.joined:
                rooms[room].pop(transport, None)

    def publish(room: str, text: str) -> None:
        data = text.encode()
        for t in rooms[room]:
            t.send(WSMsgType.TEXT, data)

    def backlog() -> int:
        conns = sample(list(rooms[next(iter(rooms))]))
        return max((t.underlying_transport.get_write_buffer_size() for t in conns), default=0)

    server = await ws_create_server(lambda _req: Client(), args.host, args.port, backlog=4096)
    async with server:
        await publisher(args, lambda: sum(len(v) for v in rooms.values()), publish, backlog)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
