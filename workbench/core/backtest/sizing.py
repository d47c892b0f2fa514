"""Position sizing (README "Sizing"): the fraction of equity each entry gets, bar by bar, where it is
not one number per strategy (volatility target, per-signal sizes). The single-number sizings are
:attr:`Risk.position_fraction <workbench.core.strategies.base.Risk.position_fraction>` and ``position_krw``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.core.backtest.data import MarketData
from workbench.core.markets import timeframe_offset
from workbench.core.strategies.base import Risk

__all__ = ["bars_per_year", "entry_fractions", "volatility_fractions"]


def bars_per_year(timeframe: str) -> float:
    """Bars of ``timeframe`` in a 365-day year (crypto trades every day)."""
    return pd.Timedelta(days=365) / timeframe_offset(timeframe)


def volatility_fractions(close: np.ndarray, target: float, lookback: int, per_year: float, cap: float) -> np.ndarray:
    """Fractions of equity (bars x symbols) that give a position ``target`` annualised volatility:
    ``target / (std of the last lookback log returns * sqrt(per_year))``, at most ``cap``; the value of
    bar t is known at t's close and used at bar t+1's open (row t+1); 0 before ``lookback`` returns."""
    logret = pd.DataFrame(np.log(close)).diff()
    vol = logret.rolling(lookback, min_periods=lookback).std(ddof=1).to_numpy() * np.sqrt(per_year)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.minimum(target / vol, cap)
    frac = np.where(np.isfinite(frac), frac, np.where(vol == 0.0, cap, 0.0))
    out = np.zeros_like(frac)
    out[1:] = frac[:-1]
    return out


def entry_fractions(md: MarketData, risk: Risk, signal_size: np.ndarray | None) -> np.ndarray | None:
    """Per-bar fractions of equity for ``risk``'s sizing (bars x symbols; NaN: the risk's own
    fraction), or None when one fraction (or a fixed KRW amount) serves every entry."""
    if risk.sizing == "signal":
        return signal_size
    if risk.sizing == "vol_target":      # on each symbol's own bars (entries act only on those)
        out = np.zeros((len(md.index), len(md.symbols)))
        for j, s in enumerate(md.symbols):
            own = md.own_frame(s)
            rows = slice(None) if len(own) == len(md.index) else md.index.get_indexer(own.index)
            out[rows, j] = volatility_fractions(own[["close"]].to_numpy(dtype="float64"), risk.vol_target_pct / 100.0,
                                                risk.vol_lookback, bars_per_year(md.timeframe),
                                                1.0 / risk.max_positions)[:, 0]
        return out
    return None
