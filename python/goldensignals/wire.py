"""The protocol's three encodings: JSON text, MessagePack and Protobuf (``?format=``).

``decode(frame, format)`` turns one WebSocket frame into the dict a JSON client gets for it;
``encode(message, format)`` turns a client message (a dict with ``type``) into a frame.
``gs.Client`` uses them, and so can any other client.

Protobuf frames are ``goldensignals.v1.ServerMessage`` (server to client) and
``goldensignals.v1.ClientMessage`` (client to server) of the published schema,
``PROTO_PATH`` (``proto/goldensignals.proto`` in the repository). The message classes are
built at run time from the schema the native module was compiled with
(``_core.protobuf_descriptor_set()``), so they always match the server of this package; they
need the ``protobuf`` package (``pip install goldensignals[protobuf]``).

A decoded Protobuf message is the JSON object with these differences, which docs/protocol.md
also gives: a field the JSON leaves out or sets to null is absent (a scalar field without
``optional`` in the schema is always there, a proto3 default when unset); repeated and map
fields are always there (``[]`` and ``{}`` when empty); numbers in ``double`` fields are
floats; in ``google.protobuf.Struct`` fields (``status_update``'s ``data``, a custom alert's
``values``), whose numbers are doubles, whole numbers up to 2**53 come back as int.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["FORMATS", "PROTO_PATH", "decode", "encode", "protobuf_classes"]

FORMATS = ("json", "msgpack", "protobuf")
# The published schema, installed with the package.
PROTO_PATH = Path(__file__).resolve().parent / "goldensignals.proto"

_WKT = ("google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue")


def _check(format: str) -> None:
    if format not in FORMATS:
        raise ValueError(f"format {format!r} is not accepted; expected one of {', '.join(FORMATS)}")


def decode(frame: str | bytes, format: str = "json") -> dict[str, Any]:
    """One server frame as the message dict (text frames are always JSON)."""
    _check(format)
    if isinstance(frame, str):
        return json.loads(frame)
    if format == "msgpack":
        return _msgpack().unpackb(frame)
    if format == "protobuf":
        server, _ = protobuf_classes()
        msg = server()
        msg.ParseFromString(frame)
        member = msg.WhichOneof("message")
        if member is None:
            raise ValueError("a goldensignals.v1.ServerMessage with no message set")
        body = getattr(msg, member)
        if member == "unmapped":  # a type newer than the schema: its JSON text
            return json.loads(body.json)
        return {"type": member, **_to_dict(body)}
    return json.loads(frame)


def encode(message: dict[str, Any], format: str = "json") -> str | bytes:
    """A client message (a dict with ``type``) as a frame: JSON text, or MessagePack or
    ClientMessage bytes. A key the schema has no field for is a ValueError naming it."""
    _check(format)
    if format == "msgpack":
        return _msgpack().packb(message)
    if format == "protobuf":
        _, client = protobuf_classes()
        msg = client()
        kind = message.get("type")
        field = msg.DESCRIPTOR.fields_by_name.get(kind) if isinstance(kind, str) else None
        if field is None:
            known = ", ".join(f.name for f in msg.DESCRIPTOR.fields)
            raise ValueError(f"encode: type {kind!r} is not a ClientMessage; expected one of {known}")
        body = getattr(msg, kind)
        body.SetInParent()  # an empty message (get_status, ping...) is still the one set
        _fill(body, {k: v for k, v in message.items() if k != "type"}, kind)
        return msg.SerializeToString()
    return json.dumps(message)


@cache
def protobuf_classes() -> tuple[type, type]:
    """The ServerMessage and ClientMessage classes of the schema this package was built with."""
    try:
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    except ImportError as e:
        raise RuntimeError("a ?format=protobuf connection needs the protobuf package: "
                           "pip install 'goldensignals[protobuf]'") from e
    from goldensignals import _core

    files = descriptor_pb2.FileDescriptorSet.FromString(_core.protobuf_descriptor_set())
    pool = descriptor_pool.DescriptorPool()  # its own pool: never clashes with generated code
    for f in files.file:
        pool.AddSerializedFile(f.SerializeToString())
    return tuple(message_factory.GetMessageClass(pool.FindMessageTypeByName(f"goldensignals.v1.{n}"))
                 for n in ("ServerMessage", "ClientMessage"))  # type: ignore[return-value]


def _msgpack() -> Any:
    try:
        import msgpack  # type: ignore[import-not-found]
    except ImportError as e:
        raise RuntimeError("a ?format=msgpack connection needs the msgpack package") from e
    return msgpack


def _repeated(f: Any) -> bool:
    is_repeated = getattr(f, "is_repeated", None)  # protobuf >= 5.29; label before
    return bool(is_repeated) if is_repeated is not None else f.label == f.LABEL_REPEATED


def _is_map(f: Any) -> bool:
    return f.message_type is not None and f.message_type.GetOptions().map_entry


def _to_dict(msg: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in msg.DESCRIPTOR.fields:
        value = getattr(msg, f.name)
        if _is_map(f):
            vf = f.message_type.fields_by_name["value"]
            out[f.name] = {k: _value(vf, v) for k, v in value.items()}
        elif _repeated(f):
            out[f.name] = [_value(f, v) for v in value]
        elif not f.has_presence or msg.HasField(f.name):
            out[f.name] = _value(f, value)
    return out


def _value(f: Any, v: Any) -> Any:
    if f.message_type is None:
        return f.enum_type.values_by_number[v].name if f.enum_type is not None else v
    if f.message_type.full_name in _WKT:
        return _wkt(v)
    return _to_dict(v)


def _wkt(v: Any) -> Any:
    name = v.DESCRIPTOR.full_name
    if name == "google.protobuf.Struct":
        return {k: _wkt(x) for k, x in v.fields.items()}
    if name == "google.protobuf.ListValue":
        return [_wkt(x) for x in v.values]
    kind = v.WhichOneof("kind")
    if kind == "number_value":
        x = v.number_value
        return int(x) if x.is_integer() and abs(x) <= 2**53 else x
    if kind in ("string_value", "bool_value"):
        return getattr(v, kind)
    if kind in ("struct_value", "list_value"):
        return _wkt(getattr(v, kind))
    return None


def _fill(msg: Any, values: dict[str, Any], path: str) -> None:
    fields = msg.DESCRIPTOR.fields_by_name
    for key, value in values.items():
        at = f"{path}.{key}"
        f = fields.get(key)
        if f is None:
            known = ", ".join(fields) or "none"
            raise ValueError(f"encode: {at} is not a field of {msg.DESCRIPTOR.full_name}; "
                             f"known: {known}")
        if value is None:
            continue
        try:
            if _is_map(f):
                target = getattr(msg, key)
                for k, v in dict(value).items():
                    target[k] = v
            elif _repeated(f):
                getattr(msg, key).extend(value)
            elif f.message_type is not None:
                _fill(getattr(msg, key), dict(value), at)
            else:
                setattr(msg, key, value)
        except (TypeError, ValueError) as e:
            raise ValueError(f"encode: {at} = {value!r} is not accepted: {e}") from None
