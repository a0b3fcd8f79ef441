"""A CSV replay is parsed once, by the C++ reader that goldensignals-server uses: Python's
Replay of a file gives the bars the native reader gives, epoch-second dates included, and a
DataFrame with the same columns replays the same bars."""

from __future__ import annotations

from pathlib import Path

import goldensignals as gs
import numpy as np
import pandas as pd
import pytest
from goldensignals import _core

ROWS = [  # epoch seconds, two symbols, mixed case header
    (1_700_000_000, 10.0, 11.0, 9.5, 10.5, 1000, "aapl"),
    (1_700_000_060, 10.5, 11.5, 10.0, 11.0, 1100, "aapl"),
    (1_700_000_000, 20.0, 21.0, 19.0, 20.5, 500, "nvda"),
    (1_700_000_060, 20.5, 22.0, 20.0, 21.5, 700, "nvda"),
]


def write(path: Path) -> Path:
    lines = ["Date,Open,High,Low,Close,Volume,Symbol"]
    lines += [",".join(map(str, r)) for r in ROWS]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_csv_replays_as_the_native_reader_reads_it(tmp_path: Path) -> None:
    path = write(tmp_path / "bars.csv")
    feed = gs.feeds.Replay(path)
    native = _core.read_ohlcv_csv(str(path))
    assert feed.symbols() == ("AAPL", "NVDA") == tuple(sorted(native))
    for sym in ("AAPL", "NVDA"):
        ts, o, h, low, c, v = native[sym]
        frame = feed._frames[sym]
        assert frame["ts_ms"].tolist() == ts.tolist() == [1_700_000_000_000, 1_700_000_060_000]
        for col, arr in zip(("open", "high", "low", "close", "volume"), (o, h, low, c, v)):
            assert np.array_equal(frame[col].to_numpy(), arr), (sym, col)
    # The same bars as a DataFrame: numbers in the date column are epoch seconds there too.
    df = pd.DataFrame(ROWS, columns=["date", "open", "high", "low", "close", "volume", "symbol"])
    from_frame = gs.feeds.Replay(df)
    for sym in ("AAPL", "NVDA"):
        assert from_frame._frames[sym]["ts_ms"].tolist() == feed._frames[sym]["ts_ms"].tolist()


def test_a_bad_csv_is_refused_naming_the_line_and_value(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("date,open,high,low,close,volume\n2024-01-02,1,2,0.5,1.5,10\n"
                    "2024-01-03,1,two,0.5,1.5,10\n")
    with pytest.raises(gs.InvalidArgumentError, match=r"line 3.*high.*two"):
        gs.feeds.Replay(path)


def test_a_csv_without_symbols_replays_into_the_runtimes_symbol(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("date,open,high,low,close,volume\n"
                    + "".join(f"2024-01-{d:02d},{100 + d},{101 + d},{99 + d},{100.5 + d},1000\n"
                              for d in range(2, 30)))
    rt = gs.Runtime(symbols=["SPY"], feed=gs.feeds.Replay(path), db="off")
    with rt:
        rt.wait(10)
        closes = list(rt.context("SPY").close)
    assert len(closes) == 28 and closes[0] == 102.5 and closes[-1] == 129.5
