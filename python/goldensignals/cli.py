"""The ``goldensignals`` command line."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    import goldensignals as gs
    from goldensignals.examples import trend_regression

    overrides: dict[str, Any] = {}
    if args.symbols:
        overrides["symbols"] = args.symbols
    rt = gs.Runtime(feed=gs.feeds.Simulated(seed=args.seed, interval=args.interval), **overrides)
    rt.add_builtin_agents()
    rt.agent("PyTrend", weight=1.0, timeout=1.0)(trend_regression)

    def show_vote(u: gs.AgentUpdate) -> None:
        if u.signal in ("PROCESSING", "ANALYZING"):
            return
        why = f"  {u.reasoning[0]}" if u.reasoning else ""
        print(f"  {u.symbol:<6} {u.agent:<17} {u.signal:<8} {u.confidence:4.2f} "
              f"{u.latency_ms:7.3f} ms{why}", flush=True)

    def show_decision(d: gs.Decision) -> None:
        if d.signal is not None:
            s = d.signal
            levels = ""
            if s.target_price is not None and s.stop_loss is not None:
                levels = f" target {s.target_price:.2f} stop {s.stop_loss:.2f}"
            print(f"SIGNAL {s.symbol:<6} {s.action:<4} confidence {s.confidence:.2f} "
                  f"({s.strength}, agreement {s.agreement:.2f}) at {s.price:.2f}{levels} "
                  f"[{s.trigger}]", flush=True)
        else:
            print(f"NO_SIGNAL {d.symbol:<6} {d.reason} [{d.trigger}]", flush=True)

    def show_alert(a: dict[str, Any]) -> None:
        print(f"ALERT  {a.get('severity')}: {a.get('message')}", flush=True)

    rt.on_agent_update(show_vote)
    rt.on_decision(show_decision)
    rt.on_alert(show_alert)
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with rt:
        print(f"GoldenSignals {gs.__version__}: {len(rt.symbols)} symbols ({', '.join(rt.symbols)}), "
              f"agents {', '.join(rt.agents)}; simulated feed, a bar per {args.interval:g} s. "
              "Ctrl-C stops.", flush=True)
        done.wait(args.seconds if args.seconds > 0 else None)
    st = rt.status()["orchestrator"]
    print(f"stopped: {st['analyses_completed']} analyses, {st['signals_generated']} signals", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="goldensignals", description="GoldenSignals runtime")
    parser.add_argument("--log-level", default="WARNING", help="Python logging level (default WARNING)")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the in-process runtime on simulated data and print "
                                       "every agent vote and signal until Ctrl-C")
    demo.add_argument("--symbols", help="comma-separated symbols (default: GS_SYMBOLS or the built-in list)")
    demo.add_argument("--seed", type=int, default=7, help="simulation seed (default 7)")
    demo.add_argument("--interval", type=float, default=1.0, help="seconds between bars (default 1)")
    demo.add_argument("--seconds", type=float, default=0, help="stop after this many seconds (0: run until Ctrl-C)")
    demo.set_defaults(func=_demo)
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        return int(args.func(args))
    except Exception as e:  # one line naming the problem, not a traceback
        from goldensignals import GoldenSignalsError

        if isinstance(e, (GoldenSignalsError, ValueError, TypeError)):
            print(f"goldensignals: {e}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
