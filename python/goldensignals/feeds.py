"""Market data feeds: ``Simulated`` (geometric Brownian motion) and ``Replay`` (OHLCV data).

Ticks can also be pushed by hand with :meth:`goldensignals.Runtime.publish_tick`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import _core
from ._core import InvalidArgumentError

__all__ = ["Feed", "Simulated", "Replay"]


class Feed:
    """Base class of the feeds; a feed is given to ``Runtime(feed=...)``."""

    def symbols(self) -> tuple[str, ...]:
        """Symbols this feed brings by itself (a replay's); empty for feeds that serve any."""
        return ()

    def _attach(self, core: Any, symbols: tuple[str, ...]) -> None:  # pragma: no cover
        raise NotImplementedError


class Simulated(Feed):
    """Geometric Brownian motion per symbol, deterministic for a seed.

    drift and volatility are per bar (log-return mean and standard deviation); ``interval``
    is the real time between bars in seconds (0: as fast as possible); ``backfill`` bars of
    history are made at start so agents can vote at once; ``max_bars`` stops the feed after
    that many live bars (None: never); ``start_prices`` maps symbols to their first price.
    """

    def __init__(
        self,
        seed: int = 7,
        *,
        drift: float = 0.0,
        volatility: float = 0.004,
        interval: float = 1.0,
        backfill: int = 300,
        max_bars: int | None = None,
        base_volume: float = 1.0e6,
        start_prices: Mapping[str, float] | None = None,
    ) -> None:
        if not isinstance(seed, int) or seed < 0:
            raise InvalidArgumentError(f"Simulated: seed {seed!r} is not accepted; expected an integer >= 0")
        if max_bars is not None and (not isinstance(max_bars, int) or max_bars < 0):
            raise InvalidArgumentError(
                f"Simulated: max_bars {max_bars!r} is not accepted; expected None or an integer >= 0"
            )
        if not isinstance(backfill, int) or backfill < 0:
            raise InvalidArgumentError(
                f"Simulated: backfill {backfill!r} is not accepted; expected an integer >= 0"
            )
        self.seed = seed
        self.drift = float(drift)
        self.volatility = float(volatility)
        self.interval = float(interval)
        self.backfill = backfill
        self.max_bars = max_bars
        self.base_volume = float(base_volume)
        self.start_prices = dict(start_prices or {})

    def __repr__(self) -> str:
        return (
            f"Simulated(seed={self.seed}, drift={self.drift}, volatility={self.volatility}, "
            f"interval={self.interval})"
        )

    def _attach(self, core: Any, symbols: tuple[str, ...]) -> None:
        core.set_simulated_feed(
            seed=self.seed,
            drift=self.drift,
            volatility=self.volatility,
            interval=self.interval,
            backfill=self.backfill,
            max_bars=-1 if self.max_bars is None else self.max_bars,
            base_volume=self.base_volume,
            start_prices={str(k): float(v) for k, v in self.start_prices.items()},
        )


_DATE_NAMES = ("date", "datetime", "timestamp", "time")
_OHLCV = ("open", "high", "low", "close", "volume")


class Replay(Feed):
    """Replays OHLCV bars from a pandas DataFrame or a CSV file.

    The data needs a date column (``date``, ``datetime``, ``timestamp`` or ``time``, any case;
    or a DatetimeIndex) and ``open``, ``high``, ``low``, ``close``, ``volume`` columns (any
    case). A ``symbol`` column splits it by symbol; without one, the bars belong to ``symbol``
    (default: the runtime's first symbol). ``speed=0`` replays as fast as possible and waits
    for each triggered analysis, so results are deterministic; ``speed=60`` plays a minute of
    data per second.
    """

    def __init__(self, data: Any, speed: float = 0.0, *, symbol: str | None = None) -> None:
        import pandas as pd

        from_file = isinstance(data, (str, os.PathLike))
        if from_file:
            path = os.fspath(data)
            if not os.path.exists(path):
                raise InvalidArgumentError(f"Replay: file {path!r} does not exist")
        elif not isinstance(data, pd.DataFrame):
            raise InvalidArgumentError(
                f"Replay: data of type {type(data).__name__} is not accepted; expected a pandas "
                "DataFrame or a CSV path"
            )
        try:
            speed = float(speed)
        except (TypeError, ValueError):
            raise InvalidArgumentError(f"Replay: speed {speed!r} is not accepted; expected a number >= 0") from None
        if not speed >= 0 or speed == float("inf"):
            raise InvalidArgumentError(
                f"Replay: speed {speed!r} is not accepted; expected 0 (as fast as possible) or > 0"
            )
        self.speed = speed
        self.symbol = symbol.upper() if symbol else None
        self._frames = self._read(path) if from_file else self._split(self._normalize(data))

    @classmethod
    def _of_dataset(cls, frame: Any, speed: float = 0.0) -> Replay:
        """A replay of a frame in :mod:`goldensignals.datasets`' format, which load() has
        validated already: split by symbol without normalizing it again."""
        import pandas as pd

        from .datasets import _by_symbol

        self = cls.__new__(cls)
        self.speed = float(speed)
        self.symbol = None
        self._frames = {sym: pd.DataFrame(cols) for sym, cols in _by_symbol(frame).items()}
        return self

    def _read(self, path: str) -> dict[str | None, Any]:
        """A CSV file, parsed by the same C++ reader as goldensignals-server's replay feed."""
        import pandas as pd

        frames: dict[str | None, Any] = {}
        for sym, (ts, *cols) in _core.read_ohlcv_csv(path).items():
            frame = pd.DataFrame(dict(zip(_OHLCV, cols)))
            frame["ts_ms"] = ts
            frames[str(sym) if sym else self.symbol] = frame
        return frames

    @staticmethod
    def _normalize(df: Any) -> Any:
        import pandas as pd

        cols = {str(c).strip().lower(): c for c in df.columns}
        if any(n in cols for n in _DATE_NAMES):
            when = df[cols[next(n for n in _DATE_NAMES if n in cols)]]
        elif isinstance(df.index, pd.DatetimeIndex):
            when = df.index.to_series()
        else:
            raise InvalidArgumentError(
                "Replay: no date column; expected one named date, datetime, timestamp or time, "
                f"or a DatetimeIndex (columns: {', '.join(map(str, df.columns))})"
            )
        missing = [c for c in _OHLCV if c not in cols]
        if missing:
            raise InvalidArgumentError(
                f"Replay: missing column(s) {', '.join(missing)}; expected open, high, low, close, "
                f"volume (columns: {', '.join(map(str, df.columns))})"
            )
        # Numbers are epoch seconds, as in a CSV file (goldensignals-server's rule).
        numeric = pd.api.types.is_numeric_dtype(when) and not pd.api.types.is_bool_dtype(when)
        when = pd.to_datetime(when, unit="s" if numeric else None, utc=True, errors="coerce")
        out = pd.DataFrame({c: pd.to_numeric(df[cols[c]], errors="coerce").to_numpy(float) for c in _OHLCV})
        # The unit of datetime64 varies (pandas 3 often gives microseconds): convert, never assume ns.
        out["ts_ms"] = when.dt.as_unit("ms").astype("int64").to_numpy() if not when.isna().any() else None
        if when.isna().any():
            row = int(np.flatnonzero(when.isna().to_numpy())[0])
            raise InvalidArgumentError(f"Replay: row {row}: the date is missing or not a date")
        for c in _OHLCV:
            bad = ~np.isfinite(out[c].to_numpy())
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise InvalidArgumentError(
                    f"Replay: row {row}: {c} {df[cols[c]].iloc[row]} is not a finite number"
                )
        if "symbol" in cols:
            out["symbol"] = df[cols["symbol"]].astype(str).str.upper().to_numpy()
        return out

    def _split(self, df: Any) -> dict[str | None, Any]:
        if "symbol" in df.columns:
            return {str(s): g for s, g in df.groupby("symbol", sort=True)}
        return {self.symbol: df}

    def symbols(self) -> tuple[str, ...]:
        return tuple(s for s in self._frames if s is not None)

    def __len__(self) -> int:
        return sum(len(f) for f in self._frames.values())

    def __repr__(self) -> str:
        return f"Replay({len(self)} bars, symbols={list(self._frames)}, speed={self.speed})"

    def _attach(self, core: Any, symbols: tuple[str, ...]) -> None:
        data = {}
        for sym, f in self._frames.items():
            name = sym if sym is not None else symbols[0]
            data[name] = (
                np.ascontiguousarray(f["ts_ms"].to_numpy(np.int64)),
                *(np.ascontiguousarray(f[c].to_numpy(float)) for c in _OHLCV),
            )
        core.set_replay_feed(data, self.speed)
