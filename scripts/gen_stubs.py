"""Generates python/goldensignals/_core.pyi with pybind11-stubgen, or checks it is current.

    python scripts/gen_stubs.py --write   # regenerate the checked-in stub
    python scripts/gen_stubs.py           # exit 1 and show a diff when it drifted
"""

from __future__ import annotations

import difflib
import subprocess
import sys
import tempfile
from pathlib import Path

STUB = Path(__file__).resolve().parent.parent / "python" / "goldensignals" / "_core.pyi"


def generate() -> str:
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [sys.executable, "-m", "pybind11_stubgen", "goldensignals._core", "-o", out,
             "--numpy-array-use-type-var", "--exit-code"],
            check=True, capture_output=True, text=True,
        )
        text = (Path(out) / "goldensignals" / "_core.pyi").read_text()
    return text


def main() -> int:
    text = generate()
    if "--write" in sys.argv:
        STUB.write_text(text)
        print(f"wrote {STUB}")
        return 0
    current = STUB.read_text() if STUB.exists() else ""
    if current == text:
        return 0
    sys.stdout.writelines(difflib.unified_diff(current.splitlines(True), text.splitlines(True),
                                               "checked-in _core.pyi", "generated"))
    print("\n_core.pyi is out of date: run `make stubs`", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
