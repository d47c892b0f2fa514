"""Performance metrics of a run, defined as the field defines them (pure numpy/pandas).

Return-based ratios use the *daily* returns of the equity on a calendar-day grid: the last equity of each
UTC calendar day from the first bar's day to the last bar's, a day without bars (an exchange outage, a
weekend of weekday-only data) carrying the previous day's equity (a 0 return), each day against the
previous one and the first day against the initial capital. A year is 365 calendar days (crypto markets
trade every day, and on the grid any market's year has 365 days): Sharpe = mean(r - rf) / std(r - rf)
(ddof 1) * sqrt(365) with rf the daily rate of the annual risk-free rate ((1 + R)^(1/365) - 1, 0 by
default); Sortino = mean(r - rf) / sqrt(mean(min(r - rf, 0)^2)) * sqrt(365); volatility = std * sqrt(365);
CAGR = growth^(365 / calendar days) - 1 over the calendar days covered; alpha and beta against the
benchmark's daily returns on the same grid (beta = cov / var, alpha = (1 + mean(r - rf - beta * (b - rf)))^365
- 1); VaR = the 5th percentile of daily returns, CVaR = the mean of the worst 5 % — the definitions of
empyrical. Drawdowns use every bar, the initial capital the first peak
(:mod:`workbench.core.backtest.drawdown`). Trade statistics count every trade of the trade list;
an open trade is marked at the last close. A value that is undefined (no losing trade for the profit
factor, a flat curve for Sharpe) is NaN (inf for a profit factor without losses); stored rows hold NULL.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Final, NamedTuple

import numpy as np
import pandas as pd
from numba import njit

from workbench.core.backtest.drawdown import max_drawdown
from workbench.core.metrics import METRICS, MetricInfo
from workbench.errors import UnknownNameError, ValidationError

__all__ = ["METRIC_INFO", "MetricInfo", "Metrics", "TradeStats", "compute_metrics", "daily_returns",
           "daily_rate", "equity_points", "monthly_returns", "trade_stats"]

DAYS_PER_YEAR: Final = 365
_NAN = float("nan")
#: the registry of the run metrics (``workbench.core.metrics.METRICS``), under its older name
METRIC_INFO: Final[dict[str, MetricInfo]] = METRICS


@dataclass(frozen=True, slots=True)
class Metrics(Mapping[str, float]):
    """The metrics of one run, readable as attributes and as a mapping (``m["sharpe_ratio"]``).

    Returns and rates are fractions (0.05 = 5 %); PnL and fees in KRW; see :data:`METRIC_INFO`.
    """

    total_return: float
    annual_return: float
    benchmark_return: float
    excess_return: float
    max_drawdown: float
    max_drawdown_duration: float
    volatility: float
    sharpe_ratio: float
    sortino_ratio: float
    calmar_ratio: float
    exposure: float
    alpha: float
    beta: float
    var_95: float
    cvar_95: float
    best_day: float
    worst_day: float
    win_rate: float
    profit_factor: float
    total_trades: int
    open_trades: int
    winning_trades: int
    losing_trades: int
    avg_win: float
    avg_loss: float
    largest_win: float
    largest_loss: float
    max_win_streak: int
    max_loss_streak: int
    total_fees: float
    total_pnl: float

    def __getitem__(self, key: str) -> float:
        if key not in METRIC_INFO:
            raise UnknownNameError(f"{key!r} is not a metric; metrics: {', '.join(METRIC_INFO)}")
        value: float = getattr(self, key)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(METRIC_INFO)

    def __len__(self) -> int:
        return len(METRIC_INFO)

    def to_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}   # asdict's deep copy: 10x slower

    def to_series(self) -> pd.Series:
        return pd.Series(self.to_dict(), dtype=object, name="metrics")


def daily_returns(equity: pd.Series, initial_capital: float) -> pd.Series:
    """Returns on the calendar-day grid (UTC): the last equity of each day from the first bar's day to the
    last bar's, a day without bars carrying the previous day's equity; the first day against
    ``initial_capital``."""
    if equity.empty:
        return pd.Series(dtype="float64")
    stamps, per_day = _stamps(equity.index)
    days, last = _calendar_days(stamps, per_day)
    index = pd.to_datetime(days * _NS_PER_DAY, utc=True)
    return pd.Series(_daily(equity.to_numpy(dtype="float64"), last, initial_capital), index=index,
                     name="daily_return")


def _daily(values: np.ndarray, last: np.ndarray, initial_capital: float) -> np.ndarray:
    closes = values[last]
    daily: np.ndarray = closes / np.r_[initial_capital, closes[:-1]] - 1.0
    return daily


def daily_rate(annual_rate: float) -> float:
    """The daily rate that compounds to ``annual_rate`` over a 365-day year: (1 + R)^(1/365) - 1."""
    return float((1.0 + annual_rate) ** (1.0 / DAYS_PER_YEAR) - 1.0)


def monthly_returns(equity: pd.Series, initial_capital: float) -> dict[str, float]:
    """``{"YYYY-MM": return}``; each month against the previous month's closing equity."""
    if equity.empty:
        return {}
    month_end = equity.groupby(pd.DatetimeIndex(equity.index).tz_convert("UTC").strftime("%Y-%m")).last()
    prev = month_end.shift(1)
    prev.iloc[0] = initial_capital
    return {str(k): float(v) for k, v in (month_end / prev - 1.0).items()}


def equity_points(equity: pd.Series, max_points: int = 2000) -> list[dict[str, object]]:
    """The equity curve as ``[{"t": iso, "equity": v}]``, thinned to at most ``max_points`` (last values
    of equal slices, first and last point kept)."""
    n = len(equity)
    if n == 0:
        return []
    if n > max_points:
        pos = np.unique(np.linspace(0, n - 1, max_points).round().astype(int))
        equity = equity.iloc[pos]
    times = pd.DatetimeIndex(equity.index)
    return [{"t": t.isoformat(), "equity": float(v)} for t, v in zip(times, equity, strict=True)]


_NS_PER_DAY: Final = 86_400_000_000_000
_PER_DAY: Final = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": _NS_PER_DAY}


def _stamps(index: pd.Index) -> tuple[np.ndarray, int]:
    """The index's int64 stamps in its own unit (no conversion copy) and that unit's count per day."""
    idx = index if isinstance(index, pd.DatetimeIndex) else pd.DatetimeIndex(index)
    return idx.asi8, _PER_DAY[idx.unit]


def _calendar_days(stamps: np.ndarray, per_day: int) -> tuple[np.ndarray, np.ndarray]:
    """Every UTC calendar day (as days since the epoch) from the first bar's to the last bar's, and per day
    the position of its last bar, or of the last bar before it for a day without bars (forward fill).
    ``stamps``: the bars' times, ``per_day`` of them to a day."""
    day = stamps // per_day
    ends = np.flatnonzero(np.r_[day[1:] != day[:-1], True])
    grid = np.arange(day[0], day[-1] + 1)
    return grid, ends[np.searchsorted(day[ends], grid, side="right") - 1]


@njit(cache=True, nogil=True)
def _streak(flags: np.ndarray) -> int:  # pragma: no cover
    best = run = 0
    for f in flags:
        run = run + 1 if f else 0
        best = max(best, run)
    return best


def _exit_order(exit_time: pd.Series) -> np.ndarray:
    """Positions of the trades in exit order (stable; open trades, without an exit time, last)."""
    stamps = pd.DatetimeIndex(exit_time).asi8.copy()
    stamps[np.asarray(exit_time.isna())] = np.iinfo(np.int64).max   # NaT is the smallest int64
    return np.argsort(stamps, kind="stable")


class TradeStats(NamedTuple):
    """What the metrics read of a trade list, as columns (no frame): ``pnl`` in the list's (entry) order,
    the same ``pnl`` in exit order (open trades last), the total fees and the number of open trades."""

    pnl: np.ndarray
    pnl_by_exit: np.ndarray
    total_fees: float
    open_trades: int


def trade_stats(trades: pd.DataFrame) -> TradeStats:
    """The :class:`TradeStats` of a trade list (``pnl``, ``fees``, ``status``, ``exit_time``)."""
    if not len(trades):
        return TradeStats(np.zeros(0), np.zeros(0), 0.0, 0)
    pnl = trades["pnl"].to_numpy(dtype="float64")
    return TradeStats(pnl, pnl[_exit_order(trades["exit_time"])], float(trades["fees"].sum()),
                      int((trades["status"] == "open").sum()))


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 and math.isfinite(den) else _NAN


def compute_metrics(equity: pd.Series, trades: pd.DataFrame | TradeStats, *, initial_capital: float,
                    benchmark: pd.Series | None = None, exposure: float = _NAN,
                    risk_free_rate: float = 0.0) -> Metrics:
    """Metrics of a run.

    Parameters
    ----------
    equity : Series
        Portfolio value per bar (KRW), UTC DatetimeIndex.
    trades : DataFrame or TradeStats
        The trade list (``pnl``, ``fees``, ``status``, ``exit_time``; open trades marked at the last close),
        or its :class:`TradeStats` (the engine's columns, without building the list).
    initial_capital : float
    benchmark : Series, optional
        Buy-and-hold equity on the same index (for benchmark/excess return, alpha and beta).
    exposure : float
        Fraction of bars with a position.
    risk_free_rate : float
        Annual risk-free rate as a fraction (0.03 = 3 %), compounded to a daily rate for Sharpe, Sortino
        and alpha.
    """
    if equity.empty:
        raise ValidationError("compute_metrics: empty equity curve")
    values = equity.to_numpy(dtype="float64")
    stamps, per_day = _stamps(equity.index)
    _, day_ends = _calendar_days(stamps, per_day)
    final = float(values[-1])
    total_return = final / initial_capital - 1.0
    daily = _daily(values, day_ends, initial_capital)
    years = len(daily) / DAYS_PER_YEAR
    annual = (final / initial_capital) ** (1.0 / years) - 1.0 if final > 0 else -1.0
    rf = daily_rate(risk_free_rate)
    excess = daily - rf
    std = float(np.std(daily, ddof=1)) if len(daily) > 1 else _NAN
    excess_std = float(np.std(excess, ddof=1)) if len(daily) > 1 else _NAN
    mean = float(np.mean(excess))
    downside = math.sqrt(float(np.mean(np.minimum(excess, 0.0) ** 2)))
    mdd, longest = max_drawdown(values, stamps, float(initial_capital))
    mdd_days = longest / per_day
    root = math.sqrt(DAYS_PER_YEAR)

    bench_return = alpha = beta = _NAN
    if benchmark is not None and len(benchmark) == len(equity):
        bench_return = float(benchmark.iloc[-1]) / initial_capital - 1.0
        b = _daily(benchmark.to_numpy(dtype="float64"), day_ends, initial_capital)
        b_res = b - b.mean()
        var_b = float(np.mean(b_res ** 2))
        if var_b > 0:
            beta = float(np.mean(b_res * daily)) / var_b
            alpha = (1.0 + float(np.mean(excess - beta * (b - rf)))) ** DAYS_PER_YEAR - 1.0

    cutoff = int((len(daily) - 1) * 0.05)
    ts = trades if isinstance(trades, TradeStats) else trade_stats(trades)
    pnl = ts.pnl
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    gross_win, gross_loss = float(wins.sum()), float(-losses.sum())
    if gross_loss > 0:
        profit_factor = gross_win / gross_loss
    else:
        profit_factor = math.inf if gross_win > 0 else _NAN
    by_exit = ts.pnl_by_exit
    return Metrics(
        total_return=total_return,
        annual_return=annual,
        benchmark_return=bench_return,
        excess_return=total_return - bench_return,
        max_drawdown=mdd,
        max_drawdown_duration=mdd_days,
        volatility=std * root,
        sharpe_ratio=_ratio(mean, excess_std) * root,
        sortino_ratio=_ratio(mean, downside) * root,
        calmar_ratio=_ratio(annual, mdd),
        exposure=float(exposure),
        alpha=alpha,
        beta=beta,
        var_95=float(np.percentile(daily, 5)),
        cvar_95=float(np.mean(np.partition(daily, cutoff)[:cutoff + 1])),
        best_day=float(daily.max()),
        worst_day=float(daily.min()),
        win_rate=len(wins) / len(pnl) if len(pnl) else _NAN,
        profit_factor=float(profit_factor),
        total_trades=len(pnl),
        open_trades=ts.open_trades,
        winning_trades=len(wins),
        losing_trades=len(losses),
        avg_win=float(wins.mean()) if len(wins) else _NAN,
        avg_loss=float(losses.mean()) if len(losses) else _NAN,
        largest_win=float(wins.max()) if len(wins) else _NAN,
        largest_loss=float(losses.min()) if len(losses) else _NAN,
        max_win_streak=_streak(by_exit > 0),
        max_loss_streak=_streak(by_exit < 0),
        total_fees=ts.total_fees,
        total_pnl=final - initial_capital,
    )
