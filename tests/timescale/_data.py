"""Rows shared by the TimescaleDB tests (and by the plain-PostgreSQL twins of some of them)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def shared_timestamp_trades(n: int = 3_000, seed: int = 7, symbol: str = "KRW-SYNBTC") -> pd.DataFrame:
    """``n`` trades over three hours where most timestamps are shared by several trades.

    Timestamps are drawn from a quarter as many seconds as there are trades, so ties are the rule:
    with ``ORDER BY timestamp`` alone, open/close of a bar depend on which tied trade comes first.
    """
    rng = np.random.default_rng(seed)
    seconds = np.sort(rng.integers(0, 3 * 3600, size=n // 4))
    ts = pd.to_datetime("2025-01-06", utc=True) + pd.to_timedelta(rng.choice(seconds, size=n), unit="s")
    price = np.round(50_000_000 + rng.normal(0, 20_000, size=n).cumsum(), 0)
    qty = np.round(rng.uniform(0.001, 0.5, size=n), 6)
    frame = pd.DataFrame({"symbol": symbol, "timestamp": ts, "price": price, "quantity": qty,
                          "value": price * qty, "side": rng.choice(["bid", "ask"], size=n),
                          "bithumb_tx_id": [f"t{i}" for i in range(n)]})
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)  # not in time order


def bars_by_hand(trades: pd.DataFrame, rule: str) -> pd.DataFrame:
    """OHLCV/vwap/count bars from trades with columns id, timestamp, price, quantity, value: ties
    between equal timestamps broken by id (pandas, independent of the SQL under test)."""
    df = trades.sort_values(["timestamp", "id"], kind="mergesort").set_index("timestamp")
    g = df.resample(rule, origin=pd.Timestamp("2000-01-03", tz="UTC"))
    out = pd.DataFrame({"open": g["price"].first(), "high": g["price"].max(), "low": g["price"].min(),
                        "close": g["price"].last(), "volume": g["quantity"].sum(),
                        "vwap": g["value"].sum() / g["quantity"].sum(), "trades": g["price"].count()})
    return out[out["trades"] > 0]
