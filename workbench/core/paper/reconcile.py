"""Reconciliation (pure part): a paper (or imported real) trade history against the backtest of the same strategy,
symbols, window and costs.

Trades are matched by (symbol, entry bar). For a matched pair, with size ``q``, entry price ``E``,
exit price ``X`` and fees ``F`` (``p``: paper, ``b``: backtest), the PnL difference splits exactly into

    size         (q_p - q_b) * (X_b - E_b)
    entry price  -q_p * (E_p - E_b)
    exit price   q_p * (X_p - X_b)          (includes a different exit bar or reason)
    fees         -(F_p - F_b)

and unmatched trades add their whole PnL: ``extra trades`` (paper only) and ``missed trades``
(backtest only, with a minus sign). The size effect of a matched trade that either side filled in
parts (a volume cap: ``BacktestConfig.volume_share``) is its own cause, ``partial fills``. The causes
sum to the total PnL difference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.core.backtest import BacktestResult
from workbench.core.backtest.simulation import TRADE_COLUMNS
from workbench.core.strategies.base import Strategy
from workbench.errors import ValidationError

__all__ = ["CAUSES", "Reconciliation", "compare_signals", "paper_trades", "partial_trades", "reconcile_trades"]

#: the causes of the PnL difference, in the order reported
CAUSES: tuple[str, ...] = ("size", "partial_fills", "entry_price", "exit_price", "fees", "extra_trades",
                           "missed_trades")

_KEY = ["symbol", "entry_time"]


@dataclass(frozen=True)
class Reconciliation:
    """The comparison of a trade history with its backtest (see the module docstring)."""

    matched: pd.DataFrame          # one row per matched trade, both sides and the effects
    extra: pd.DataFrame            # paper/real trades the backtest did not make
    missed: pd.DataFrame           # backtest trades the paper/real history does not have
    decomposition: pd.Series       # KRW per cause; sums to total_difference
    paper_pnl: float
    backtest_pnl: float
    signals: pd.DataFrame = field(default_factory=pd.DataFrame)   # signals only one side has
    backtest: BacktestResult | None = None
    run_id: int | None = None
    notes: list[str] = field(default_factory=list)
    paper_equity: pd.Series | None = None    # the paper run's equity at each bar's close

    @property
    def total_difference(self) -> float:
        """Paper PnL minus backtest PnL (KRW)."""
        return self.paper_pnl - self.backtest_pnl

    @property
    def is_exact(self) -> bool:
        """Same trades, same signals and no PnL difference (to 1e-6 KRW)."""
        return (self.extra.empty and self.missed.empty and self.signals.empty
                and bool(np.all(np.abs(self.decomposition.to_numpy()) <= 1e-6)))

    def summary(self) -> pd.DataFrame:
        """One row per cause and the total, in KRW, with the share of the total difference."""
        rows = self.decomposition.to_frame("krw")
        total = self.total_difference
        rows.loc["total"] = total
        rows["share"] = rows["krw"] / total if total else np.nan
        return rows

    def slippage(self) -> pd.DataFrame:
        """Per fill of the matched trades: price difference to the backtest in basis points, positive
        when the paper/real fill was worse for the trader."""
        m = self.matched
        return pd.DataFrame({
            "symbol": m["symbol"], "entry_time": m["entry_time"],
            "entry_bps": (m["entry_price_p"] / m["entry_price_b"] - 1.0) * 1e4,
            "exit_bps": -(m["exit_price_p"] / m["exit_price_b"] - 1.0) * 1e4,
        })

    def __str__(self) -> str:
        from workbench.present.formatting import format_krw  # the display of a result

        lines = [f"paper PnL {format_krw(self.paper_pnl)}, backtest PnL {format_krw(self.backtest_pnl)}, "
                 f"difference {format_krw(self.total_difference)}",
                 f"trades: {len(self.matched)} matched, {len(self.extra)} extra, {len(self.missed)} missed; "
                 f"signals only on one side: {len(self.signals)}"]
        lines += [f"  {cause:<14} {format_krw(value, 2):>16}" for cause, value in self.decomposition.items()]
        lines += self.notes
        return "\n".join(lines)


def check_trades(trades: pd.DataFrame, what: str) -> pd.DataFrame:
    missing = [c for c in ("symbol", "entry_time", "size", "entry_price", "exit_price", "fees") if c not in trades]
    if missing:
        raise ValidationError(f"{what} trade history lacks column(s) {missing}; expected {list(TRADE_COLUMNS)}")
    out = trades.copy()
    out["entry_time"] = pd.to_datetime(out["entry_time"], utc=True)
    if "pnl" not in out:
        out["pnl"] = out["size"] * (out["exit_price"] - out["entry_price"]) - out["fees"]
    return out


def reconcile_trades(paper: pd.DataFrame, backtest: pd.DataFrame, key: tuple[str, ...] = tuple(_KEY)
                     ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.Series]:
    """Match two trade lists (columns of the backtest's trade list) by ``key`` and decompose the PnL difference
    (a portfolio's trades, one per sale, are matched by symbol, entry and exit time).

    Returns ``(matched, extra, missed, decomposition)``.
    """
    on = list(key)
    p = check_trades(paper, "paper")
    b = check_trades(backtest, "backtest")
    if "exit_time" in on:
        p["exit_time"] = pd.to_datetime(p["exit_time"], utc=True)
        b["exit_time"] = pd.to_datetime(b["exit_time"], utc=True)
    merged = p.merge(b, on=on, how="outer", suffixes=("_p", "_b"), indicator=True)
    matched = merged[merged["_merge"] == "both"].drop(columns="_merge").reset_index(drop=True)
    extra = p.merge(b[on], on=on, how="left", indicator=True)
    extra = extra[extra["_merge"] == "left_only"].drop(columns="_merge").reset_index(drop=True)
    missed = b.merge(p[on], on=on, how="left", indicator=True)
    missed = missed[missed["_merge"] == "left_only"].drop(columns="_merge").reset_index(drop=True)
    q_p, q_b = matched["size_p"], matched["size_b"]
    e_p, e_b = matched["entry_price_p"], matched["entry_price_b"]
    x_p, x_b = matched["exit_price_p"], matched["exit_price_b"]
    size_effect = (q_p - q_b) * (x_b - e_b)
    parts = pd.Series(False, index=matched.index)
    for col in ("partial_p", "partial_b"):
        if col in matched:
            parts |= matched[col].fillna(False).astype(bool)
    matched["size_effect"] = size_effect.where(~parts, 0.0)
    matched["partial_fill_effect"] = size_effect.where(parts, 0.0)
    matched["entry_price_effect"] = -q_p * (e_p - e_b)
    matched["exit_price_effect"] = q_p * (x_p - x_b)
    matched["fee_effect"] = -(matched["fees_p"] - matched["fees_b"])
    matched["pnl_difference"] = matched["pnl_p"] - matched["pnl_b"]
    decomposition = pd.Series({
        "size": float(matched["size_effect"].sum()),
        "partial_fills": float(matched["partial_fill_effect"].sum()),
        "entry_price": float(matched["entry_price_effect"].sum()),
        "exit_price": float(matched["exit_price_effect"].sum()),
        "fees": float(matched["fee_effect"].sum()),
        "extra_trades": float(extra["pnl"].sum()),
        "missed_trades": -float(missed["pnl"].sum()),
    }, name="krw")
    return matched, extra, missed, decomposition


def partial_trades(trades: pd.DataFrame, fills: pd.DataFrame) -> pd.Series:
    """Per trade: True if it was filled in parts (more than one buy or more than one sell among
    ``fills``, columns symbol, ts, side). A trade's buys are at its entry bar up to before its exit
    bar, its sells after its entry bar up to its exit bar (a re-entry at an exit's open is the next
    trade's)."""
    out = np.zeros(len(trades), dtype=bool)
    if fills.empty or trades.empty:
        return pd.Series(out, index=trades.index, name="partial")
    ts = pd.to_datetime(fills["ts"], utc=True)
    for k, (sym, entry, exit_) in enumerate(zip(trades["symbol"], pd.to_datetime(trades["entry_time"], utc=True),
                                                pd.to_datetime(trades["exit_time"], utc=True), strict=True)):
        mine = (fills["symbol"] == sym).to_numpy()
        end = ts.max() if pd.isna(exit_) else exit_
        buys = mine & (fills["side"] == "buy").to_numpy() & (((ts >= entry) & (ts < end)) | (ts == entry)).to_numpy()
        sells = mine & (fills["side"] == "sell").to_numpy() & (((ts > entry) & (ts <= end)) | (ts == end)).to_numpy()
        out[k] = buys.sum() > 1 or sells.sum() > 1
    return pd.Series(out, index=trades.index, name="partial")


def paper_fills(executions: pd.DataFrame) -> pd.DataFrame:
    rows = [(d["symbol"], d["bar"], d["side"]) for d in executions.get("order_data", [])
            if d and d.get("status") in ("filled", "partially_filled")]
    return pd.DataFrame(rows, columns=["symbol", "ts", "side"])


def paper_trades(positions: pd.DataFrame) -> pd.DataFrame:
    """A paper run's ``positions`` rows as a trade list (the backtest's columns); open positions are
    marked at their current price, without an exit fee, as the backtest reports them."""
    if positions.empty:
        return pd.DataFrame(columns=list(TRADE_COLUMNS))
    is_open = positions["is_active"].astype(bool).to_numpy()
    size = positions["quantity"].astype(float)
    entry = positions["entry_price"].astype(float)
    exit_ = positions["exit_price"].astype(float).where(~is_open, positions["current_price"].astype(float))
    fees = positions["entry_fee"].astype(float) + positions["exit_fee"].astype(float).fillna(0.0).where(~is_open, 0.0)
    pnl = size * (exit_ - entry) - fees
    return pd.DataFrame({
        "symbol": positions["symbol"], "entry_time": pd.to_datetime(positions["opened_at"], utc=True),
        "exit_time": pd.to_datetime(positions["closed_at"], utc=True), "size": size, "entry_price": entry,
        "exit_price": exit_, "fees": fees, "pnl": pnl,
        "ret": pnl / (size * entry + positions["entry_fee"].astype(float)),
        "status": np.where(is_open, "open", "closed"),
        "exit_reason": positions["exit_reason"].fillna("").where(~is_open, ""),
    }, columns=list(TRADE_COLUMNS))


def backtest_signals(strategy: Strategy, data: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every (symbol, bar, kind) the strategy signals on ``data`` (decided on the bar's close)."""
    rows = []
    for s, df in data.items():
        entries, exits = strategy.generate(df)
        for kind, series in (("entry", entries), ("exit", exits)):
            hits = series.fillna(False).astype(bool)
            rows += [(s, ts, kind) for ts in hits.index[hits.to_numpy()]]
    return pd.DataFrame(rows, columns=["symbol", "bar", "kind"])


def compare_signals(paper: pd.DataFrame, backtest: pd.DataFrame) -> pd.DataFrame:
    """Signals that only one side has: column ``side`` is ``missed`` (backtest only) or ``extra``."""
    merged = paper.merge(backtest, on=["symbol", "bar", "kind"], how="outer", indicator=True)
    merged = merged[merged["_merge"] != "both"].copy()
    merged["side"] = np.where(merged["_merge"] == "left_only", "extra", "missed")
    return merged.drop(columns="_merge").sort_values(["bar", "symbol", "kind"]).reset_index(drop=True)


def executed_signals(executions: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in executions[executions["execution_type"] == "signal"].iterrows():
        data = r["signal_data"] or {}
        for kind in ("entry", "exit"):
            if data.get(kind):
                rows.append((data["symbol"], r["bar_time"], kind))
    return pd.DataFrame(rows, columns=["symbol", "bar", "kind"])


def reconcile_result(paper: pd.DataFrame, bt: BacktestResult, signals: pd.DataFrame, run_id: int | None,
            notes: list[str], paper_equity: pd.Series | None = None,
            key: tuple[str, ...] = tuple(_KEY)) -> Reconciliation:
    backtest = bt.trades
    if bt.fills is not None and bt.config.volume_share > 0:
        backtest = backtest.assign(partial=partial_trades(backtest, bt.fills))
    matched, extra, missed, decomposition = reconcile_trades(paper, backtest, key)
    return Reconciliation(matched, extra, missed, decomposition, paper_pnl=float(paper["pnl"].sum()),
                          backtest_pnl=float(bt.trades["pnl"].sum()), signals=signals, backtest=bt,
                          run_id=run_id, notes=notes, paper_equity=paper_equity)


