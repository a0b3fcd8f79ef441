"""Fan-out peer: FastAPI WebSockets on uvicorn (the stack of the original platform)."""

from __future__ import annotations

import asyncio
import contextlib

import uvicorn
from fanout_common import confirmation, parse_args, publisher, room_names, sample, subscribe_request
from fastapi import FastAPI, WebSocket, WebSocketDisconnect

args = parse_args(__doc__)
rooms: dict[str, list[WebSocket]] = {r: [] for r in room_names(args.rooms)}


async def publish(room: str, text: str) -> None:
    for ws in list(rooms[room]):
        with contextlib.suppress(Exception):
            await ws.send_text(text)


def backlog() -> int:
    conns = sample(rooms[next(iter(rooms))])
    sizes = []
    for ws in conns:
        transport = getattr(ws.scope.get("transport"), "get_write_buffer_size", None)
        sizes.append(transport() if transport else 0)
    return max(sizes, default=0)


@contextlib.asynccontextmanager
async def lifespan(_app: FastAPI):
    task = asyncio.create_task(
        publisher(args, lambda: sum(len(v) for v in rooms.values()), publish, backlog)
    )
    yield
    task.cancel()


app = FastAPI(lifespan=lifespan)


@app.websocket("/ws/signals")
async def signals(ws: WebSocket) -> None:
    await ws.accept()
    joined = []
    try:
        while True:
            room = subscribe_request(await ws.receive_text())
            if room is not None and ws not in rooms.setdefault(room, []):
                rooms[room].append(ws)
                joined.append(room)
                await ws.send_text(confirmation(room))
    except WebSocketDisconnect:
        pass
    finally:
        for room in joined:
            with contextlib.suppress(ValueError):
                rooms[room].remove(ws)


if __name__ == "__main__":
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", ws_ping_interval=None,
                ws_per_message_deflate=False, backlog=4096)
