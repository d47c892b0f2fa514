"""Benchmark: peak memory of a backtest and of sweeps, in bytes per bar (issue 21, item 7).

Each measurement runs in a fresh child process: it generates ``--days`` (3,650: 5,256,000) of 1m bars
(``make_bars``), warms the engine up on the first 20,000 bars (numba cache load, imports), collects
garbage, resets the kernel's peak-RSS mark (``/proc/self/clear_refs``), notes the resident set, runs, and
reports the peak resident set (``VmHWM``) minus that baseline: everything the run allocated and touched
at its peak, numba's arrays included (tracemalloc does not see those).

* ``backtest``: ``run_backtest(df, EmaCross(50, 200, all in), fee 0.25 %)`` then ``result.trades``
  (the trade list built); goal (issue 21): at most 40 bytes per bar;
* ``vectorbt``: the same signals into ``vbt.Portfolio.from_signals`` + ``value()`` + trade records
  (bench_backtest's reference), for comparison;
* ``sweep``: ``run_sweep`` of EmaCross over ``--grid`` combinations with ``--chunk-size``, and the
  same with a grid 4x larger: memory set by the chunk, not by the grid, when both peaks agree.

Run:  .venv/bin/python benchmarks/bench_memory.py [--days 3650] [--chunk-size 4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, Timing, emit, fmt_int, machine_line, setup_env  # noqa: E402

FEE = 0.0025


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--days", type=int, default=3650, help="days of 1m bars (3,650: 5,256,000 bars)")
    p.add_argument("--chunk-size", type=int, default=4)
    p.add_argument("--skip-vectorbt", action="store_true")
    p.add_argument("--skip-sweep", action="store_true")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--grid", type=int, default=1, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def _status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(key)


def grid_of(scale: int) -> dict[str, list[int]]:
    """2 x 2 combinations (``scale`` 1) or 4 x 4 (``scale`` 4)."""
    k = 2 if scale == 1 else 4
    return {"fast": [10, 20, 30, 40][:k], "slow": [100, 150, 200, 250][:k]}


def child(args: argparse.Namespace) -> dict[str, Any]:
    import gc

    from workbench.core.backtest import BacktestConfig, run_backtest, run_sweep
    from workbench.core.strategies import EmaCross, Risk

    df = make_bars(args.days)
    n = len(df)
    risk = Risk(stop_loss_pct=0, take_profit_pct=0, risk_per_trade=100, max_positions=1)
    cfg = BacktestConfig(fee_rate=FEE, slippage=0)
    strat = EmaCross(fast=50, slow=200, risk=risk)
    grid = grid_of(args.grid)

    def run(frame: Any) -> Any:
        if args.child == "backtest":
            r = run_backtest(frame, strat, cfg, timeframe="1m")
            return len(r.trades)
        if args.child == "vectorbt":
            from bench_backtest import run_vectorbt

            naive = frame.copy(deep=False)
            naive.index = frame.index.tz_localize(None)
            return len(run_vectorbt(naive, 50, 200)["records"])
        table = run_sweep(frame, strat, grid, cfg, timeframe="1m", chunk_size=args.chunk_size, progress=False)
        return len(table)

    run(df.iloc[:20_000])
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")
    base = _status("VmRSS")
    out = run(df)
    peak = _status("VmHWM")
    return {"bars": n, "growth": peak - base, "base": base, "out": out,
            "combos": len(grid["fast"]) * len(grid["slow"])}


def make_bars(days: int) -> Any:
    from _common import make_bars as mb

    return mb(days)


def measure(mode: str, days: int, chunk: int, grid: int = 1) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, __file__, "--child", mode, "--days", str(days), "--chunk-size", str(chunk),
                           "--grid", str(grid)], capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{mode}: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_env()
    if args.child:
        print(json.dumps(child(args)))
        return 0
    print(f"# bench_memory  ({machine_line()})")
    rows: list[tuple[str, dict[str, Any]]] = [("workbench run_backtest + trades", measure("backtest", args.days, 1))]
    if not args.skip_vectorbt:
        rows.append(("vectorbt from_signals + value + trades", measure("vectorbt", args.days, 1)))
    if not args.skip_sweep:
        for g in (1, 4):
            label = f"workbench run_sweep, chunk {args.chunk_size}"
            r = measure("sweep", args.days, args.chunk_size, g)
            rows.append((f"{label}, {r['combos']} combinations", r))
    print("\n| run | bars | peak growth | bytes per bar |\n|---|---:|---:|---:|")
    for name, r in rows:
        print(f"| {name} | {fmt_int(r['bars'])} | {r['growth'] / 2**20:,.0f} MiB | {r['growth'] / r['bars']:.1f} |")
    bt = rows[0][1]
    per_bar = bt["growth"] / bt["bars"]
    goal = Timing("workbench run_backtest", times=[per_bar])
    limit = Timing("goal: 40 bytes per bar", times=[40.0])
    emit("bench_memory", f"peak memory of one backtest, {fmt_int(bt['bars'])} 1m bars (bytes per bar)", goal, limit,
         goal=1.0, unit="B/bar")
    if not args.skip_sweep:
        small, large = rows[-2][1], rows[-1][1]
        print(f"sweep peak, grid x4 / grid: {large['growth'] / small['growth']:.2f}x (bounded by the chunk: ~1x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
