"""The ``goldensignals`` command line."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["main"]


def _printers(gs: Any) -> tuple[Any, Any, Any]:
    """Callbacks that print agent votes, decisions and alerts readably."""

    def show_vote(u: Any) -> None:
        if u.signal in ("PROCESSING", "ANALYZING"):
            return
        why = f"  {u.reasoning[0]}" if u.reasoning else ""
        print(f"  {u.symbol:<6} {u.agent:<17} {u.signal:<8} {u.confidence:4.2f} "
              f"{u.latency_ms:7.3f} ms{why}", flush=True)

    def show_decision(d: Any) -> None:
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

    return show_vote, show_decision, show_alert


def _settings_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Every setting: flag > environment > default, a refusal naming the flag as written."""
    from goldensignals import settings

    given = {st.key: getattr(args, st.key) for st in settings.SETTINGS
             if getattr(args, st.key, None) is not None}
    return settings.resolve(given, given_as={k: settings.BY_KEYWORD[k].flag for k in given})


def _runtime_from_args(args: argparse.Namespace) -> Any:
    import goldensignals as gs

    values = _settings_from_args(args)
    feed_spec = getattr(args, "feed", "simulated")
    if feed_spec == "simulated":
        feed: Any = gs.feeds.Simulated(seed=args.seed, interval=args.interval)
    elif feed_spec.startswith("replay:"):
        feed = gs.feeds.Replay(feed_spec[len("replay:"):], speed=args.speed)
    else:
        raise gs.InvalidArgumentError(
            f"--feed {feed_spec!r} is not accepted; expected simulated or replay:PATH")
    rt = gs.Runtime(feed=feed, **values)
    if not getattr(args, "no_builtin_agents", False):
        rt.add_builtin_agents()
    if getattr(args, "agents", None):
        from goldensignals.agents import load_agents

        load_agents(rt, args.agents)
    if not getattr(args, "quiet", False):
        vote, decision, alert = _printers(gs)
        rt.on_agent_update(vote)
        rt.on_decision(decision)
        rt.on_alert(alert)
    return rt


def _demo(args: argparse.Namespace) -> int:
    import goldensignals as gs

    args.agents = ["goldensignals.examples:trend_regression"]
    rt = _runtime_from_args(args)
    rt.start()
    print(f"GoldenSignals {gs.__version__}: {len(rt.symbols)} symbols ({', '.join(rt.symbols)}), "
          f"agents {', '.join(rt.agents)}; simulated feed, a bar per {args.interval:g} s. "
          "Ctrl-C stops.", flush=True)
    rt.wait(args.seconds if args.seconds > 0 else None)
    st = rt.status()["orchestrator"]
    print(f"stopped: {st['analyses_completed']} analyses, {st['signals_generated']} signals", flush=True)
    return 0


def _serve(args: argparse.Namespace) -> int:
    import goldensignals as gs

    if args.check_config:
        from goldensignals import settings

        settings.check(_settings_from_args(args))
        print("goldensignals: every setting is accepted", flush=True)
        return 0
    rt = _runtime_from_args(args)
    url = rt.serve(block=False)
    ws = url.replace("http://", "ws://", 1)
    print(f"GoldenSignals {gs.__version__} serving {', '.join(rt.symbols)} with agents "
          f"{', '.join(rt.agents)}\n"
          f"  dashboard  {url}/\n"
          f"  WebSocket  {ws}/ws/signals\n"
          f"  status     {url}/ws/status   metrics {url}/metrics\n"
          "Ctrl-C stops.", flush=True)
    rt.wait(args.seconds if args.seconds > 0 else None)
    return 0


def _print_message(msg: Any) -> None:
    d = msg.data
    if msg.type == "agent_update":
        if d.get("signal") in ("PROCESSING", "ANALYZING"):
            return
        why = f"  {d['reasoning'][0]}" if d.get("reasoning") else ""
        print(f"  {d.get('symbol', ''):<6} {d.get('agent', ''):<17} {d.get('signal', ''):<8} "
              f"{d.get('confidence', 0):4.2f}{why}", flush=True)
    elif msg.type == "signal_update":
        print(f"SIGNAL {d['symbol']:<6} {d['action']:<4} confidence {d['confidence']:.2f} "
              f"at {d.get('price', float('nan')):.2f} "
              f"({d['agents_consensus'].get('consensus_strength', '')})", flush=True)
    elif msg.type == "decision_update" and d.get("decision", {}).get("action") == "NO_SIGNAL":
        print(f"NO_SIGNAL {d['symbol']:<6} {d['decision'].get('reason', '')}", flush=True)
    elif msg.type == "alert":
        print(f"ALERT  {msg.raw.get('severity')}: {msg.raw.get('message')}", flush=True)


def _watch(args: argparse.Namespace) -> int:
    import asyncio
    from collections import Counter

    from goldensignals.client import Client

    async def run() -> Counter[str]:
        counts: Counter[str] = Counter()
        async with Client(args.url, token=args.token, reconnect=False) as client:
            for sym in args.symbol or []:
                await client.subscribe(sym)
                if args.analyze:
                    await client.analyze(sym)
            loop = asyncio.get_running_loop()
            end = loop.time() + args.seconds if args.seconds > 0 else None
            while end is None or loop.time() < end:
                try:
                    msg = await client.recv(timeout=None if end is None else max(0.01, end - loop.time()))
                except asyncio.TimeoutError:
                    break
                except ConnectionError as e:
                    print(f"goldensignals watch: {e}", file=sys.stderr)
                    break
                counts[msg.type] += 1
                _print_message(msg)
        return counts

    try:
        counts = asyncio.run(run())
    except KeyboardInterrupt:
        return 0
    except OSError as e:
        print(f"goldensignals watch: cannot connect to {args.url}: {e}", file=sys.stderr)
        return 1
    print("messages by type: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), flush=True)
    return 0


def _status(args: argparse.Namespace) -> int:
    import json
    import urllib.error
    import urllib.request
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(args.url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    url = urlunsplit((scheme, parts.netloc, "/ws/status", "", ""))
    req = urllib.request.Request(url)
    if args.token:
        req.add_header("Authorization", f"Bearer {args.token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            body = json.load(r)
    except (urllib.error.URLError, OSError) as e:
        print(f"goldensignals status: cannot read {url}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(body, indent=2))
    return 0


def _backtest(args: argparse.Namespace) -> int:
    import pandas as pd

    import goldensignals as gs

    agents = args.agents or None
    report = gs.backtest(args.data, agents, horizon=args.horizon, costs_bps=args.costs_bps,
                         interval=args.interval, exits=args.exits, score_from=args.score_from,
                         seed=args.seed, calibrate=args.calibrate or False,
                         adaptive_weights=args.adaptive_weights, progress=not args.quiet)
    cols = ["forecasts", "coverage", "hit_rate", "hit_rate_lo", "hit_rate_hi",
            "always_buy_hit_rate", "brier_skill", "ic", "ic_t", "sharpe", "max_drawdown"]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(report)
        print(report.metrics[cols].round(3).to_string())
    print(f"{report.meta['bars']} bars in {report.meta['cpu_seconds']:.2f} CPU-s "
          f"({report.meta['bars_per_cpu_second']:,.0f} bars per CPU-second)")
    if args.report:
        report.to_html(args.report)
        print(f"report: {args.report}")
    if args.json:
        report.to_json(args.json)
        print(f"json: {args.json}")
    if args.check_lookahead:
        found = gs.check_lookahead(args.data, agents, samples=args.lookahead_samples,
                                   horizon=args.horizon, interval=args.interval)
        for f in found:
            print(f"LOOK-AHEAD {f}")
        if found:
            return 1
        print(f"look-ahead check: no agent's vote changed at {args.lookahead_samples} cut points")
    return 0


def _setting_flags(parser: argparse.ArgumentParser) -> None:
    """A flag for every setting (flag > environment > default), e.g. --move-threshold, the
    same as goldensignals-server's; a boolean flag alone means true."""
    from goldensignals.settings import SETTINGS

    group = parser.add_argument_group("settings (each also an environment variable)")
    for st in SETTINGS:
        # A boolean flag alone (or with an empty value, as CLI11 reads it) means true.
        extra: dict[str, Any] = ({"nargs": "?", "const": "true", "type": lambda v: v or "true"}
                                 if st.kind == "boolean" else {})
        group.add_argument(st.flag, dest=st.key, default=None, metavar="VALUE",
                           help=st.help_line.replace("%", "%%"), **extra)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="goldensignals", description="GoldenSignals runtime")
    parser.add_argument("--log-level", default="WARNING", help="Python logging level (default WARNING)")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the in-process runtime on simulated data and print "
                                       "every agent vote and signal until Ctrl-C")
    _setting_flags(demo)
    demo.add_argument("--seed", type=int, default=7, help="simulation seed (default 7)")
    demo.add_argument("--interval", type=float, default=1.0, help="seconds between bars (default 1)")
    demo.add_argument("--seconds", type=float, default=0, help="stop after this many seconds (0: run until Ctrl-C)")
    demo.set_defaults(func=_demo)

    serve = sub.add_parser("serve", help="run the WebSocket/HTTP server (docs/protocol.md) "
                                         "with the runtime")
    _setting_flags(serve)
    serve.add_argument("--feed", default="simulated", help="simulated (default) or replay:PATH.csv")
    serve.add_argument("--speed", type=float, default=1.0, help="replay speed (0: as fast as possible)")
    serve.add_argument("--seed", type=int, default=7, help="simulation seed (default 7)")
    serve.add_argument("--interval", type=float, default=1.0, help="seconds between simulated bars")
    serve.add_argument("--agents", action="append", metavar="MODULE:OBJECT",
                       help="load a Python agent (a gs.Agent subclass or instance, or a function)")
    serve.add_argument("--no-builtin-agents", action="store_true", help="do not add the native agents")
    serve.add_argument("--quiet", action="store_true", help="do not print votes and signals")
    serve.add_argument("--seconds", type=float, default=0, help="stop after this many seconds (0: until Ctrl-C)")
    serve.add_argument("--check-config", action="store_true",
                       help="check every setting and exit: 0 and one line when all are accepted, "
                            "else 2 naming the first refused one")
    serve.set_defaults(func=_serve)

    watch = sub.add_parser("watch", help="subscribe and print agent votes and signals")
    watch.add_argument("url", help="e.g. ws://127.0.0.1:8000/ws/signals")
    watch.add_argument("--symbol", action="append", help="symbol to subscribe to (repeatable)")
    watch.add_argument("--analyze", action="store_true", help="also ask for an analysis now")
    watch.add_argument("--seconds", type=float, default=0, help="stop after this many seconds")
    watch.add_argument("--token", help="JWT for servers that require one")
    watch.set_defaults(func=_watch)

    bt = sub.add_parser("backtest", help="replay data through the runtime and score every signal "
                                         "and every agent's votes (leak-free)")
    bt.add_argument("--data", default="sp500",
                    help="sp500, nasdaq, multi, random or a CSV path (default sp500)")
    bt.add_argument("--agents", action="append", metavar="AGENT",
                    help="a built-in agent's name, 'builtin' or MODULE:OBJECT (repeatable; "
                         "default: the built-in panel)")
    bt.add_argument("--horizon", type=int, default=5, help="bars each forecast is judged over (default 5)")
    bt.add_argument("--costs-bps", type=float, default=0.0, help="fees and half-spread per side (bp)")
    bt.add_argument("--interval", type=int, default=None,
                    help="bars without an analysis that trigger one (default: the horizon)")
    bt.add_argument("--exits", choices=("levels", "horizon"), default="levels",
                    help="exit at the target, the stop or the horizon (levels), or only the horizon")
    bt.add_argument("--score-from", default=None, help="score forecasts made from this date on")
    bt.add_argument("--seed", type=int, default=0, help="seed of the random-signal baseline")
    bt.add_argument("--calibrate", nargs="?", const="isotonic", choices=("isotonic", "platt"),
                    help="add the consensus with its confidence calibrated walk-forward")
    bt.add_argument("--adaptive-weights", action="store_true",
                    help="weights follow each agent's track record (fixed weights shown too)")
    bt.add_argument("--report", metavar="PATH.html", help="write the HTML report")
    bt.add_argument("--json", metavar="PATH.json", help="write the report as JSON")
    bt.add_argument("--check-lookahead", action="store_true",
                    help="also re-run each agent on data cut at sampled analysis times and "
                         "report any vote that changes (exit 1 if one does)")
    bt.add_argument("--lookahead-samples", type=int, default=20, help="cut points to check (default 20)")
    bt.add_argument("--quiet", action="store_true", help="no progress bar")
    bt.set_defaults(func=_backtest)

    status = sub.add_parser("status", help="print the server's /ws/status")
    status.add_argument("url", help="server URL, ws:// or http://")
    status.add_argument("--token", help="admin token, if the server requires one")
    status.set_defaults(func=_status)
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
