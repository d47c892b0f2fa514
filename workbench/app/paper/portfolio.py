"""Paper runs of portfolio strategies: the universe's bars bar by bar (a replay of stored candles, or
candles polled live), the target weights recomputed on the run's history at each close, traded on the
strategy's rebalance schedule with the portfolio backtest's own fills (:class:`PortfolioBook`), one cash
account.

Each bar is one transaction, as for per-symbol runs (:mod:`workbench.store.paper`): every fill is an
``orders`` and a ``trades`` row (market orders at the open; a delisted symbol's sale at its close), each
decided row of weights a ``signal`` execution, and the run's ``portfolios`` row holds the equity, cash and
``holdings`` after every bar and ``last_rebalanced``; the book's state moves with ``last_bar``, so a
stopped or killed run resumes without repeating an order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.app.notify import notify
from workbench.app.paper.outcome import PaperContext, PaperOutcome, RunEnds
from workbench.core.backtest.config import BacktestConfig
from workbench.core.backtest.data import OHLCV, MarketData, prepare_data
from workbench.core.backtest.portfolio import decision_targets, listing_bounds, portfolio_bars, rebalance_bars
from workbench.core.paper.portfolio import PortfolioBook, PortfolioFill, portfolio_rules
from workbench.core.paper.rules import OrderRules
from workbench.core.strategies.portfolio import PortfolioBars, PortfolioStrategy
from workbench.store.market_data import load_candles
from workbench.store.paper import AlreadyProcessed, BarLedger, PaperRunRow, bar_ledger, get_run
from workbench.store.paper_keys import PaperChannel

__all__ = ["PortfolioRun"]


def _prefix(bars: PortfolioBars, n: int) -> PortfolioBars:
    """The first ``n`` bars of ``bars`` (what the strategy knows at the close of bar ``n - 1``)."""
    return PortfolioBars(open=bars.open.iloc[:n], high=bars.high.iloc[:n], low=bars.low.iloc[:n],
                         close=bars.close.iloc[:n], volume=bars.volume.iloc[:n], listed=bars.listed.iloc[:n])


class PortfolioRun(RunEnds):
    """One paper run of a portfolio strategy in this process (the interface of the per-symbol runs)."""

    strategy: PortfolioStrategy

    def __init__(self, wb: PaperContext, row: PaperRunRow, strategy: PortfolioStrategy) -> None:
        self.wb, self.row, self.strategy = wb, row, strategy
        self.tf = row.timeframe
        self.rules, self.config = portfolio_rules(OrderRules.from_dict(row.rules), BacktestConfig(**row.config))
        self.channel = PaperChannel(wb.cache, row.user_id, row.strategy_id)
        self.md: MarketData | None = None
        self.bars: PortfolioBars | None = None
        self.last_bar = np.full(len(row.symbols), -1, dtype=np.int64)
        self.book = self._book(row.state)
        self.outcome = PaperOutcome(row.id, row.status, equity=self.book.equity, last_bar=row.last_bar)

    def _book(self, state: dict[str, Any]) -> PortfolioBook:
        book = PortfolioBook(self.row.symbols, self.config, self.rules)
        book.load_state(state)
        return book

    @property
    def equity(self) -> float:
        return self.book.equity

    # ---------------------------------------------------------------- data
    def load_history(self, end: pd.Timestamp) -> None:
        """The universe's stored bars in [start_time, end), on one index (none until every symbol has two)."""
        frames = {}
        for s in self.row.symbols:
            df = load_candles(self.wb.db, s, self.tf, self.row.start_time, end, cache=self.wb.cache, allow_empty=True)
            assert isinstance(df, pd.DataFrame)
            frames[s] = pd.DataFrame(np.asarray(df[list(OHLCV)], dtype="float64"), index=df.index, columns=list(OHLCV))
        if min(len(f) for f in frames.values()) < 2:
            self.md = self.bars = None
            return
        self.md = prepare_data(frames, timeframe=self.tf)
        self.bars = portfolio_bars(self.md)
        # a replay knows where each symbol's stored bars end (a delisting, sold at its last close, as in the
        # backtest); a live run cannot
        if self.row.mode == "replay":
            self.last_bar = listing_bounds(self.md)[1]

    def pending_bars(self, until: pd.Timestamp) -> list[pd.Timestamp]:
        if self.md is None:
            return []
        index = self.md.index
        last = self.outcome.last_bar
        sel = index < until if last is None else (index > last) & (index < until)
        return list(index[sel])

    # ---------------------------------------------------------------- one bar
    def process(self, ts: pd.Timestamp) -> None:
        assert self.md is not None and self.bars is not None
        md = self.md
        i = int(md.index.searchsorted(ts))       # ts is one of the index's bars
        weights = self.strategy.weights(_prefix(self.bars, i + 1))
        w = weights.to_numpy()
        decided = ~np.isnan(w).all(axis=1)
        begin = int(md.index.searchsorted(self.row.trade_start))
        due = bool(rebalance_bars(md.index[: i + 1], self.strategy.params["rebalance"], decided, begin)[i])
        target = decision_targets(w)[i]
        close = md.array("close")[i]
        try:
            with bar_ledger(self.wb.db, self.row) as led:
                state, stored_last = led.previous()
                if stored_last is not None and stored_last >= ts:
                    raise AlreadyProcessed(str(ts))
                if stored_last != self.outcome.last_bar:      # another process moved the run: catch up
                    self.book = self._book(state)
                fills, rebalanced = self.book.step(
                    i, md.array("open")[i], close, md.tradeable_array[i], md.array("close")[max(i - 1, 0)], target,
                    due=due, threshold=float(self.strategy.params["threshold"]), last_bar=self.last_bar,
                    more=i < len(md.index) - 1)
                if rebalanced:
                    self.book.last_rebalanced = ts.isoformat()
                    led.rebalanced(ts)
                for fill in fills:
                    self._write_fill(led, ts, fill)
                if decided[i]:
                    led.execution("signal", ts, signal={
                        "bar": ts.isoformat(), "paper_run_id": self.row.id,
                        "weights": {s: float(x) for s, x in zip(md.symbols, w[i], strict=True) if x > 0}})
                b = self.book
                led.portfolio(ts, equity=b.equity, cash=b.cash, total_return=b.equity / self.config.initial_capital - 1,
                              max_drawdown=b.max_drawdown, holdings=b.holdings(close))
                led.advance(ts, b.to_state())
        except AlreadyProcessed:
            fresh = get_run(self.wb.db, self.row.id)
            self.book = self._book(fresh.state)
            self.outcome.last_bar = fresh.last_bar
            return
        except BaseException:
            # the bar was not written: go back to the stored state before anything else happens
            self.book = self._book(get_run(self.wb.db, self.row.id).state)
            raise
        self.outcome.last_bar = ts
        self.outcome.bars += 1
        self.outcome.signals += int(decided[i])
        self.outcome.fills += len(fills)
        self.outcome.equity = self.book.equity
        for fill in fills:
            notify(self.wb, "paper_fill", f"paper run {self.row.id}: {fill.side} {fill.quantity:g} {fill.symbol} "
                                          f"filled at {fill.price:g} KRW ({fill.reason})",
                   user_id=self.row.user_id, paper_run_id=self.row.id, symbol=fill.symbol, side=fill.side,
                   quantity=fill.quantity, price=fill.price, fee=fill.fee, reason=fill.reason, bar=ts.isoformat())
        self.channel.status({"state": f"paper_{self.row.mode}", "paper_run_id": self.row.id,
                             "last_bar": ts.isoformat(), "equity": self.book.equity, "cash": self.book.cash,
                             "positions": sorted(self.book.holdings(close)),
                             "last_rebalanced": self.book.last_rebalanced})

    def _write_fill(self, led: BarLedger, ts: pd.Timestamp, fill: PortfolioFill) -> None:
        """A market order filled at once: its ``orders``, ``trades`` and execution rows."""
        when = "open" if fill.reason == "rebalance" else "close"
        tag = "" if fill.reason == "rebalance" else f"-{fill.reason}"
        oid = led.place_order(fill.symbol, fill.side, ts, fill.quantity, fill.price,
                              f"{fill.reason}: market {fill.side} at the {when}", tag=tag)
        led.fill_order(oid, ts, fill.quantity, fill.price, fill.fee, fill.reason)
        led.trade(oid, None, fill.symbol, fill.side, ts, fill.quantity, fill.price, fill.fee, tag=tag)
        led.execution("order", ts, order={"order_id": oid, "symbol": fill.symbol, "side": fill.side,
                                          "status": "filled", "quantity": fill.quantity, "price": fill.price,
                                          "fee": fill.fee, "reason": fill.reason, "bar": ts.isoformat()})
