"""The documentation against the code: the README example runs, the settings table is the one
settings.py makes, every local link resolves, and the README's screenshot is a real image."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import gen_settings_doc  # noqa: E402

from goldensignals.settings import SETTINGS  # noqa: E402

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_settings_table_in_operations_is_generated_from_settings_py():
    current = gen_settings_doc.DOC.read_text()
    assert current == gen_settings_doc.render(current), (
        "the settings table of docs/operations.md is out of date: run `make docs`")


def test_every_setting_is_documented_with_its_flag_and_default():
    ops = (ROOT / "docs" / "operations.md").read_text()
    for s in SETTINGS:
        assert f"| `{s.env}` | `{s.flag}` | `{s.key}` |" in ops, s.env


def test_readme_python_example_runs():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## In Python"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert 10 <= len(code.strip().splitlines()) <= 14, code
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert re.search(r"Decision\(AAPL (BUY|SELL|HOLD|NO_SIGNAL)", r.stdout), r.stdout


def test_local_links_in_docs_resolve():
    missing = []
    for doc in DOCS:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (doc.parent / target).exists():
                missing.append(f"{doc.relative_to(ROOT)} -> {target}")
    assert not missing, missing


def test_readme_shows_the_dashboard_screenshot():
    readme = (ROOT / "README.md").read_text()
    assert "](docs/images/dashboard.png)" in readme
    png = (ROOT / "docs" / "images" / "dashboard.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width >= 1200 and height >= 700, (width, height)
    assert len(png) > 50_000, "a blank page compresses to far less"
