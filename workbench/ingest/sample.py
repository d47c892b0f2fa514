"""The sample data set of the embedded default: SYNTHETIC candles, generated reproducibly.

Symbols carry a ``SYN`` prefix (``KRW-SYNBTC`` ...) so they can never be mistaken for, or collide
with, real Bithumb markets. Prices follow a regime-switching geometric random walk (trending and
ranging stretches, volatility clusters) with an intraday volume profile, seeded so every machine
generates the same rows.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from workbench.core.checks import SAMPLE_DAYS
from workbench.core.markets import SAMPLE_LABEL, TimeLike, normalize_timeframe, timeframe_offset, to_utc

__all__ = ["SAMPLE_LABEL", "SAMPLE_SEED", "SAMPLE_SYMBOLS", "generate_sample_candles"]

SAMPLE_SEED: Final = 42
#: symbol -> starting price in KRW
SAMPLE_SYMBOLS: Final[dict[str, float]] = {
    "KRW-SYNBTC": 95_000_000.0,
    "KRW-SYNETH": 4_800_000.0,
    "KRW-SYNXRP": 3_100.0,
}


def generate_sample_candles(
    symbols: dict[str, float] | None = None,
    *,
    start: TimeLike = "2025-01-01",
    days: int = 60,
    timeframe: str = "1m",
    seed: int = SAMPLE_SEED,
) -> pd.DataFrame:
    """Rows for the ``candles`` table: ``symbol timeframe timestamp open_price ... volume``.

    Same arguments, same rows (on every machine).
    """
    SAMPLE_DAYS.check(days, "days")
    tf = normalize_timeframe(timeframe)
    step = timeframe_offset(tf)
    n = int(pd.Timedelta(days=days) / step)
    index = pd.date_range(to_utc(start), periods=n, freq=step)
    frames = []
    for i, (symbol, price0) in enumerate((symbols or SAMPLE_SYMBOLS).items()):
        rng = np.random.default_rng([seed, i])
        frames.append(_one(symbol, tf, index, price0, rng, step))
    return pd.concat(frames, ignore_index=True)


def _one(symbol: str, tf: str, index: pd.DatetimeIndex, price0: float, rng: np.random.Generator,
         step: pd.Timedelta) -> pd.DataFrame:
    n = len(index)
    bars_per_day = max(1, int(pd.Timedelta(days=1) / step))
    scale = np.sqrt(step / pd.Timedelta(days=365))
    # regimes of 1-10 days: drift (annualised) and volatility
    regime_len = rng.integers(bars_per_day, 10 * bars_per_day + 1, size=n // bars_per_day + 2)
    ends = np.cumsum(regime_len)
    regime = np.searchsorted(ends, np.arange(n), side="right")
    drift = rng.normal(0.0, 1.2, size=len(ends))
    vol = rng.uniform(0.35, 1.1, size=len(ends))
    shocks = rng.standard_t(df=4, size=n) / np.sqrt(2.0)
    logret = drift[regime] * scale**2 * 365 / 365 + vol[regime] * scale * shocks
    close = price0 * np.exp(np.cumsum(logret))
    open_ = np.concatenate([[price0], close[:-1]])
    wick = np.abs(rng.normal(0.0, 0.6, size=(2, n))) * vol[regime] * scale
    high = np.maximum(open_, close) * np.exp(wick[0])
    low = np.minimum(open_, close) * np.exp(-wick[1])
    minute_of_day = (index.hour * 60 + index.minute).to_numpy()
    # Korean daytime (UTC 00-14) trades more
    profile = 1.0 + 0.8 * np.exp(-(((minute_of_day - 5 * 60) % 1440) / 300.0) ** 2)
    volume = rng.gamma(2.0, 1.0, size=n) * profile * (1 + 40 * np.abs(logret)) * (1e8 / price0)
    return pd.DataFrame({
        "symbol": symbol,
        "timeframe": tf,
        "timestamp": index,
        "open_price": open_,
        "high_price": high,
        "low_price": low,
        "close_price": close,
        "volume": volume,
    })
