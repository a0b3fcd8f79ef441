"""``goldensignals.Runtime``: the in-process runtime around the native core."""

from __future__ import annotations

import atexit
import inspect
import json
import logging
import math
import time
import weakref
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from . import _core, settings as _settings
from ._aio import LoopThread
from .agents import Agent
from .feeds import Feed

__all__ = ["Runtime", "OrchestratorSettings", "StoredEvent"]

_log = logging.getLogger("goldensignals")
# The signal_outcome fields rt.history() adds to each signal (missing until its horizon closed).
_OUTCOME_COLUMNS = ("hit", "return", "exit_reason", "exit_price", "exit_time")
_F = TypeVar("_F", bound=Callable[..., Any])
_live: weakref.WeakSet[Runtime] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    # Native threads hold Python thread states: stop them before the interpreter goes away.
    for rt in list(_live):
        rt.stop()


class OrchestratorSettings:
    """Live-tunable consensus settings, as ``rt.orchestrator``."""

    def __init__(self, core: Any, agent_timeout: float) -> None:
        self._core = core
        self._agent_timeout = agent_timeout

    @property
    def min_agents_for_signal(self) -> int:
        """Quorum floor: a signal needs at least this many valid votes (and 2f + 1)."""
        return int(self._core.get_policy()["min_agents"])

    @min_agents_for_signal.setter
    def min_agents_for_signal(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _core.InvalidArgumentError(
                f"min_agents_for_signal {value!r} is not accepted; expected an integer >= 1"
            )
        self._core.set_policy(min_agents=value)

    @property
    def consensus_threshold(self) -> float:
        """Agreement needed for a signal, in [0, 1]; below 0.5 acts as 0.5."""
        return float(self._core.get_policy()["threshold"])

    @consensus_threshold.setter
    def consensus_threshold(self, value: float) -> None:
        self._core.set_policy(threshold=float(value))

    @property
    def min_confidence(self) -> float:
        """Votes with a lower confidence do not count."""
        return float(self._core.get_policy()["min_confidence"])

    @min_confidence.setter
    def min_confidence(self, value: float) -> None:
        self._core.set_policy(min_confidence=float(value))

    @property
    def agent_timeout(self) -> float:
        """Deadline in seconds of the Python agents registered without one (live)."""
        return self._agent_timeout

    @agent_timeout.setter
    def agent_timeout(self, value: float) -> None:
        value = _settings.BY_KEYWORD["agent_timeout"].parse("agent_timeout", value)
        self._core.set_default_timeout(value)
        self._agent_timeout = value


def _ts_ms(ts: Any) -> int:
    if ts is None:
        return time.time_ns() // 1_000_000
    if isinstance(ts, datetime):
        return int(ts.timestamp() * 1000)
    if hasattr(ts, "timestamp") and callable(ts.timestamp):  # pandas.Timestamp
        return int(ts.timestamp() * 1000)
    if isinstance(ts, (int, float)) and not isinstance(ts, bool) and math.isfinite(ts):
        return int(ts * 1000)
    raise _core.InvalidArgumentError(
        f"ts {ts!r} is not accepted; expected None (now), a datetime or seconds since the epoch"
    )


class StoredEvent:
    """A stored room message given to callbacks by :meth:`Runtime.replay`: ``kind``
    (``signal_update``...), ``seq``, and the protocol's data fields as attributes."""

    def __init__(self, kind: str, seq: int, data: dict[str, Any]) -> None:
        self.kind, self.seq, self._data = kind, seq, data

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_data"][name]
        except KeyError:
            raise AttributeError(f"{self.kind} has no field {name!r}") from None

    def to_dict(self) -> dict[str, Any]:
        """The protocol's data object."""
        return dict(self._data)

    def __repr__(self) -> str:
        return f"StoredEvent({self.kind}, seq={self.seq}, {self._data.get('action', '')})"


class Runtime:
    """A multi-agent signal runtime, in process.

    ``Runtime(symbols=["AAPL"], feed=gs.feeds.Simulated(seed=7), **settings)``: settings are
    the lower-case keywords of :mod:`goldensignals.settings` (e.g. ``agent_min_confidence``,
    ``agent_consensus_threshold``, ``signal_generation_interval``, ``move_threshold``); a
    keyword beats the environment variable, which beats the default. Register agents, add
    callbacks, then :meth:`start`. Use it as a context manager to stop it on exit.
    """

    def __init__(self, symbols: Iterable[str] | None = None, feed: Feed | None = None, *,
                 _scoring: dict[str, Any] | None = None, _synchronous: bool = False,
                 **settings: Any) -> None:
        # _scoring: the scorer's options beyond the two settings (gs.backtest's knobs).
        # _synchronous: no threads of the runtime's own; the feed runs in _core.run_feed() on
        # the caller's thread, Python agents included (gs.backtest).
        self.settings = _settings.resolve(settings)
        if symbols is None:
            symbols = feed.symbols() if feed is not None and feed.symbols() else self.settings["symbols"]
        elif isinstance(symbols, str):
            symbols = _settings.BY_KEYWORD["symbols"].parse("symbols", symbols)  # "AAPL,NVDA"
        symbols = list(dict.fromkeys([str(s).upper() for s in symbols]))
        if feed is not None:
            symbols += [s for s in feed.symbols() if s not in symbols]
        if not symbols:
            raise _core.InvalidArgumentError("symbols: none given; expected at least one symbol")
        self._callbacks: dict[str, list[Callable[[Any], Any]]] = {
            k: [] for k in ("signal", "decision", "agent_update", "alert", "price_update")
        }
        me = weakref.ref(self)

        def dispatch(kind: str, payload: Any) -> None:
            rt = me()
            if rt is not None:
                rt._dispatch(kind, payload)

        s = self.settings
        self._reader: Any = None  # the history file's reader, made at the first read
        self._loop = LoopThread()
        try:
            self._core = self._make_core(symbols, s, dispatch, _scoring or {}, _synchronous)
            if feed is not None:
                feed._attach(self._core, tuple(self._core.symbols))
        except BaseException:
            self._loop.close()
            raise
        self.feed = feed
        self.orchestrator = OrchestratorSettings(self._core, s["agent_timeout"])
        _live.add(self)

    def _make_core(self, symbols: list[str], s: dict[str, Any], dispatch: Any,
                   scoring: dict[str, Any], synchronous: bool) -> Any:
        # Every setting goes to C++ as resolved; one function there turns them into options.
        return _core.Runtime(symbols=symbols, settings=s, dispatch=dispatch,
                             aio_submit=self._loop.submit, scoring=scoring,
                             synchronous=synchronous)

    # -- agents -------------------------------------------------------------------------------
    def add_builtin_agents(self, names: Iterable[str] | str | None = None) -> Runtime:
        """Adds the built-in native agents: all of them (None), or those named."""
        if names is None:
            self._core.add_builtin_agents([])
            return self
        chosen = [names] if isinstance(names, str) else list(names)
        if chosen:
            self._core.add_builtin_agents(chosen)
        return self

    def agent(self, name: str | Callable[..., Any] | None = None, weight: float = 1.0,
              timeout: float | None = None) -> Any:
        """Decorator: registers ``fn(ctx) -> Vote | None`` (plain or ``async def``) as an agent.

        ``@rt.agent``, ``@rt.agent("Name")`` and ``@rt.agent("Name", weight=1.5, timeout=2.0)``
        all work; ``timeout=None`` follows ``rt.orchestrator.agent_timeout``.
        """
        if callable(name):  # used bare: @rt.agent
            fn, name = name, None
            self._add(getattr(fn, "__name__", "agent"), fn, weight, timeout)
            return fn

        def register(fn: _F) -> _F:
            if not callable(fn):
                raise TypeError(f"agent: {fn!r} is not callable")
            self._add(name or getattr(fn, "__name__", "agent"), fn, weight, timeout)
            return fn

        return register

    def add_agent(self, agent: Agent) -> Runtime:
        """Registers an instance of a :class:`goldensignals.Agent` subclass."""
        if not isinstance(agent, Agent):
            raise TypeError(f"add_agent: expected a goldensignals.Agent instance, got {type(agent).__name__}")
        self._add(agent.name, agent.analyze, agent.weight, agent.timeout)
        return self

    def add_native_agent(self, agent: Any) -> Runtime:
        """Registers a native agent object such as :class:`goldensignals.agents.Analog`: it
        runs on the compute pool like the built-ins, without the GIL."""
        native = getattr(agent, "_native", None)
        if not isinstance(native, _core.AnalogAgent):
            raise TypeError(f"add_native_agent: expected a native agent such as gs.agents.Analog, "
                            f"got {type(agent).__name__}")
        self._core.add_native_agent(native)
        return self

    def _add(self, name: str, fn: Callable[..., Any], weight: float, timeout: float | None) -> None:
        if not isinstance(name, str) or not name:
            raise _core.InvalidArgumentError(f"agent name {name!r} is not accepted; expected a non-empty string")
        if inspect.isasyncgenfunction(fn):
            raise TypeError(f"agent {name}: async generators are not accepted; use async def returning a Vote")
        self._core.add_python_agent(name, fn, float(weight), None if timeout is None else float(timeout))

    def remove_agent(self, name: str) -> bool:
        """Removes an agent by name; True if it was there."""
        return bool(self._core.remove_agent(name))

    @property
    def agents(self) -> list[str]:
        """Names of the registered agents, in order."""
        return list(self._core.agent_names())

    # -- callbacks ----------------------------------------------------------------------------
    def on_signal(self, cb: _F) -> _F:
        """Calls ``cb(signal: Signal)`` for every signal (usable as a decorator)."""
        return self._register("signal", cb)

    def on_decision(self, cb: _F) -> _F:
        """Calls ``cb(decision: Decision)`` at the end of every analysis."""
        return self._register("decision", cb)

    def on_agent_update(self, cb: _F) -> _F:
        """Calls ``cb(update: AgentUpdate)`` for every agent step, as it happens."""
        return self._register("agent_update", cb)

    def on_alert(self, cb: _F) -> _F:
        """Calls ``cb(alert: dict)`` for system alerts (an agent disabled, a bad feed row...)."""
        return self._register("alert", cb)

    def on_price_update(self, cb: _F) -> _F:
        """Calls ``cb(update: dict)`` for every live price (the protocol's price_update data)."""
        return self._register("price_update", cb)

    def _register(self, kind: str, cb: _F) -> _F:
        self._callbacks[kind].append(cb)
        self._update_event_kinds()
        return cb

    def _update_event_kinds(self) -> None:
        """Tells the native side which events Python listens to: the others are never turned
        into Python objects (a replay that only needs decisions then costs much less)."""
        cb = self._callbacks
        kinds = []
        if cb["agent_update"]:
            kinds.append("agent_update")
        if cb["decision"] or cb["signal"] or _log.isEnabledFor(logging.DEBUG):
            kinds.append("decision")
        if cb["price_update"]:
            kinds.append("price_update")
        self._core.set_event_kinds(kinds)

    def _dispatch(self, kind: str, payload: Any) -> None:
        if kind == "log":
            level, name, message = payload
            logging.getLogger(name).log(level, "%s", message)
            return
        targets = [(kind, payload)]
        if kind == "decision":
            if payload.signal is not None:
                targets.append(("signal", payload.signal))
            if _log.isEnabledFor(logging.DEBUG):
                logging.getLogger("goldensignals.orchestrator").debug("%r", payload)
            if getattr(self, "url", None) and _log.isEnabledFor(logging.DEBUG):
                logging.getLogger("goldensignals.websocket_orchestrator").debug(
                    "broadcast %s %s", payload.symbol, payload.action)
        elif kind == "alert":
            logging.getLogger("goldensignals.runtime").warning("%s", payload.get("message"))
        for k, value in targets:
            for cb in list(self._callbacks[k]):
                try:
                    cb(value)
                except Exception:  # a user's callback must not stop the others
                    _log.exception("goldensignals: %s callback %r raised", k, cb)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> Runtime:
        """Starts the feed and the monitor.

        Returns once the feed's back-filled history is in (``Simulated(backfill=...)``), so
        :meth:`context`, its indicators and :meth:`status` are ready right after; the initial
        analyses are then under way. A replay or no feed: returns at once.
        """
        self._core.set_log_level(_log.getEffectiveLevel())
        self._update_event_kinds()
        self._core.start()
        return self

    def stop(self) -> None:
        """Stops the feed, waits for analyses in flight (bounded by their deadlines), stops."""
        if getattr(self, "_core", None) is None:
            return
        served = getattr(self, "_served", None)
        if served is not None:
            served.set()
        self._core.stop()
        self._loop.close()
        _live.discard(self)

    def __enter__(self) -> Runtime:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def state(self) -> str:
        """created, starting, running, stopping, stopped or faulted."""
        return str(self._core.state)

    @property
    def symbols(self) -> list[str]:
        return list(self._core.symbols)

    # -- server -------------------------------------------------------------------------------
    def serve(self, host: str | None = None, port: int | None = None, block: bool = True) -> str:
        """Serves this runtime over WebSocket/HTTP (docs/protocol.md); returns the base URL.

        Starts the runtime if needed. ``host``/``port`` default to GS_HOST/GS_PORT
        (127.0.0.1:8000; port 0 picks a free one). ``block=True`` serves until Ctrl-C,
        SIGTERM or :meth:`stop`, then closes every client with 1001 and stops the runtime;
        ``block=False`` returns at once (the notebook way).
        """
        import threading
        from importlib.resources import files

        s = self.settings
        host = s["host"] if host is None else _settings.BY_KEYWORD["host"].parse("host", host)
        port = s["port"] if port is None else _settings.BY_KEYWORD["port"].parse("port", port)
        web = files("goldensignals") / "web"
        bound = self._core.serve(settings={**s, "host": host, "port": port},
                                 web_root=str(web) if web.is_dir() else "")
        shown = f"[{host}]" if ":" in host else host
        tls = bool(s["tls_cert"])
        self.url = f"{'https' if tls else 'http'}://{shown}:{bound}"
        if self.state == "created":
            self.start()
        logging.getLogger("goldensignals.websocket_orchestrator").info(
            "serving %s: dashboard %s/, WebSocket %s://%s:%d/ws/signals", self.symbols, self.url,
            "wss" if tls else "ws", shown, bound)
        self._served = threading.Event()
        if block:
            self.wait()
        return self.url

    def wait(self, timeout: float | None = None) -> None:
        """Blocks until :meth:`stop`, Ctrl-C or SIGTERM (or ``timeout`` seconds), then stops."""
        import threading

        served = getattr(self, "_served", None) or threading.Event()
        self._served = served
        if threading.current_thread() is threading.main_thread():
            import signal

            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: served.set())
        end = None if timeout is None else time.monotonic() + timeout
        try:
            while not served.wait(0.5) and self.state == "running":
                if end is not None and time.monotonic() >= end:
                    break
        finally:
            self.stop()

    # -- history ------------------------------------------------------------------------------
    def _history(self, symbol: str, limit: int) -> tuple[Any, str]:
        """The reader of the history file (``db`` / GS_DB) and ``symbol`` as stored; ``limit``
        checked."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise _core.InvalidArgumentError(
                f"limit {limit!r} is not accepted; expected an integer >= 1")
        db = self.settings["db"]
        if not db:
            raise _core.InvalidArgumentError(
                "history is off (GS_DB is off); give Runtime(db=PATH) or set GS_DB to read one")
        if self._reader is None or self._reader.path != db:
            self._reader = _core.HistoryReader(db)
        return self._reader, _settings.BY_KEYWORD["symbols"].parse("symbol", str(symbol))[0]

    def history(self, symbol: str, limit: int = 100) -> Any:
        """The latest ``limit`` stored signals of ``symbol`` as a pandas DataFrame, oldest first.

        One row per signal_update: the protocol's signal fields as columns (``symbol``,
        ``signal_id``, ``action``, ``confidence``, ``price``, ``agents_consensus``,
        ``metadata``, ...), ``timestamp`` as UTC datetimes, and ``seq``; and, once the
        signal's horizon closed (live scoring, its signal_outcome), ``hit``, ``return``
        (after costs), ``exit_reason``, ``exit_price`` and ``exit_time`` (missing before).
        Reads the history file (``db`` / GS_DB) that a server of this or another process
        writes.
        """
        import pandas as pd

        reader, sym = self._history(symbol, limit)
        rows = []
        for seq, _, _, text in reversed(reader.latest(sym, "signal_update", limit)):
            data = json.loads(text).get("data") or {}
            rows.append({**data, "seq": seq})
        cols = ["symbol", "signal_id", "analysis_id", "action", "confidence", "price",
                "agents_consensus", "timestamp", "metadata", "seq"]
        outcomes = {}
        for _, _, _, text in reader.latest(sym, "signal_outcome", 2 * limit):
            o = json.loads(text).get("data") or {}
            outcomes.setdefault(o.get("signal_id"), o)  # newest first: keep the first seen
        for r in rows:
            o = outcomes.get(r.get("signal_id"), {})
            for k in _OUTCOME_COLUMNS:
                r[k] = o.get(k)
        frame = pd.DataFrame(rows, columns=list(dict.fromkeys(
            cols + [k for r in rows for k in r] + list(_OUTCOME_COLUMNS))))
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
        frame["exit_time"] = pd.to_datetime(frame["exit_time"], utc=True, format="ISO8601")
        return frame

    def replay(self, symbol: str, start: Any = None, end: Any = None, *,
               limit: int = 100_000) -> int:
        """Feeds the stored messages of ``symbol`` stored between ``start`` and ``end`` (None:
        no bound; a datetime or epoch seconds) to this runtime's callbacks, oldest first:
        ``on_signal`` and ``on_decision`` get :class:`StoredEvent` records (attribute access
        to the protocol's fields, ``to_dict()``), ``on_agent_update`` likewise, and
        ``on_price_update`` the price dict (if prices were stored). Returns how many."""
        reader, sym = self._history(symbol, limit)
        lo = -2**62 if start is None else _ts_ms(start)
        hi = 2**62 if end is None else _ts_ms(end)
        rows = reader.window(sym, lo, hi, limit, newest=True)
        kinds = {"signal_update": "signal", "decision_update": "decision",
                 "agent_update": "agent_update", "price_update": "price_update"}
        n = 0
        for seq, kind, _, text in rows:
            data = json.loads(text).get("data") or {}
            target = kinds.get(kind)
            if target is None:
                continue
            payload: Any = data if target == "price_update" else StoredEvent(kind, seq, data)
            for cb in list(self._callbacks[target]):
                try:
                    cb(payload)
                except Exception:  # as live: one callback must not stop the others
                    _log.exception("goldensignals: %s callback %r raised in replay", target, cb)
            n += 1
        return n

    def server_status(self) -> dict[str, Any] | None:
        """The server's GET /ws/status object (None when not serving)."""
        return self._core.server_status()

    # -- work ---------------------------------------------------------------------------------
    def analyze(self, symbol: str, timeout: float | None = None) -> _core.Decision:
        """Analyses ``symbol`` now (or joins the analysis in flight) and returns the Decision.

        Blocks with the GIL released. ``timeout`` in seconds (None: until it ends, which the
        agents' deadlines bound); AnalysisTimeoutError when it runs out.
        """
        return self._core.analyze(symbol, None if timeout is None else float(timeout))

    def publish_tick(self, symbol: str, price: float, volume: float = 0.0, ts: Any = None) -> None:
        """Records a trade; may trigger an analysis (a move of ``move_threshold`` or more)."""
        self._core.publish_tick(symbol, float(price), float(volume), _ts_ms(ts))

    def publish_bar(self, symbol: str, open: float, high: float, low: float, close: float,
                    volume: float = 0.0, ts: Any = None) -> None:
        """Records a completed OHLCV bar (indicators update); may trigger an analysis."""
        self._core.publish_bar(symbol, _ts_ms(ts), float(open), float(high), float(low),
                               float(close), float(volume))

    def wait_idle(self, symbol: str) -> None:
        """Blocks until no analysis of ``symbol`` is in flight."""
        self._core.wait_idle(symbol)

    def context(self, symbol: str) -> _core.AgentContext | None:
        """What an agent would see for ``symbol`` now (None before any data)."""
        return self._core.context(symbol)

    def status(self) -> dict[str, Any]:
        """Orchestrator, agent and executor figures (the /ws/status orchestrator part)."""
        st = self._core.status()
        o = st["orchestrator"]
        return {
            "running": o["running"],
            "active_analyses": o["active_analyses"],
            "active_agents": o["active_agents"],
            **st,
        }

    def __repr__(self) -> str:
        return f"Runtime(symbols={self.symbols}, agents={self.agents}, state={self.state!r})"
