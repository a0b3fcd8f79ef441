"""The benchmarks' native entry points: the module ``_gs_bench`` (bindings/bench/), which a
plain CMake build makes in build/cpp (``make test``, ``make bench``) and the package never
ships. ``load()`` imports it after ``goldensignals._core``, whose types it uses."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

BUILD = Path(__file__).resolve().parents[1] / "build" / "cpp" / "bindings" / "bench"


def load() -> ModuleType:
    importlib.import_module("goldensignals._core")
    if str(BUILD) not in sys.path:
        sys.path.insert(0, str(BUILD))
    try:
        return importlib.import_module("_gs_bench")
    except ImportError as e:
        raise ImportError(f"_gs_bench is not built in {BUILD} ({e}); run `make bench-server`, "
                          "which builds it with this checkout's Python") from e
