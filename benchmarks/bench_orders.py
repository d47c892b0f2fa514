"""Benchmark: raw order throughput, a strategy that flips every bar (issue 21, item 3).

The decision alternates every bar (enter on even bars, exit on odd ones), so after the one-bar shift
every bar from the second on fills one order at its open: ``--bars`` (1,000,000) bars give about as many
orders (half buys, half sells) and half as many trades. All in (fraction 1.0 of equity), fee 0.25 %,
no slippage, synthetic 1m bars (``make_bars``).

* workbench -- ``run_backtest(df, Flip(risk=all in), BacktestConfig(fee_rate=1e-6, slippage=0),
  timeframe="1m")``: signals, validation, kernel, trade list and every metric;
* vectorbt -- the same orders as a size array (``+inf`` on the buy bars, ``-inf`` on the sell bars,
  built inside the timed call) into ``vbt.Portfolio.from_orders(close, size, price=open, fees=1e-6,
  direction="longonly")``, then ``value()`` and the trade records: what the workbench returns (equity
  curve, trade list). ``vectorbt from_orders alone`` (no value, no trades) is timed too, for information.

Interleaved warm rounds (``_common.interleaved``), min and median ratios, orders per second of each.
Exits 1 if the two disagree on the number of orders, of trades, or the total return (relative 1e-9).
Goal (issue 21): workbench <= 1.0x vectorbt (at least vectorbt's throughput).

Run:  .venv/bin/python benchmarks/bench_orders.py [--bars 1000000] [--repeat 5] [--profile]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, fmt_int, interleaved, machine_line, make_bars, setup_env, timing_table  # noqa: E402

INIT_CASH = 10_000_000.0
FEE = 1e-6   # 1M orders: a larger fee takes the equity to ~0 (and the orders to dust)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--bars", type=int, default=1_000_000, help="1m bars (one order on each but the first)")
    p.add_argument("--repeat", type=int, default=5, help="interleaved rounds (after 1 warm-up each)")
    p.add_argument("--profile", action="store_true", help="cProfile one warm workbench run")
    return p.parse_args(argv)


def flip_strategy() -> Any:
    import numpy as np
    import pandas as pd

    from workbench.core.strategies import Risk
    from workbench.core.strategies.base import Strategy

    class Flip(Strategy):
        """Enter on even bars, exit on odd bars (decided on the close, filled at the next open)."""

        strategy_type = "scalping"
        defaults: dict[str, Any] = {}

        def generate(self, df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
            even = np.arange(len(df)) % 2 == 0
            return pd.Series(even, index=df.index), pd.Series(~even, index=df.index)

    return Flip(risk=Risk(stop_loss_pct=0, take_profit_pct=0, risk_per_trade=100, max_positions=1))


def run_workbench(df: Any, strat: Any) -> Any:
    from workbench.core.backtest import BacktestConfig, run_backtest

    return run_backtest(df, strat, BacktestConfig(fee_rate=FEE, slippage=0), timeframe="1m")


def flip_sizes(n: int) -> Any:
    import numpy as np

    size = np.where(np.arange(n) % 2 == 1, np.inf, -np.inf)   # bar i acts on bar i-1's decision
    size[0] = np.nan
    return size


def run_vectorbt(df: Any, *, full: bool = True) -> dict[str, Any]:
    import vectorbt as vbt

    pf = vbt.Portfolio.from_orders(df["close"], flip_sizes(len(df)), price=df["open"], fees=FEE,
                                   init_cash=INIT_CASH, direction="longonly", freq="1min")
    if not full:
        return {"orders": pf.orders.count()}
    value = pf.value()
    rec = pf.trades.values
    return {"orders": pf.orders.count(), "trades": len(rec), "equity": value.to_numpy(),
            "total_return": float(value.iloc[-1]) / INIT_CASH - 1.0}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_env()
    print(f"# bench_orders  ({machine_line()})")
    import numpy as np
    import vectorbt as vbt

    days = -(-args.bars // 1440)
    df = make_bars(days).iloc[:args.bars]
    df.index = df.index.tz_localize(None).tz_localize("UTC")   # a plain UTC index, as loaded
    naive = df.copy(deep=False)
    naive.index = df.index.tz_localize(None)                     # vectorbt's fast path
    n = len(df)
    strat = flip_strategy()
    print(f"vectorbt {vbt.__version__}; {fmt_int(n)} 1m bars; flip every bar, fee {FEE}, all in")
    methods = {"workbench": lambda: run_workbench(df, strat),
               "vectorbt from_orders + value + trades": lambda: run_vectorbt(naive),
               "vectorbt from_orders alone": lambda: run_vectorbt(naive, full=False)}
    print(f"\n## {args.repeat} interleaved rounds")
    t = interleaved(methods, rounds=args.repeat, n=n)
    wb_t, vb_t, vo_t = t.values()
    wb, vb = wb_t.result, vb_t.result
    wb_orders = int(len(wb.trades) + (wb.trades["status"] == "closed").sum())
    print("\n## correctness")
    eq_diff = float(np.max(np.abs(wb.equity.to_numpy() - vb["equity"]) / np.abs(vb["equity"])))
    print(f"  workbench: {fmt_int(wb_orders)} orders, {fmt_int(len(wb.trades))} trades, total return "
          f"{wb.metrics.total_return:+.15f}")
    print(f"  vectorbt : {fmt_int(vb['orders'])} orders, {fmt_int(vb['trades'])} trades, total return "
          f"{vb['total_return']:+.15f}; max relative equity difference {eq_diff:.2e}")
    problems = []
    if wb_orders != vb["orders"] or len(wb.trades) != vb["trades"]:
        problems.append("order or trade counts differ")
    if abs(wb.metrics.total_return - vb["total_return"]) > 1e-9 * max(1.0, abs(vb["total_return"])):
        problems.append("total return differs")
    if eq_diff > 1e-9:
        problems.append("equity differs")
    for p in problems:
        print(f"  MISMATCH: {p}")
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.runcall(run_workbench, df, strat)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)

    print(f"\n## results (warm; {args.repeat} interleaved rounds)\n")
    print(timing_table([wb_t, vb_t, vo_t], vb_t))
    for x in (wb_t, vb_t, vo_t):
        print(f"  {x.name}: {wb_orders / x.best / 1e6:.2f}M orders/s (min), "
              f"{wb_orders / x.median / 1e6:.2f}M orders/s (median)")
    label = f"order throughput: flip every bar, {fmt_int(n)} 1m bars ({fmt_int(wb_orders)} orders), warm"
    emit("bench_orders", label, wb_t, vb_t, goal=1.0)
    emit("bench_orders", label, wb_t, vo_t)
    if problems:
        print("\nFAILED: correctness check")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
