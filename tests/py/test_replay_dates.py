"""Replay reads dates of any datetime64 unit (pandas 3 gives microseconds) and strings as the
same instants: an agent sees the bar times in epoch milliseconds."""

from __future__ import annotations

import pandas as pd
import pytest

import goldensignals as gs
from conftest import trending_frame
from helpers import wait_replayed


@pytest.mark.parametrize("form", ["datetime64[s]", "datetime64[ms]", "datetime64[us]", "datetime64[ns]",
                                  "string", "index"])
def test_replay_bar_times_are_epoch_milliseconds_whatever_the_date_unit(form, tmp_path):
    frame = trending_frame(n=60)
    expected = [int(t.timestamp() * 1000) for t in frame["Date"]]
    if form == "string":
        path = tmp_path / "bars.csv"
        frame.assign(Date=frame["Date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
        data = path
    elif form == "index":
        data = frame.set_index(frame["Date"].astype("datetime64[us]")).drop(columns=["Date"])
    else:
        data = frame.assign(Date=frame["Date"].astype(form))
    rt = gs.Runtime(symbols=["AAPL"], feed=gs.feeds.Replay(data, speed=0),
                    analyze_on_start=False, signal_generation_interval=3e7, move_threshold=0.9)
    with rt:
        wait_replayed(rt, frame)
        times = list(rt.context("AAPL").time)
    assert times == expected[-len(times):]
    assert pd.Timestamp(times[-1], unit="ms") == frame["Date"].iloc[-1]
