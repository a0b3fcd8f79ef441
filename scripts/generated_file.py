"""Writes a generated, checked-in file, or checks that it is current (shared by the gen_* scripts)."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path


def write_or_check(path: Path, text: str, label: str, remedy: str) -> int:
    """With --write on the command line, writes `text` to `path`; else returns 1 and prints a
    diff when the file differs from `text`."""
    if "--write" in sys.argv:
        path.write_text(text)
        print(f"wrote {path}")
        return 0
    current = path.read_text() if path.exists() else ""
    if current == text:
        return 0
    sys.stdout.writelines(difflib.unified_diff(current.splitlines(True), text.splitlines(True),
                                               f"checked-in {label}", "generated"))
    print(f"\n{label} is out of date: run `{remedy}`", file=sys.stderr)
    return 1
