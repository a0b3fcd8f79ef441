"""Generates python/goldensignals/_core.pyi with pybind11-stubgen, or checks it is current.

    python scripts/gen_stubs.py --write   # regenerate the checked-in stub
    python scripts/gen_stubs.py           # exit 1 and show a diff when it drifted
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from generated_file import write_or_check

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
    return write_or_check(STUB, generate(), "_core.pyi", "make stubs")

if __name__ == "__main__":
    sys.exit(main())
