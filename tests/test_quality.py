from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.core.quality import quality_report
from workbench.errors import ValidationError


def _frame(n: int = 100) -> pd.DataFrame:
    idx = pd.date_range("2025-01-01", periods=n, freq="1min", tz="UTC", name="ts")
    close = 100 * np.exp(np.cumsum(np.full(n, 0.0001)))
    return pd.DataFrame({"open": close, "high": close * 1.001, "low": close * 0.999, "close": close,
                         "volume": np.ones(n)}, index=idx)


def test_clean_frame_is_ok() -> None:
    rep = quality_report(_frame(), "1m", symbol="KRW-X")
    assert rep.ok and rep.summary()["rows"] == 100 and rep.missing_bars == 0


def test_finds_each_defect() -> None:
    df = _frame()
    df = df.drop(df.index[10:15])                       # gap of 5 bars
    df = pd.concat([df, df.iloc[[20]]])                 # duplicate timestamp
    df.iloc[40:44, df.columns.get_loc("volume")] = 0.0  # zero-volume run of 4
    df.iloc[60, df.columns.get_loc("close")] *= 1.5     # jump up, then back down
    df.iloc[60, df.columns.get_loc("high")] *= 1.5
    df.iloc[70, df.columns.get_loc("high")] = df.iloc[70]["low"] * 0.5  # high below low
    rep = quality_report(df, "1m")
    assert not rep.ok
    assert len(rep.gaps) == 1 and rep.gaps["missing_bars"].iloc[0] == 5
    assert rep.gaps["gap_start"].iloc[0] == pd.Timestamp("2025-01-01 00:10", tz="UTC")
    assert rep.duplicates["count"].tolist() == [2]
    assert rep.zero_volume_runs["bars"].tolist() == [4]
    assert set(rep.price_jumps["ts"]) == {df.index[60], df.index[61]}  # the jump and its reversal
    assert "high_below_open_close" in set(rep.bad_bars["problem"])
    assert "<h4>gaps (1)</h4>" in rep._repr_html_()


def test_short_zero_volume_runs_are_ignored() -> None:
    df = _frame()
    df.iloc[5:7, df.columns.get_loc("volume")] = 0.0
    assert quality_report(df, "1m", min_zero_volume_run=3).zero_volume_runs.empty
    assert len(quality_report(df, "1m", min_zero_volume_run=2).zero_volume_runs) == 1


def test_bad_input() -> None:
    with pytest.raises(ValidationError, match="lacks column"):
        quality_report(_frame().drop(columns="close"), "1m")
    with pytest.raises(ValidationError, match="timeframe"):
        quality_report(_frame(), "2m")
