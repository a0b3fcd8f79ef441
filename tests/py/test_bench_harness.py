"""The fan-out benchmark harness itself (bench/fanout.py, goldensignals-bench), not its timings:
real servers on loopback, the real load client, and the table and JSON it writes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CLIENT = BIN / "goldensignals-bench"


def test_quick_fanout_run_delivers_every_message_and_writes_the_table(tmp_path: Path) -> None:
    out = tmp_path / "fanout.json"
    r = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "fanout.py"), "--quick", "--peers", "websockets",
         "--scenarios", "fanout,idle", "--out", str(out)],
        capture_output=True, text=True, timeout=240,
    )
    assert r.returncode == 0, r.stderr
    assert "| fan-out, 1,000 subscribers, 1 room (flat out) |" in r.stdout
    data = json.loads(out.read_text())
    runs = {(x["scenario"], x["server"]): x for x in data["runs"]}
    for n in (10, 100, 1000):
        for server in ("ours", "websockets"):
            run = runs[(f"fanout-{n}", server)]
            assert run["errors"] == 0, run["first_error"]
            assert run["ready"] == n
            # Every subscriber got every message the server published (no loss, none extra).
            assert run["min_per_connection"] == run["max_per_connection"] > 0
            assert run["messages"] == n * run["min_per_connection"]
            assert run["server_cpu_s"] > 0 and run["msgs_per_server_cpu_s"] > 0
            assert 0 < run["p50_ms"] <= run["p99_ms"] <= run["p999_ms"] <= run["max_ms"]
    idle = runs[("idle", "ours")]
    assert idle["ready"] == 1000 and idle["errors"] == 0
    assert idle["server_rss_after"] > idle["server_rss_before"] > 0
    rows = {row["metric"]: row for row in data["table"]}
    row = rows["fan-out, 10 subscribers, 1 room (flat out)"]
    assert row["ratio"]["websockets"] == row["median"]["ours"] / row["median"]["websockets"]


def test_load_client_names_a_refused_connection() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connections are refused
        r = subprocess.run([str(CLIENT), "--port", str(port), "--connections", "3",
                            "--timeout", "5"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["errors"] == 3 and report["ready"] == 0
    assert "connect" in report["first_error"] and "refused" in report["first_error"]


def test_load_client_refuses_a_bad_option() -> None:
    r = subprocess.run([str(CLIENT), "--port", "8000", "--connections", "0"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "--connections" in r.stderr


def quick_run(script: str, tmp_path: Path) -> tuple[dict, str]:
    """bench/<script> --quick: it must succeed; its JSON report and what it printed."""
    out = tmp_path / "report.json"
    r = subprocess.run([sys.executable, str(ROOT / "bench" / script), "--quick", "--out",
                        str(out)], capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(out.read_text()), r.stdout


def test_quick_store_run_stores_every_message_and_prints_the_cost(tmp_path: Path) -> None:
    data, printed = quick_run("store.py", tmp_path)
    runs = data["runs"]
    assert {(x["load"], x["store"]) for x in runs} == {
        (load, store) for load in ("flat out", "fixed rate") for store in (False, True)}
    for run in runs:
        assert run["ok"] and run["errors"] == 0 and run["ready"] == data["subscribers"]
        assert run["min_per_connection"] == run["max_per_connection"] > 0
        assert run["server_cpu_s"] > 0
        threads = run["server_threads_cpu_s"]  # by thread name, from /proc
        assert "gs-io" in threads and "gs-timers" in threads
        if run["store"]:  # every message a subscriber got is a row in the history file
            assert run["rows"] >= run["max_per_connection"]
            assert "gs-store" in threads
            assert 0 <= run["store_thread_share"] < 1
        else:
            assert run["rows"] is None
            assert "gs-store" not in threads
    fixed = [x for x in runs if x["load"] == "fixed rate"]
    # 100 msg/s for 1 s: every message delivered and, with history on, one row each.
    assert all(x["max_per_connection"] == 100 for x in fixed)
    assert [x["rows"] for x in fixed if x["store"]] == [100]
    m = data["median"]
    # One round: its own costs are the medians.
    cost = 1 - m["delivered_per_s_on"] / m["delivered_per_s_off"]
    cpu_cost = 1 - m["msgs_per_server_cpu_s_on"] / m["msgs_per_server_cpu_s_off"]
    assert m["round_costs"] == [pytest.approx(cost)] and m["throughput_cost"] == pytest.approx(cost)
    assert m["round_cpu_costs"] == [pytest.approx(cpu_cost)]
    assert m["cpu_cost"] == pytest.approx(cpu_cost)
    assert m["meets_target"] == (cost < 0.10)
    assert (f"store cost to fan-out throughput: {cost * 100:.1f}% of messages delivered per "
            "second") in printed
    assert f"store cost in server CPU: {cpu_cost * 100:.1f}% of messages per server" in printed


def test_quick_seam_run_times_every_price_and_fans_out_every_signal(tmp_path: Path) -> None:
    # bench/seam.py without --before: this checkout's bench server only. Every price is
    # timed; the prices+signals runs publish an unstamped signal_update before every 10th.
    data, _ = quick_run("seam.py", tmp_path)
    runs = data["runs"]
    assert {(x["scenario"], x["subs"], x["store"]) for x in runs} == {
        *{("fan-out", n, s) for n in (100, 1000) for s in (False, True)},
        *{(p, 100, s) for p in ("prices", "prices+signals") for s in (False, True)}}
    for run in runs:
        assert run["ok"] and run["errors"] == 0 and run["build"] == "after"
        if run["scenario"].startswith("prices"):
            # 100 prices/s for 1 s to 100 subscribers (a slow one may skip a replaced price);
            # the signals are not timed.
            assert 0 < run["min_per_connection"] <= run["max_per_connection"] <= 100
            assert run["delivered_share"] > 0.5
            assert 0 < run["p50_ms"] <= run["p99_ms"]
            if run["scenario"] == "prices+signals":  # the signal_updates arrived untimed
                assert run["other_messages"] >= 100 * 10
        else:
            assert run["min_per_connection"] == run["max_per_connection"] > 0
    figures = [row["figure"] for row in data["rows"]]
    assert "prices+signals at 100/s, history on: p99, ms" in figures
    assert data["summary"]["prices_p99_on_over_off"] > 0
