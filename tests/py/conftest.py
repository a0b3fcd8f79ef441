from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def trending_frame(n: int = 300, seed: int = 3, drift: float = 0.002) -> pd.DataFrame:
    """Daily OHLCV bars of a noisy random walk with drift, made here (no download)."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(drift + 0.01 * rng.standard_normal(n)))
    open_ = np.concatenate([[close[0]], close[:-1]])
    spread = np.abs(rng.standard_normal(n)) * 0.5
    return pd.DataFrame(
        {
            "Date": pd.date_range("2020-01-01", periods=n, freq="D"),
            "Open": open_,
            "High": np.maximum(open_, close) + spread,
            "Low": np.minimum(open_, close) - spread,
            "Close": close,
            "Volume": rng.integers(1_000_000, 2_000_000, n).astype(float),
        }
    )


@pytest.fixture
def frame() -> pd.DataFrame:
    return trending_frame()


def pytest_configure(config: pytest.Config) -> None:
    # Servers started by module-scoped fixtures (and notebook kernels) come before the
    # per-test file below: they get a session-wide temporary one, not ./goldensignals.db.
    import atexit
    import os
    import shutil
    import tempfile

    if "GS_DB" not in os.environ:
        where = tempfile.mkdtemp(prefix="gs-history-")
        atexit.register(shutil.rmtree, where, True)
        os.environ["GS_DB"] = os.path.join(where, "session.db")


@pytest.fixture(autouse=True)
def _history_file(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test's servers keep their signal history (GS_DB) in a fresh temporary file,
    never in the working directory; a test may set GS_DB itself."""
    monkeypatch.setenv("GS_DB", str(tmp_path_factory.mktemp("history") / "goldensignals.db"))
