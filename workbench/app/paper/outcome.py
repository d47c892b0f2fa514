"""What a paper run needs of a connected workbench, and what a call to run one did."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from workbench.app.context import SessionContext
from workbench.app.notify import notify
from workbench.core.strategies.base import Strategy
from workbench.store.paper import PaperRunRow, bar_ledger, set_status
from workbench.store.paper_keys import PaperChannel

__all__ = ["PaperContext", "PaperOutcome", "RunEnds"]


#: what a paper run needs of a connected workbench: :class:`workbench.app.context.SessionContext`
PaperContext = SessionContext


@dataclass
class PaperOutcome:
    """What a call to :func:`replay`, :func:`live` or :func:`resume` did."""

    run_id: int
    status: str
    bars: int = 0
    signals: int = 0
    fills: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    equity: float = float("nan")
    last_bar: pd.Timestamp | None = None

    def __str__(self) -> str:
        eq = f"{self.equity:,.0f} KRW" if self.equity == self.equity else "n/a"
        return (f"paper run {self.run_id} ({self.status}): {self.bars:,} bars, {self.signals:,} signals, "
                f"{self.fills:,} fills, {self.skipped:,} orders not filled, {len(self.errors)} errors; "
                f"equity {eq}; last bar {self.last_bar}")


class RunEnds:
    """Errors and the end of a paper run in this process (shared by the per-symbol and portfolio runs):
    an ``error`` row and notification; ``finish`` sets the status, mirrors it to Redis and notifies."""

    wb: PaperContext
    row: PaperRunRow
    strategy: Strategy
    tf: str
    channel: PaperChannel
    outcome: PaperOutcome

    @property
    def equity(self) -> float:
        raise NotImplementedError

    def error(self, message: str, when: pd.Timestamp | None = None) -> None:
        """An error of the run (e.g. Bithumb unreachable) as an execution row and a notification."""
        self.outcome.errors.append(message)
        with bar_ledger(self.wb.db, self.row) as led:
            led.execution("error", when, error=message, success=False)
        notify(self.wb, "paper_error", f"paper run {self.row.id}: {message}", user_id=self.row.user_id,
               paper_run_id=self.row.id)

    def finish(self, status: str) -> PaperOutcome:
        set_status(self.wb.db, self.row.id, status)
        self.outcome.status = status
        self.channel.status({"state": status, "paper_run_id": self.row.id,
                             "last_bar": None if self.outcome.last_bar is None else self.outcome.last_bar.isoformat(),
                             "equity": self.equity})
        o = self.outcome
        notify(self.wb, f"paper_run_{status}",
               f"paper run {o.run_id} ({self.strategy.name}, {','.join(self.row.symbols)} {self.tf}) {status}: "
               f"{o.bars:,} bars, {o.fills:,} fills, equity {self.equity:,.0f} KRW",
               user_id=self.row.user_id, paper_run_id=o.run_id, bars=o.bars, fills=o.fills,
               equity=float(self.equity))
        return self.outcome
