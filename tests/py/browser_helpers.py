"""Headless Chromium for the browser tests: Debian's `chromium`, driven by Playwright.

Playwright never downloads a browser here: PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD is set and the
system Chromium is launched through `executable_path`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

CHROMIUM = os.environ.get("GS_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"

needs_chromium = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                    reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--headless=new"])
        try:
            yield b
        finally:
            b.close()
