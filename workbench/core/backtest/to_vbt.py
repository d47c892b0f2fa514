"""Any result as a vectorbt Portfolio, rebuilt from the run's own fills.

``result.to_vectorbt()`` replays the fills of a run (each entry and exit at the price and fee the engine
charged) through ``vectorbt.Portfolio.from_orders`` with one shared cash account, so vectorbt's analysis
(``stats()``, ``trades``, ``drawdowns``, plots) applies to any run, stored ones included. Its value,
returns and trade records equal the run's (tests/backtest/test_to_vectorbt.py checks them to 1e-9).

The fills are replayed in the engine's own order (within a bar: exits, then entries), any number per
symbol and bar; a fill vectorbt cannot make (not enough cash) raises instead of being cut.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.errors import ValidationError

if TYPE_CHECKING:
    from vectorbt.portfolio.base import Portfolio

    from workbench.core.backtest.result import BacktestResult

__all__ = ["fills", "to_vectorbt"]

FILL_COLUMNS = ("time", "symbol", "size", "price", "fee")


def fills(result: BacktestResult) -> pd.DataFrame:
    """Every fill of ``result``, oldest first: ``time symbol size price fee`` (size > 0 bought, < 0 sold,
    in units; price and fee in KRW as charged). A trade still open at the end has no exit fill."""
    orders = getattr(result, "orders", None)
    if isinstance(orders, pd.DataFrame):   # a portfolio run keeps its fills
        signed = np.where(orders["side"].to_numpy() == "buy", 1.0, -1.0) * orders["size"].to_numpy(dtype=float)
        out = pd.DataFrame({"time": orders["time"], "symbol": orders["symbol"], "size": signed,
                            "price": orders["price"].to_numpy(dtype=float),
                            "fee": orders["fee"].to_numpy(dtype=float)})
        return out.reset_index(drop=True)
    kernel = result.fills   # the kernel's own fill list (parts of volume-capped orders included)
    if kernel is not None:
        signed = np.where(kernel["side"].to_numpy() == "buy", 1.0, -1.0) * kernel["quantity"].to_numpy(dtype=float)
        return pd.DataFrame({"time": kernel["ts"], "symbol": kernel["symbol"], "size": signed,
                             "price": kernel["price"].to_numpy(dtype=float),
                             "fee": kernel["fee"].to_numpy(dtype=float)}).reset_index(drop=True)
    t = result.trades   # a result without a fill list (e.g. rebuilt elsewhere): its trades' two fills
    size = t["size"].to_numpy(dtype=float)
    entry_fee = _entry_fees(result)
    entries = pd.DataFrame({"time": t["entry_time"], "symbol": t["symbol"], "size": size,
                            "price": t["entry_price"].to_numpy(dtype=float), "fee": entry_fee})
    closed = (t["status"] != "open").to_numpy()
    exits = pd.DataFrame({"time": t["exit_time"][closed], "symbol": t["symbol"][closed], "size": -size[closed],
                          "price": t["exit_price"].to_numpy(dtype=float)[closed],
                          "fee": t["fees"].to_numpy(dtype=float)[closed] - entry_fee[closed]})
    out = pd.concat([entries, exits], ignore_index=True)
    # within a bar the engine's order: exits of positions entered earlier (at the open, freeing cash), then
    # entries, then exits of positions entered in that same bar (a stop hit after the open)
    same_bar = (t["exit_time"][closed] == t["entry_time"][closed]).to_numpy()
    out["_order"] = np.r_[np.ones(len(entries)), np.where(same_bar, 2.0, 0.0)]
    return out.sort_values(["time", "_order"], kind="stable").drop(columns="_order").reset_index(drop=True)


def _entry_fees(result: BacktestResult) -> np.ndarray:
    """The entry fee of each trade: ``size * entry_price * fee_rate`` (the engine's rule; the exit fee
    is the rest of the trade's ``fees``)."""
    t = result.trades
    fees: np.ndarray = (t["size"].to_numpy(dtype=float) * t["entry_price"].to_numpy(dtype=float)
                        * float(result.config.fee_rate))
    return fees


def to_vectorbt(result: BacktestResult) -> Portfolio:
    """``result`` as a ``vectorbt.Portfolio``: its fills replayed in order by ``Portfolio.from_order_func``
    (flexible: any number of fills per symbol and bar, e.g. an exit and a new entry at one open), each
    as an amount at its price with its fee as a fixed fee, one cash account."""
    import vectorbt as vbt

    index = result.equity.index
    symbols = list(result.symbols)
    close = result.data.panel("close").reindex(index).bfill().ffill()[symbols]
    f = fills(result)
    rows = index.get_indexer(pd.DatetimeIndex(f["time"]))
    cols = pd.Index(symbols).get_indexer(pd.Index(f["symbol"]))
    if (rows < 0).any() or (cols < 0).any():
        raise ValidationError(f"{result.strategy_name}: a fill lies outside the run's bars or symbols")
    order = np.argsort(rows, kind="stable")   # fills keeps the engine's order within a bar
    row_start = np.searchsorted(rows[order], np.arange(len(index) + 1)).astype(np.int64)
    return vbt.Portfolio.from_order_func(
        close, _fill_order_nb_compiled(), row_start, cols[order].astype(np.int64),
        f["size"].to_numpy(dtype=float)[order], f["price"].to_numpy(dtype=float)[order],
        f["fee"].to_numpy(dtype=float)[order],
        flexible=True, init_cash=float(result.config.initial_capital), cash_sharing=True, group_by=True,
        max_orders=max(len(f), 1), freq=pd.Timedelta(index[1] - index[0]) if len(index) > 1 else None,
    )


@functools.cache
def _fill_order_nb_compiled() -> Any:
    import numba
    from vectorbt.portfolio import nb
    from vectorbt.portfolio.enums import NoOrder, SizeType

    @numba.njit
    def fill_order_nb(c: Any, row_start: Any, col: Any, size: Any, price: Any, fee: Any) -> Any:
        k = row_start[c.i] + c.call_idx
        if k >= row_start[c.i + 1]:
            return -1, NoOrder
        return col[k], nb.order_nb(size=size[k], price=price[k], size_type=SizeType.Amount, fixed_fees=fee[k],
                                   allow_partial=False, raise_reject=True)

    return fill_order_nb
