"""The wheel for this Python (`make test` builds it first, with `scripts/wheels.py build`):
it carries every library outside the manylinux policy and works where the system's copies are
hidden. And a build from the sdist without the system packages stops with a message naming
them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TAG = f"cp{sys.version_info.major}{sys.version_info.minor}"
pytestmark = pytest.mark.skipif(sys.platform != "linux" or shutil.which("unshare") is None,
                                reason="mount namespaces (unshare) are Linux's")


def the_wheel() -> Path:
    found = sorted((ROOT / "dist").glob(f"goldensignals-*-{TAG}-{TAG}-manylinux_*.whl"))
    assert found, (f"no repaired {TAG} wheel in dist/: `make test` builds it "
                   f"(scripts/wheels.py build --python {sys.version_info.major}."
                   f"{sys.version_info.minor})")
    return found[-1]


def test_the_wheel_is_repaired_and_reasonably_small() -> None:
    wheel = the_wheel()
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
    carried = {n.split("/")[-1].split("-")[0] for n in names if n.startswith("goldensignals.libs/")}
    assert {"libjwt", "libjansson", "libsqlite3", "libssl", "libcrypto", "libspdlog",
            "libfmt"} <= carried
    assert not any("libpython" in n for n in names)  # the server's plugin uses the user's
    assert any(n.endswith("goldensignals-server") for n in names)
    assert any(n.startswith("goldensignals/web/") for n in names)  # the dashboard
    assert wheel.stat().st_size < 15 * 2**20


@pytest.mark.timeout(600)
def test_the_wheel_works_where_the_system_libraries_are_hidden() -> None:
    # Installs into a fresh environment, then (libraries hidden) imports, analyses with the
    # history store on, serves a WebSocket client, and runs the native server with a Python
    # agent; scripts/wheels.py check fails if a hidden library is still loadable.
    base = Path(sys._base_executable)  # type: ignore[attr-defined]
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "wheels.py"), "check",
                        str(the_wheel()), "--python", str(base)],
                       capture_output=True, text=True, timeout=600, check=False)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    assert "package: analysis and WebSocket client ok (6 agents)" in r.stdout
    assert "server: a Python agent over WebSocket ok" in r.stdout
    assert "server: --help, a Python agent and SIGTERM ok" in r.stdout


@pytest.mark.timeout(600)
def test_building_the_sdist_without_the_system_packages_names_them(tmp_path: Path) -> None:
    from scikit_build_core.build import build_sdist

    here = os.getcwd()
    try:
        os.chdir(ROOT)
        sdist = tmp_path / build_sdist(str(tmp_path))
    finally:
        os.chdir(here)
    with tarfile.open(sdist) as t:
        assert any(n.endswith("cmake/GsDependencies.cmake") for n in t.getnames())
    # What the -dev packages add: headers and pkg-config files. A file hidden by /dev/null
    # still exists for CMake, so /usr/include is replaced by links (through a second view of
    # it) to everything but those headers.
    real, farm = tmp_path / "real-include", tmp_path / "include"
    real.mkdir()
    farm.mkdir()
    headers = {"sqlite3.h", "sqlite3ext.h", "openssl", "jwt.h", "hnswlib"}
    for entry in Path("/usr/include").iterdir():
        if entry.name not in headers:
            (farm / entry.name).symlink_to(real / entry.name)
    hide = [f"mount --bind /usr/include {real}", f"mount --bind {farm} /usr/include"]
    for p in sorted(Path("/usr/include").glob("*-linux-gnu/openssl")):
        hide.append(f"mount --bind {tempfile.mkdtemp(dir=tmp_path)} {real / p.relative_to('/usr/include')}")
    for pattern in ("usr/lib/*-linux-gnu/pkgconfig/libjwt.pc",
                    "usr/lib/*-linux-gnu/pkgconfig/openssl.pc",
                    "usr/lib/*-linux-gnu/pkgconfig/libssl.pc",
                    "usr/lib/*-linux-gnu/pkgconfig/sqlite3.pc"):
        hide += [f"mount --bind /dev/null {p}" for p in sorted(Path("/").glob(pattern))]
    assert len(hide) >= 6, hide  # the test hides what it says it does
    # pip's isolated build would bring Boost and nlohmann/json from PyPI; this one finds the
    # copies make put in build/deps on the build interpreter's sys.path.
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               PYTHONPATH=str(ROOT / "build" / "deps"))
    script = "\n".join(["set -e", *hide,
                        (f"{sys.executable} -m pip --disable-pip-version-check wheel --no-deps "
                        f"--no-build-isolation -w {tmp_path / 'out'} {sdist}")])
    r = subprocess.run(["unshare", "-m", "bash", "-c", script], capture_output=True, text=True,
                       env=env, timeout=600, check=False)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out[-3000:]
    assert "GoldenSignals needs system libraries that are missing" in out, out[-3000:]
    for pkg in ("libjwt-dev", "libssl-dev", "libsqlite3-dev", "libhnswlib-dev"):
        assert pkg in out, out[-3000:]
    assert "apt-get install -y" in out
