"""The result of one backtest: equity, benchmark, trades and metrics, and the ``backtest_results`` row."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.core.backtest.config import BacktestConfig
from workbench.core.backtest.data import MarketData
from workbench.core.backtest.drawdown import drawdown
from workbench.core.backtest.stats import Metrics, equity_points, monthly_returns
from workbench.core.markets import normalize_symbol
from workbench.errors import ValidationError

if TYPE_CHECKING:
    import plotly.graph_objects as go
    from vectorbt.portfolio.base import Portfolio

__all__ = ["BacktestResult", "benchmark_curve", "buy_and_hold", "finite_or_none", "hold_close"]


def finite_or_none(value: float) -> float | None:
    """The stored form of a metric: finite, or NULL (never NaN or Infinity)."""
    return float(value) if value is not None and math.isfinite(value) else None


def buy_and_hold(md: MarketData, initial_capital: float, begin: int = 0) -> pd.Series:
    """Equal-weight buy-and-hold of ``md``'s symbols from the close of bar ``begin`` (a symbol that starts
    later is bought at its first close), without costs; KRW on ``md``'s index from ``begin``."""
    close = md.array("close")[begin:]
    tradeable = md.tradeable_array[begin:]
    n, k = close.shape
    value = np.zeros(n)
    share = initial_capital / k
    part = np.empty(n)     # one buffer for every symbol's share * close / first close (no temporaries)
    for j in range(k):
        first = int(np.argmax(tradeable[:, j])) if tradeable[:, j].any() else n
        value[:first] += share
        if first < n:
            np.multiply(close[first:, j], share, out=part[first:])
            np.divide(part[first:], close[first, j], out=part[first:])
            value[first:] += part[first:]
    return pd.Series(value, index=md.index[begin:], name="benchmark")


def hold_close(close: pd.Series, index: pd.DatetimeIndex, initial_capital: float) -> pd.Series:
    """Buy & hold of one asset bought at its close at ``index[0]`` (its last close at or before it;
    until its first close the capital stays cash), without costs; KRW on ``index``, a bar without a
    close of its own keeping the previous one."""
    if not isinstance(close.index, pd.DatetimeIndex) or close.index.tz is None:
        raise ValidationError("benchmark close: index must be a timezone-aware DatetimeIndex (UTC)")
    px = close.astype("float64").sort_index()
    px = px[~px.index.duplicated(keep="last")]
    aligned = px.reindex(px.index.union(index)).ffill().reindex(index).to_numpy()
    known = np.flatnonzero(np.isfinite(aligned) & (aligned > 0))
    value = np.full(len(index), float(initial_capital))
    if len(known):
        first = int(known[0])
        value[first:] = initial_capital * aligned[first:] / aligned[first]
    return pd.Series(value, index=index, name="benchmark")


def _symbol_column(md: MarketData, symbol: str) -> str | None:
    for s in md.symbols:
        try:
            if s == symbol or normalize_symbol(s) == symbol:
                return s
        except ValidationError:
            continue
    return None


def benchmark_curve(md: MarketData, config: BacktestConfig, begin: int = 0,
                    close: pd.Series | None = None) -> pd.Series | None:
    """The benchmark equity ``config.benchmark`` names, on ``md``'s index from bar ``begin``: equal-weight
    buy & hold of ``md``'s symbols, None for ``"none"``, or one symbol's buy & hold: ``close`` (that
    symbol's close prices) when given, else its column of ``md``."""
    if config.benchmark == "none":
        return None
    if config.benchmark == "equal-weight":
        return buy_and_hold(md, config.initial_capital, begin)
    if close is not None:
        return hold_close(close, md.index[begin:], config.initial_capital)
    column = _symbol_column(md, config.benchmark)
    if column is None:
        raise ValidationError(f"benchmark {config.benchmark}: not among the traded symbols {md.symbols}; "
                              "give its close prices (benchmark_close)")
    return hold_close(md.frames[column]["close"][md.tradeable[column].to_numpy()], md.index[begin:],
                      config.initial_capital)


class _BuiltOnFirstUse:
    """A frame field given either as the frame or as a function building it; read, it is the frame (built
    once, then kept). The class attribute raises AttributeError, so the dataclass field has no default."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._slot = f"_{name}_value"

    def __get__(self, obj: object, owner: type | None = None) -> pd.DataFrame:
        if obj is None:
            raise AttributeError(self._slot)
        value = obj.__dict__[self._slot]
        if not isinstance(value, pd.DataFrame):
            value = value()
            obj.__dict__[self._slot] = value
        return value  # type: ignore[no-any-return]

    def __set__(self, obj: object, value: pd.DataFrame | Callable[[], pd.DataFrame]) -> None:
        obj.__dict__[self._slot] = value


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """Everything about one run; ``to_record()`` gives the ``backtest_results`` columns.

    ``trades`` has one row per trade (open ones marked at the last close, ``status`` "open"), so the
    trade list, the metrics and the stored row always agree. It may be given as the list or as a function
    building it (the engine's records): then it is built on first use, so a sweep's combination or a
    run that only reads the metrics never builds it.
    """

    strategy_name: str
    strategy_type: str
    strategy_class: str
    params: dict[str, Any]
    risk: dict[str, Any]
    config: BacktestConfig
    symbols: list[str]
    timeframe: str
    equity: pd.Series = field(repr=False)
    benchmark: pd.Series | None = field(repr=False)   # None: config.benchmark "none"
    if TYPE_CHECKING:
        trades: pd.DataFrame
    else:
        trades: pd.DataFrame = _BuiltOnFirstUse()   # the frame, or a function building it
    metrics: Metrics
    execution_time: float
    data: MarketData = field(repr=False)
    fill_list: Callable[[], pd.DataFrame] | None = field(default=None, repr=False)   # builds ``fills``

    def __repr__(self) -> str:     # the dataclass's (fields marked repr), which must not build the trade list
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr and f.name != "trades")
        return f"{type(self).__name__}({shown})"

    @cached_property
    def fills(self) -> pd.DataFrame | None:
        """Every fill (``simulation.FILL_COLUMNS``), built on first use: a volume-capped order fills in
        parts; None for a result made without the kernel's fill list."""
        return None if self.fill_list is None else self.fill_list()

    @property
    def data_fingerprint(self) -> str:
        return self.data.fingerprint

    @property
    def data_rows(self) -> int:
        return self.data.rows

    @property
    def start(self) -> pd.Timestamp:
        first: pd.Timestamp = self.equity.index[0]
        return first

    @property
    def end(self) -> pd.Timestamp:
        last: pd.Timestamp = self.equity.index[-1]
        return last

    @property
    def symbol_label(self) -> str:
        """``backtest_results.symbol`` (VARCHAR(20)): the symbol; for a basket the base currencies
        (``BTC+ETH``) or, when that is too long, ``N symbols`` (the manifest lists them all)."""
        if len(self.symbols) == 1:
            return self.symbols[0]
        label = "+".join(s.removeprefix("KRW-") for s in self.symbols)
        return label if len(label) <= 20 else f"{len(self.symbols)} symbols"

    @property
    def drawdown(self) -> pd.Series:
        """Drawdown from the running peak (the initial capital counts as the first peak), negative
        (:func:`workbench.core.backtest.drawdown.drawdown`)."""
        return drawdown(self.equity, self.config.initial_capital)

    def monthly_returns(self) -> dict[str, float]:
        return monthly_returns(self.equity, self.config.initial_capital)

    def trade_history(self) -> list[dict[str, object]]:
        out = []
        row: Any   # a trade (itertuples: attributes of mixed types)
        for row in self.trades.itertuples(index=False):
            out.append({
                "symbol": row.symbol,
                "entry_time": row.entry_time.isoformat(),
                "exit_time": None if pd.isna(row.exit_time) else row.exit_time.isoformat(),
                "size": float(row.size),
                "entry_price": float(row.entry_price),
                "exit_price": float(row.exit_price),
                "fees": float(row.fees),
                "pnl": float(row.pnl),
                "return": float(row.ret),
                "status": row.status,
                "exit_reason": row.exit_reason,
            })
        return out

    def to_record(self) -> dict[str, object]:
        """The ``backtest_results`` columns; metrics that are not finite are None (NULL)."""
        m = self.metrics
        metric_columns = ("total_return", "annual_return", "max_drawdown", "sharpe_ratio", "sortino_ratio",
                          "win_rate", "profit_factor", "avg_win", "avg_loss", "largest_win", "largest_loss")
        return {
            "start_date": self.start.to_pydatetime(),
            "end_date": self.end.to_pydatetime(),
            "initial_capital": self.config.initial_capital,
            "symbol": self.symbol_label,
            "timeframe": self.timeframe,
            **{k: finite_or_none(m[k]) for k in metric_columns},
            "total_trades": m.total_trades,
            "winning_trades": m.winning_trades,
            "losing_trades": m.losing_trades,
            "equity_curve": equity_points(self.equity),
            "trade_history": self.trade_history(),
            "monthly_returns": self.monthly_returns(),
            "execution_time": self.execution_time,
        }

    def plot(self, *, top_drawdowns: int = 5, trades: bool = True) -> go.Figure:
        """Equity vs buy & hold, underwater drawdown (worst periods shaded) and each symbol's trades on
        its price; see :func:`workbench.present.result_figures.plot_result`."""
        from workbench.present.result_figures import plot_result

        return plot_result(self, top=top_drawdowns, trades=trades)

    def to_vectorbt(self) -> Portfolio:
        """This run as a ``vectorbt.Portfolio`` built from its fills (``Portfolio.from_orders``), for
        vectorbt's analysis; its value, returns and trades equal this run's
        (:func:`workbench.core.backtest.to_vbt.to_vectorbt`)."""
        from workbench.core.backtest.to_vbt import to_vectorbt

        return to_vectorbt(self)

    def summary(self) -> pd.Series:
        return pd.Series({**self.metrics.to_dict(), "symbols": self.symbol_label, "start": self.start,
                          "end": self.end}, name=self.strategy_name, dtype=object)

    def _repr_html_(self) -> str:
        return (f"<b>{self.strategy_name}</b> ({self.strategy_type}) on {self.symbol_label} "
                f"{self.timeframe}, {self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"
                + self.summary().to_frame().to_html())
