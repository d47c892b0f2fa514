"""Benchmark: a portfolio backtest of 200 symbols x 8,760 1h bars (a year), weekly rebalancing.

The same target weights (``MomentumRotation(lookback=168, top=20)`` decided on the last bar of each ISO
week, so the portfolio trades on the first bar of the next one) and the same prices (fills at the open,
equity at the close, no fees) into:

* workbench  -- ``workbench.core.backtest.portfolio.simulate_portfolio`` (the kernel call and its equity);
* vectorbt   -- ``vbt.Portfolio.from_orders(close, size, size_type="targetpercent", price=open,
  cash_sharing=True, group_by=True, call_seq="auto")`` and its ``value()``;
* bt         -- ``bt.Backtest`` with ``WeighTarget`` + ``Rebalance`` on two stamps per bar (open, close),
  ``integer_positions=False``; too slow for the full year, so on ``--bt-bars`` bars of the same number of
  symbols (random top-20 picks each week), timed interleaved with workbench on the same bars (the ratio
  is per symbol-bar) and checked equal.

workbench and vectorbt are timed interleaved (``--repeat`` rounds, each engine warmed up first); the
ratios are given on the minimum and the median. Also timed: the whole ``run_portfolio_backtest``
(strategy weights, trades, metrics) for information, and workbench at 50/100/200 symbols (linearity).
Exits 1 if the equity of workbench differs from vectorbt's or, on bt's bars, from bt's (rtol 1e-9).
Goals (issue 17): at most 1.5x vectorbt's time, at least 20x faster than bt (ratio <= 0.05).

Run:  NUMBA_CACHE_DIR=.cache/numba .venv/bin/python benchmarks/bench_portfolio.py
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, interleaved, machine_line, setup_env, timing_table  # noqa: E402

CAPITAL = 10_000_000.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--symbols", type=int, default=200)
    p.add_argument("--bars", type=int, default=8760)
    p.add_argument("--repeat", type=int, default=5, help="interleaved timed rounds")
    p.add_argument("--bt-bars", type=int, default=720, help="bars bt runs on (its ratio is per symbol-bar)")
    p.add_argument("--bt-rounds", type=int, default=2, help="interleaved rounds against bt")
    p.add_argument("--skip-bt", action="store_true")
    return p.parse_args(argv)


def make_universe(k: int, n: int, seed: int = 0) -> Any:
    import numpy as np
    import pandas as pd

    from workbench.core.backtest import prepare_data

    rng = np.random.default_rng(seed)
    idx = pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC", name="ts")
    close = 1000 * np.exp(np.cumsum(rng.normal(0.0, 0.01, (n, k)), axis=0))
    open_ = np.vstack([close[:1], close[:-1]]) * np.exp(rng.normal(0.0, 0.001, (n, k)))
    data = {}
    for j in range(k):
        o, c = open_[:, j], close[:, j]
        data[f"KRW-B{j:03d}"] = pd.DataFrame({"open": o, "high": np.maximum(o, c) * 1.001,
                                              "low": np.minimum(o, c) * 0.999, "close": c, "volume": 1.0},
                                             index=idx)
    return prepare_data(data, timeframe="1h")


def weekly_weights(md: Any) -> Any:
    """Momentum top-20 weights, kept on the last bar of each ISO week only."""
    import numpy as np

    from workbench.core.backtest.portfolio import portfolio_bars
    from workbench.core.strategies.portfolio import MomentumRotation

    w = MomentumRotation(lookback=168, top=20).weights(portfolio_bars(md))
    iso = md.index.isocalendar()
    week = np.asarray(iso["year"] * 100 + iso["week"])
    last_of_week = np.r_[week[1:] != week[:-1], False]
    return w.where(np.broadcast_to(last_of_week[:, None], w.shape))


def run_ours(md: Any, weights: Any) -> Any:
    from workbench.core.backtest import BacktestConfig
    from workbench.core.backtest.portfolio import ExchangeRules, simulate_portfolio

    cfg = BacktestConfig(initial_capital=CAPITAL, fee_rate=0.0, slippage=0.0)
    return simulate_portfolio(md, weights, cfg, rebalance="signal", rules=ExchangeRules.off()).value


def vbt_inputs(md: Any, weights: Any) -> tuple[Any, Any, Any]:
    import numpy as np

    size = np.full(weights.shape, np.nan)
    size[1:] = weights.to_numpy()[:-1]
    return md.array("close"), md.array("open"), size


def run_vbt(close: Any, open_: Any, size: Any) -> Any:
    import numpy as np
    import vectorbt as vbt

    pf = vbt.Portfolio.from_orders(close, size, size_type="targetpercent", direction="longonly", price=open_,
                                   fees=0.0, init_cash=CAPITAL, cash_sharing=True, group_by=True, call_seq="auto")
    return np.asarray(pf.value()).ravel()


def run_bt(md: Any, weights: Any) -> Any:
    import bt
    import pandas as pd

    half = pd.Timedelta(minutes=30)
    o, c = md.panel("open"), md.panel("close")
    c.index = c.index + half
    prices = pd.concat([o, c]).sort_index()
    prices.index = prices.index.tz_localize(None)
    w = pd.DataFrame(weights.to_numpy()[:-1], index=md.index[1:], columns=md.symbols).dropna(how="all")
    w.index = w.index.tz_localize(None)
    strategy = bt.Strategy("w", [bt.algos.WeighTarget(w), bt.algos.Rebalance()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bt.run(bt.Backtest(strategy, prices, initial_capital=CAPITAL, integer_positions=False,
                                 progress_bar=False))
    return res.backtests["w"].strategy.values.loc[c.index.tz_localize(None)].to_numpy()


def timed(fn: Any) -> tuple[float, Any]:
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915
    args = parse_args(argv)
    setup_env()
    import numpy as np
    import pandas as pd

    from workbench.core.backtest.portfolio import run_portfolio_backtest
    from workbench.core.strategies.portfolio import TargetWeights

    print(machine_line())
    print(f"universe: {args.symbols} symbols x {args.bars:,} 1h bars, weekly rebalancing (momentum top 20)")
    md = make_universe(args.symbols, args.bars)
    weights = weekly_weights(md)
    close, open_, size = vbt_inputs(md, weights)
    print(f"  rebalances: {int(weights.notna().all(axis=1).sum())}")

    print("warm-up (numba compile or cache load) ...", flush=True)
    ours = run_ours(md, weights)
    theirs = run_vbt(close, open_, size)
    ok = bool(np.allclose(ours, theirs, rtol=1e-9, atol=0))
    print(f"  equity equal to vectorbt's (rtol 1e-9): {ok}; final {ours[-1]:,.2f} vs {theirs[-1]:,.2f}")

    t = interleaved({"workbench": lambda: run_ours(md, weights), "vectorbt": lambda: run_vbt(close, open_, size)},
                    rounds=args.repeat, warmup=0, unit="ms")
    t_ours = t["workbench"].times
    print(timing_table(list(t.values()), t["vectorbt"], unit="ms"))
    emit("bench_portfolio", f"portfolio, {args.symbols} symbols x {args.bars:,} 1h bars, weekly rebalancing",
         t["workbench"], t["vectorbt"], goal=1.5, unit="ms")

    strat = TargetWeights(weights)
    full = [timed(lambda: run_portfolio_backtest(md, strat))[0] for _ in range(2)]
    print(f"whole run_portfolio_backtest (weights check, trades, metrics, Bithumb rules): min {min(full):.3f} s")

    for k in (args.symbols // 4, args.symbols // 2, args.symbols):
        sub = make_universe(k, args.bars, seed=1)
        w = weekly_weights(sub)
        run_ours(sub, w)
        best = min(timed(lambda sub=sub, w=w: run_ours(sub, w))[0] for _ in range(3))
        print(f"  linearity: {k} symbols x {args.bars:,} bars: {best * 1000:.1f} ms "
              f"({best / (k * args.bars) * 1e9:.1f} ns per symbol-bar)")

    if not args.skip_bt:
        n = min(args.bt_bars, args.bars)
        small = make_universe(args.symbols, n, seed=2)
        # random top-20 picks decided on the last bar of each week (momentum needs more history than
        # the slice has)
        week = np.asarray(small.index.isocalendar()["week"])
        rng = np.random.default_rng(5)
        dec = np.full((n, args.symbols), np.nan)
        for row in np.flatnonzero(np.r_[week[1:] != week[:-1], False]):
            dec[row] = 0.0
            dec[row, rng.choice(args.symbols, 20, replace=False)] = 1 / 20
        w = pd.DataFrame(dec, index=small.index, columns=small.symbols)
        t_bt = interleaved({"workbench": lambda: run_ours(small, w), "bt": lambda: run_bt(small, w)},
                           rounds=args.bt_rounds, warmup=1, unit="ms")
        ok_bt = bool(np.allclose(t_bt["workbench"].result, t_bt["bt"].result, rtol=1e-9, atol=0))
        ok = ok and ok_bt
        print(timing_table(list(t_bt.values()), t_bt["bt"], unit="ms"))
        print(f"  equity equal to bt's on the {n:,} bars (rtol 1e-9): {ok_bt}")
        # the same symbols and bars for both: the ratio is the ratio per symbol-bar
        emit("bench_portfolio", f"portfolio vs bt, {args.symbols} symbols x {n:,} 1h bars (per symbol-bar)",
             t_bt["workbench"], t_bt["bt"], goal=1 / 20, unit="ms")
        per_ours = min(t_ours) / (args.symbols * args.bars) * 1e9
        per_bt = t_bt["bt"].best / (args.symbols * n) * 1e9
        print(f"per symbol-bar: workbench {per_ours:.1f} ns on {args.bars:,} bars, bt {per_bt:,.0f} ns on {n:,} "
              f"bars: bt / workbench = {per_bt / per_ours:,.0f}x (goal >= 20x)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
