"""Higher-timeframe bars aligned to a strategy's own bars without lookahead, on hand-built bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.core.strategies import align_higher, higher_timeframe, resample_bars
from workbench.errors import ValidationError


def hours(n: int = 24, start: str = "2025-01-01") -> pd.DataFrame:
    """1h bars whose prices are their hour number: open h, high h + 0.5, low h - 0.5, close h + 0.1."""
    h = np.arange(n, dtype=float)
    idx = pd.date_range(start, periods=n, freq="1h", tz="UTC", name="ts")
    return pd.DataFrame({"open": h, "high": h + 0.5, "low": h - 0.5, "close": h + 0.1, "volume": 1.0 + h},
                        index=idx)


def at(df: pd.DataFrame, hhmm: str) -> pd.Series:
    return df.loc[pd.Timestamp(f"2025-01-01 {hhmm}", tz="UTC")]


def test_the_10_00_bar_sees_the_4h_bar_that_closed_at_08_00() -> None:
    df = hours()
    h4 = higher_timeframe(df, "4h")
    # the 04:00-08:00 bar: open of 04:00, highest high 7.5, lowest low 3.5, close of 07:00, volume 5+6+7+8
    assert at(h4, "10:00").tolist() == [4.0, 7.5, 3.5, 7.1, 26.0]
    # 11:00 closes at 12:00, with the 08:00-12:00 bar: from then on that one is known
    assert at(h4, "11:00").tolist() == [8.0, 11.5, 7.5, 11.1, 42.0]
    assert at(h4, "03:00")["close"] == 3.1 and at(h4, "07:00")["close"] == 7.1
    assert h4.loc[:"2025-01-01 02:00"].isna().all().all()   # no 4h bar has closed yet


def test_naive_alignment_leaks_where_the_aligned_one_does_not() -> None:
    df = hours()
    naive = df["close"].resample("4h").last().reindex(df.index, method="ffill")
    assert at(naive.to_frame(), "10:00")["close"] == 11.1   # the 12:00 close, known at 10:00: the future
    assert at(higher_timeframe(df, "4h"), "10:00")["close"] == 7.1
    # cut the data after 10:00: the aligned values up to 10:00 stay, the naive ones move
    cut = df.loc[:"2025-01-01 10:00"]
    pd.testing.assert_frame_equal(higher_timeframe(cut, "4h"), higher_timeframe(df, "4h").loc[cut.index])
    naive_cut = cut["close"].resample("4h").last().reindex(cut.index, method="ffill")
    assert naive_cut.iloc[-1] == 10.1 != naive.loc[cut.index[-1]]


def test_a_missing_last_bar_delays_the_higher_bar_to_the_next_bar() -> None:
    df = hours().drop(pd.Timestamp("2025-01-01 07:00", tz="UTC"))
    h4 = higher_timeframe(df, "4h")
    assert at(h4, "06:00")["close"] == 3.1           # 04:00-08:00 is not complete at 06:00's close
    assert at(h4, "08:00").tolist() == [4.0, 6.5, 3.5, 6.1, 18.0]   # built from 04:00, 05:00, 06:00


def test_indicators_of_higher_bars_and_daily_bars() -> None:
    df = hours(48)
    h4 = resample_bars(df, "4h")
    assert len(h4) == 12 and h4.index[1] == pd.Timestamp("2025-01-01 04:00", tz="UTC")
    mean2 = h4["close"].rolling(2).mean()                   # on 4h bars: (3.1 + 7.1) / 2 at 04:00
    aligned = align_higher(df, mean2, "4h")
    assert np.isnan(at(aligned.to_frame(), "06:00").iloc[0])
    assert at(aligned.to_frame(), "07:00").iloc[0] == pytest.approx(5.1)
    day = higher_timeframe(df, "1d")
    assert day.loc[:"2025-01-01 22:00"].isna().all().all()
    assert at(day, "23:00")["close"] == 23.1   # the day's last hour closes the day


def test_bad_timeframes_are_refused() -> None:
    with pytest.raises(ValidationError, match="must be a multiple of the bars' own timeframe"):
        higher_timeframe(hours(), "1h")
    with pytest.raises(ValidationError, match="cannot tell the timeframe of 1 bar"):
        higher_timeframe(hours(1), "4h")
    assert higher_timeframe(hours(1), "4h", base="1h").isna().all().all()
