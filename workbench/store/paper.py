"""The only reader/writer of the paper-trading rows: ``paper_runs``, ``paper_equity`` and a paper run's
``strategy_executions``, ``orders``, ``trades``, ``positions`` and ``portfolios`` rows.

Each bar of a run is written in one transaction (:func:`bar_ledger`) that also moves the run's
``last_bar`` forward, under an advisory lock on the run: a bar is written once or not at all, so a
stopped run resumes from the database without repeating an order. Client order ids are deterministic
(``paper-{run}-{symbol}-{side}-{bar}``) and unique, a second guard against double orders.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa

from workbench.core.jsontypes import JSONValue
from workbench.errors import DataNotFoundError
from workbench.store.database import Database
from workbench.store.jsonb import jsonb_or_null
from workbench.store.queries import Q, query

__all__ = ["BarLedger", "PaperRunRow", "bar_ledger", "create_run", "get_run", "list_runs", "run_frames",
           "set_status"]


@dataclass(frozen=True)
class PaperRunRow:
    """A ``paper_runs`` row."""

    id: int
    user_id: int
    strategy_id: int
    strategy_name: str
    portfolio_id: int | None
    mode: str
    symbols: list[str]
    timeframe: str
    start_time: pd.Timestamp
    trade_start: pd.Timestamp
    end_time: pd.Timestamp | None
    config: dict[str, Any]
    rules: dict[str, Any]
    state: dict[str, Any]
    last_bar: pd.Timestamp | None
    bars_processed: int
    status: str


def _ts(value: Any) -> pd.Timestamp | None:
    return None if value is None else pd.Timestamp(value).tz_convert("UTC")


def create_run(db: Database, *, user_id: int, strategy_id: int, mode: str, symbols: Sequence[str],
               timeframe: str, start_time: pd.Timestamp, trade_start: pd.Timestamp,
               end_time: pd.Timestamp | None, config: Mapping[str, object], rules: Mapping[str, object],
               capital: float) -> int:
    """A new run with its portfolio row; returns the run id."""
    with db.begin() as conn:
        pid = int(conn.execute(query(Q.PAPER_PORTFOLIO_INSERT).text, {
            "user_id": user_id, "name": f"paper {mode} {','.join(symbols)} {timeframe}",
            "description": "paper trading portfolio", "capital": capital}).scalar_one())
        rid = int(conn.execute(query(Q.PAPER_RUN_INSERT).text, {
            "user_id": user_id, "strategy_id": strategy_id, "portfolio_id": pid, "mode": mode,
            "symbols": list(symbols), "timeframe": timeframe, "start_time": start_time.to_pydatetime(),
            "trade_start": trade_start.to_pydatetime(),
            "end_time": None if end_time is None else end_time.to_pydatetime(),
            "config": jsonb_or_null(config), "rules": jsonb_or_null(rules), "state": "{}"}).scalar_one())
        conn.execute(query(Q.PAPER_PORTFOLIO_LINK).text, {"paper_run_id": rid, "id": pid})
    return rid


def get_run(db: Database, run_id: int) -> PaperRunRow:
    with db.begin() as conn:
        row = conn.execute(query(Q.PAPER_RUN_GET).text, {"id": run_id}).mappings().first()
    if row is None:
        raise DataNotFoundError(f"no paper run with id {run_id} (see `workbench paper-runs`)")
    return PaperRunRow(
        id=row["id"], user_id=row["user_id"], strategy_id=row["strategy_id"], strategy_name=row["strategy_name"],
        portfolio_id=row["portfolio_id"], mode=row["mode"], symbols=list(row["symbols"]),
        # start_time and trade_start are NOT NULL columns
        timeframe=row["timeframe"], start_time=_ts(row["start_time"]),  # type: ignore[arg-type]
        trade_start=_ts(row["trade_start"]), end_time=_ts(row["end_time"]),  # type: ignore[arg-type]
        config=dict(row["config"]), rules=dict(row["rules"]), state=dict(row["state"] or {}),
        last_bar=_ts(row["last_bar"]), bars_processed=int(row["bars_processed"]), status=row["status"])


def set_status(db: Database, run_id: int, status: str) -> None:
    with db.begin() as conn:
        conn.execute(query(Q.PAPER_RUN_STATUS).text, {"id": run_id, "status": status})


def list_runs(db: Database, *, limit: int = 50, user_id: int | None = None) -> pd.DataFrame:
    """Paper runs, newest first (with ``user_id``: that user's only)."""
    with db.begin() as conn:
        result = conn.execute(query(Q.PAPER_RUNS_LIST).text, {"limit": limit, "user_id": user_id})
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def _frame(conn: sa.Connection, name: Q, run_id: int) -> pd.DataFrame:
    result = conn.execute(query(name).text, {"paper_run_id": run_id})
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def run_frames(db: Database, run_id: int) -> dict[str, pd.DataFrame]:
    """A run's ``positions``, ``executions``, ``orders`` and ``equity`` rows (times in UTC)."""
    with db.begin() as conn:
        frames = {name: _frame(conn, q, run_id) for name, q in (
            ("positions", Q.PAPER_POSITIONS), ("executions", Q.PAPER_EXECUTIONS), ("orders", Q.PAPER_ORDERS),
            ("equity", Q.PAPER_EQUITY))}
    for frame in frames.values():
        for col in ("opened_at", "closed_at", "bar_time", "created_at", "filled_at", "ts"):
            if col in frame.columns:
                frame[col] = pd.to_datetime(frame[col], utc=True)
    return frames


class AlreadyProcessed(Exception):  # noqa: N818 - control flow, not an error
    """Another process already wrote this bar of the run (the transaction is rolled back)."""


class BarLedger:
    """Writes of one bar of one run, inside the bar's transaction."""

    def __init__(self, conn: sa.Connection, run: PaperRunRow) -> None:
        self.conn = conn
        self.run = run

    def _ids(self) -> dict[str, Any]:
        return {"user_id": self.run.user_id, "strategy_id": self.run.strategy_id, "paper_run_id": self.run.id}

    def previous(self) -> tuple[dict[str, JSONValue], pd.Timestamp | None]:
        """The run's stored state and last bar (read under the lock)."""
        row = self.conn.execute(query(Q.PAPER_RUN_STATE).text, {"id": self.run.id}).mappings().one()
        return dict(row["state"] or {}), _ts(row["last_bar"])

    def execution(self, kind: str, bar_time: pd.Timestamp | None, *, signal: object = None, order: object = None,
                  error: str | None = None, market: object = None, success: bool = True,
                  execution_time: float | None = None) -> None:
        self.conn.execute(query(Q.PAPER_EXECUTION_INSERT).text, {
            **self._ids(), "bar_time": None if bar_time is None else bar_time.to_pydatetime(),
            "execution_type": kind, "signal_data": jsonb_or_null(signal), "order_data": jsonb_or_null(order),
            "error_message": error, "market_data": jsonb_or_null(market), "success": success,
            "execution_time": execution_time})

    def place_order(self, symbol: str, side: str, ts: pd.Timestamp, quantity: float, price: float,
                    note: str, *, tag: str = "") -> int:
        """A pending order; the same order (run, symbol, side, bar, ``tag``) is never placed twice."""
        key = f"paper-{self.run.id}-{symbol}-{side}{tag}-{int(ts.timestamp())}"
        oid = self.conn.execute(query(Q.PAPER_ORDER_INSERT).text, {
            **self._ids(), "client_order_id": key, "symbol": symbol, "order_type": side,
            "order_side": "bid" if side == "buy" else "ask", "quantity": quantity, "price": price,
            "notes": note, "created_at": ts.to_pydatetime()}).scalar()
        if oid is None:
            oid = self.conn.execute(query(Q.PAPER_ORDER_ID).text, {"client_order_id": key}).scalar_one()
        return int(oid)

    def fill_order(self, order_id: int, ts: pd.Timestamp, quantity: float, price: float, fee: float,
                   note: str | None = None) -> None:
        self.conn.execute(query(Q.PAPER_ORDER_FILL).text, {
            "id": order_id, "quantity": quantity, "price": price, "fee": fee, "value": quantity * price,
            "ts": ts.to_pydatetime(), "notes": note})

    def fill_order_part(self, order_id: int, ts: pd.Timestamp, filled: float, average_price: float, fee: float, *,
                        done: bool, note: str | None = None) -> None:
        """A volume-capped order filled ``filled`` units so far at ``average_price`` (``done``: all of it)."""
        self.conn.execute(query(Q.PAPER_ORDER_FILL_PART).text, {
            "id": order_id, "filled": filled, "price": average_price, "fee": fee, "value": filled * average_price,
            "done": bool(done), "ts": ts.to_pydatetime(), "notes": note})

    def close_order(self, order_id: int, status: str, ts: pd.Timestamp, note: str) -> None:
        self.conn.execute(query(Q.PAPER_ORDER_CLOSE).text, {
            "id": order_id, "status": status, "ts": ts.to_pydatetime(), "notes": note})

    def trade(self, order_id: int, position_id: int | None, symbol: str, side: str, ts: pd.Timestamp,
              quantity: float, price: float, fee: float, *, tag: str = "") -> None:
        self.conn.execute(query(Q.PAPER_TRADE_INSERT).text, {
            **self._ids(), "order_id": order_id, "position_id": position_id,
            "trade_key": f"paper-{self.run.id}-{symbol}-{side}{tag}-{int(ts.timestamp())}",
            "symbol": symbol, "trade_side": side, "quantity": quantity, "price": price, "value": quantity * price,
            "fee": fee, "ts": ts.to_pydatetime()})

    def open_position(self, symbol: str, ts: pd.Timestamp, quantity: float, entry_price: float, entry_fee: float,
                      stop_loss: float, take_profit: float) -> int:
        return int(self.conn.execute(query(Q.PAPER_POSITION_OPEN).text, {
            **self._ids(), "symbol": symbol, "quantity": quantity, "entry_price": entry_price,
            "entry_fee": entry_fee, "stop_loss_price": stop_loss or None, "take_profit_price": take_profit or None,
            "ts": ts.to_pydatetime()}).scalar_one())

    def add_to_position(self, position_id: int, ts: pd.Timestamp, quantity: float, entry_price: float,
                        entry_fee: float) -> None:
        """A later part of a volume-capped buy: the position's total units, average price and fees."""
        self.conn.execute(query(Q.PAPER_POSITION_ADD).text, {
            "id": position_id, "quantity": quantity, "entry_price": entry_price, "entry_fee": entry_fee,
            "ts": ts.to_pydatetime()})

    def close_position(self, position_id: int, ts: pd.Timestamp, exit_price: float, exit_fee: float,
                       reason: str, pnl: float) -> None:
        self.conn.execute(query(Q.PAPER_POSITION_CLOSE).text, {
            "id": position_id, "ts": ts.to_pydatetime(), "exit_price": exit_price, "exit_fee": exit_fee,
            "exit_reason": reason, "pnl": pnl})

    def mark_position(self, position_id: int, ts: pd.Timestamp, price: float, unrealized: float) -> None:
        self.conn.execute(query(Q.PAPER_POSITION_MARK).text, {
            "id": position_id, "ts": ts.to_pydatetime(), "price": price, "unrealized": unrealized})

    def portfolio(self, ts: pd.Timestamp, *, equity: float, cash: float, total_return: float,
                  max_drawdown: float, holdings: Mapping[str, object]) -> None:
        if self.run.portfolio_id is None:
            return
        self.conn.execute(query(Q.PAPER_PORTFOLIO_UPDATE).text, {
            "id": self.run.portfolio_id, "ts": ts.to_pydatetime(), "equity": equity, "cash": cash,
            "invested": equity - cash, "total_return": total_return, "max_drawdown": max_drawdown,
            "holdings": jsonb_or_null(holdings)})
        self.conn.execute(query(Q.PAPER_EQUITY_INSERT).text, {
            "paper_run_id": self.run.id, "ts": ts.to_pydatetime(), "equity": equity, "cash": cash})

    def rebalanced(self, ts: pd.Timestamp) -> None:
        """The run's portfolio rebalanced on bar ``ts`` (``portfolios.last_rebalanced``)."""
        if self.run.portfolio_id is not None:
            self.conn.execute(query(Q.PAPER_PORTFOLIO_REBALANCED).text,
                              {"id": self.run.portfolio_id, "ts": ts.to_pydatetime()})

    def advance(self, last_bar: pd.Timestamp, state: Mapping[str, object]) -> None:
        """Move the run to ``last_bar`` with ``state``; AlreadyProcessed if it was there already."""
        done = self.conn.execute(query(Q.PAPER_RUN_UPDATE).text, {
            "id": self.run.id, "last_bar": last_bar.to_pydatetime(), "state": jsonb_or_null(state)}).scalar()
        if done is None:
            raise AlreadyProcessed(str(last_bar))


@contextmanager
def bar_ledger(db: Database, run: PaperRunRow) -> Iterator[BarLedger]:
    """One bar's transaction under the run's advisory lock (see the module docstring)."""
    with db.begin() as conn:
        conn.execute(query(Q.PAPER_RUN_LOCK).text, {"id": run.id})
        yield BarLedger(conn, run)
