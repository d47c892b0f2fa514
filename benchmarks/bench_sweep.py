"""Benchmark: an EMA-cross parameter sweep on a year of 1-minute bars (525,600 bars), warm, interleaved.

Methods, in one process, both warm (imported and compiled by a warm-up call), on the same bars, the same
grid and the same chunking:

* workbench -- ``run_sweep`` over the grid, ``--chunk-size`` combinations per kernel call, each EMA computed
  once per distinct period (``indicator_cache``); it returns every metric of every combination;
* raw vectorbt, chunked -- each EMA computed once per distinct period too (``workbench.core.indicators.ema``,
  kept in a dict for the whole sweep), then per chunk of ``--chunk-size`` combinations the shifted
  ``crossed_above``/``crossed_below`` signals as 2-d arrays into one ``Portfolio.from_signals`` call
  (numpy inputs: vectorbt's fast path) and ``total_return()`` per column (less work than the workbench's
  full metrics table).

``--rounds`` interleaved rounds (order rotated each round); min and median times and ratios. Exits 1 if
the two disagree on any combination's total return (relative 1e-9). ``--memory`` also runs each method
once in a child process for its peak RSS (``ru_maxrss``), and the workbench on a grid 4x smaller with the
same chunk (memory set by the chunk, not the grid). Goal (issue 21): workbench <= 0.3x vectorbt.

Run:  .venv/bin/python benchmarks/bench_sweep.py [--rounds 5] [--memory]
      .venv/bin/python benchmarks/bench_sweep.py --days 60 --rounds 3        # quick
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, interleaved, machine_line, make_bars, setup_env, timing_table  # noqa: E402

FEE = 0.0025
INIT_CASH = 1e7


def run_workbench(df: Any, fast: list[int], slow: list[int], chunk: int) -> dict[str, float]:
    from workbench.core.backtest import BacktestConfig, run_sweep
    from workbench.core.strategies import EmaCross, Risk

    risk = Risk(stop_loss_pct=0, take_profit_pct=0, risk_per_trade=100, max_positions=1)
    table = run_sweep(df, EmaCross(risk=risk), {"fast": fast, "slow": slow},
                      BacktestConfig(fee_rate=FEE, slippage=0), timeframe="1m", chunk_size=chunk, progress=False)
    return {f"{f}/{s}": float(r) for f, s, r in zip(table["fast"], table["slow"], table["total_return"], strict=True)}


def run_vectorbt(df: Any, fast: list[int], slow: list[int], chunk: int) -> dict[str, float]:
    import numpy as np
    import vectorbt as vbt

    from workbench.core.indicators import ema
    from workbench.core.strategies import crossed_above, crossed_below

    close = df["close"]
    cache = {p: ema(close, p) for p in sorted(set(fast) | set(slow))}   # each EMA once, as run_sweep does
    combos = [(f, s) for f in fast for s in slow if f < s]
    close2d, open2d = close.to_numpy()[:, None], df["open"].to_numpy()[:, None]
    out: dict[str, float] = {}
    for i in range(0, len(combos), chunk):
        part = combos[i:i + chunk]
        entries = np.column_stack([crossed_above(cache[f], cache[s]).shift(1, fill_value=False).to_numpy()
                                   for f, s in part])
        exits = np.column_stack([crossed_below(cache[f], cache[s]).shift(1, fill_value=False).to_numpy()
                                 for f, s in part])
        pf = vbt.Portfolio.from_signals(close2d, entries, exits, price=open2d, fees=FEE, init_cash=INIT_CASH,
                                        size=1.0, size_type="percent", freq="1min")
        for (f, s), r in zip(part, np.asarray(pf.total_return()).ravel(), strict=True):
            out[f"{f}/{s}"] = float(r)
    return out


CHILD = r"""
import json, resource, sys
sys.path.insert(0, sys.argv[1])
import pandas as pd
import bench_sweep as b
df = pd.read_parquet(sys.argv[2])
fn = b.run_workbench if sys.argv[3] == "workbench" else b.run_vectorbt
out = fn(df, json.loads(sys.argv[4]), json.loads(sys.argv[5]), int(sys.argv[6]))
print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "n": len(out)}))
"""


def peak_memory(df: Any, engine: str, fast: list[int], slow: list[int], chunk: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        bars = Path(tmp) / "bars.parquet"
        df.to_parquet(bars)
        proc = subprocess.run([sys.executable, "-c", CHILD, str(Path(__file__).resolve().parent), str(bars),
                               engine, json.dumps(fast), json.dumps(slow), str(chunk)],
                              check=True, capture_output=True, text=True, env=dict(os.environ))
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--fast", default="5,8,13,21,34,55,89,144,233,377")
    p.add_argument("--slow", default="400,450,500,600,700,800,900,1000,1200,1500")
    p.add_argument("--chunk-size", type=int, default=8)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--memory", action="store_true", help="peak RSS of each method in a child process")
    p.add_argument("--profile", action="store_true", help="cProfile one warm workbench sweep")
    args = p.parse_args(argv)
    setup_env()
    fast = [int(x) for x in args.fast.split(",")]
    slow = [int(x) for x in args.slow.split(",")]
    print(f"# bench_sweep  ({machine_line()})")
    df = make_bars(args.days)
    n_combos = sum(1 for f in fast for s in slow if f < s)
    print(f"{len(df):,} bars x {n_combos} combinations, chunk {args.chunk_size}")
    t = interleaved({"workbench run_sweep": lambda: run_workbench(df, fast, slow, args.chunk_size),
                     "raw vectorbt, chunked": lambda: run_vectorbt(df, fast, slow, args.chunk_size)},
                    rounds=args.rounds, n=len(df))
    wb, vb = t["workbench run_sweep"], t["raw vectorbt, chunked"]
    problems = []
    if wb.result.keys() != vb.result.keys():
        problems.append(f"different combinations: {sorted(wb.result.keys() ^ vb.result.keys())[:5]}")
    worst = max((abs(wb.result[k] - vb.result[k]) / max(abs(vb.result[k]), 1e-12)
                 for k in wb.result.keys() & vb.result.keys()), default=float("inf"))
    if not worst <= 1e-9:
        problems.append(f"total returns differ (largest relative difference {worst:.2e} > 1e-9)")
    print(f"\nsame total return for all {len(wb.result)} combinations: largest relative difference {worst:.2e}\n")
    print(timing_table([wb, vb], vb))
    emit("bench_sweep", f"sweep, {len(df):,} 1m bars x {n_combos} EMA combos (chunk {args.chunk_size}), warm",
         wb, vb, goal=0.3)
    if args.memory:
        small_fast, small_slow = fast[: len(fast) // 2], slow[: len(slow) // 2]
        rows = [("workbench run_sweep", peak_memory(df, "workbench", fast, slow, args.chunk_size)),
                ("workbench run_sweep, grid / 4", peak_memory(df, "workbench", small_fast, small_slow,
                                                              args.chunk_size)),
                ("raw vectorbt, chunked", peak_memory(df, "vectorbt", fast, slow, args.chunk_size))]
        print("\n| run (child process) | combinations | peak RSS MB |\n|---|---:|---:|")
        for name, m in rows:
            print(f"| {name} | {m['n']} | {m['peak_mb']:.0f} |")
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.runcall(run_workbench, df, fast, slow, args.chunk_size)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
    for problem in problems:
        print(f"MISMATCH: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
