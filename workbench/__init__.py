"""workbench: research and backtesting for Bithumb KRW markets.

The examples need a server and stored data (skipped when the doctests run)::

>>> import workbench as wb
>>> session = wb.connect()  # configured servers, or the embedded default  # doctest: +SKIP
>>> df = session.candles("KRW-BTC", "1h", "2025-01-01", "2025-02-01")  # doctest: +SKIP
>>> result = wb.run_backtest(df, wb.EmaCross(), timeframe="1h", symbol="KRW-BTC")  # doctest: +SKIP

Names are imported on first use, so ``import workbench`` stays fast and has no side effects.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from workbench._version import __version__

_EXPORTS: dict[str, str] = {
    "Settings": "workbench.services.config",
    "Workbench": "workbench.app.session",
    "connect": "workbench.app.session",
    "load_candles": "workbench.store.market_data",
    "quality_report": "workbench.core.quality",
    "compute_indicator_table": "workbench.core.indicators",
    "Strategy": "workbench.core.strategies",
    "strategy": "workbench.core.strategies",
    "Risk": "workbench.core.strategies",
    "EmaCross": "workbench.core.strategies",
    "RsiReversion": "workbench.core.strategies",
    "BollingerReversion": "workbench.core.strategies",
    "MacdTrend": "workbench.core.strategies",
    "GoldenCross": "workbench.core.strategies",
    "BacktestConfig": "workbench.core.backtest",
    "BacktestResult": "workbench.core.backtest",
    "run_backtest": "workbench.core.backtest",
    "run_sweep": "workbench.core.backtest",
    "walk_forward": "workbench.core.backtest",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:
    from workbench.app.session import Workbench, connect
    from workbench.core.backtest import BacktestConfig, BacktestResult, run_backtest, run_sweep, walk_forward
    from workbench.core.indicators import compute_indicator_table
    from workbench.core.quality import quality_report
    from workbench.core.strategies import (
        BollingerReversion,
        EmaCross,
        GoldenCross,
        MacdTrend,
        Risk,
        RsiReversion,
        Strategy,
        strategy,
    )
    from workbench.services.config import Settings
    from workbench.store.market_data import load_candles


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
