"""Runs every benchmark under bench/ in turn (``make bench``); each prints its own table.

``--quick`` (``make bench BENCH_ARGS=--quick``) runs one short round of the fan-out benchmarks
only: a smoke test of the harness, not figures to quote.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUITES = ["agents.py", "python_agents.py", "analyses.py", "backtest.py", "store.py", "analog.py",
          "fanout.py"]


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    failed = []
    for suite in ["fanout.py"] if quick else SUITES:
        print(f"\n=== {suite} ===", flush=True)
        extra = ["--quick"] if quick else []
        if subprocess.run([sys.executable, str(HERE / suite), *extra]).returncode != 0:
            failed.append(suite)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
