"""Fan-out peer: socketify (uWebSockets underneath), app.publish() to a topic per room."""

from __future__ import annotations

from fanout_common import confirmation, parse_args, publisher, room_names, sample, subscribe_request
from socketify import App, AppListenOptions, CompressOptions, OpCode

args = parse_args(__doc__)
rooms = room_names(args.rooms)
members: dict[str, list] = {r: [] for r in rooms}
joined = 0


def on_message(ws, message, _opcode) -> None:
    global joined
    room = subscribe_request(message)
    if room is not None and ws.subscribe(room):
        joined += 1
        members.setdefault(room, []).append(ws)
        ws.send(confirmation(room), OpCode.TEXT)


def on_close(ws, _code, _message) -> None:
    for room in members.values():
        if ws in room:
            room.remove(ws)


def backlog() -> int:
    return max((ws.get_buffered_amount() for ws in sample(members[rooms[0]])), default=0)


app = App()
app.ws(
    "/*",
    {
        "compression": CompressOptions.DISABLED,
        "max_payload_length": 64 * 1024,
        "idle_timeout": 120,
        # Raised so a flat-out run is not cut short (as --ws-message-queue-size for ours).
        "max_backpressure": 64 * 1024 * 1024,
        "message": on_message,
        "close": on_close,
    },
)
app.listen(AppListenOptions(port=args.port, host=args.host), lambda _config: None)
app.loop.ensure_future(
    publisher(args, lambda: joined,
              lambda room, text: app.publish(room, text, OpCode.TEXT) and None, backlog)
)
app.run()
