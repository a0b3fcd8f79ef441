"""The one table of settings: the native goldensignals-server and `goldensignals serve` accept
and refuse exactly the same values with the same message, naming the setting as the user gave
it (variable or flag), and `--help` lists every setting with the range that is enforced."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from goldensignals import cli, settings

SERVER = Path(sys.executable).parent / "goldensignals-server"
CROSS_FIELD = {"require_auth", "tls_cert", "tls_key"}  # accepted only with another setting


def fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def candidates(s: settings.Setting) -> list[tuple[str, bool | None]]:
    """(raw value, whether the table must accept it; None: decided by other settings too)."""
    lo, hi = s.lo, s.hi
    if s.kind == "integer":
        return [(fmt(lo), True), (fmt(hi), True), (fmt(lo - 1), False), (fmt(hi + 1), False),
                ("1.5", False), ("ten", False), (" ", False)]
    if s.kind == "number":
        below = lo / 2 if lo > 0 else lo - 0.5
        return [(fmt(lo), not s.lo_open), (fmt(hi), True), (fmt(below), False),
                (fmt(hi * 1.5 + 1), False), ("nan", False), ("inf", False), ("1e", False)]
    if s.kind == "boolean":
        ok = None if s.key in CROSS_FIELD else True
        return [("true", ok), ("OFF", True), ("yes", ok), ("maybe", False), ("", False)]
    if s.kind == "address":
        return [("0.0.0.0", True), ("::1", True), ("localhost", False), ("999.1.1.1", False)]
    if s.kind == "symbols":
        return [("aapl, nvda", True), (" , ", False), ("", False)]
    if s.kind == "database":
        return [("off", True), ("NONE", True), ("/tmp/gs-settings-check.db", True)]
    return [("some text", None if s.key in CROSS_FIELD else True)]


CASES = [(s.key, raw, ok) for s in settings.SETTINGS for raw, ok in candidates(s)]


def clean_env() -> dict[str, str]:
    names = {s.env for s in settings.SETTINGS}
    return {k: v for k, v in os.environ.items() if k not in names}


def native(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    r = subprocess.run([str(SERVER), "--check-config", *args], env=env, capture_output=True,
                       text=True, timeout=30, check=False)
    out = (r.stdout + r.stderr).strip()
    return r.returncode, out.removeprefix("goldensignals-server: ")


def python(args: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
           capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    for s in settings.SETTINGS:
        monkeypatch.delenv(s.env, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    code = cli.main(["serve", "--check-config", *args])
    out = capsys.readouterr()
    return code, (out.out + out.err).strip().removeprefix("goldensignals: ")


@pytest.mark.skipif(not SERVER.exists(), reason="goldensignals-server is not installed")
@pytest.mark.parametrize("how", ["env", "flag"])
def test_both_servers_accept_and_refuse_the_same_values_with_the_same_message(
        how: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    base = clean_env()
    checked = 0
    for key, raw, ok in CASES:
        s = settings.BY_KEYWORD[key]
        if how == "flag" and s.kind == "boolean" and raw == "":
            continue  # a flag alone, or with an empty value, means true (both servers)
        if how == "env":
            args, extra, named = [], {s.env: raw}, s.env
        else:
            args, extra, named = [f"{s.flag}={raw}"], {}, s.flag
        n_code, n_out = native(args, {**base, **extra})
        p_code, p_out = python(args, extra, monkeypatch, capsys)
        where = f"{named}={raw!r}"
        assert (n_code, n_out) == (p_code, p_out), where
        if ok is True:
            assert n_code == 0, f"{where}: inside the table's range but refused: {n_out}"
        elif ok is False:
            assert n_code == 2, f"{where}: outside the table's range but accepted"
            # Named as given, with the value and what is accepted.
            assert n_out == f"{named} '{raw}' is not accepted; expected {s.accepted}", where
        checked += 1
    assert checked > 200


@pytest.mark.skipif(not SERVER.exists(), reason="goldensignals-server is not installed")
def test_help_lists_every_setting_with_the_range_enforced() -> None:
    native_help = " ".join(subprocess.run([str(SERVER), "--help"], capture_output=True, text=True,
                                          timeout=30, check=True).stdout.split())
    py_help = " ".join(subprocess.run([sys.executable, "-m", "goldensignals.cli", "serve", "--help"],
                                      capture_output=True, text=True, timeout=60,
                                      check=True).stdout.split())
    for s in settings.SETTINGS:
        line = " ".join(s.help_line.split())
        assert s.accepted in line and s.env in line
        for name, text in (("goldensignals-server --help", native_help),
                           ("goldensignals serve --help", py_help)):
            assert re.search(re.escape(s.flag) + r"\b", text), f"{name}: no {s.flag}"
            assert line in text, f"{name}: {s.flag} lacks '{line}'"


def test_keywords_are_named_as_keywords_and_typed() -> None:
    import goldensignals as gs

    with pytest.raises(gs.InvalidArgumentError,
                       match=r"^ws_max_connections '5000000' is not accepted; expected an "
                             r"integer in \[1, 1000000\]$"):
        settings.resolve({"ws_max_connections": 5_000_000}, env={})
    with pytest.raises(gs.InvalidArgumentError, match=r"^port True is not accepted"):
        settings.resolve({"port": True}, env={})
    v = settings.resolve({"symbols": ["aapl", "msft"], "move_threshold": 1, "port": 80.0,
                          "store_prices": "on", "db": "Off"}, env={"GS_PORT": "not used"})
    assert v["symbols"] == ("AAPL", "MSFT") and v["move_threshold"] == 1.0
    assert v["port"] == 80 and v["store_prices"] is True and v["db"] == ""
    # The environment is parsed by the same table, named by its variable.
    with pytest.raises(gs.InvalidArgumentError, match=r"^WS_HEARTBEAT_INTERVAL '0.001' is not"):
        settings.resolve({}, env={"WS_HEARTBEAT_INTERVAL": "0.001"})
