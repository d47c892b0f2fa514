from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from workbench.core.indicators import INDICATOR_COLUMNS, compute_indicator_table
from workbench.ingest.sample import generate_sample_candles
from workbench.store.database import Database
from workbench.store.indicator_store import compute_and_store_indicators
from workbench.store.market_data import load_candles, load_indicators
from workbench.store.writer import write_table


@pytest.fixture
def hourly(db: Database) -> pd.DataFrame:
    write_table(db, "candles", generate_sample_candles({"KRW-SYNBTC": 5e7}, days=20, timeframe="1h"))
    return load_candles(db, "KRW-SYNBTC", "1h")


def test_stored_indicators_equal_the_computed_table(db: Database, hourly: pd.DataFrame) -> None:
    run = compute_and_store_indicators(db, "KRW-SYNBTC", "1h")
    assert run.indicators is not None and run.indicators.inserted == len(hourly) == 480
    stored = load_indicators(db, "KRW-SYNBTC", "1h")
    assert list(stored.columns) == list(INDICATOR_COLUMNS)
    want = compute_indicator_table(hourly)
    np.testing.assert_allclose(stored.to_numpy(dtype=float), want.to_numpy(dtype=float), rtol=1e-12, equal_nan=True)
    assert stored["ma_200"].notna().sum() == 480 - 199
    # the candles' own columns were filled too
    with db.begin() as conn:
        rsi = conn.execute(sa.text("SELECT rsi FROM candles ORDER BY timestamp")).scalars().all()
    assert rsi[:14] == [None] * 14 and rsi[20] == pytest.approx(want["rsi_14"].iloc[20])
    again = compute_and_store_indicators(db, "KRW-SYNBTC", "1h")
    assert again.indicators.inserted == 0   # re-run updates in place


def test_a_range_is_warmed_up_on_earlier_history(db: Database, hourly: pd.DataFrame) -> None:
    part = compute_and_store_indicators(db, "KRW-SYNBTC", "1h", "2025-01-15", "2025-01-16").table
    full = compute_indicator_table(hourly).loc["2025-01-15":"2025-01-15 23:00"]
    assert len(part) == 24 and part["ma_200"].notna().all()
    pd.testing.assert_frame_equal(part, full)


def test_bucketed_timeframe_stores_indicators_only(db: Database, hourly: pd.DataFrame) -> None:
    run = compute_and_store_indicators(db, "KRW-SYNBTC", "4h")
    assert run.indicators is not None and run.indicators.rows == 120 and run.candle_columns is None

