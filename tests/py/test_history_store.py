"""Signal history on real SQLite files: a real `goldensignals serve` process killed with
SIGKILL mid-stream and restarted, recovery with `since` at the seam, history over WebSocket
and HTTP, and the degraded modes (corrupt, locked, read-only file) that never stop live data."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import goldensignals as gs
from browser_helpers import ServerProcess as BrowserServerProcess
from loopback import free_port
from server_helpers import (
    WAIT,
    analysis,
    connect,
    eventually,
    http_get,
    http_json,
    is_alert,
    is_type,
    recv,
    recv_until,
    run,
    send,
    served,
    subscribe,
)

ROOM = {"price_update", "agent_update", "signal_update", "decision_update"}


class ServerProcess(BrowserServerProcess):
    """The browser tests' `goldensignals serve` process with agents that always vote, fast
    bars, an analysis per bar, every room message stored; and a kill -9."""

    def __init__(self, db: Path, port: int) -> None:
        super().__init__(port, symbols=("AAPL",), interval=0.02, agents=(
            "--no-builtin-agents", "--agents", "history_agents:buy_a", "--agents",
            "history_agents:buy_b", "--agents", "history_agents:buy_c",
            "--signal-generation-interval", "1", "--db", str(db), "--store-prices", "true"))
        self.db = db
        self.ws = f"ws://127.0.0.1:{port}/ws/signals"

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self.proc = None


@contextlib.contextmanager
def server_process(tmp_path: Path) -> Iterator[ServerProcess]:
    s = ServerProcess(tmp_path / "gs.db", free_port())
    s.start()
    try:
        yield s
    finally:
        s.stop()


def stored(db: Path, where: str = "1", args: tuple[Any, ...] = ()) -> list[tuple[int, str]]:
    """(seq, type) of the stored AAPL messages, read from the file with Python's sqlite3."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as c:
        return [(int(s), t) for s, t in c.execute(
            f"SELECT seq, type FROM messages WHERE symbol = 'AAPL' AND {where} ORDER BY seq", args)]


def room(msgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in msgs if m.get("type") in ROOM and not m.get("snapshot")]


async def collect(ws: Any, until: Any, limit: float = WAIT) -> list[dict[str, Any]]:
    """Room messages until `until(messages)` holds."""
    out: list[dict[str, Any]] = []
    end = time.monotonic() + limit
    while not until(out):
        assert time.monotonic() < end, f"not enough messages within {limit} s: {len(out)}"
        m = await recv(ws, max(0.1, end - time.monotonic()))
        if m.get("type") in ROOM:
            out.append(m)
    return out


def test_kill9_mid_stream_loses_nothing_sent_and_since_resumes_exactly(tmp_path):
    with server_process(tmp_path) as srv:
        async def before_kill() -> list[dict[str, Any]]:
            a, _ = await connect(srv.ws)
            b, _ = await connect(srv.ws)
            async with a, b:
                await subscribe(a, "AAPL")
                await subscribe(b, "AAPL")
                got = await collect(a, lambda ms: sum(m["type"] == "signal_update" for m in ms) >= 20)
                srv.kill9()  # while signals flow: no flush, no goodbye
                # Whatever was already in the sockets still counts as received.
                for ws in (a, b):
                    with contextlib.suppress(Exception):
                        while True:
                            m = await recv(ws, 1.0)
                            if ws is a and m.get("type") in ROOM:
                                got.append(m)
                return room(got)

        got = run(before_kill())
        seqs = [m["seq"] for m in got]
        assert seqs == sorted(set(seqs)), "the live stream had a gap in order or a duplicate"
        last_seen = seqs[-1]
        on_disk = stored(srv.db)
        assert on_disk, "nothing was stored"
        disk_seqs = {s for s, _ in on_disk}
        # Every message a client received is in the file: it was committed before it was sent.
        missing = [m for m in got if m["seq"] not in disk_seqs]
        assert not missing, f"{len(missing)} received messages are not in the history: {missing[:3]}"
        max_before_restart = max(disk_seqs)
        assert max_before_restart >= last_seen
        received_signals = [m["data"]["signal_id"] for m in got if m["type"] == "signal_update"]
        assert len(received_signals) >= 15

        srv.start()  # same file, same port

        history = http_json(srv.url + "/api/signals?symbol=AAPL&limit=1000")
        ids = {s["signal_id"] for s in history["signals"]}
        assert set(received_signals) <= ids

        async def resume() -> tuple[dict[str, Any], list[dict[str, Any]]]:
            c, _ = await connect(srv.ws)
            async with c:
                await send(c, {"type": "subscribe", "symbol": "AAPL", "since": last_seen})
                conf, _ = await recv_until(c, is_type("subscribe", symbol="AAPL"))
                msgs = await collect(c, lambda ms: len(ms) >= 2 and ms[-1]["seq"] > max_before_restart + 5)
                return conf, msgs

        conf, msgs = run(resume())
        assert conf["recovered"] is True
        got_seqs = [m["seq"] for m in msgs]
        assert got_seqs == sorted(set(got_seqs)), "recovery had a duplicate or went out of order"
        assert got_seqs[0] > last_seen
        # Exactly what the client had not received: every stored message after `since`, then
        # the live ones, with nothing missing at the seam. (A live price_update may replace
        # an unsent older one in a client's queue, by design; ordered kinds never go missing.)
        want = stored(srv.db, "seq > ? AND seq <= ?", (last_seen, got_seqs[-1]))
        seen = [(m["seq"], m["type"]) for m in msgs]
        assert [x for x in seen if x[1] != "price_update"] == \
            [x for x in want if x[1] != "price_update"]
        assert set(seen) <= set(want)
        resent = [x for x in want if x[0] <= max_before_restart]
        assert seen[:len(resent)] == resent, "the messages stored before the kill, all re-sent"
        # seq went on above everything of the killed process.
        live = [s for s in got_seqs if s > max_before_restart]
        assert live and min(live) > max_before_restart
        print(f"\nkill -9: client got {len(got)} room messages ({len(received_signals)} signals) up to "
              f"seq {last_seen}; file held up to seq {max_before_restart} ({len(on_disk)} rows); "
              f"resume since={last_seen}: {len(resent)} re-sent, then live from seq {min(live)}")


def test_client_away_for_n_messages_recovers_them_in_order_without_duplicates():
    with served(analyze_on_start=False) as srv:
        async def main() -> None:
            a, _ = await connect(srv.signals)
            async with a:
                await subscribe(a, "AAPL")
                b, _ = await connect(srv.signals)
                async with b:
                    await subscribe(b, "AAPL")
                    await send(a, {"type": "analyze", "symbol": "AAPL"})
                    first = room(await analysis(b, "AAPL"))
                    b_last = first[-1]["seq"]
                await asyncio.sleep(0.1)
                missed: list[dict[str, Any]] = []
                for _ in range(3):  # b is away for three analyses
                    await send(a, {"type": "analyze", "symbol": "AAPL"})
                    missed += room(await analysis(a, "AAPL"))
                missed = [m for m in missed if m["seq"] > b_last]
                assert len(missed) >= 9
                b2, _ = await connect(srv.signals)
                async with b2:
                    await send(b2, {"type": "subscribe", "symbol": "AAPL", "since": b_last})
                    conf, _ = await recv_until(b2, is_type("subscribe", symbol="AAPL"))
                    assert conf["recovered"] is True
                    back = await collect(b2, lambda ms: len(ms) >= len(missed))
                    assert [(m["seq"], m["type"]) for m in back] == \
                        [(m["seq"], m["type"]) for m in missed]
                    assert back == missed  # the very same messages
                    # then live, continuing without a duplicate
                    await send(a, {"type": "analyze", "symbol": "AAPL"})
                    more = room(await analysis(b2, "AAPL"))
                    assert more and more[0]["seq"] > missed[-1]["seq"]

        run(main())


def test_since_beyond_history_is_not_recovered_and_gets_the_snapshot():
    with served(analyze_on_start=False, retention_rows=3) as srv:
        async def main() -> None:
            a, _ = await connect(srv.signals)
            async with a:
                await send(a, {"type": "analyze", "symbol": "AAPL"})
                await analysis(a, "AAPL")
                await send(a, {"type": "subscribe", "symbol": "AAPL", "since": 10_000})
                conf, _ = await recv_until(a, is_type("subscribe", symbol="AAPL"))
                assert conf["recovered"] is False
                snap, _ = await recv_until(a, lambda m: m.get("snapshot") is True)
                assert snap["type"] == "signal_update"

        run(main())


def test_history_over_websocket_and_http_with_paging_and_bad_params():
    with served(analyze_on_start=False) as srv:
        async def main() -> list[str]:
            ws, _ = await connect(srv.signals)
            async with ws:
                ids = []
                for _ in range(3):
                    await send(ws, {"type": "analyze", "symbol": "AAPL"})
                    ids += [m["data"]["signal_id"] for m in await analysis(ws, "AAPL")
                            if m["type"] == "signal_update"]
                await send(ws, {"type": "history", "symbol": "aapl", "limit": 2})
                h, _ = await recv_until(ws, is_type("history"))
                assert h["symbol"] == "AAPL"
                assert [s["signal_id"] for s in h["data"]] == ids[::-1][:2]
                await send(ws, {"type": "history", "symbol": "AAPL", "limit": 0})
                bad, _ = await recv_until(ws, is_alert("bad_request"))
                assert "limit" in bad["message"] and "1 to 1000" in bad["message"]
                return ids

        ids = run(main())
        page = http_json(srv.http + "/api/signals?symbol=aapl&limit=2")
        assert [s["signal_id"] for s in page["signals"]] == ids[::-1][:2]
        assert page["signals"][0]["symbol"] == "AAPL" and page["next_before"]
        rest = http_json(srv.http + f"/api/signals?symbol=AAPL&before={page['next_before']}")
        assert [s["signal_id"] for s in rest["signals"]] == ids[::-1][2:]
        for query, word in (("symbol=AAPL&limit=0", "limit"), ("symbol=AAPL&limit=x", "limit"),
                            ("symbol=AAPL&before=-1", "before"), ("symbol=%21%21", "symbol"),
                            ("limit=5", "symbol"), ("symbol=AAPL&bogus=1", "bogus")):
            status, _, body = http_get(srv.http + "/api/signals?" + query)
            assert status == 400, (query, status, body)
            err = json.loads(body)
            assert word in err["message"], (query, err)


def test_corrupt_file_is_degraded_live_data_flows_and_health_says_so(tmp_path, monkeypatch):
    db = tmp_path / "corrupt.db"
    db.write_bytes(b"this is not an SQLite database" * 300)
    monkeypatch.setenv("GS_DB", str(db))
    with served(analyze_on_start=False) as srv:
        assert srv.metrics()["gs_history_degraded"] == 1
        status, _, body = http_get(srv.http + "/health")
        assert status == 503
        health = json.loads(body)
        assert health["status"] == "degraded"
        assert "corrupt" in health["history"]["reason"]
        assert srv.status()["history"]["status"] == "degraded"

        async def main() -> None:
            ws, _ = await connect(srv.signals)
            async with ws:
                await send(ws, {"type": "analyze", "symbol": "AAPL"})
                msgs = await analysis(ws, "AAPL")
                assert any(m["type"] == "signal_update" for m in msgs)
                await send(ws, {"type": "subscribe", "symbol": "AAPL", "since": 1})
                conf, _ = await recv_until(ws, is_type("subscribe", symbol="AAPL"))
                assert conf["recovered"] is False

        run(main())
    assert db.read_bytes().startswith(b"this is not an SQLite database")  # left untouched


def test_locked_file_alerts_degraded_then_recovered(tmp_path, monkeypatch):
    db = tmp_path / "locked.db"
    monkeypatch.setenv("GS_DB", str(db))
    with served(analyze_on_start=False):
        pass  # creates the file
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with served(analyze_on_start=False) as srv:
            assert http_get(srv.http + "/health")[0] == 503
            assert "locked" in srv.status()["history"]["reason"]

            async def main() -> None:
                ws, _ = await connect(srv.signals)
                async with ws:
                    await send(ws, {"type": "analyze", "symbol": "AAPL"})
                    msgs = await analysis(ws, "AAPL")  # live data flows
                    assert any(m["type"] == "signal_update" for m in msgs)
                    other.execute("COMMIT")
                    m, _ = await recv_until(ws, is_alert("history_recovered"), timeout=WAIT)
                    assert m["alert_type"] == "system"

            run(main())
            eventually(lambda: http_get(srv.http + "/health")[0] == 200, what="healthy again")
    finally:
        other.close()


def test_locked_at_runtime_raises_a_system_alert_to_every_client(tmp_path, monkeypatch):
    db = tmp_path / "later.db"
    monkeypatch.setenv("GS_DB", str(db))
    with served(analyze_on_start=False) as srv:
        async def main() -> None:
            ws, _ = await connect(srv.signals)
            bystander, _ = await connect(srv.signals)  # in no room
            async with ws, bystander:
                await send(ws, {"type": "analyze", "symbol": "AAPL"})
                await analysis(ws, "AAPL")
                other = sqlite3.connect(db, isolation_level=None)
                try:
                    other.execute("BEGIN EXCLUSIVE")
                    await send(ws, {"type": "analyze", "symbol": "AAPL"})
                    msgs = await analysis(ws, "AAPL")
                    assert any(m["type"] == "signal_update" for m in msgs)
                    alert, _ = await recv_until(bystander, is_alert("history_degraded"))
                    assert alert["alert_type"] == "system" and alert["severity"] == "critical"
                    assert "locked" in alert["message"]
                finally:
                    other.rollback() if other.in_transaction else None
                    other.close()

        run(main())


@pytest.mark.skipif(shutil.which("chattr") is None or os.geteuid() != 0,
                    reason="an immutable file needs chattr and root (root ignores chmod)")
def test_read_only_file_is_degraded_and_seq_still_grows(tmp_path, monkeypatch):
    db = tmp_path / "ro.db"
    monkeypatch.setenv("GS_DB", str(db))
    with served(analyze_on_start=False) as srv:
        async def first() -> int:
            ws, _ = await connect(srv.signals)
            async with ws:
                await send(ws, {"type": "analyze", "symbol": "AAPL"})
                return max(m["seq"] for m in room(await analysis(ws, "AAPL")))

        last = run(first())
    del srv
    gc.collect()  # the first server's connections close (SQLite would reuse its descriptor)
    # Checkpoint so the file alone holds everything, then make it immutable.
    with contextlib.closing(sqlite3.connect(db)) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    if subprocess.run(["chattr", "+i", str(db)], capture_output=True).returncode != 0:
        pytest.skip("this filesystem does not support chattr +i")
    try:
        with served(analyze_on_start=False) as srv:
            status, _, body = http_get(srv.http + "/health")
            assert status == 503 and json.loads(body)["status"] == "degraded"

            async def second() -> list[int]:
                ws, _ = await connect(srv.signals)
                async with ws:
                    await send(ws, {"type": "analyze", "symbol": "AAPL"})
                    return [m["seq"] for m in room(await analysis(ws, "AAPL"))]

            seqs = run(second())
            assert seqs and min(seqs) > last  # read from the read-only file: no reuse
    finally:
        subprocess.run(["chattr", "-i", str(db)], check=True)


def test_history_is_off_with_gs_db_off(monkeypatch):
    monkeypatch.setenv("GS_DB", "off")
    with served(analyze_on_start=False) as srv:
        assert srv.status()["history"]["status"] == "off"
        status, _, body = http_get(srv.http + "/api/signals?symbol=AAPL")
        assert status == 404 and json.loads(body)["error"] == "history_disabled"

        async def main() -> None:
            ws, _ = await connect(srv.signals)
            async with ws:
                await send(ws, {"type": "subscribe", "symbol": "AAPL", "since": 5})
                conf, _ = await recv_until(ws, is_type("subscribe", symbol="AAPL"))
                assert conf["recovered"] is False
                await send(ws, {"type": "history", "symbol": "AAPL"})
                m, _ = await recv_until(ws, is_alert("unavailable"))
                assert "GS_DB" in m["message"]

        run(main())


def test_runtime_history_is_a_dataframe_and_replay_feeds_the_callbacks():
    import pandas as pd

    with served(analyze_on_start=False) as srv:
        rt = srv.rt
        decisions = [rt.analyze("AAPL") for _ in range(3)]
        want = [d.signal.signal_id for d in decisions]
        # The store commits before it broadcasts; wait until the three are in the file.
        eventually(lambda: len(rt.history("AAPL", 10)) == 3, what="three stored signals")
        df = rt.history("AAPL", 10)
        assert list(df["signal_id"]) == want  # oldest first
        assert {"symbol", "action", "confidence", "price", "agents_consensus", "metadata",
                "timestamp", "seq"} <= set(df.columns)
        assert isinstance(df["timestamp"].dtype, pd.DatetimeTZDtype)
        assert str(df["timestamp"].dt.tz) == "UTC"
        assert (df["action"] == "BUY").all() and df["seq"].is_monotonic_increasing
        assert list(rt.history("AAPL", 2)["signal_id"]) == want[1:]
        with pytest.raises(gs.InvalidArgumentError, match="limit"):
            rt.history("AAPL", 0)

        got: dict[str, list[Any]] = {"signal": [], "decision": [], "agent_update": []}
        rt.on_signal(got["signal"].append)
        rt.on_decision(got["decision"].append)
        rt.on_agent_update(got["agent_update"].append)
        n = rt.replay("AAPL")
        assert [s.signal_id for s in got["signal"]] == want
        assert [d.to_dict()["decision"]["signal_id"] for d in got["decision"]] == want
        assert len(got["agent_update"]) >= 3 * 3
        assert n == sum(len(v) for v in got.values())
        assert got["signal"][0].action == "BUY" and got["signal"][0].kind == "signal_update"
        # a window that ends before anything was stored replays nothing
        assert rt.replay("AAPL", end=time.time() - 3600) == 0
        # a limit keeps the newest messages of the window, still fed oldest first
        end = time.time()
        for v in got.values():
            v.clear()

        def seqs() -> list[int]:
            return sorted(e.seq for v in got.values() for e in v)

        rt.replay("AAPL", end=end)
        every = seqs()
        for v in got.values():
            v.clear()
        assert rt.replay("AAPL", end=end, limit=3) == 3
        assert seqs() == every[-3:]
        with pytest.raises(gs.InvalidArgumentError, match="limit -1"):
            rt.replay("AAPL", limit=-1)


def test_runtime_reads_a_file_not_written_yet_as_empty(tmp_path):
    # Another process's history file that does not exist yet, or has no tables yet.
    for path in (tmp_path / "missing.db", tmp_path / "empty.db"):
        if path.name == "empty.db":
            sqlite3.connect(path).close()
        rt = gs.Runtime(["AAPL"], db=str(path), analyze_on_start=False)
        try:
            assert len(rt.history("AAPL", 5)) == 0
            assert rt.replay("AAPL") == 0
        finally:
            rt.stop()


def test_gs_client_resumes_after_a_kill9_restart_without_gap_or_duplicate(tmp_path):
    with server_process(tmp_path) as srv:
        async def main() -> tuple[Any, list[Any]]:
            client = gs.Client(srv.ws, backoff=0.05, max_backoff=0.2)
            msgs: list[Any] = []
            async with client:
                await client.subscribe("AAPL")
                while sum(m.type == "signal_update" for m in msgs) < 5:
                    m = await client.recv(WAIT)
                    if m.seq is not None:
                        msgs.append(m)
                srv.kill9()
                await asyncio.sleep(0.2)
                await asyncio.to_thread(srv.start)
                after = 0
                while client.connects < 2 or after < 5:  # five signals of the new process
                    m = await client.recv(WAIT)
                    if m.seq is not None:
                        msgs.append(m)
                        after += client.connects == 2 and m.type == "signal_update"
                return client, msgs

        client, msgs = run(main())
        assert client.connects == 2 and client.recovered.get("AAPL") is True
        seqs = [m.seq for m in msgs if not m.raw.get("snapshot")]
        assert seqs == sorted(set(seqs)), "a duplicate or out of order after the resume"
        # Nothing ordered went missing across the kill and the resume.
        want = stored(srv.db, "seq >= ? AND seq <= ? AND type != 'price_update'", (seqs[0], seqs[-1]))
        assert [(m.seq, m.type) for m in msgs if m.type != "price_update"
                and not m.raw.get("snapshot")] == want


def _mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True).returncode == 0


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("mount") is None,
                    reason="a small tmpfs needs root and mount")
def test_disk_full_is_degraded_live_data_flows_and_recovers_when_space_returns(tmp_path, monkeypatch):
    disk = tmp_path / "small"
    if not _mount_tmpfs(disk, "2m"):
        pytest.skip("mount -t tmpfs is not allowed here")
    ballast = disk / "ballast"
    try:
        monkeypatch.setenv("GS_DB", str(disk / "gs.db"))
        with served(analyze_on_start=False) as srv:
            async def main() -> None:
                ws, _ = await connect(srv.signals)
                async with ws:
                    await send(ws, {"type": "analyze", "symbol": "AAPL"})
                    await analysis(ws, "AAPL")  # stored while there is room
                    # Fill the disk to the last byte.
                    with contextlib.suppress(OSError), open(ballast, "wb") as f:
                        while True:
                            f.write(b"\0" * 4096)
                            f.flush()
                    analyses = 0
                    seen: list[dict[str, Any]] = []
                    while srv.status()["history"]["status"] != "degraded":
                        assert analyses < 50, "the store never noticed the full disk"
                        await send(ws, {"type": "analyze", "symbol": "AAPL"})
                        msgs = await analysis(ws, "AAPL")  # live data keeps flowing
                        assert any(m["type"] == "signal_update" for m in msgs)
                        seen += msgs
                        analyses += 1
                        await asyncio.sleep(0.25)
                    alerts = [m for m in seen if is_alert("history_degraded")(m)]
                    alert = alerts[0] if alerts else (await recv_until(ws, is_alert("history_degraded")))[0]
                    assert "disk is full" in alert["message"], alert["message"]
                    assert http_get(srv.http + "/health")[0] == 503
                    ballast.unlink(missing_ok=True)  # room again: the retry writes
                    await recv_until(ws, is_alert("history_recovered"))
                    assert http_get(srv.http + "/health")[0] == 200

            run(main())
    finally:
        gc.collect()
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)
