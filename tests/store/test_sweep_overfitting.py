"""A stored sweep reports the deflated Sharpe ratio and PBO of its combinations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workbench.core.strategies import EmaCross
from workbench.ingest.sample import generate_sample_candles
from workbench.store.writer import write_table

pytestmark = [pytest.mark.db, pytest.mark.redis]


def test_sweep_outcome_has_overfitting_diagnostics(session) -> None:  # type: ignore[no-untyped-def]
    write_table(session.db, "candles", generate_sample_candles(days=10))
    out = session.sweep(EmaCross(), {"fast": [3, 5, 8], "slow": [13, 21]}, "KRW-SYNBTC", "1h", progress=False)
    report = out.overfitting
    assert report is not None and report.n_trials == 6 and report.n_obs == 10
    assert report.pbo_splits == 4 and 0.0 <= report.pbo <= 1.0
    # the best trial's daily Sharpe ratio, recomputed with pandas from the stored equity curves
    def daily_sharpe(backtest_id: int) -> float:
        eq = session.run(backtest_id)["equity"]
        day_end = eq.groupby(eq.index.floor("D")).last()
        r = day_end / day_end.shift(1, fill_value=10_000_000.0) - 1.0
        return float(r.mean() / r.std(ddof=1))

    sharpes = [daily_sharpe(int(b)) for b in out.table["backtest_id"]]
    assert report.best == int(np.argmax(sharpes))
    assert report.sharpe == pytest.approx(max(sharpes), rel=1e-9)
    assert math.isfinite(report.deflated_sharpe_ratio) and 0.0 <= report.deflated_sharpe_ratio <= 1.0
