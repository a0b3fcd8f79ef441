"""The C++ layers hold: the engine (gs_engine) includes nothing of the server layer, and the
network layer (net/) nothing of server/, as docs/development.md's layout says."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CPP = ROOT / "cpp"
INCLUDE = re.compile(r'#include "goldensignals/([a-z_]+)/')


def parts(name: str) -> list[str]:
    text = (CPP / "CMakeLists.txt").read_text()
    return re.search(rf"set\({name} ([a-z_ ]+)\)", text).group(1).split()


def includes(part: str) -> set[tuple[str, str]]:
    found = set()
    for folder in (CPP / "src" / part, CPP / "include" / "goldensignals" / part):
        for f in folder.glob("*.[hc]pp"):
            for m in INCLUDE.finditer(f.read_text()):
                found.add((f.relative_to(ROOT).as_posix(), m.group(1)))
    return found


def test_every_source_folder_is_in_one_layer():
    engine, server = parts("GS_ENGINE_PARTS"), parts("GS_SERVER_PARTS")
    assert not set(engine) & set(server)
    folders = {p.name for p in (CPP / "src").iterdir() if p.is_dir()}
    assert folders == set(engine) | set(server)


def test_the_engine_includes_nothing_of_the_server_layer():
    server = set(parts("GS_SERVER_PARTS"))
    bad = sorted((f, p) for part in parts("GS_ENGINE_PARTS") for f, p in includes(part)
                 if p in server)
    assert bad == []


def test_net_includes_nothing_of_server():
    assert sorted((f, p) for f, p in includes("net") if p == "server") == []
