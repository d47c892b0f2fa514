"""Benchmark: a new process's import + first backtest, the cost every CLI call, notebook kernel and CI job
pays. One EMA-cross (50/200) backtest on a year of 1-minute bars (525,600 bars) read from a Parquet file,
each engine in a fresh interpreter:

* workbench -- ``import workbench``, read the bars, ``run_backtest`` (numba kernels loaded from the on-disk
  cache: a first, untimed process fills it, as the first run on a machine does);
* backtesting.py -- ``import backtesting``, read the bars, ``Backtest(...).run()`` with the same rule;
* raw vectorbt -- ``import vectorbt``, read the bars, ``Portfolio.from_signals`` (numba cache on disk too).

Wall time of the whole child process (interpreter start included), best and median of ``--repeat`` runs.
Goal (issue 6): workbench <= 1.5x backtesting.py.

Run:  .venv/bin/python benchmarks/bench_cold_start.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_line, make_bars  # noqa: E402

WORKBENCH = """
import sys, pandas as pd
from workbench.backtest import BacktestConfig, run_backtest
from workbench.strategies import EmaCross, Risk
df = pd.read_parquet(sys.argv[1])
r = run_backtest(df, EmaCross(fast=50, slow=200, risk=Risk(stop_loss_pct=0, take_profit_pct=0,
                 risk_per_trade=100, max_positions=1)), BacktestConfig(fee_rate=0.0025, slippage=0),
                 timeframe="1m")
print(r.metrics.total_trades, r.metrics.total_return)
"""

BACKTESTING_PY = """
import sys, warnings, numpy as np, pandas as pd
from backtesting import Backtest, Strategy
df = pd.read_parquet(sys.argv[1]).rename(columns=str.capitalize)
def ema(x, n):
    return pd.Series(np.asarray(x, dtype=float)).ewm(span=n, adjust=False).mean().to_numpy()
class EmaCross(Strategy):
    def init(self):
        self.f = self.I(ema, self.data.Close, 50)
        self.s = self.I(ema, self.data.Close, 200)
    def next(self):
        f, s = self.f, self.s
        if not self.position:
            if f[-1] > s[-1] and f[-2] <= s[-2]:
                self.buy()
        elif f[-1] < s[-1] and f[-2] >= s[-2]:
            self.position.close()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    stats = Backtest(df, EmaCross, cash=1e15, commission=0.0025, finalize_trades=True).run()
print(stats["# Trades"], stats["Return [%]"])
"""

VECTORBT = """
import sys, pandas as pd
import vectorbt as vbt
df = pd.read_parquet(sys.argv[1])
f = df.close.ewm(span=50, adjust=False).mean(); s = df.close.ewm(span=200, adjust=False).mean()
up = ((f > s) & (f.shift() <= s.shift())).shift(1, fill_value=False)
down = ((f < s) & (f.shift() >= s.shift())).shift(1, fill_value=False)
pf = vbt.Portfolio.from_signals(df.close, up, down, price=df.open, fees=0.0025, init_cash=1e7, freq="1min")
print(pf.trades.count(), pf.total_return())
"""


def run_child(code: str, bars: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(bars)], check=True, env=env, capture_output=True, text=True)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--skip-vectorbt", action="store_true")
    args = p.parse_args(argv)
    print(f"# bench_cold_start  ({machine_line()})")
    df = make_bars(args.days)
    with tempfile.TemporaryDirectory() as tmp:
        bars = Path(tmp) / "bars.parquet"
        df.to_parquet(bars)
        env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(tmp) / "numba")}
        engines = [("workbench", WORKBENCH), ("backtesting.py", BACKTESTING_PY)]
        if not args.skip_vectorbt:
            engines.append(("raw vectorbt", VECTORBT))
        results: dict[str, list[float]] = {}
        for name, code in engines:
            run_child(code, bars, env)          # fills the numba cache (and the OS file cache)
            results[name] = [run_child(code, bars, env) for _ in range(args.repeat)]
            print(f"  {name}: " + ", ".join(f"{t:.2f}" for t in results[name]) + " s")
    print(f"\n{len(df):,} bars; wall time of a fresh process (import + read + first backtest)\n")
    print("| engine | best s | median s | vs backtesting.py |")
    print("|---|---:|---:|---:|")
    ref = min(results["backtesting.py"])
    for name, times in results.items():
        print(f"| {name} | {min(times):.2f} | {statistics.median(times):.2f} | {min(times) / ref:.2f}x |")
    ratio = min(results["workbench"]) / ref
    print(f"\nworkbench / backtesting.py: {ratio:.2f}x (goal <= 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
