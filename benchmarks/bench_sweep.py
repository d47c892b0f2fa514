"""Benchmark: an EMA-cross parameter sweep on a year of 1-minute bars (525,600 bars).

Each run in its own child process (so peak memory is its own): wall time of the sweep and the child's
peak RSS (``ru_maxrss``), for

* workbench -- ``run_sweep`` over the grid, ``chunk_size`` combinations per kernel call, each EMA computed
  once per distinct period;
* raw vectorbt -- the same shifted signals of every combination as 2-d arrays in one
  ``Portfolio.from_signals`` broadcast call (tz-naive index, its fast path), total return per column.

Also the workbench sweep on a grid 4x smaller with the same chunk size: memory set by the chunk, not the
grid, shows as about the same peak. Both engines must agree on every combination's total return (1e-6).

Run:  .venv/bin/python benchmarks/bench_sweep.py [--fast 5,10,...] [--chunk-size 8]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_line, make_bars  # noqa: E402

CHILD = r"""
import json, resource, sys, time
import numpy as np, pandas as pd
bars, engine, chunk = sys.argv[1], sys.argv[2], int(sys.argv[5])
fast, slow = json.loads(sys.argv[3]), json.loads(sys.argv[4])
df = pd.read_parquet(bars)
from workbench.indicators import ema
from workbench.strategies import EmaCross, Risk, crossed_above, crossed_below
risk = Risk(stop_loss_pct=0, take_profit_pct=0, risk_per_trade=100, max_positions=1)
t0 = time.perf_counter()
if engine == "workbench":
    from workbench.backtest import BacktestConfig, run_sweep
    table = run_sweep(df, EmaCross(risk=risk), {"fast": fast, "slow": slow},
                      BacktestConfig(fee_rate=0.0025, slippage=0), timeframe="1m", chunk_size=chunk,
                      progress=False)
    out = {f"{r.fast}/{r.slow}": r.total_return for r in table.itertuples()}
else:
    import vectorbt as vbt
    naive = df.set_axis(df.index.tz_localize(None))
    combos = [(f, s) for f in fast for s in slow if f < s]
    cache = {p: ema(naive["close"], p) for p in sorted(set(fast) | set(slow))}
    entries = np.column_stack([crossed_above(cache[f], cache[s]).shift(1, fill_value=False).to_numpy()
                               for f, s in combos])
    exits = np.column_stack([crossed_below(cache[f], cache[s]).shift(1, fill_value=False).to_numpy()
                             for f, s in combos])
    cols = pd.Index([f"{f}/{s}" for f, s in combos])
    pf = vbt.Portfolio.from_signals(naive["close"].to_numpy()[:, None].repeat(1, 1), entries, exits,
                                    price=naive["open"].to_numpy()[:, None], fees=0.0025, init_cash=1e7,
                                    size=1.0, size_type="percent", freq="1min")
    tr = np.asarray(pf.total_return())
    out = dict(zip(cols, map(float, tr)))
elapsed = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "peak_mb": peak, "returns": out}))
"""


def child(bars: Path, engine: str, fast: list[int], slow: list[int], chunk: int, env: dict[str, str]) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(bars), engine, json.dumps(fast), json.dumps(slow),
                           str(chunk)], check=True, capture_output=True, text=True, env=env)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--fast", default="5,8,13,21,34,55,89,144,233,377")
    p.add_argument("--slow", default="400,450,500,600,700,800,900,1000,1200,1500")
    p.add_argument("--chunk-size", type=int, default=8)
    args = p.parse_args(argv)
    fast = [int(x) for x in args.fast.split(",")]
    slow = [int(x) for x in args.slow.split(",")]
    print(f"# bench_sweep  ({machine_line()})")
    df = make_bars(args.days)
    with tempfile.TemporaryDirectory() as tmp:
        bars = Path(tmp) / "bars.parquet"
        df.to_parquet(bars)
        env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(tmp) / "numba")}
        child(bars, "workbench", fast[:1], slow[:1], 1, env)       # fill the numba cache
        wb = child(bars, "workbench", fast, slow, args.chunk_size, env)
        small = child(bars, "workbench", fast[: len(fast) // 2], slow[: len(slow) // 2], args.chunk_size, env)
        vb = child(bars, "vectorbt", fast, slow, args.chunk_size, env)
    n = len(wb["returns"])
    worst = max(abs(wb["returns"][k] - vb["returns"][k]) for k in wb["returns"])
    print(f"\n{len(df):,} bars x {n} combinations (chunk {args.chunk_size}); max |total return difference| "
          f"{worst:.2e}\n")
    print("| run | combinations | seconds | peak RSS MB |")
    print("|---|---:|---:|---:|")
    print(f"| workbench run_sweep | {n} | {wb['seconds']:.2f} | {wb['peak_mb']:.0f} |")
    print(f"| workbench run_sweep, grid / 4 | {len(small['returns'])} | {small['seconds']:.2f} | "
          f"{small['peak_mb']:.0f} |")
    print(f"| raw vectorbt, one broadcast call | {n} | {vb['seconds']:.2f} | {vb['peak_mb']:.0f} |")
    print(f"\nworkbench / raw vectorbt: time {wb['seconds'] / vb['seconds']:.2f}x, "
          f"peak memory {wb['peak_mb'] / vb['peak_mb']:.2f}x")
    if worst > 1e-6:
        print("FAILED: the engines disagree")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
