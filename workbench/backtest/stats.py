"""Performance metrics from an equity curve and a trade list (pure; no vectorbt needed)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Metrics", "compute_metrics", "drawdown", "equity_points", "monthly_returns"]

_YEAR_SECONDS = 365 * 86400  # crypto trades every day


@dataclass(frozen=True, slots=True)
class Metrics:
    """Returns and rates are fractions (0.05 = 5 %); PnL figures are in KRW."""

    total_return: float
    annual_return: float
    max_drawdown: float
    sharpe_ratio: float
    sortino_ratio: float
    win_rate: float
    profit_factor: float
    total_trades: int
    winning_trades: int
    losing_trades: int
    avg_win: float
    avg_loss: float
    largest_win: float
    largest_loss: float
    total_pnl: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def drawdown(equity: pd.Series) -> pd.Series:
    """Drawdown from the running peak, as a negative fraction (0 at new highs)."""
    return equity / equity.cummax() - 1.0


def monthly_returns(equity: pd.Series, initial_capital: float) -> dict[str, float]:
    """``{"YYYY-MM": return}``; each month against the previous month's closing equity."""
    if equity.empty:
        return {}
    month_end = equity.groupby(equity.index.tz_convert("UTC").strftime("%Y-%m")).last()
    prev = month_end.shift(1)
    prev.iloc[0] = initial_capital
    return {str(k): float(v) for k, v in (month_end / prev - 1.0).items()}


def equity_points(equity: pd.Series, max_points: int = 2000) -> list[dict[str, Any]]:
    """The equity curve as ``[{"t": iso, "equity": v}]``, thinned to at most ``max_points`` (last values
    of equal slices, first and last point kept)."""
    n = len(equity)
    if n == 0:
        return []
    if n > max_points:
        pos = np.unique(np.linspace(0, n - 1, max_points).round().astype(int))
        equity = equity.iloc[pos]
    return [{"t": t.isoformat(), "equity": float(v)} for t, v in equity.items()]


def _finite(x: float) -> float:
    return float(x) if math.isfinite(x) else 0.0


def compute_metrics(equity: pd.Series, trades: pd.DataFrame, *, initial_capital: float,
                    bar_seconds: float) -> Metrics:
    """Metrics of a run.

    Parameters
    ----------
    equity : Series
        Portfolio value per bar (KRW), DatetimeIndex.
    trades : DataFrame
        Must have ``pnl`` and ``status``; only ``closed`` trades count for win/loss figures.
    initial_capital : float
    bar_seconds : float
        Bar length, for annualising (365-day year).
    """
    if equity.empty:
        raise ValueError("compute_metrics: empty equity curve")
    final = float(equity.iloc[-1])
    total_return = final / initial_capital - 1.0
    span = (equity.index[-1] - equity.index[0]).total_seconds() + bar_seconds
    years = span / _YEAR_SECONDS
    annual = (final / initial_capital) ** (1.0 / years) - 1.0 if final > 0 and years > 0 else -1.0
    rets = equity.pct_change().fillna(equity.iloc[0] / initial_capital - 1.0).to_numpy()
    per_year = _YEAR_SECONDS / bar_seconds
    std = rets.std(ddof=1) if len(rets) > 1 else 0.0
    sharpe = rets.mean() / std * math.sqrt(per_year) if std > 0 else 0.0
    downside = math.sqrt(np.mean(np.minimum(rets, 0.0) ** 2))
    sortino = rets.mean() / downside * math.sqrt(per_year) if downside > 0 else 0.0
    mdd = float(-drawdown(equity).min())

    closed = trades[trades["status"] == "closed"] if len(trades) else trades
    pnl = closed["pnl"].to_numpy(dtype=float) if len(closed) else np.array([])
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    gross_win, gross_loss = wins.sum(), -losses.sum()
    if gross_loss > 0:
        profit_factor = gross_win / gross_loss
    else:
        profit_factor = math.inf if gross_win > 0 else 0.0
    return Metrics(
        total_return=_finite(total_return),
        annual_return=_finite(annual),
        max_drawdown=_finite(mdd),
        sharpe_ratio=_finite(sharpe),
        sortino_ratio=_finite(sortino),
        win_rate=len(wins) / len(pnl) if len(pnl) else 0.0,
        profit_factor=float(profit_factor),
        total_trades=len(pnl),
        winning_trades=len(wins),
        losing_trades=len(losses),
        avg_win=float(wins.mean()) if len(wins) else 0.0,
        avg_loss=float(losses.mean()) if len(losses) else 0.0,
        largest_win=float(wins.max()) if len(wins) else 0.0,
        largest_loss=float(losses.min()) if len(losses) else 0.0,
        total_pnl=final - initial_capital,
    )
