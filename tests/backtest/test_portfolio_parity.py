"""Portfolio engine vs bt and vectorbt on the same target weights and prices.

bt trades at the price of the date it rebalances on and marks at the same series, so it gets two stamps
per bar: the open (where the weights are set) and the close half a bar later (where equity is compared).
A symbol's delisting sale at its last close is a ``close`` of that child on its close stamp. bt runs with
``integer_positions=False`` and a commission of ``fee_rate x |units| x price``. Definitional difference
(why the weights here sum to 0.9 when there are fees): bt lets cash go negative by the fees of a full
close when the weights sum to 1, ours caps the buys to the cash left.

vectorbt: ``Portfolio.from_orders`` with ``size_type="targetpercent"``, ``cash_sharing=True``,
``call_seq="auto"``, ``price=open``: without fees the same equity (with fees it charges them on top of
the target value, ours includes them in the traded amount, as bt).
"""

from __future__ import annotations

import warnings

import bt
import numpy as np
import pandas as pd
import pytest

from workbench.core.backtest import BacktestConfig, prepare_data
from workbench.core.backtest.data import MarketData
from workbench.core.backtest.portfolio import ExchangeRules, listing_bounds, portfolio_bars, simulate_portfolio
from workbench.core.strategies.portfolio import TargetWeights

CAPITAL = 1_000_000.0


def universe(seed: int, n: int = 240, k: int = 5, *, delist: bool = True) -> MarketData:
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC")
    data = {}
    for j in range(k):
        c = 1000 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
        o = np.r_[c[0], c[:-1]] * np.exp(rng.normal(0, 0.005, n))
        df = pd.DataFrame({"open": o, "high": np.maximum(o, c) * 1.01, "low": np.minimum(o, c) * 0.99,
                           "close": c, "volume": 1.0}, index=idx)
        if j == 1:
            df = df.iloc[40:]            # listed late
        if j == 2 and delist:
            df = df.iloc[:170]           # delisted
        data[f"KRW-S{j}"] = df
    return prepare_data(data, timeframe="1h")


def random_weights(md: MarketData, seed: int, total: float, every: int = 17) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n, k = len(md.index), len(md.symbols)
    listed = portfolio_bars(md).listed.to_numpy()
    dec = np.full((n, k), np.nan)
    for t in range(5, n - 1, every):
        w = rng.uniform(0, 1, k) * (rng.uniform(size=k) > 0.25)   # some zeros: full closes
        w = np.where(listed[t], w, 0.0)
        dec[t] = w / w.sum() * total if w.sum() > 0 else w
    return pd.DataFrame(dec, index=md.index, columns=md.symbols)


def ours(md: MarketData, weights: pd.DataFrame, fee: float) -> np.ndarray:
    checked = TargetWeights(weights).weights(portfolio_bars(md))
    sim = simulate_portfolio(md, checked, BacktestConfig(initial_capital=CAPITAL, fee_rate=fee, slippage=0.0),
                             rules=ExchangeRules.off())
    return sim.value


def flat_panel(md: MarketData, column: str) -> pd.DataFrame:
    """Prices outside a symbol's listing filled flat (never traded there: its weight is 0)."""
    return md.panel(column).where(portfolio_bars(md).listed).ffill().bfill()


def bt_equity(md: MarketData, weights: pd.DataFrame, fee: float) -> np.ndarray:
    half = pd.Timedelta(minutes=30)
    o, c = flat_panel(md, "open"), flat_panel(md, "close")
    c.index = c.index + half
    prices = pd.concat([o, c]).sort_index()
    prices.index = prices.index.tz_localize(None)
    # a decision on bar t's close is set on bar t+1's open stamp
    w = pd.DataFrame(weights.to_numpy()[:-1], index=md.index[1:], columns=md.symbols).dropna(how="all")
    w.index = w.index.tz_localize(None)
    _, last = listing_bounds(md)
    n = len(md.index)
    delisted = {(md.index[b] + half).tz_localize(None): s for s, b in zip(md.symbols, last, strict=True) if b < n - 1}

    class CloseDelisted(bt.Algo):  # type: ignore[misc]
        def __call__(self, target):  # type: ignore[no-untyped-def]
            name = delisted.get(target.now)
            if name is not None and name in target.children:
                target.close(name)
            return True

    strategy = bt.Strategy("w", [CloseDelisted(), bt.algos.WeighTarget(w), bt.algos.Rebalance()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bt.run(bt.Backtest(strategy, prices, initial_capital=CAPITAL, integer_positions=False,
                                 commissions=lambda q, p: abs(q) * p * fee, progress_bar=False))
    values = res.backtests["w"].strategy.values
    return values.loc[c.index.tz_localize(None)].to_numpy()


@pytest.mark.parametrize(("fee", "total"), [(0.0, 1.0), (0.0, 0.9), (0.0025, 0.9), (0.01, 0.95)])
@pytest.mark.parametrize("seed", [1, 2])
def test_equity_equals_bt(seed: int, fee: float, total: float) -> None:
    md = universe(seed)
    weights = random_weights(md, seed + 100, total)
    mine = ours(md, weights, fee)
    theirs = bt_equity(md, weights, fee)
    assert np.abs(mine - mine[0]).max() > 0.01 * CAPITAL          # it traded
    np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=0)


@pytest.mark.parametrize("seed", [3, 4])
def test_equity_equals_vectorbt_from_orders(seed: int) -> None:
    vbt = pytest.importorskip("vectorbt")
    md = universe(seed, delist=False)
    weights = random_weights(md, seed + 100, 1.0, every=7)
    mine = ours(md, weights, 0.0)
    size = np.full(weights.shape, np.nan)
    size[1:] = weights.to_numpy()[:-1]
    pf = vbt.Portfolio.from_orders(flat_panel(md, "close").to_numpy(), size, size_type="targetpercent",
                                   direction="longonly", price=flat_panel(md, "open").to_numpy(), fees=0.0,
                                   init_cash=CAPITAL, cash_sharing=True, group_by=True, call_seq="auto")
    np.testing.assert_allclose(mine, np.asarray(pf.value()).ravel(), rtol=1e-9, atol=0)
