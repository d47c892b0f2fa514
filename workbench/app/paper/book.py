"""Fill prices from stored order books: a market order walks the book's levels (pure helpers plus a
loader of a run's stored snapshots)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbench.store.database import Database
from workbench.store.market_data import load_orderbooks

__all__ = ["StoredBooks", "walk_book"]


def walk_book(levels: Sequence[Sequence[float]], quantity: float) -> float | None:
    """Average price of a market order for ``quantity`` against ``levels`` (best first: asks for a
    buy, bids for a sell). A book too thin for the order fills the rest at its last level's price;
    an empty book gives None.

    >>> walk_book([[100.0, 1.0], [101.0, 2.0]], 2.0)
    100.5
    """
    if quantity <= 0 or not levels:
        return None
    left = quantity
    cost = 0.0
    price = float(levels[0][0])
    for level in levels:
        price, size = float(level[0]), float(level[1])
        take = min(size, left)
        cost += take * price
        left -= take
        if left <= 0:
            break
    if left > 0:
        cost += left * price
    return cost / quantity


class StoredBooks:
    """The stored order-book snapshots of some symbols; a snapshot prices a fill at bar time ``ts`` if
    it was taken in ``(ts - max_age, ts]`` (the latest such one)."""

    def __init__(self, books: dict[str, pd.DataFrame], max_age: pd.Timedelta) -> None:
        self.books = {s: b for s, b in books.items() if len(b)}
        self.max_age = max_age
        self.used = 0

    @classmethod
    def load(cls, db: Database, symbols: Sequence[str], start: pd.Timestamp, end: pd.Timestamp | None,
             max_age: pd.Timedelta) -> StoredBooks:
        return cls({s: load_orderbooks(db, s, start - max_age, end) for s in symbols}, max_age)

    def __bool__(self) -> bool:
        return bool(self.books)

    def __call__(self, symbol: str, ts: pd.Timestamp, side: str, quantity: float) -> float | None:
        book = self.books.get(symbol)
        if book is None:
            return None
        k = int(book.index.searchsorted(ts, side="right")) - 1
        if k < 0 or book.index[k] <= ts - self.max_age:
            return None
        row = book.iloc[k]
        levels = json.loads(row["asks"] if side == "buy" else row["bids"])
        price = walk_book(levels, quantity)
        if price is not None and np.isfinite(price):
            self.used += 1
            return price
        return None
