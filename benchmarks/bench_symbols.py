"""Benchmark: several symbols sharing one cash account (issue 21, item 4).

An EMA cross (``--fast`` 12 / ``--slow`` 26 on the close, decided on the close, filled at the next
open) on each of ``k`` symbols of ``--bars`` (8,760) 1h bars, all in one account, for each ``k`` of
``--symbols`` (10 50 100 200); fee 0.25 %, a fixed budget per entry (``initial cash / (2 k)``, so the
shared cash never runs short and the fill order within a bar cannot change a result):

* workbench -- ``run_backtest(md, EmaCross(fast, slow, risk=Risk(sizing="fixed_krw", position_krw=...,
  max_positions=k, no stops)), BacktestConfig(fee_rate=0.0025, slippage=0))`` on the ``MarketData`` of the
  ``k`` symbols (prepared once, as vectorbt's wide frames are): each symbol's signals, the kernel, every
  metric;
* vectorbt -- the same rule on the wide close frame (the same EMA, TA-Lib's, by the workbench's compiled
  kernel per column: vectorbt's own EWM is seeded differently; the crossings in numpy, shifted one bar)
  into ``Portfolio.from_signals(close, entries, exits, price=open, size=budget / (open * (1 + fee)),
  size_type="amount", fees=0.0025, cash_sharing=True, group_by=True)`` (the workbench's quantity: the
  budget buys with the fee on top), then ``value()`` and the trade records: what the workbench returns.

Interleaved warm rounds per ``k`` (``_common.interleaved``), min and median ratios; the workbench's time
per symbol shows whether its cost is linear. Exits 1 if the two disagree on the number of trades or
on the equity (relative 1e-9). Goal (issue 21): workbench <= 0.6x vectorbt at every ``k``.

Run:  .venv/bin/python benchmarks/bench_symbols.py [--symbols 10 50 100 200] [--repeat 5] [--profile]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, interleaved, machine_line, setup_env, timing_table  # noqa: E402

CAPITAL = 10_000_000.0
FEE = 0.0025


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--symbols", type=int, nargs="+", default=[10, 50, 100, 200])
    p.add_argument("--bars", type=int, default=8760)
    p.add_argument("--fast", type=int, default=12)
    p.add_argument("--slow", type=int, default=26)
    p.add_argument("--repeat", type=int, default=5, help="interleaved rounds per symbol count")
    p.add_argument("--profile", action="store_true", help="cProfile one workbench run at the largest count")
    return p.parse_args(argv)


def make_universe(k: int, n: int, seed: int = 0) -> Any:
    """``k`` random-walk symbols of ``n`` 1h bars as MarketData."""
    import numpy as np
    import pandas as pd

    from workbench.core.backtest import prepare_data

    rng = np.random.default_rng(seed)
    idx = pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC", name="ts")
    close = 1000 * np.exp(np.cumsum(rng.normal(0.0, 0.01, (n, k)), axis=0))
    open_ = np.vstack([close[:1], close[:-1]]) * np.exp(rng.normal(0.0, 0.001, (n, k)))
    data = {f"KRW-S{j:03d}": pd.DataFrame({"open": open_[:, j], "high": np.maximum(open_[:, j], close[:, j]) * 1.001,
                                           "low": np.minimum(open_[:, j], close[:, j]) * 0.999,
                                           "close": close[:, j], "volume": 1.0}, index=idx)
            for j in range(k)}
    return prepare_data(data, timeframe="1h")


def run_workbench(md: Any, strat: Any) -> Any:
    from workbench.core.backtest import BacktestConfig, run_backtest

    return run_backtest(md, strat, BacktestConfig(initial_capital=CAPITAL, fee_rate=FEE, slippage=0))


def run_vectorbt(close: Any, open_: Any, fast: int, slow: int, budget: float) -> dict[str, Any]:
    import numpy as np
    import vectorbt as vbt

    from workbench.core.indicators._kernels import ema_kernel

    c = close.to_numpy()
    f = np.column_stack([ema_kernel(c[:, j], fast) for j in range(c.shape[1])])
    s = np.column_stack([ema_kernel(c[:, j], slow) for j in range(c.shape[1])])
    above, below = f > s, f < s
    prev_le, prev_ge = np.vstack([np.zeros((1, f.shape[1]), bool), f[:-1] <= s[:-1]]), \
        np.vstack([np.zeros((1, f.shape[1]), bool), f[:-1] >= s[:-1]])
    entries = np.zeros_like(above)
    exits = np.zeros_like(above)
    entries[1:] = (above & prev_le)[:-1]        # decided on the close, acted on at the next open
    exits[1:] = (below & prev_ge)[:-1]
    size = budget / (open_ * (1.0 + FEE))
    pf = vbt.Portfolio.from_signals(close, entries, exits, price=open_, size=size, size_type="amount", fees=FEE,
                                    init_cash=CAPITAL, cash_sharing=True, group_by=True, freq="1h")
    value = np.asarray(pf.value()).ravel()
    return {"equity": value, "trades": len(pf.trades.values)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_env()
    print(f"# bench_symbols  ({machine_line()})")
    import numpy as np
    import pandas as pd
    import vectorbt as vbt

    from workbench.core.strategies import EmaCross, Risk

    print(f"vectorbt {vbt.__version__}; EMA {args.fast}/{args.slow}, {args.bars:,} 1h bars per symbol, fee {FEE}")
    problems: list[str] = []
    per_symbol = []
    for k in args.symbols:
        md = make_universe(k, args.bars)
        close = pd.DataFrame(md.array("close"), index=md.index.tz_localize(None), columns=md.symbols)
        open_ = md.array("open")
        budget = CAPITAL / (2 * k)
        strat = EmaCross(fast=args.fast, slow=args.slow,
                         risk=Risk(stop_loss_pct=0, take_profit_pct=0, max_positions=k, sizing="fixed_krw",
                                   position_krw=budget))
        print(f"\n## {k} symbols: {args.repeat} interleaved rounds")
        t = interleaved({"workbench": lambda md=md, strat=strat: run_workbench(md, strat),
                         "vectorbt (cash sharing)": lambda close=close, open_=open_, budget=budget:
                         run_vectorbt(close, open_, args.fast, args.slow, budget)},
                        rounds=args.repeat, unit="ms")
        wb_t, vb_t = t.values()
        wb, vb = wb_t.result, vb_t.result
        eq = wb.equity.to_numpy()
        diff = float(np.max(np.abs(eq - vb["equity"]) / np.abs(vb["equity"])))
        print(f"  trades: workbench {len(wb.trades):,}, vectorbt {vb['trades']:,}; final equity "
              f"{eq[-1]:,.4f} vs {vb['equity'][-1]:,.4f}; max relative equity difference {diff:.2e}; "
              f"min cash share {float(np.min(eq)) / CAPITAL:.2f}")
        if len(wb.trades) != vb["trades"] or diff > 1e-9:
            problems.append(f"{k} symbols: results differ")
        print(timing_table([wb_t, vb_t], vb_t, unit="ms"))
        per_symbol.append((k, wb_t.best / k, vb_t.best / k))
        emit("bench_symbols", f"{k} symbols x {args.bars:,} 1h bars, one cash account, warm", wb_t, vb_t,
             goal=0.6, unit="ms")
        if args.profile and k == max(args.symbols):
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.runcall(run_workbench, md, strat)
            pstats.Stats(prof).sort_stats("tottime").print_stats(20)
    print("\n## time per symbol (min), ms: " + "; ".join(
        f"{k}: workbench {a * 1000:.2f}, vectorbt {b * 1000:.2f}" for k, a, b in per_symbol))
    for p in problems:
        print(f"MISMATCH: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
