"""A process with a stuck or misbehaving Python agent exits cleanly, however it ends.

Each script runs as its own interpreter, several times: an agent stuck past rt.stop()'s wait
is still inside Python when the interpreter finalizes, which ends its thread with a forced
unwind (Python <= 3.13); that used to abort the process ("FATAL: exception not rethrown")."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

RUNS = 4

HEAD = """
import asyncio, gc, threading, time
import numpy, pandas
import goldensignals as gs
rt = gs.Runtime(symbols=["AAPL"], feed=gs.feeds.Simulated(seed=11))

@rt.agent("Raiser", timeout=1.0)
def raiser(ctx):
    raise RuntimeError("boom")

@rt.agent("Sleeper", timeout=0.2)
def sleeper(ctx):
    time.sleep(3.0)
"""

ENDINGS = {
    "stop": "rt.start(); time.sleep(0.5)\nrt.analyze('AAPL'); rt.analyze('AAPL')\nrt.stop()",
    "with": "with rt:\n    time.sleep(0.5); rt.analyze('AAPL'); rt.analyze('AAPL')",
    "no_stop": "rt.start(); time.sleep(0.5)\nrt.analyze('AAPL')",
    "collected": "rt.start(); time.sleep(0.5)\nrt.analyze('AAPL')\ndel rt; gc.collect()",
    "stop_twice": "rt.start(); time.sleep(0.5)\nrt.analyze('AAPL')\nrt.stop(); rt.stop()",
    "async_stuck": textwrap.dedent("""
        @rt.agent("AsyncSleeper", timeout=0.2)
        async def async_sleeper(ctx):
            await asyncio.sleep(3.0)

        @rt.agent("LoopBlocker", timeout=0.2)
        async def loop_blocker(ctx):
            time.sleep(3.0)  # blocks the agents' event loop itself

        rt.start(); time.sleep(0.5)
        rt.analyze('AAPL'); rt.analyze('AAPL')
        rt.stop()"""),
    "ctrl_c": textwrap.dedent("""
        import os, signal
        rt.start(); time.sleep(0.5)
        threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT)).start()
        try:
            rt.analyze('AAPL')  # waits with the GIL released; the interrupt lands on return
            time.sleep(2.0)
        except KeyboardInterrupt:
            print("interrupted")
        rt.stop()"""),
    "misbehaving": textwrap.dedent("""
        @rt.agent("Exiter", timeout=1.0)
        def exiter(ctx):
            raise SystemExit(3)

        @rt.agent("Interrupter", timeout=1.0)
        def interrupter(ctx):
            raise KeyboardInterrupt

        @rt.agent("Garbage", timeout=1.0)
        def garbage(ctx):
            return "BUY"

        @rt.agent("Verbose", timeout=1.0)
        def verbose(ctx):
            return gs.Vote("BUY", 0.7, ["why"] * 100_000)

        @rt.agent("Spawner", timeout=1.0)
        def spawner(ctx):
            threading.Thread(target=time.sleep, args=(2.0,), daemon=True).start()
            return gs.Vote("HOLD", 0.5)

        rt.start(); time.sleep(0.5)
        d = rt.analyze('AAPL')
        st = {n: s for n, s in d.agent_statuses.items()}
        assert st["Exiter"] == "failed" and st["Interrupter"] == "failed", st
        assert st["Garbage"] == "failed" and st["Verbose"] == "ok", st
        rt.stop()
        print("statuses", sorted(st.items()))"""),
}


@pytest.mark.parametrize("ending", sorted(ENDINGS))
def test_the_process_exits_cleanly(ending: str, tmp_path) -> None:
    script = tmp_path / f"{ending}.py"
    script.write_text(HEAD + "\n" + ENDINGS[ending] + "\n")
    procs = [subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(RUNS)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, f"{ending}: exit {p.returncode}\n{err[-2000:]}"
        assert "FATAL" not in err and "terminate called" not in err, err[-2000:]
        if ending == "misbehaving":
            assert "statuses" in out, out + err[-2000:]
        if ending == "ctrl_c":
            assert "interrupted" in out, out + err[-2000:]


SERVER = Path(sys.executable).parent / "goldensignals-server"


@pytest.mark.skipif(not SERVER.exists(), reason="goldensignals-server not installed")
def test_the_native_server_with_a_hung_agent_stops_cleanly_on_sigterm(tmp_path) -> None:
    (tmp_path / "hung_agents.py").write_text(textwrap.dedent("""
        import time
        import goldensignals as gs

        def sleeper(ctx):
            time.sleep(4.0)  # far past its 0.2 s deadline, still inside Python at shutdown
            return gs.Vote("BUY", 0.9)
        """))
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "GS_AGENT_TIMEOUT": "0.2"}
    procs = [subprocess.Popen([str(SERVER), "--port", "0", "--db", "off", "--symbols", "AAPL",
                               "--agents", "hung_agents:sleeper"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(3)]
    time.sleep(2.5)  # started, analysed once, the agent stuck in its call
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        out, _ = p.communicate(timeout=60)
        assert p.returncode == 0, out[-2000:]
        assert "stopped" in out and "FATAL" not in out, out[-2000:]
