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
from typing import TYPE_CHECKING, Any

from workbench._version import __version__

_EXPORTS: dict[str, str] = {
    "Settings": "workbench.config",
    "Workbench": "workbench.session",
    "connect": "workbench.session",
    "load_candles": "workbench.store.market_data",
    "quality_report": "workbench.quality",
    "compute_indicator_table": "workbench.indicators",
    "Strategy": "workbench.strategies",
    "strategy": "workbench.strategies",
    "Risk": "workbench.strategies",
    "EmaCross": "workbench.strategies",
    "RsiReversion": "workbench.strategies",
    "BollingerReversion": "workbench.strategies",
    "MacdTrend": "workbench.strategies",
    "GoldenCross": "workbench.strategies",
    "BacktestConfig": "workbench.backtest",
    "BacktestResult": "workbench.backtest",
    "run_backtest": "workbench.backtest",
    "run_sweep": "workbench.backtest",
    "walk_forward": "workbench.backtest",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:
    from workbench.backtest import BacktestConfig, BacktestResult, run_backtest, run_sweep, walk_forward
    from workbench.config import Settings
    from workbench.indicators import compute_indicator_table
    from workbench.quality import quality_report
    from workbench.session import Workbench, connect
    from workbench.store.market_data import load_candles
    from workbench.strategies import (
        BollingerReversion,
        EmaCross,
        GoldenCross,
        MacdTrend,
        Risk,
        RsiReversion,
        Strategy,
        strategy,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
