"""What a strategy may return instead of ``(entries, exits)``: the signals plus, per signal, the order
to place (limit or stop price of a buy, limit price of a sell) and its size.

Modelled on backtesting.py's ``self.buy(limit=, stop=)`` and vectorbt's ``from_signals`` price
arrays: every field is a Series on the frame's index, decided on the bar's close like the signals;
a NaN (or a missing Series) means a market order at the next open, or the risk's own size.

    def generate(self, df):
        entry, exit_ = ...
        return Orders(entry, exit_, limit=df.close * 0.99)   # buy 1 % under the signal bar's close

A buy order waits until it fills, a new entry signal replaces it, or an exit signal cancels it; a
sell limit waits until it fills or the position closes otherwise. An ``Orders`` unpacks like the
plain tuple (``entries, exits = strategy.generate(df)``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ORDER_FIELDS", "Orders"]

#: the optional price and size fields of :class:`Orders`, in this order
ORDER_FIELDS: tuple[str, ...] = ("limit", "stop", "exit_limit", "size")


@dataclass(frozen=True)
class Orders:
    """Signals and their orders (see the module docstring).

    ``limit``: buy-limit price of the entry; ``stop``: buy-stop price of the entry (used where
    ``limit`` is NaN); ``exit_limit``: sell-limit price of the exit; ``size``: fraction of equity of the
    entry (with ``Risk(sizing="signal")``).
    """

    entry: pd.Series
    exit: pd.Series
    limit: pd.Series | None = None
    stop: pd.Series | None = None
    exit_limit: pd.Series | None = None
    size: pd.Series | None = None

    def __iter__(self) -> Iterator[pd.Series]:
        return iter((self.entry, self.exit))
