"""Checked by mypy in tests/test_typing.py (never run): the facade's return types per frame kind."""

from __future__ import annotations

from typing import assert_type

import pandas as pd
import polars as pl
import pyarrow as pa

from workbench.app.paper.reconcile import Reconciliation
from workbench.app.paper.runner import PaperOutcome
from workbench.app.reproduce import RerunReport
from workbench.app.research import StoredRun, SweepOutcome
from workbench.app.session import Workbench
from workbench.core.backtest import BacktestResult, WalkForwardResult
from workbench.core.strategies import EmaCross, Strategy
from workbench.store.database import Database
from workbench.store.market_data import ARROW, PANDAS, POLARS, Frames, load_candles, load_tickers


def _session(wb: Workbench) -> None:
    assert_type(wb.candles("KRW-BTC"), pd.DataFrame)
    assert_type(wb.candles("KRW-BTC", "4h"), pd.DataFrame)
    assert_type(wb.polars.candles("KRW-BTC", "1m"), pl.DataFrame)
    assert_type(wb.arrow.candles("KRW-BTC"), pa.Table)
    assert_type(wb.frames(POLARS).candles("KRW-BTC"), pl.DataFrame)
    assert_type(wb.tickers("KRW-BTC"), pd.DataFrame)
    assert_type(wb.polars.transactions("KRW-BTC"), pl.DataFrame)
    assert_type(wb.arrow.orderbooks("KRW-BTC"), pa.Table)
    assert_type(wb.candles_from_transactions("KRW-BTC", "5m"), pd.DataFrame)
    assert_type(wb.polars.indicators("KRW-BTC", "1h"), pl.DataFrame)
    assert_type(wb.paper_replay(EmaCross(), "KRW-BTC", "1h", "2025-01-01", "2025-02-01", speed=None),
                PaperOutcome)
    assert_type(wb.reconcile(1), Reconciliation)
    assert_type(wb.backtest(EmaCross(), "KRW-BTC", "1h"), StoredRun)
    assert_type(wb.backtest(EmaCross(), "KRW-BTC", "1h").result, BacktestResult)
    assert_type(wb.sweep(EmaCross(), {"fast": [5, 8]}, "KRW-BTC", "1h"), SweepOutcome)
    assert_type(wb.walk_forward(EmaCross(), {"fast": [5, 8]}, "KRW-BTC", "1h"), WalkForwardResult)
    assert_type(wb.strategy("EmaCross"), Strategy)
    assert_type(wb.rerun(1), RerunReport)


def _store(db: Database) -> None:
    assert_type(load_candles(db, "KRW-BTC"), pd.DataFrame)
    assert_type(Frames(db, POLARS).candles("KRW-BTC"), pl.DataFrame)
    assert_type(Frames(db, ARROW).candles("KRW-BTC"), pa.Table)
    assert_type(Frames(db, PANDAS).tickers("KRW-BTC"), pd.DataFrame)
    assert_type(load_tickers(db, "KRW-BTC"), pd.DataFrame)
