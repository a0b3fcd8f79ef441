"""Runtime settings: keyword > environment > default, each validated with a clear message.

Every setting is one row of the C++ table in ``cpp/include/goldensignals/server/settings.hpp``
(``_core.settings_table()``): the same names, defaults, ranges and messages as the native
``goldensignals-server``. The names in docs/protocol.md's "Configuration names" are kept as
they are (``AGENT_MIN_CONFIDENCE`` ...); every other variable has the ``GS_`` prefix. The
keyword of a setting is its variable in lower case without the ``GS_`` prefix
(``GS_MOVE_THRESHOLD`` -> ``move_threshold``); its flag is the keyword with dashes.

A refused value is named as it was given (``--ws-max-connections``, ``WS_MAX_CONNECTIONS`` or
``ws_max_connections``), with the value and what is accepted.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import _core
from ._core import InvalidArgumentError


@dataclass(frozen=True)
class Setting:
    key: str
    env: str
    flag: str
    kind: str  # integer, number, boolean, text, address, symbols, database
    default: Any
    default_text: str
    lo: float  # integer and number: the accepted range
    hi: float
    lo_open: bool
    accepted: str
    help: str
    help_line: str  # the help with the variable, what is accepted and the default

    @property
    def keyword(self) -> str:
        return self.key

    def parse(self, given_as: str, raw: Any) -> Any:
        """The value of `raw` (text, or a Python value of the setting's kind), or
        InvalidArgumentError naming it as `given_as`."""
        return _core.parse_setting(self.key, _as_text(self, given_as, raw), given_as)


def _as_text(s: Setting, given_as: str, raw: Any) -> str:
    """A keyword's Python value as the text the table parses; a value of another kind is
    refused here (True is not a port, a list is not a number)."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        if s.kind == "boolean":
            return "true" if raw else "false"
    elif isinstance(raw, int) and s.kind in ("integer", "number"):
        return str(raw)
    elif isinstance(raw, float) and s.kind in ("integer", "number"):
        return str(int(raw)) if s.kind == "integer" and raw.is_integer() else repr(raw)
    elif isinstance(raw, (list, tuple)) and s.kind == "symbols":
        return ",".join(str(x) for x in raw)
    raise InvalidArgumentError(f"{given_as} {raw!r} is not accepted; expected {s.accepted}")


SETTINGS: tuple[Setting, ...] = tuple(
    Setting(key=d["key"], env=d["env"], flag=d["flag"], kind=d["kind"], default=d["default"],
            default_text=d["default_text"], lo=d["lo"], hi=d["hi"], lo_open=d["lo_open"],
            accepted=d["accepted"], help=d["help"],
            help_line=d["help_line"])
    for d in _core.settings_table()
)

BY_KEYWORD = {s.key: s for s in SETTINGS}

DEFAULT_SYMBOLS: tuple[str, ...] = BY_KEYWORD["symbols"].default


def resolve(overrides: Mapping[str, Any], env: Mapping[str, str] | None = None,
            given_as: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every setting by keyword: keyword (or flag) > environment > default, each parsed.

    `given_as` names how an override was given when it was not a keyword (a flag of
    ``goldensignals serve``), so a refusal names it as the user wrote it."""
    env = os.environ if env is None else env
    given_as = given_as or {}
    unknown = sorted(set(overrides) - set(BY_KEYWORD))
    if unknown:
        raise TypeError(
            f"unknown setting(s) {', '.join(unknown)}; accepted: {', '.join(sorted(BY_KEYWORD))}"
        )
    out: dict[str, Any] = {}
    for s in SETTINGS:
        if s.key in overrides and overrides[s.key] is not None:
            out[s.key] = s.parse(given_as.get(s.key, s.key), overrides[s.key])
        elif s.env in env:
            out[s.key] = s.parse(s.env, env[s.env])
        else:
            out[s.key] = s.default
    return out


def check(values: Mapping[str, Any]) -> None:
    """Checks resolved settings as the runtime and the server will when they start (symbols,
    files, the TLS pair ...); InvalidArgumentError on the first problem."""
    _core.check_settings(dict(values))
