"""Market data out of the database: loaders, quality report, sample data set."""

from workbench.data.loaders import (
    candles_from_transactions,
    load_candles,
    load_indicators,
    load_orderbooks,
    load_tickers,
    load_transactions,
)
from workbench.data.quality import QualityReport, quality_report

__all__ = [
    "QualityReport",
    "candles_from_transactions",
    "load_candles",
    "load_indicators",
    "load_orderbooks",
    "load_tickers",
    "load_transactions",
    "quality_report",
]
