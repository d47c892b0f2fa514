"""Backtests of a Strategy on one or several symbols, on vectorbt (pure: no database, no files)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.backtest._simulate import simulate
from workbench.backtest.config import BacktestConfig
from workbench.backtest.stats import Metrics, compute_metrics, equity_points, monthly_returns
from workbench.errors import ValidationError
from workbench.markets import TimeLike, normalize_timeframe, timeframe_seconds, to_utc
from workbench.strategies.base import Strategy

__all__ = ["BacktestResult", "MarketData", "prepare_data", "run_backtest"]

_OHLCV = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class MarketData:
    """OHLCV frames of several symbols on one shared index (missing bars filled flat, untradeable)."""

    frames: dict[str, pd.DataFrame]
    tradeable: pd.DataFrame   # bool, columns = symbols: False on bars a symbol did not have
    timeframe: str
    fingerprint: str
    rows: int

    @property
    def symbols(self) -> list[str]:
        return list(self.frames)

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.tradeable.index  # type: ignore[return-value]

    def panel(self, column: str) -> pd.DataFrame:
        return pd.DataFrame({s: f[column] for s, f in self.frames.items()}, index=self.index)


def _check_frame(symbol: str, df: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise ValidationError(f"data for {symbol}: expected a DataFrame, got {type(df).__name__}")
    missing = [c for c in _OHLCV if c not in df.columns]
    if missing:
        raise ValidationError(f"data for {symbol}: missing column(s) {missing}")
    if not isinstance(df.index, pd.DatetimeIndex) or df.index.tz is None:
        raise ValidationError(f"data for {symbol}: index must be a timezone-aware DatetimeIndex (UTC)")
    if df.index.has_duplicates:
        raise ValidationError(f"data for {symbol}: duplicate timestamps, e.g. "
                              f"{df.index[df.index.duplicated()][0]}")
    if not df.index.is_monotonic_increasing:
        raise ValidationError(f"data for {symbol}: index is not sorted ascending")
    if len(df) < 2:
        raise ValidationError(f"data for {symbol}: need at least 2 bars (got {len(df)})")
    bad = df[list(_OHLCV[:4])].isna().any(axis=1) | (df[list(_OHLCV[:4])] <= 0).any(axis=1)
    if bad.any():
        raise ValidationError(f"data for {symbol}: missing or non-positive prices at {df.index[bad][0]}")
    out = df.loc[:, list(_OHLCV)].astype("float64")
    out.index = out.index.tz_convert("UTC")
    return out


def _fingerprint(frames: Mapping[str, pd.DataFrame]) -> str:
    h = hashlib.sha256()
    for symbol in sorted(frames):
        df = frames[symbol]
        h.update(symbol.encode())
        h.update(np.ascontiguousarray(df.index.asi8 if hasattr(df.index, "asi8") else
                                      df.index.view("int64")).tobytes())
        h.update(np.ascontiguousarray(df[list(_OHLCV)].to_numpy(dtype="float64")).tobytes())
    return h.hexdigest()


def prepare_data(data: pd.DataFrame | Mapping[str, pd.DataFrame], *, timeframe: str,
                 symbol: str = "ASSET") -> MarketData:
    """Validate frames and put them on one UTC index.

    A bar missing for one symbol is filled flat at its last close with zero volume and is not
    tradeable (no entries there). Bars before a symbol's first bar are not tradeable either.
    """
    tf = normalize_timeframe(timeframe)
    raw = {symbol: data} if isinstance(data, pd.DataFrame) else dict(data)
    if not raw:
        raise ValidationError("data: no symbols given")
    frames = {s: _check_frame(s, df) for s, df in raw.items()}
    fingerprint = _fingerprint(frames)
    rows = sum(len(f) for f in frames.values())
    index = frames[next(iter(frames))].index
    for f in frames.values():
        if not f.index.equals(index):
            index = index.union(f.index)
    aligned: dict[str, pd.DataFrame] = {}
    tradeable = {}
    for s, f in frames.items():
        present = pd.Series(True, index=f.index).reindex(index, fill_value=False)
        g = f.reindex(index)
        close = g["close"].ffill().bfill()
        for col in ("open", "high", "low"):
            g[col] = g[col].fillna(close)
        g["close"] = close
        g["volume"] = g["volume"].fillna(0.0)
        aligned[s] = g
        tradeable[s] = present
    return MarketData(aligned, pd.DataFrame(tradeable, index=index), tf, fingerprint, rows)


@dataclass(frozen=True)
class BacktestResult:
    """Everything about one run; ``to_record()`` gives the ``backtest_results`` columns."""

    strategy_name: str
    strategy_type: str
    strategy_class: str
    params: dict[str, Any]
    risk: dict[str, Any]
    config: BacktestConfig
    symbols: list[str]
    timeframe: str
    equity: pd.Series = field(repr=False)
    trades: pd.DataFrame = field(repr=False)
    metrics: Metrics
    execution_time: float
    data_fingerprint: str
    data_rows: int

    @property
    def start(self) -> pd.Timestamp:
        return self.equity.index[0]

    @property
    def end(self) -> pd.Timestamp:
        return self.equity.index[-1]

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
        return self.equity / self.equity.cummax() - 1.0

    def monthly_returns(self) -> dict[str, float]:
        return monthly_returns(self.equity, self.config.initial_capital)

    def trade_history(self) -> list[dict[str, Any]]:
        out = []
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
            })
        return out

    def to_record(self) -> dict[str, Any]:
        m = self.metrics
        return {
            "start_date": self.start.to_pydatetime(),
            "end_date": self.end.to_pydatetime(),
            "initial_capital": self.config.initial_capital,
            "symbol": self.symbol_label,
            "timeframe": self.timeframe,
            "total_return": m.total_return,
            "annual_return": m.annual_return,
            "max_drawdown": m.max_drawdown,
            "sharpe_ratio": m.sharpe_ratio,
            "sortino_ratio": m.sortino_ratio,
            "win_rate": m.win_rate,
            "profit_factor": m.profit_factor,
            "total_trades": m.total_trades,
            "winning_trades": m.winning_trades,
            "losing_trades": m.losing_trades,
            "avg_win": m.avg_win,
            "avg_loss": m.avg_loss,
            "largest_win": m.largest_win,
            "largest_loss": m.largest_loss,
            "equity_curve": equity_points(self.equity),
            "trade_history": self.trade_history(),
            "monthly_returns": self.monthly_returns(),
            "execution_time": self.execution_time,
        }

    def summary(self) -> pd.Series:
        return pd.Series({**self.metrics.to_dict(), "symbols": self.symbol_label, "start": self.start,
                          "end": self.end}, name=self.strategy_name, dtype=object)

    def _repr_html_(self) -> str:
        return (f"<b>{self.strategy_name}</b> ({self.strategy_type}) on {self.symbol_label} "
                f"{self.timeframe}, {self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"
                + self.summary().to_frame().to_html())


def strategy_signals(strategy: Strategy, md: MarketData) -> tuple[np.ndarray, np.ndarray]:
    """Shifted entry/exit arrays (bars x symbols); no entries on untradeable bars."""
    entries = np.zeros((len(md.index), len(md.symbols)), dtype=bool)
    exits = np.zeros_like(entries)
    for j, s in enumerate(md.symbols):
        present = md.tradeable[s].to_numpy()
        own = md.frames[s][present]
        sig = strategy.signals(own).reindex(md.index, fill_value=False)
        entries[:, j] = sig["entry"].to_numpy(dtype=bool) & present
        exits[:, j] = sig["exit"].to_numpy(dtype=bool)
    return entries, exits


def trades_frame(raw: pd.DataFrame, index: pd.DatetimeIndex, symbols: list[str]) -> pd.DataFrame:
    """vectorbt trade records -> readable trades (timestamps, symbol names)."""
    exit_time = pd.Series(index[raw["exit_idx"].to_numpy()], index=raw.index)
    exit_time[raw["status"].to_numpy() == "open"] = pd.NaT
    return pd.DataFrame({
        "symbol": [symbols[c] for c in raw["col"]],
        "entry_time": index[raw["entry_idx"].to_numpy()],
        "exit_time": exit_time.to_numpy(),
        "size": raw["size"].to_numpy(),
        "entry_price": raw["entry_price"].to_numpy(),
        "exit_price": raw["exit_price"].to_numpy(),
        "fees": (raw["entry_fees"] + raw["exit_fees"]).to_numpy(),
        "pnl": raw["pnl"].to_numpy(),
        "ret": raw["return"].to_numpy(),
        "status": raw["status"].to_numpy(),
    })


def run_backtest(
    data: pd.DataFrame | Mapping[str, pd.DataFrame] | MarketData,
    strategy: Strategy,
    config: BacktestConfig | None = None,
    *,
    timeframe: str = "1h",
    symbol: str = "ASSET",
    trade_start: TimeLike | None = None,
) -> BacktestResult:
    """Backtest ``strategy`` on ``data``.

    Parameters
    ----------
    data : DataFrame, mapping of symbol -> DataFrame, or MarketData
        OHLCV frames indexed by UTC timestamps. Several symbols share one cash account and the
        strategy's ``max_positions``.
    strategy : Strategy
    config : BacktestConfig, optional
        Capital, fee (Bithumb 0.25 % by default) and slippage.
    timeframe : str
        Bar length of ``data`` (for annualising and the stored row).
    symbol : str
        Name of a single frame's symbol.
    trade_start : optional
        No entries before this time; metrics and equity start here. Earlier bars only warm up
        indicators (used for out-of-sample tests).

    Orders fill at the next bar's open after a signal (plus slippage, minus fees); stop-loss and
    take-profit fill intrabar at their price. Each position gets ``risk.position_fraction`` of the
    cash available at entry (with no other position open, that is the fraction of equity).
    """
    t0 = time.perf_counter()
    config = config or BacktestConfig()
    md = data if isinstance(data, MarketData) else prepare_data(data, timeframe=timeframe, symbol=symbol)
    entries, exits = strategy_signals(strategy, md)
    begin = trade_start_index(md, trade_start)
    entries[:begin] = False
    sim = _run(md, entries, exits, [strategy], config)
    return group_result(sim, 0, strategy, md, config, begin, time.perf_counter() - t0)


def trade_start_index(md: MarketData, trade_start: TimeLike | None) -> int:
    """Position of the first bar at or after ``trade_start`` (0 when None)."""
    if trade_start is None:
        return 0
    ts = to_utc(trade_start, name="trade_start")
    begin = int(md.index.searchsorted(ts))
    if begin >= len(md.index) - 1:
        raise ValidationError(f"trade_start {ts} leaves fewer than 2 bars of data")
    return begin


def group_result(sim: Any, group: int, strategy: Strategy, md: MarketData, config: BacktestConfig,
                 begin: int, execution_time: float) -> BacktestResult:
    """The :class:`BacktestResult` of one group (one strategy) of a :func:`_run` call."""
    n_sym = len(md.symbols)
    raw = sim.trades[sim.trades["group"] == group].copy()
    raw["col"] = raw["col"] - group * n_sym
    trades = trades_frame(raw.reset_index(drop=True), md.index, md.symbols)
    equity = sim.value.iloc[begin:, group].rename("equity")
    metrics = compute_metrics(equity, trades, initial_capital=config.initial_capital,
                              bar_seconds=timeframe_seconds(md.timeframe))
    return BacktestResult(
        strategy_name=strategy.name, strategy_type=strategy.strategy_type,
        strategy_class=strategy.class_path, params=dict(strategy.params), risk=strategy.risk.to_dict(),
        config=config, symbols=md.symbols, timeframe=md.timeframe, equity=equity, trades=trades,
        metrics=metrics, execution_time=execution_time, data_fingerprint=md.fingerprint, data_rows=md.rows,
    )


def _run(md: MarketData, entries: np.ndarray, exits: np.ndarray, strategies: list[Strategy],
         config: BacktestConfig) -> Any:
    """One vectorbt call; ``entries``/``exits`` have ``len(strategies) * n_symbols`` columns."""
    n_sym = len(md.symbols)
    k = len(strategies)
    panels = {c: pd.concat([md.panel(c)] * k, axis=1, ignore_index=True) for c in ("open", "high", "low",
                                                                                  "close")}
    groups = np.repeat(np.arange(k), n_sym)
    risks = [s.risk for s in strategies]
    per_col = lambda f: np.repeat(np.array([f(r) for r in risks], dtype=float), n_sym)  # noqa: E731
    sl = per_col(lambda r: r.stop_loss_pct / 100 if r.stop_loss_pct > 0 else np.nan)
    tp = per_col(lambda r: r.take_profit_pct / 100 if r.take_profit_pct > 0 else np.nan)
    return simulate(
        open_=panels["open"], high=panels["high"], low=panels["low"], close=panels["close"],
        entries=entries, exits=exits, groups=groups, group_labels=list(range(k)),
        fraction=per_col(lambda r: r.position_fraction),
        max_positions=per_col(lambda r: r.max_positions).astype(np.int64),
        sl_stop=sl, tp_stop=tp, initial_capital=config.initial_capital, fee_rate=config.fee_rate,
        slippage=config.slippage, freq=pd.Timedelta(seconds=timeframe_seconds(md.timeframe)),
    )
