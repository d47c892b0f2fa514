"""Checked by mypy in tests/test_typing.py (never run): the facade's return types per backend."""

from __future__ import annotations

from typing import assert_type

import pandas as pd
import polars as pl
import pyarrow as pa

from workbench.app.reproduce import RerunReport
from workbench.app.research import StoredRun, SweepOutcome
from workbench.app.session import Workbench
from workbench.core.backtest import BacktestResult, WalkForwardResult
from workbench.core.strategies import EmaCross, Strategy
from workbench.store.database import Database
from workbench.store.market_data import Backend, Frame, load_candles, load_tickers


def _session(wb: Workbench, backend: Backend) -> None:
    assert_type(wb.candles("KRW-BTC"), pd.DataFrame)
    assert_type(wb.candles("KRW-BTC", "4h", backend="pandas"), pd.DataFrame)
    assert_type(wb.candles("KRW-BTC", "1m", backend="polars"), pl.DataFrame)
    assert_type(wb.candles("KRW-BTC", backend="arrow"), pa.Table)
    assert_type(wb.candles("KRW-BTC", backend=backend), Frame)  # not known until run time: the union
    assert_type(wb.tickers("KRW-BTC"), pd.DataFrame)
    assert_type(wb.transactions("KRW-BTC", backend="polars"), pl.DataFrame)
    assert_type(wb.orderbooks("KRW-BTC", backend="arrow"), pa.Table)
    assert_type(wb.candles_from_transactions("KRW-BTC", "5m"), pd.DataFrame)
    assert_type(wb.indicators("KRW-BTC", "1h", backend="polars"), pl.DataFrame)
    assert_type(wb.backtest(EmaCross(), "KRW-BTC", "1h"), StoredRun)
    assert_type(wb.backtest(EmaCross(), "KRW-BTC", "1h").result, BacktestResult)
    assert_type(wb.sweep(EmaCross(), {"fast": [5, 8]}, "KRW-BTC", "1h"), SweepOutcome)
    assert_type(wb.walk_forward(EmaCross(), {"fast": [5, 8]}, "KRW-BTC", "1h"), WalkForwardResult)
    assert_type(wb.strategy("EmaCross"), Strategy)
    assert_type(wb.rerun(1), RerunReport)


def _store(db: Database) -> None:
    assert_type(load_candles(db, "KRW-BTC"), pd.DataFrame)
    assert_type(load_candles(db, "KRW-BTC", backend="polars"), pl.DataFrame)
    assert_type(load_candles(db, "KRW-BTC", backend="arrow"), pa.Table)
    assert_type(load_tickers(db, "KRW-BTC", backend="polars"), pl.DataFrame)
