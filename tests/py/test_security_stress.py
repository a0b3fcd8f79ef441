"""Hostile clients against the native server on loopback, bounded in count and time: 500
connections opening and closing, garbage floods, oversize frames, half-open connections and
slowloris headers, all at once. Meanwhile a well-behaved client keeps receiving its room's
price updates; afterwards the server's memory is back near where it was and /ws/status counts
only the good client. The figures go to build/test-output/security-stress.json."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from loopback import free_port
from server_helpers import WAIT, RawWS, Rejected, eventually, http_get, http_json, parse_metrics

SERVER = Path(sys.executable).parent / "goldensignals-server"
OUT = Path(__file__).resolve().parents[2] / "build" / "test-output"
pytestmark = pytest.mark.skipif(not SERVER.exists(), reason="goldensignals-server not installed")

CHURN, CHURN_THREADS = 500, 5
FLOODS, OVERSIZE, HALF_OPEN, SLOWLORIS = 20, 20, 80, 40
MAX_MESSAGE = 4096
HANDSHAKE_TIMEOUT = 1.0


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")



class Native:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.http = f"http://127.0.0.1:{self.port}"
        self.log = open(tmp / "server.log", "w")  # a file: a full pipe would stall the server
        self.proc = subprocess.Popen(
            [str(SERVER), "--port", str(self.port), "--symbols", "AAPL,NVDA", "--interval", "0.05",
             "--db", "off", "--ws-handshake-timeout", str(HANDSHAKE_TIMEOUT),
             "--ws-max-message-size", str(MAX_MESSAGE), "--ws-max-messages-per-second", "50",
             "--log-level", "warn"],
            stdout=self.log, stderr=subprocess.STDOUT)
        eventually(self._healthy, 30, "server healthy")

    def _healthy(self) -> bool:
        assert self.proc.poll() is None, "server exited"
        try:
            return http_get(self.http + "/health", timeout=2)[0] == 200
        except OSError:
            return False

    def stop(self) -> int:
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=30)
        finally:
            self.log.close()


class GoodClient(threading.Thread):
    """Subscribes to AAPL and records when each price_update arrives."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.arrivals: list[float] = []
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.close_code: int | None = None

    def run(self) -> None:
        try:
            with RawWS(self.port) as ws:
                ws.wait_for(lambda m: "client_id" in m)
                ws.send_json({"type": "subscribe", "symbol": "AAPL"})
                ws.wait_for(lambda m: m.get("type") == "subscribe")
                self.ready.set()
                seen = 0
                while not self.stop.is_set():
                    if not ws.pump(0.05):
                        self.close_code = ws.close_code
                        return
                    for raw in ws.texts[seen:]:
                        m = json.loads(raw)
                        if m.get("type") == "price_update" and m["data"]["symbol"] == "AAPL":
                            self.arrivals.append(time.monotonic())
                    seen = len(ws.texts)
                    if seen > 1000:  # keep the list small
                        del ws.texts[:seen]
                        seen = 0
        except BaseException as e:  # reported by the test
            self.error = e


def churn(port: int, n: int, results: dict[str, int], lock: threading.Lock) -> None:
    for i in range(n):
        try:
            ws = RawWS(port)
            ws.wait_for(lambda m: "client_id" in m)
            if i % 2:
                ws.send_json({"type": "subscribe", "symbol": "NVDA"})
            ws.close()  # abrupt: no close frame
            key = "churn_ok"
        except Rejected as e:
            key = f"churn_{e.status}"
        with lock:
            results[key] = results.get(key, 0) + 1


def flood(port: int, codes: list[int | None], lock: threading.Lock) -> None:
    with RawWS(port) as ws:
        ws.wait_for(lambda m: "client_id" in m)
        for _ in range(300):
            try:
                ws.send_text("garbage, not JSON \x01\x02")
            except OSError:
                break
        code = ws.read_until_closed(30)
    with lock:
        codes.append(code)


def oversize(port: int, codes: list[int | None], lock: threading.Lock) -> None:
    with RawWS(port) as ws:
        ws.wait_for(lambda m: "client_id" in m)
        try:
            ws.send_text("x" * (MAX_MESSAGE * 2))
        except OSError:
            pass
        code = ws.read_until_closed(30)
    with lock:
        codes.append(code)


def closed_by_server(s: socket.socket, limit: float) -> bool:
    s.settimeout(limit)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except (TimeoutError, socket.timeout):
        return False


def half_open(port: int, n: int, closed: list[bool], lock: threading.Lock) -> None:
    socks = [socket.create_connection(("127.0.0.1", port), timeout=WAIT) for _ in range(n)]
    try:
        for s in socks:
            ok = closed_by_server(s, HANDSHAKE_TIMEOUT + 10)
            with lock:
                closed.append(ok)
    finally:
        for s in socks:
            s.close()


def slowloris(port: int, n: int, closed: list[bool], lock: threading.Lock) -> None:
    socks = [socket.create_connection(("127.0.0.1", port), timeout=WAIT) for _ in range(n)]
    alive = list(socks)
    try:
        for s in socks:
            s.sendall(b"GET /ws/signals HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        end = time.monotonic() + HANDSHAKE_TIMEOUT + 10
        i = 0
        while alive and time.monotonic() < end:  # one more header line each 100 ms, never the end
            time.sleep(0.1)
            i += 1
            for s in list(alive):
                try:
                    s.sendall(f"X-Slow-{i}: y\r\n".encode())
                    s.settimeout(0.001)
                    if s.recv(1) == b"":
                        raise ConnectionResetError
                except (TimeoutError, socket.timeout, BlockingIOError):
                    continue
                except OSError:
                    alive.remove(s)
                    with lock:
                        closed.append(True)
        with lock:
            closed.extend([False] * len(alive))
    finally:
        for s in socks:
            s.close()


def test_hostile_clients_do_not_hurt_a_good_one(tmp_path):
    srv = Native(tmp_path)
    good = GoodClient(srv.port)
    try:
        good.start()
        assert good.ready.wait(WAIT), good.error
        # Warm up: a few ordinary connections so the allocator's arenas exist before "before".
        warm: dict[str, int] = {}
        churn(srv.port, 20, warm, threading.Lock())
        time.sleep(0.5)
        rss_before = rss_kib(srv.proc.pid)
        t0 = time.monotonic()

        lock = threading.Lock()
        results: dict[str, int] = {}
        flood_codes: list[int | None] = []
        oversize_codes: list[int | None] = []
        half_closed: list[bool] = []
        slow_closed: list[bool] = []
        threads = [threading.Thread(target=churn, args=(srv.port, CHURN // CHURN_THREADS, results, lock))
                   for _ in range(CHURN_THREADS)]
        threads += [threading.Thread(target=flood, args=(srv.port, flood_codes, lock)) for _ in range(FLOODS)]
        threads += [threading.Thread(target=oversize, args=(srv.port, oversize_codes, lock))
                    for _ in range(OVERSIZE)]
        threads.append(threading.Thread(target=half_open, args=(srv.port, HALF_OPEN, half_closed, lock)))
        threads.append(threading.Thread(target=slowloris, args=(srv.port, SLOWLORIS, slow_closed, lock)))
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
            assert not t.is_alive(), "an attack thread did not finish in 120 s"
        t1 = time.monotonic()
        time.sleep(1.0)  # the good client keeps streaming after the attack too

        # The server answered every attack with its limit ...
        assert results.get("churn_ok", 0) == CHURN, results
        assert flood_codes == [1008] * FLOODS, flood_codes
        assert oversize_codes == [1009] * OVERSIZE, oversize_codes
        assert half_closed == [True] * HALF_OPEN
        assert slow_closed == [True] * SLOWLORIS

        # ... while the good client kept its room's stream.
        assert good.error is None and good.is_alive(), (good.error, good.close_code)
        during = [a for a in good.arrivals if t0 <= a <= t1]
        gaps = [b - a for a, b in zip(during, during[1:])]
        assert len(during) >= 0.25 * (t1 - t0) / 0.05, (len(during), t1 - t0)
        assert max(gaps, default=0) < 3.0, max(gaps)

        # Afterwards: only the good client is left, counted consistently.
        def settled() -> bool:
            st = http_json(srv.http + "/ws/status")["websocket_manager"]
            return st["active_connections"] == 1 and st["rooms"].get("AAPL") == 1 \
                and st["rooms"].get("NVDA", 0) == 0 and st["client_addresses"] == 1
        eventually(settled, 20, "only the good client left")
        st = http_json(srv.http + "/ws/status")["websocket_manager"]
        upgrades = 1 + 20 + CHURN + FLOODS + OVERSIZE
        assert st["total_connections"] == upgrades, (st["total_connections"], upgrades)
        m = parse_metrics(http_get(srv.http + "/metrics")[2].decode())
        assert m["gs_websocket_message_flood_closes_total"] == FLOODS
        assert m["gs_websocket_oversize_closes_total"] == OVERSIZE
        assert m["gs_handshake_timeouts_total"] == HALF_OPEN + SLOWLORIS
        assert m["gs_websocket_connections_active"] == 1

        time.sleep(0.5)
        rss_after = rss_kib(srv.proc.pid)
        # Bounded memory: what hostile clients made the server allocate was given back
        # (a generous bound; the figure itself is recorded below).
        assert rss_after - rss_before < 32 * 1024, (rss_before, rss_after)

        good.stop.set()
        good.join(WAIT)
        figures = {
            "attack_seconds": round(t1 - t0, 2),
            "churn_connections": results.get("churn_ok", 0),
            "flood_closes_1008": flood_codes.count(1008),
            "oversize_closes_1009": oversize_codes.count(1009),
            "half_open_closed": sum(half_closed),
            "slowloris_closed": sum(slow_closed),
            "good_client_price_updates_during_attack": len(during),
            "good_client_max_gap_s": round(max(gaps, default=0), 3),
            "rss_before_mib": round(rss_before / 1024, 1),
            "rss_after_mib": round(rss_after / 1024, 1),
            "total_connections": st["total_connections"],
        }
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "security-stress.json").write_text(json.dumps(figures, indent=2) + "\n")
        print(json.dumps(figures))
    finally:
        good.stop.set()
        code = srv.stop()
    assert code == 0, (tmp_path / "server.log").read_text()[-2000:]
