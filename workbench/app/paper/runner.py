"""Paper runs: a stored strategy run forward bar by bar, on a replay of stored candles or on candles
polled live from Bithumb, with every signal, order, fill and error written to the execution tables.

Each bar is one database transaction (see :mod:`workbench.store.paper`); Redis mirrors the run for
dashboards after the transaction commits. Stopping (Ctrl-C, a crash) loses at most the bar being
processed; :func:`resume` continues from the last written bar with the stored broker state.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, TypedDict, Unpack

import numpy as np
import pandas as pd

from workbench.app.notify import notify
from workbench.app.paper.book import StoredBooks
from workbench.app.paper.outcome import PaperContext, PaperOutcome, RunEnds
from workbench.app.paper.portfolio import PortfolioRun
from workbench.core.backtest.config import BacktestConfig
from workbench.core.backtest.data import OHLCV
from workbench.core.backtest.sizing import bars_per_year, volatility_fractions
from workbench.core.checks import MAX_BARS, MAX_POLLS, POLL_INTERVAL, SPEED, WARMUP
from workbench.core.markets import TimeLike, normalize_symbol, normalize_timeframe, timeframe_offset, to_utc
from workbench.core.paper.engine import Fill, PaperBroker, Skip
from workbench.core.paper.rules import OrderRules
from workbench.core.strategies.base import Strategy
from workbench.core.strategies.orders import ORDER_FIELDS, Orders
from workbench.core.strategies.portfolio import PortfolioStrategy
from workbench.errors import ValidationError, WorkbenchError
from workbench.store.market_data import load_candles
from workbench.store.paper import AlreadyProcessed, BarLedger, PaperRunRow, bar_ledger, create_run, get_run, set_status
from workbench.store.paper_keys import PaperChannel
from workbench.store.paper_runner import hold_paper_run
from workbench.store.runs import load_strategy, save_strategy
from workbench.store.writer import write_frame

__all__ = ["LIVE_TIMEFRAMES", "PaperContext", "PaperOutcome", "live", "replay", "resume"]

#: timeframes the live mode can poll (Bithumb's v1 candle endpoints)
LIVE_TIMEFRAMES: tuple[str, ...] = ("1m", "3m", "5m", "10m", "15m", "30m", "1h", "4h", "1d", "1w")


class CandleSource(Protocol):
    """The part of :class:`workbench.ingest.bithumb.BithumbClient` live mode uses."""

    def v1_candles(self, symbol: str, timeframe: str, *, count: int = 200,
                   to: datetime | None = None) -> pd.DataFrame: ...


def _symbols(symbols: str | Sequence[str]) -> list[str]:
    items = [s.strip() for s in (symbols.split(",") if isinstance(symbols, str) else symbols) if str(s).strip()]
    if not items:
        raise ValidationError("symbols: give at least one symbol, e.g. 'KRW-BTC' or 'KRW-BTC,KRW-ETH'")
    out = [normalize_symbol(s) for s in items]
    if len(set(out)) != len(out):
        raise ValidationError(f"symbols: duplicates in {out}")
    return out


def _check_pace(speed: float | None, max_bars: int | None) -> None:
    if speed is not None:
        SPEED.check(speed, "speed")
    if max_bars is not None:
        MAX_BARS.check(max_bars, "max_bars")


def _check_polling(poll_interval: float | None, max_polls: int | None) -> None:
    if poll_interval is not None:
        POLL_INTERVAL.check(poll_interval, "poll_interval")
    if max_polls is not None:
        MAX_POLLS.check(max_polls, "max_polls")


def _require_candles(wb: PaperContext, symbols: list[str], timeframe: str, start: pd.Timestamp,
                     end: pd.Timestamp) -> None:
    """Every symbol has stored ``timeframe`` candles in ``[start, end)``; else ValidationError naming those
    that have none (an unknown symbol among known ones is an error, not dropped)."""
    missing = [s for s in symbols
               if not len(load_candles(wb.db, s, timeframe, start, end, cache=wb.cache, allow_empty=True))]
    if missing:
        raise ValidationError(f"no stored {timeframe} candles of {', '.join(missing)} in [{start}, {end}); "
                              "no paper run was created (see `workbench inventory`)")


_Op = tuple[str, int, dict[str, Any], bool]   # (order | notify | signal, order id, payload, active)


class _Run(RunEnds):
    """One paper run in this process: its row, strategy, broker, history and Redis channel."""

    def __init__(self, wb: PaperContext, row: PaperRunRow, strategy: Strategy) -> None:
        self.wb = wb
        self.row = row
        self.strategy = strategy
        self.config = BacktestConfig(**self.row.config)
        self.rules = OrderRules.from_dict(self.row.rules)
        self.tf = self.row.timeframe
        self.books: StoredBooks | None = None
        self.broker = self._new_broker()
        self.orders: dict[str, dict[str, int]] = {}
        self.parts: dict[int, list[float]] = {}     # volume-capped orders being filled: quantity, value, fee
        self._load_state(self.row.state)
        self.channel = PaperChannel(wb.cache, self.row.user_id, self.row.strategy_id)
        self.history: dict[str, pd.DataFrame] = {}
        self.outcome = PaperOutcome(row.id, self.row.status, equity=self.broker.equity, last_bar=self.row.last_bar)

    def _new_broker(self) -> PaperBroker:
        return PaperBroker(self.row.symbols, self.strategy.risk, self.config, self.rules,
                           trade_start=self.row.trade_start, book_price=self.books)

    def _load_state(self, state: dict[str, Any]) -> None:
        self.broker = self._new_broker()
        self.broker.load_state(state.get("broker", {}))
        self.orders = {s: dict(v) for s, v in state.get("orders", {}).items()}
        self.parts = {int(k): list(v) for k, v in state.get("parts", {}).items()}

    def _state(self) -> dict[str, Any]:
        return {"broker": self.broker.to_state(), "orders": self.orders, "parts": self.parts}

    # ---------------------------------------------------------------- data
    def load_history(self, end: pd.Timestamp) -> None:
        """Each symbol's stored bars in [start_time, end) (and, if the rules walk the book, the stored
        order books)."""
        if self.rules.walk_book:
            found = StoredBooks.load(self.wb.db, self.row.symbols, self.row.start_time, end,
                                     timeframe_offset(self.tf))
            self.books = found if found else None
            self.broker.book_price = self.books
        self.history = {}
        for s in self.row.symbols:
            df = load_candles(self.wb.db, s, self.tf, self.row.start_time, end, cache=self.wb.cache,
                              allow_empty=True)
            assert isinstance(df, pd.DataFrame)
            frame = pd.DataFrame(np.asarray(df[list(OHLCV)], dtype="float64"), index=df.index, columns=list(OHLCV))
            self.history[s] = frame

    def pending_bars(self, until: pd.Timestamp) -> list[pd.Timestamp]:
        stamps = [f.index for f in self.history.values() if len(f)]
        if not stamps:
            return []
        index = stamps[0]
        for other in stamps[1:]:
            index = index.union(other)
        last = self.broker_last_bar
        sel = index < until if last is None else (index > last) & (index < until)
        return list(index[sel])

    @property
    def broker_last_bar(self) -> pd.Timestamp | None:
        return self.outcome.last_bar

    # ---------------------------------------------------------------- one bar
    def _decide(self, symbol: str, ts: pd.Timestamp) -> dict[str, Any]:
        """The strategy's decisions on ``symbol``'s bar ``ts`` (its close): entry, exit and, where given,
        the orders' prices and size (:class:`~workbench.core.strategies.orders.Orders`)."""
        frame = self.history[symbol]
        upto = frame.iloc[: int(frame.index.searchsorted(ts, side="right"))]
        raw = self.strategy.generate(upto)
        entries, exits = raw
        if not (isinstance(entries, pd.Series) and isinstance(exits, pd.Series)) or len(entries) != len(upto):
            raise WorkbenchError(f"{self.strategy.name}.generate must return two Series on the frame's index")
        out: dict[str, Any] = {"entry": bool(entries.fillna(False).astype(bool).iloc[-1]),
                               "exit": bool(exits.fillna(False).astype(bool).iloc[-1])}
        if isinstance(raw, Orders):
            for label in ORDER_FIELDS:
                series = getattr(raw, label)
                if series is not None and len(series) == len(upto):
                    out[label] = float(series.iloc[-1])
        risk = self.strategy.risk
        if risk.sizing == "vol_target":
            closes = upto["close"].to_numpy(dtype="float64")
            # the fraction for the next bar's open: the last row of the closes with one more row
            out["size"] = float(volatility_fractions(np.r_[closes, closes[-1:]][:, None], risk.vol_target_pct / 100.0,
                                                     risk.vol_lookback, bars_per_year(self.tf),
                                                     1.0 / risk.max_positions)[-1, 0])
        return out

    def _atr(self, bars: Mapping[str, tuple[float, ...]], ts: pd.Timestamp) -> dict[str, float] | None:
        """ATR at ``ts``'s close of the symbols in ``bars`` (for an ATR trailing stop)."""
        risk = self.strategy.risk
        if risk.trailing_atr <= 0:
            return None
        from workbench.core.indicators import atr

        out = {}
        for s in bars:
            frame = self.history[s]
            upto = frame.iloc[: int(frame.index.searchsorted(ts, side="right"))]
            out[s] = float(atr(upto["high"], upto["low"], upto["close"], risk.atr_period).iloc[-1])
        return out

    def process(self, ts: pd.Timestamp) -> None:
        t0 = time.perf_counter()
        bars = {}
        for s, frame in self.history.items():
            k = int(frame.index.searchsorted(ts))
            if k < len(frame) and frame.index[k] == ts:
                o, h, lo, c, v = frame.iloc[k, :5].to_numpy(dtype="float64")
                bars[s] = (float(o), float(h), float(lo), float(c), float(v))
        redis_ops: list[_Op] = []
        try:
            with bar_ledger(self.wb.db, self.row) as led:
                state, stored_last = led.previous()
                if stored_last is not None and stored_last >= ts:
                    raise AlreadyProcessed(str(ts))
                if stored_last != self.outcome.last_bar:      # another process moved the run: catch up
                    self._load_state(state)
                self._apply(led, ts, bars, redis_ops, t0)
                led.advance(ts, self._state())
        except AlreadyProcessed:
            fresh = get_run(self.wb.db, self.row.id)
            self._load_state(fresh.state)
            self.outcome.last_bar = fresh.last_bar
            return
        except BaseException:
            # the bar was not written: go back to the stored state before anything else happens
            fresh = get_run(self.wb.db, self.row.id)
            self._load_state(fresh.state)
            raise
        self.outcome.last_bar = ts
        self.outcome.bars += 1
        self.outcome.equity = self.broker.equity
        self._publish(redis_ops)
        self.channel.status({"state": f"paper_{self.row.mode}", "paper_run_id": self.row.id,
                             "last_bar": ts.isoformat(), "equity": self.broker.equity,
                             "cash": self.broker.cash, "positions": sorted(self.broker.positions)})

    def _apply(self, led: BarLedger, ts: pd.Timestamp, bars: Mapping[str, tuple[float, ...]],
               redis_ops: list[_Op], t0: float) -> None:
        for ev in self.broker.on_bar(ts, bars, self._atr(bars, ts)):
            if isinstance(ev, Skip):
                oid = self.orders.get(ev.symbol, {}).pop(ev.side, None)
                if oid is not None:
                    led.close_order(oid, ev.status, ts, ev.reason)
                led.execution("order", ts, order={"order_id": oid, "symbol": ev.symbol, "side": ev.side,
                                                  "status": ev.status},
                              error=ev.reason, success=False)
                self.outcome.skipped += 1
                note = {"kind": f"order_{ev.status}", "paper_run_id": self.row.id, "symbol": ev.symbol,
                        "side": ev.side, "bar": ts.isoformat(), "reason": ev.reason}
                if oid is not None:
                    redis_ops.append(("order", oid, note, False))
                redis_ops.append(("notify", 0, note, False))
                continue
            self._fill(led, ts, ev, redis_ops)
        # marks, portfolio, equity
        holdings = {}
        for s, pos in self.broker.positions.items():
            close = bars[s][3] if s in bars else self.broker.last_close.get(s, pos.entry_price)
            unrealized = pos.size * (close - pos.entry_price) - pos.entry_fee
            if pos.position_id is not None:
                led.mark_position(pos.position_id, ts, close, unrealized)
            holdings[s] = {"quantity": pos.size, "entry_price": pos.entry_price, "price": close,
                           "value": pos.size * close}
        b = self.broker
        led.portfolio(ts, equity=b.equity, cash=b.cash, total_return=b.equity / self.config.initial_capital - 1.0,
                      max_drawdown=b.max_drawdown, holdings=holdings)
        # decisions on this bar's close -> orders for the next bar's open
        for s in bars:
            decision = self._decide(s, ts)
            entry, exit_ = decision["entry"], decision["exit"]
            if not (entry or exit_):
                continue
            close = bars[s][3]
            signal = {"symbol": s, "bar": ts.isoformat(), **decision, "close": close,
                      "paper_run_id": self.row.id}
            led.execution("signal", ts, signal=signal, market={"open": bars[s][0], "high": bars[s][1],
                                                               "low": bars[s][2], "close": close},
                          execution_time=time.perf_counter() - t0)
            self.outcome.signals += 1
            redis_ops.append(("signal", 0, signal, False))
            buy, sell = self.broker.signal(s, **decision)
            for side, placed in (("buy", buy), ("sell", sell)):
                if not placed:
                    continue
                held = self.broker.positions.get(s)
                qty = held.size if (side == "sell" and held is not None) else 0.0
                kind = "market"
                if side == "buy" and self.broker.pending_entry[s].kind != "market":
                    order = self.broker.pending_entry[s]
                    kind = f"{order.kind} {order.price:g}"
                elif side == "sell" and self.broker.pending_exit.get(s, 0.0) > 0.0:
                    kind = f"limit {self.broker.pending_exit[s]:g}"
                oid = led.place_order(s, side, ts, qty, close,
                                      f"{kind} {side} from the next open ({'entry' if side == 'buy' else 'exit'} "
                                      f"signal of {ts.isoformat()})")
                old = self.orders.get(s, {}).get(side)
                if old is not None:         # a new signal replaces the waiting order
                    led.close_order(old, "cancelled", ts, f"replaced by the signal of {ts.isoformat()}")
                self.orders.setdefault(s, {})[side] = oid
                status = {"status": "pending", "symbol": s, "side": side, "placed_at_bar": ts.isoformat(),
                          "paper_run_id": self.row.id}
                redis_ops.append(("order", oid, status, True))
            if exit_ and not sell and not buy:        # an exit signal cancels a waiting buy
                old = self.orders.get(s, {}).pop("buy", None)
                if old is not None:
                    led.close_order(old, "cancelled", ts, f"cancelled by the exit signal of {ts.isoformat()}")

    def _fill(self, led: BarLedger, ts: pd.Timestamp, ev: Fill, redis_ops: list[_Op]) -> None:
        waiting = self.orders.get(ev.symbol, {})
        oid = waiting.get(ev.side) if ev.partial else waiting.pop(ev.side, None)
        if oid is None:   # a stop-loss / take-profit / time exit: the exchange-side order is placed now
            oid = led.place_order(ev.symbol, ev.side, ts, ev.quantity, ev.price, f"{ev.reason} order")
            if ev.partial:
                waiting[ev.side] = oid
        text = None if ev.side == "buy" else f"{ev.reason} at {ev.reference_price:g}"
        pos = ev.position
        parts = self.parts.setdefault(oid, [0.0, 0.0, 0.0])   # quantity, value, fee of the order so far
        if ev.partial or parts[0] > 0.0:
            parts[0] += ev.quantity
            parts[1] += ev.quantity * ev.price
            parts[2] += ev.fee
            led.fill_order_part(oid, ts, parts[0], parts[1] / parts[0], parts[2], done=not ev.partial, note=text)
            if not ev.partial:
                del self.parts[oid]
        else:
            del self.parts[oid]
            led.fill_order(oid, ts, ev.quantity, ev.price, ev.fee, text)
        if ev.side == "buy":
            if pos.position_id is None:
                pos.position_id = led.open_position(ev.symbol, ts, ev.quantity, ev.price, ev.fee, pos.sl_price,
                                                    pos.tp_price)
            else:     # the rest of a volume-capped buy
                led.add_to_position(pos.position_id, ts, pos.bought, pos.entry_price, pos.entry_fee)
        elif not ev.partial and pos.position_id is not None:
            led.close_position(pos.position_id, ts, ev.exit_price, ev.exit_fee, ev.reason, ev.pnl)
        led.trade(oid, pos.position_id, ev.symbol, ev.side, ts, ev.quantity, ev.price, ev.fee)
        order = {"order_id": oid, "symbol": ev.symbol, "side": ev.side,
                 "status": "partially_filled" if ev.partial else "filled",
                 "quantity": ev.quantity, "price": ev.price, "fee": ev.fee, "reason": ev.reason,
                 "reference_price": ev.reference_price, "bar": ts.isoformat()}
        if ev.side == "sell" and not ev.partial:
            order["pnl"] = ev.pnl
        led.execution("order", ts, order=order)
        self.outcome.fills += 1
        redis_ops.append(("order", oid, order, ev.partial))
        redis_ops.append(("notify", 0, {"kind": "fill", "paper_run_id": self.row.id, **order}, False))

    def _publish(self, ops: list[_Op]) -> None:
        """Mirror a committed bar into Redis."""
        for kind, oid, payload, active in ops:
            if kind == "order":
                self.channel.order(oid, payload, active=active)
            elif kind == "notify":
                self._notify(payload)
            else:
                self.channel.signal(payload)

    def _notify(self, note: dict[str, Any]) -> None:
        """A fill or an order not filled as a notification of the run's user."""
        run = self.row.id
        if note["kind"] == "fill":
            kind = "paper_fill"
            text = (f"paper run {run}: {note['side']} {note['quantity']:g} {note['symbol']} filled at "
                    f"{note['price']:g} KRW ({note['reason']})")
        else:
            kind = f"paper_{note['kind']}"
            text = f"paper run {run}: {note['side']} order of {note['symbol']} not filled: {note['reason']}"
        data = {k: v for k, v in note.items() if k != "kind" and isinstance(v, str | int | float | bool)}
        notify(self.wb, kind, text, user_id=self.row.user_id, **data)

    @property
    def equity(self) -> float:
        return float(self.broker.equity)


def _start(wb: PaperContext, strategy: Strategy, symbols: str | Sequence[str], timeframe: str, *, mode: str,
           start: pd.Timestamp, trade_start: pd.Timestamp, end: pd.Timestamp | None,
           config: BacktestConfig | None, rules: OrderRules | None) -> int:
    config = config or BacktestConfig()
    rules = rules if rules is not None else OrderRules()
    sid = save_strategy(wb.db, wb.user_id, strategy)
    return create_run(wb.db, user_id=wb.user_id, strategy_id=sid, mode=mode, symbols=_symbols(symbols),
                      timeframe=normalize_timeframe(timeframe), start_time=start, trade_start=trade_start,
                      end_time=end, config=config.to_dict(), rules=rules.to_dict(), capital=config.initial_capital)


class PollOptions(TypedDict, total=False):
    """A live run's polling options (:func:`live`; :func:`resume` of a live run passes them on)."""

    poll_interval: float | None
    max_polls: int | None
    now: Callable[[], pd.Timestamp] | None


class ReplayOptions(TypedDict, total=False):
    """:func:`replay`'s keyword options (``Workbench.paper_replay`` passes them on)."""

    config: BacktestConfig | None
    rules: OrderRules | None
    speed: float | None
    max_bars: int | None
    progress: bool
    sleep: Callable[[float], None]


class LiveOptions(PollOptions, total=False):
    """:func:`live`'s keyword options (``Workbench.paper_live`` passes them on)."""

    config: BacktestConfig | None
    rules: OrderRules | None
    warmup: int
    sleep: Callable[[float], None]


class ResumeOptions(PollOptions, total=False):
    """:func:`resume`'s keyword options besides ``client`` (``Workbench.paper_resume`` passes them on)."""

    speed: float | None
    max_bars: int | None
    progress: bool
    sleep: Callable[[float], None]


def replay(wb: PaperContext, strategy: Strategy, symbols: str | Sequence[str], timeframe: str, start: TimeLike,
           end: TimeLike, *, config: BacktestConfig | None = None, rules: OrderRules | None = None,
           speed: float | None = None, max_bars: int | None = None, progress: bool = False,
           sleep: Callable[[float], None] = time.sleep) -> PaperOutcome:
    """Paper-trade ``strategy`` over the stored candles in ``[start, end)``, bar by bar.

    ``rules`` defaults to Bithumb's order rules (:class:`OrderRules`); ``OrderRules.off()`` makes the
    run fill exactly as the backtest. ``speed``: bars are paced at ``speed`` times real time (None: as
    fast as possible). ``max_bars`` stops early (the run can be resumed).
    """
    s, e = to_utc(start, name="start"), to_utc(end, name="end")
    if not s < e:
        raise ValidationError(f"replay window: start {s} must be before end {e}")
    _check_pace(speed, max_bars)
    tf = normalize_timeframe(timeframe)
    names = _symbols(symbols)
    _require_candles(wb, names, tf, s, e)   # before the run's rows exist: a failed start leaves none
    run_id = _start(wb, strategy, names, tf, mode="replay", start=s, trade_start=s, end=e,
                    config=config, rules=rules)
    return resume(wb, run_id, speed=speed, max_bars=max_bars, progress=progress, sleep=sleep)


def resume(wb: PaperContext, run_id: int, *, speed: float | None = None, max_bars: int | None = None,
           progress: bool = False, sleep: Callable[[float], None] = time.sleep, client: CandleSource | None = None,
           **live_options: Unpack[PollOptions]) -> PaperOutcome:
    """Continue a stopped run from its last written bar (a live run needs ``client``).

    One process at a time runs a run: InUseError (naming the other process) if another one runs it."""
    _check_pace(speed, max_bars)
    _check_polling(live_options.get("poll_interval"), live_options.get("max_polls"))
    with hold_paper_run(wb.db, run_id):
        return _continue(_open_run(wb, run_id), speed=speed, max_bars=max_bars, progress=progress, sleep=sleep,
                         client=client, **live_options)


def _open_run(wb: PaperContext, run_id: int) -> _Run | PortfolioRun:
    """The run in this process: a portfolio strategy's on its book, any other's on the paper broker."""
    row = get_run(wb.db, run_id)
    strategy = load_strategy(wb.db, row.strategy_id)
    if isinstance(strategy, PortfolioStrategy):
        return PortfolioRun(wb, row, strategy)
    return _Run(wb, row, strategy)


def _continue(run: _Run | PortfolioRun, *, speed: float | None, max_bars: int | None, progress: bool,
              sleep: Callable[[float], None], client: CandleSource | None,
              **live_options: Unpack[PollOptions]) -> PaperOutcome:
    wb, run_id = run.wb, run.row.id
    if run.row.mode == "live":
        if client is None:
            raise ValidationError(f"paper run {run_id} is live: resuming it needs a Bithumb client")
        return _live_loop(run, client, sleep=sleep, **live_options)
    assert run.row.end_time is not None
    run.load_history(run.row.end_time)
    todo = run.pending_bars(run.row.end_time)
    if not todo and run.row.last_bar is None:
        raise ValidationError(f"no stored {run.tf} candles of {','.join(run.row.symbols)} in "
                              f"[{run.row.start_time}, {run.row.end_time})")
    if max_bars is not None:
        todo = todo[:max_bars]
    pace = None if speed is None else timeframe_offset(run.tf).total_seconds() / speed
    set_status(wb.db, run_id, "running")
    from tqdm.auto import tqdm

    try:
        for ts in tqdm(todo, desc=f"paper run {run_id}", unit="bar", disable=not progress):
            run.process(ts)
            if pace:
                sleep(pace)
    except KeyboardInterrupt:
        run.finish("stopped")
        raise
    except Exception:
        run.finish("failed")
        raise
    done = run.outcome.last_bar is not None and not run.pending_bars(run.row.end_time)
    return run.finish("finished" if done else "stopped")


def live(wb: PaperContext, strategy: Strategy, symbols: str | Sequence[str], timeframe: str, client: CandleSource,
         *, config: BacktestConfig | None = None, rules: OrderRules | None = None, warmup: int = 200,
         poll_interval: float | None = None, max_polls: int | None = None,
         now: Callable[[], pd.Timestamp] | None = None, sleep: Callable[[float], None] = time.sleep) -> PaperOutcome:
    """Paper-trade ``strategy`` on candles polled from Bithumb's public API.

    The last ``warmup`` bars before now warm the indicators up (no entries there); from the current bar
    on, each completed bar is stored in ``candles`` and traded. The client is rate-limited and retries
    (see :class:`~workbench.ingest.bithumb.BithumbClient`); when it gives up, the error is recorded and
    polling goes on after a growing pause. ``max_polls`` bounds the loop (default: until Ctrl-C).
    """
    tf = normalize_timeframe(timeframe)
    if tf not in LIVE_TIMEFRAMES:
        raise ValidationError(f"live paper trading polls Bithumb's candles: timeframe must be one of "
                              f"{', '.join(LIVE_TIMEFRAMES)} (got {tf!r})")
    WARMUP.check(warmup, "warmup")
    _check_polling(poll_interval, max_polls)
    names = _symbols(symbols)
    clock = now or (lambda: pd.Timestamp.now(tz="UTC"))
    step = timeframe_offset(tf)
    current = clock().floor(step) if step <= pd.Timedelta(days=1) else clock().floor("D")
    run_id = _start(wb, strategy, names, tf, mode="live", start=current - warmup * step, trade_start=current,
                    end=None, config=config, rules=rules)
    return resume(wb, run_id, client=client, poll_interval=poll_interval, max_polls=max_polls, now=clock,
                  sleep=sleep)


def _live_loop(run: _Run | PortfolioRun, client: CandleSource, *, poll_interval: float | None = None,
               max_polls: int | None = None, now: Callable[[], pd.Timestamp] | None = None,
               sleep: Callable[[float], None] = time.sleep, max_backoff: float = 300.0) -> PaperOutcome:
    from workbench.ingest.bithumb import BithumbError

    clock = now or (lambda: pd.Timestamp.now(tz="UTC"))
    step = timeframe_offset(run.tf)
    interval = poll_interval if poll_interval is not None else min(step.total_seconds() / 4, 60.0)
    failures = 0
    polls = 0
    set_status(run.wb.db, run.row.id, "running")
    try:
        while max_polls is None or polls < max_polls:
            polls += 1
            t = clock()
            complete_until = t - step     # a bar is complete once its end (ts + step) has passed
            try:
                for s in run.row.symbols:
                    since = run.outcome.last_bar or run.row.start_time
                    need = int(np.ceil((t - since) / step)) + 2
                    frame = client.v1_candles(s, run.tf, count=max(2, min(200, need)))
                    if len(frame):
                        frame = frame[frame["timestamp"] <= complete_until]
                        if len(frame):
                            write_frame(run.wb.db, "candles", frame, cache=run.wb.cache)
                failures = 0
            except BithumbError as err:
                failures += 1
                run.error(f"polling Bithumb failed ({failures} in a row): {err}")
                sleep(min(max_backoff, interval * 2 ** failures))
                continue
            run.load_history(complete_until + pd.Timedelta(microseconds=1))
            for ts in run.pending_bars(complete_until + pd.Timedelta(microseconds=1)):
                run.process(ts)
            if max_polls is None or polls < max_polls:
                sleep(interval)
    except KeyboardInterrupt:
        run.finish("stopped")
        raise
    except Exception:
        run.finish("failed")
        raise
    return run.finish("stopped")
