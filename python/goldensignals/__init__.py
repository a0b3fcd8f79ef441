"""GoldenSignals: a real-time multi-agent signal runtime.

Native C++ agents and Python model agents vote on each market event that matters; a
Byzantine-robust consensus turns the votes into a signal. See the README and docs/.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as _version

from . import _core

try:
    __version__ = _version("goldensignals")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = _core.__version__

__all__ = ["__version__"]
