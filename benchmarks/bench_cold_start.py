"""Benchmark: a new process's import + first backtest, the cost every CLI call, notebook kernel and CI job
pays. One EMA-cross (50/200) backtest on a year of 1-minute bars (525,600 bars) read from a Parquet file,
each engine in a fresh interpreter:

* workbench -- ``import workbench``, read the bars, ``run_backtest`` (numba kernels loaded from the on-disk
  cache: a first, untimed process fills it, as the first run on a machine does);
* backtesting.py -- ``import backtesting``, read the bars, ``Backtest(...).run()`` with the same rule;
* raw vectorbt -- ``import vectorbt``, read the bars, ``Portfolio.from_signals`` (numba cache on disk too).

Wall time of the whole child process (interpreter start included), ``--repeat`` interleaved rounds (order
rotated each round, after one untimed run of each), min and median and their ratios. Exits 1 if vectorbt
and the workbench count different trades (backtesting.py's count is shown; it closes the last trade at the
end).
Goal (issue 6): workbench <= 1.5x backtesting.py.

Run:  .venv/bin/python benchmarks/bench_cold_start.py
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, interleaved, machine_line, make_bars, setup_env, timing_table  # noqa: E402

WORKBENCH = """
import sys, pandas as pd
from workbench.core.backtest import BacktestConfig, run_backtest
from workbench.core.strategies import EmaCross, Risk
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


def run_child(code: str, bars: Path, env: dict[str, str]) -> str:
    proc = subprocess.run([sys.executable, "-c", code, str(bars)], check=True, env=env, capture_output=True,
                          text=True)
    return proc.stdout.strip().splitlines()[-1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--repeat", type=int, default=5, help="interleaved rounds")
    p.add_argument("--skip-vectorbt", action="store_true")
    args = p.parse_args(argv)
    setup_env()
    print(f"# bench_cold_start  ({machine_line()})")
    df = make_bars(args.days)
    with tempfile.TemporaryDirectory() as tmp:
        bars = Path(tmp) / "bars.parquet"
        df.to_parquet(bars)
        env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(tmp) / "numba")}
        engines = {"workbench": WORKBENCH, "backtesting.py": BACKTESTING_PY}
        if not args.skip_vectorbt:
            engines["raw vectorbt"] = VECTORBT
        # the untimed warm-up of each fills the numba cache (and the OS file cache), as the first run on a
        # machine does; every timed run is a fresh interpreter
        t = interleaved({name: (lambda code=code: run_child(code, bars, env)) for name, code in engines.items()},
                        rounds=args.repeat)
    print("\ntrades and total return printed by each engine (same rule, same bars):")
    for name, timing in t.items():
        print(f"  {name}: {timing.result}")
    wb_trades = int(t["workbench"].result.split()[0])
    problems = [f"{name}: {timing.result.split()[0]} trades, workbench {wb_trades}" for name, timing in t.items()
                if name != "backtesting.py" and int(float(timing.result.split()[0])) != wb_trades]
    print(f"\n{len(df):,} bars; wall time of a fresh process (import + read + first backtest)\n")
    print(timing_table(list(t.values()), t["backtesting.py"]))
    emit("bench_cold_start", f"fresh process: import + read + first backtest of {len(df):,} bars",
         t["workbench"], t["backtesting.py"], goal=1.5)
    for problem in problems:
        print(f"MISMATCH: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
