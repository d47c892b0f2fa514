"""Benchmark: one EMA-cross backtest on a year of 1-minute bars (525,600 bars).

Engines timed on the same bars and the same signals:

* workbench  -- ``workbench.core.backtest.run_backtest`` with ``EmaCross(fast=50, slow=200)``, all-in
  (``Risk(stop_loss_pct=0, take_profit_pct=0, risk_per_trade=100, max_positions=1)`` -> position
  fraction 1.0), ``BacktestConfig(fee_rate=0.0025, slippage=0)``;
* raw vectorbt -- the same shifted signals (``workbench.core.indicators.ema`` + ``crossed_above`` /
  ``crossed_below``) into ``vbt.Portfolio.from_signals(close, entries, exits, price=open, ...)``,
  producing what workbench produces (equity curve, trade records, total return). Run twice: on the
  same UTC-indexed frame workbench gets, and on the same frame with a tz-naive index;
* backtesting.py -- ``Backtest(..., commission=0.0025, trade_on_close=False)`` with the same
  EMA-cross rule in ``next()``; timed on the full grid when a probe says it finishes within
  ``--bt-budget`` seconds, else on a slice with the per-bar time extrapolated (labelled so).

All times are warm: each engine runs once untimed first (numba compiled / loaded from the cache), then
``--repeat`` interleaved rounds (order rotated each round); min and median times and ratios.
Exits 1 if workbench and raw vectorbt disagree on the number of trades or the total return (1e-6).

Run:  NUMBA_CACHE_DIR=.cache/numba .venv/bin/python benchmarks/bench_backtest.py
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Timing, emit, fmt_int, interleaved, machine_line, make_bars, setup_env, timing_table  # noqa: E402

INIT_CASH = 10_000_000.0
FEE = 0.0025


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--days", type=int, default=365, help="days of 1m bars (365 -> 525,600 bars)")
    p.add_argument("--repeat", type=int, default=5, help="interleaved rounds (after 1 warm-up per engine)")
    p.add_argument("--fast", type=int, default=50)
    p.add_argument("--slow", type=int, default=200)
    p.add_argument("--bt-budget", type=float, default=300.0,
                   help="seconds: interleave backtesting.py on the full grid only if a probe predicts its "
                   "warm-up and rounds take less")
    p.add_argument("--bt-slice", type=int, default=50_000, help="bars of the backtesting.py probe")
    p.add_argument("--bt-cash", type=float, default=1e15,
                   help="backtesting.py buys whole units: a large cash makes the rounding negligible")
    p.add_argument("--skip-backtesting-py", action="store_true")
    p.add_argument("--skip-naive", action="store_true", help="skip raw vectorbt on a tz-naive index")
    p.add_argument("--skip-utc", action="store_true",
                   help="skip raw vectorbt on the UTC index (its slow path: tens of seconds per run)")
    p.add_argument("--profile", action="store_true", help="cProfile one warm workbench run")
    return p.parse_args(argv)


# ----------------------------------------------------------------------------------------- data
# -------------------------------------------------------------------------------------- engines
def run_workbench(df: Any, fast: int, slow: int) -> Any:
    from workbench.core.backtest import BacktestConfig, run_backtest
    from workbench.core.strategies import EmaCross, Risk

    risk = Risk(stop_loss_pct=0, take_profit_pct=0, risk_per_trade=100, max_positions=1)
    strat = EmaCross(fast=fast, slow=slow, risk=risk)
    return run_backtest(df, strat, BacktestConfig(fee_rate=FEE, slippage=0), timeframe="1m")


def run_vectorbt(df: Any, fast: int, slow: int) -> dict[str, Any]:
    """The same signals straight into vectorbt; returns what workbench returns (equity, trades)."""
    import vectorbt as vbt

    from workbench.core.indicators import ema
    from workbench.core.strategies import crossed_above, crossed_below

    f, s = ema(df["close"], fast), ema(df["close"], slow)
    entries = crossed_above(f, s).shift(1, fill_value=False)
    exits = crossed_below(f, s).shift(1, fill_value=False)
    pf = vbt.Portfolio.from_signals(df["close"], entries, exits, price=df["open"], fees=FEE,
                                    init_cash=INIT_CASH, size=1.0, size_type="percent", freq="1min")
    value = pf.value()
    rec = pf.trades.values
    return {"pf": pf, "equity": value, "records": rec, "entries": entries, "exits": exits,
            "total_return": float(value.iloc[-1]) / INIT_CASH - 1.0}


def make_bt_strategy(fast: int, slow: int) -> type:
    import numpy as np
    import pandas as pd
    from backtesting import Strategy

    from workbench.core.indicators import ema

    def _ema(x: Any, n: int) -> np.ndarray:
        return ema(pd.Series(np.asarray(x, dtype=float)), n).to_numpy()

    class EmaCrossBT(Strategy):
        n_fast = fast
        n_slow = slow

        def init(self) -> None:
            self.f = self.I(_ema, self.data.Close, self.n_fast, name="ema_fast")
            self.s = self.I(_ema, self.data.Close, self.n_slow, name="ema_slow")

        def next(self) -> None:
            # the workbench rule: a > b now and a <= b on the previous bar (orders fill at next open)
            f, s = self.f, self.s
            if not self.position:
                if f[-1] > s[-1] and f[-2] <= s[-2]:
                    self.buy()
            elif f[-1] < s[-1] and f[-2] >= s[-2]:
                self.position.close()

    return EmaCrossBT


def run_backtesting_py(df: Any, strat: type, cash: float) -> Any:
    import warnings

    from backtesting import Backtest

    bars = df.rename(columns=str.capitalize)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = Backtest(bars, strat, cash=cash, commission=FEE, trade_on_close=False,
                      exclusive_orders=False, finalize_trades=True)
        return bt.run()


# ---------------------------------------------------------------------------------- correctness
def compare(wb: Any, vb: dict[str, Any], label: str) -> list[str]:
    """Problems found comparing a workbench result with a raw vectorbt one (empty = agree)."""
    import numpy as np

    problems = []
    wb_trades = len(wb.trades)
    wb_closed = int((wb.trades["status"] == "closed").sum())
    rec = vb["records"]
    vb_trades = len(rec)
    vb_closed = int((rec["status"] == 1).sum())
    wb_ret = float(wb.metrics.total_return)
    vb_ret = vb["total_return"]
    eq_wb = wb.equity.to_numpy()
    eq_vb = np.asarray(vb["equity"], dtype=float)
    eq_diff = float(np.max(np.abs(eq_wb - eq_vb) / np.maximum(np.abs(eq_vb), 1e-12)))
    print(f"  workbench      : {wb_trades} trades ({wb_closed} closed), total return {wb_ret:+.12f}, "
          f"final equity {eq_wb[-1]:,.6f} KRW")
    print(f"  {label:<15}: {vb_trades} trades ({vb_closed} closed), total return {vb_ret:+.12f}, "
          f"final equity {eq_vb[-1]:,.6f} KRW")
    print(f"  max relative equity difference over all bars: {eq_diff:.3e}")
    if wb_trades != vb_trades or wb_closed != vb_closed:
        problems.append(f"{label}: trade count differs (workbench {wb_trades}/{wb_closed} closed, "
                        f"vectorbt {vb_trades}/{vb_closed} closed)")
        n = min(wb_trades, vb_trades)
        wb_entry = wb.equity.index.get_indexer(wb.trades["entry_time"])[:n]
        diff = np.flatnonzero(wb_entry != rec["entry_idx"][:n])
        if len(diff):
            k = int(diff[0])
            problems.append(f"  first differing trade #{k}: workbench entry bar {wb_entry[k]}, "
                            f"vectorbt entry bar {rec['entry_idx'][k]}")
    if abs(wb_ret - vb_ret) > 1e-6:
        problems.append(f"{label}: total return differs by {abs(wb_ret - vb_ret):.3e} (> 1e-6)")
    return problems


# ------------------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_env()
    print(f"# bench_backtest  ({machine_line()})")
    import numba
    import vectorbt as vbt

    print(f"vectorbt {vbt.__version__}, numba {numba.__version__}")
    t0 = time.perf_counter()
    df = make_bars(args.days)
    n = len(df)
    print(f"bars: {fmt_int(n)} x 1m ({df.index[0]} .. {df.index[-1]}), generated in "
          f"{time.perf_counter() - t0:.1f} s; EMA {args.fast}/{args.slow}, fee {FEE}, all-in, long only")
    if args.days == 365 and n != 525_600:
        print(f"ERROR: expected 525,600 bars, got {n}")
        return 1

    from workbench.core.strategies import Risk

    frac = Risk(stop_loss_pct=0, take_profit_pct=0, risk_per_trade=100, max_positions=1).position_fraction
    print(f"workbench position_fraction = {frac}")
    if frac != 1.0:
        print("ERROR: the Risk settings do not give an all-in position (fraction 1.0)")
        return 1

    methods: dict[str, Any] = {"workbench": lambda: run_workbench(df, args.fast, args.slow)}
    if not args.skip_utc:
        methods["raw vectorbt"] = lambda: run_vectorbt(df, args.fast, args.slow)
    if not args.skip_naive:
        naive = df.copy(deep=False)
        naive.index = df.index.tz_localize(None)
        methods["raw vectorbt, tz-naive index"] = lambda: run_vectorbt(naive, args.fast, args.slow)
    extrapolated = None
    if not args.skip_backtesting_py:
        print("\n## backtesting.py probe")
        strat = make_bt_strategy(args.fast, args.slow)
        m = min(args.bt_slice, n)
        probe = interleaved({f"backtesting.py probe ({fmt_int(m)} bars)":
                             lambda: run_backtesting_py(df.iloc[:m], strat, args.bt_cash)}, rounds=1, warmup=0)
        per_bar = next(iter(probe.values())).best / m
        est = per_bar * n
        print(f"  per bar {per_bar * 1e6:.2f} us -> full grid estimate {est:.1f} s (budget {args.bt_budget:.0f} s "
              f"for {args.repeat + 1} runs)")
        if est * (args.repeat + 1) <= args.bt_budget:
            methods["backtesting.py"] = lambda: run_backtesting_py(df, strat, args.bt_cash)
        else:
            extrapolated = Timing("backtesting.py (EXTRAPOLATED)", times=[est], n=n,
                                  note=f"from a {fmt_int(m)}-bar slice at {per_bar * 1e6:.2f} us/bar")
            print(f"  over the budget: reporting the per-bar extrapolation ({est:.1f} s), not interleaved")
    print(f"\n## {args.repeat} interleaved rounds (each engine warmed up first)")
    t = interleaved(methods, rounds=args.repeat, n=n)
    timings: list[Timing] = list(t.values()) + ([extrapolated] if extrapolated else [])
    wb_t = t["workbench"]
    wb = wb_t.result
    vb_t = t.get("raw vectorbt")
    vn_t = t.get("raw vectorbt, tz-naive index")
    bt_t = t.get("backtesting.py") or extrapolated
    bt_stats = t["backtesting.py"].result if "backtesting.py" in t else None

    # ------------------------------------------------------------------ correctness
    print("\n## correctness: workbench vs raw vectorbt")
    problems = compare(wb, vb_t.result, "raw vectorbt") if vb_t is not None else []
    if vn_t is not None:
        problems += compare(wb, vn_t.result, "vbt tz-naive")
    if bt_stats is not None:
        bt_ret = float(bt_stats["Return [%]"]) / 100
        print(f"  backtesting.py : {int(bt_stats['# Trades'])} trades (last one closed at the end by "
              f"finalize_trades), total return {bt_ret:+.12f}  (info only: backtesting.py buys whole "
              f"units and charges commission on its own fill price)")
    for p in problems:
        print(f"  MISMATCH: {p}")
    if not problems:
        print("  OK: same trades and total return within 1e-6")

    if args.profile:
        import cProfile
        import pstats

        print("\n## cProfile of one warm workbench run (top 20 by cumulative time)")
        prof = cProfile.Profile()
        prof.runcall(run_workbench, df, args.fast, args.slow)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(20)

    # ------------------------------------------------------------------ summary
    print(f"\n## results (warm; {args.repeat} interleaved rounds; ratios of min and of median times)\n")
    print(timing_table([x for x in timings if x is not extrapolated], wb_t))
    if extrapolated is not None:
        print(f"| {extrapolated.name} | {extrapolated.best:.3f} | - | - | - | - |")
    print()
    label = f"one backtest, {fmt_int(n)} 1m bars, warm"
    for ref in (vn_t, vb_t):
        if ref is not None:
            emit("bench_backtest", label, wb_t, ref)
    if bt_t is not None and bt_t is not extrapolated:
        emit("bench_backtest", label, wb_t, bt_t)
    elif extrapolated is not None:
        print(f"backtesting.py / workbench: {extrapolated.best / wb_t.best:.1f}x (EXTRAPOLATED)")
    if problems:
        print("\nFAILED: correctness check (see MISMATCH above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
