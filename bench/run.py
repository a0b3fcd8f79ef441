"""Runs every benchmark under bench/ in turn (``make bench``); each prints its own table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUITES = ["agents.py", "python_agents.py", "store.py"]


def main() -> int:
    failed = []
    for suite in SUITES:
        print(f"\n=== {suite} ===", flush=True)
        if subprocess.run([sys.executable, str(HERE / suite)]).returncode != 0:
            failed.append(suite)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
