"""Portfolio fills, schedules and exchange rules, expected values worked out by hand.

Bars are (open, close) per symbol (high/low are their max/min). Decisions are target weights made on a
bar's close; the engine trades them at the next bar's open.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.core.backtest import BacktestConfig, prepare_data, run_backtest
from workbench.core.backtest.portfolio import (
    ExchangeRules,
    portfolio_bars,
    rebalance_bars,
    run_portfolio_backtest,
    simulate_portfolio,
)
from workbench.core.backtest.portfolio._nb import tick_round_nb
from workbench.core.paper.rules import round_price
from workbench.core.strategies import PORTFOLIO_STRATEGIES, Risk, builtin_strategy
from workbench.core.strategies.portfolio import EqualWeight, TargetWeights
from workbench.errors import StrategyError

OFF = ExchangeRules.off()


def frame(opens: list[float], closes: list[float], start: str = "2025-01-01") -> pd.DataFrame:
    idx = pd.date_range(start, periods=len(opens), freq="1h", tz="UTC", name="ts")
    o, c = np.asarray(opens, float), np.asarray(closes, float)
    return pd.DataFrame({"open": o, "high": np.maximum(o, c), "low": np.minimum(o, c), "close": c,
                         "volume": 1.0}, index=idx)


def decisions(index: pd.DatetimeIndex, symbols: list[str], rows: dict[int, list[float]]) -> pd.DataFrame:
    out = pd.DataFrame(np.nan, index=index, columns=symbols)
    for bar, w in rows.items():
        out.iloc[bar] = w
    return out


def run(data: dict[str, pd.DataFrame], rows: dict[int, list[float]], config: BacktestConfig, *,
        rules: ExchangeRules = OFF, close_at_end: bool = False, **params: object):  # type: ignore[no-untyped-def]
    md = prepare_data(data, timeframe="1h")
    strat = TargetWeights(decisions(md.index, md.symbols, rows), **params)
    return run_portfolio_backtest(md, strat, config, rules=rules, close_at_end=close_at_end)


def orders(result) -> list[tuple[int, str, str, float, float, float, str]]:  # type: ignore[no-untyped-def]
    idx = result.data.index
    return [(int(idx.get_loc(o.time)), o.symbol, o.side, o.size, o.price, o.fee, o.reason)
            for o in result.orders.itertuples(index=False)]


def test_buys_with_fees_then_rotation_capped_by_cash() -> None:
    data = {"KRW-A": frame([100, 100, 110, 120], [100, 105, 115, 120]),
            "KRW-B": frame([50, 50, 40, 45], [50, 45, 42, 45])}
    cfg = BacktestConfig(initial_capital=1000, fee_rate=0.01, slippage=0.0)
    r = run(data, {0: [0.5, 0.5], 1: [1.0, 0.0]}, cfg)
    # bar 1 open: V = 1000; each buy spends 500 including the 1 % fee
    qa1, qb = 500 / (100 * 1.01), 500 / (50 * 1.01)
    # bar 2 open: V = qa1*110 + qb*40; B (target 0) sold whole: proceeds qb*40*0.99; A's amount
    # V - qa1*110 = qb*40 is more than that cash: the buy spends all of the cash
    cash = qb * 40 * 0.99
    qa2 = cash / (110 * 1.01)
    expected = [(1, "KRW-A", "buy", qa1, 100.0, qa1 * 100 * 0.01, "rebalance"),
                (1, "KRW-B", "buy", qb, 50.0, qb * 50 * 0.01, "rebalance"),
                (2, "KRW-B", "sell", qb, 40.0, qb * 40 * 0.01, "rebalance"),
                (2, "KRW-A", "buy", qa2, 110.0, qa2 * 110 * 0.01, "rebalance")]
    got = orders(r)
    assert [g[:3] + g[6:] for g in got] == [e[:3] + e[6:] for e in expected]
    np.testing.assert_allclose([g[3:6] for g in got], [e[3:6] for e in expected], rtol=1e-12)
    np.testing.assert_allclose(r.equity.to_numpy(), [1000.0, qa1 * 105 + qb * 45, (qa1 + qa2) * 115,
                                                     (qa1 + qa2) * 120], rtol=1e-12)
    # the trade list: B's round trip closed, A open at the last close with its average entry price
    t = r.trades.set_index("symbol")
    assert t.loc["KRW-B", "status"] == "closed" and t.loc["KRW-A", "status"] == "open"
    np.testing.assert_allclose(t.loc["KRW-B", "pnl"], qb * (40 - 50) - qb * 50 * 0.01 - qb * 40 * 0.01, rtol=1e-12)
    np.testing.assert_allclose(t.loc["KRW-A", "entry_price"], (qa1 * 100 + qa2 * 110) / (qa1 + qa2), rtol=1e-12)
    np.testing.assert_allclose(r.trades["pnl"].sum(), r.equity.iloc[-1] - 1000, rtol=1e-12)
    assert r.holdings().to_dict() == pytest.approx({"KRW-A": qa1 + qa2, "KRW-B": 0.0}, rel=1e-12)


def test_partial_sell_raises_the_amount_after_fees_and_slippage_moves_prices() -> None:
    data = {"KRW-A": frame([100, 100, 200, 200], [100, 100, 200, 200])}
    cfg = BacktestConfig(initial_capital=1000, fee_rate=0.01, slippage=0.01)
    r = run(data, {0: [1.0], 1: [0.5]}, cfg)
    q1 = 1000 / (101 * 1.01)                     # buy at 100 * 1.01
    v2 = q1 * 200                                # bar 2 open, cash 0
    sold = (v2 - 0.5 * v2) / (198 * 0.99)        # proceeds after the fee = 0.5 * V, at 200 * 0.99
    got = orders(r)
    assert [(g[0], g[2]) for g in got] == [(1, "buy"), (2, "sell")]
    np.testing.assert_allclose([got[0][3], got[0][4], got[1][3], got[1][4]], [q1, 101, sold, 198], rtol=1e-12)
    np.testing.assert_allclose(r.equity.iloc[-1], 0.5 * v2 + (q1 - sold) * 200, rtol=1e-12)


def test_bithumb_rules_ticks_minimum_and_lot() -> None:
    # A trades at 4,321.7 (tick 1 KRW): buys at 4,322; B's target is worth less than 5,000 KRW: skipped
    data = {"KRW-A": frame([4321.7, 4321.7, 4321.7, 4400.9], [4321.7, 4321.7, 4321.7, 4400.9]),
            "KRW-B": frame([10.0] * 4, [10.0] * 4)}
    cfg = BacktestConfig(initial_capital=100_000, fee_rate=0.0, slippage=0.0, size_step=0.01)
    r = run(data, {0: [0.9, 0.04], 2: [0.0, 0.04]}, cfg, rules=ExchangeRules())
    got = orders(r)
    # bar 1: A buys floor(90,000 / 4,322, 0.01) = 20.82 units; B: 4,000 KRW < 5,000: no order
    # bar 3: A (target 0) sold whole at 4,400 (sells round down)
    assert [g[:3] for g in got] == [(1, "KRW-A", "buy"), (3, "KRW-A", "sell")]
    np.testing.assert_allclose([got[0][3], got[0][4], got[1][3], got[1][4]], [20.82, 4322.0, 20.82, 4400.0])
    np.testing.assert_allclose(r.equity.iloc[-1], 100_000 - 20.82 * 4322 + 20.82 * 4400, rtol=1e-12)


def test_tick_rounding_is_the_paper_brokers() -> None:
    floors, ticks = ExchangeRules().tick_arrays()
    rng = np.random.default_rng(3)
    prices = np.r_[np.exp(rng.uniform(np.log(0.05), np.log(3e8), 3000)), 1000.0, 999.99, 5000.0, 100.05, 0.00015]
    for p in prices:
        assert tick_round_nb(p, True, floors, ticks) == round_price(p, "buy")
        assert tick_round_nb(p, False, floors, ticks) == round_price(p, "sell")


def test_point_in_time_universe_late_listing_and_delisting() -> None:
    # C is listed from bar 2; B's last stored bar is bar 2 (of 0..4): sold at its close
    base = frame([100] * 5, [100] * 5)
    data = {"KRW-A": base, "KRW-B": frame([50, 50, 50, 60, 60], [50, 50, 55, 60, 60]).iloc[:3],
            "KRW-C": frame([20] * 5, [20, 20, 20, 24, 24]).iloc[2:]}
    cfg = BacktestConfig(initial_capital=900, fee_rate=0.0, slippage=0.0)
    r = run(data, {0: [0.3, 0.3, 0.3], 2: [0.3, 0.3, 0.3]}, cfg)
    md = r.data
    bars = portfolio_bars(md)
    assert bars.close["KRW-C"].isna().tolist() == [True, True, False, False, False]
    assert bars.close["KRW-B"].isna().tolist() == [False, False, False, True, True]
    # the decision of bar 0 cannot hold C (not listed yet); that of bar 2 cannot trade B at bar 3 (gone)
    assert r.weights.iloc[0].tolist() == [0.3, 0.3, 0.0]
    got = orders(r)
    assert [g[:3] + (g[6],) for g in got] == [
        (1, "KRW-A", "buy", "rebalance"), (1, "KRW-B", "buy", "rebalance"),
        (2, "KRW-B", "sell", "delisted"), (3, "KRW-A", "buy", "rebalance"), (3, "KRW-C", "buy", "rebalance")]
    # bar 3 open: V = 657 cash (360 + 5.4 x 55) + 2.7 x 100 = 927; A tops up to 0.3 V, C buys 0.3 V
    np.testing.assert_allclose([g[3] for g in got], [2.7, 5.4, 5.4, (0.3 * 927 - 270) / 100, 0.3 * 927 / 20])
    np.testing.assert_allclose(r.equity.to_numpy()[:3], [900, 900, 900 + 5.4 * 5])


def test_threshold_rebalances_only_on_drift() -> None:
    # A doubles at bar 3's close: its weight (2/3) is more than 0.1 from 0.5 -> rebalance at bar 4
    data = {"KRW-A": frame([100, 100, 100, 100, 200, 200], [100, 100, 104, 200, 200, 200]),
            "KRW-B": frame([100] * 6, [100] * 6)}
    cfg = BacktestConfig(initial_capital=1000, fee_rate=0.0, slippage=0.0)
    r = run(data, dict.fromkeys(range(6), [0.5, 0.5]), cfg, rebalance=1, threshold=0.1)
    got = orders(r)
    assert [g[:3] for g in got] == [(1, "KRW-A", "buy"), (1, "KRW-B", "buy"), (4, "KRW-A", "sell"),
                                    (4, "KRW-B", "buy")]
    np.testing.assert_allclose([g[3] for g in got], [5, 5, 1.25, 2.5])


def test_close_at_end_sells_everything_at_the_last_close() -> None:
    data = {"KRW-A": frame([100, 100, 100], [100, 100, 110])}
    cfg = BacktestConfig(initial_capital=1000, fee_rate=0.01, slippage=0.0)
    r = run(data, {0: [1.0]}, cfg, close_at_end=True)
    q = 1000 / 101
    assert orders(r)[-1][:3] + (orders(r)[-1][6],) == (2, "KRW-A", "sell", "end")
    np.testing.assert_allclose(r.equity.iloc[-1], q * 110 * 0.99, rtol=1e-12)
    assert (r.trades["status"] == "closed").all()


@pytest.mark.parametrize(("schedule", "expected"), [
    ("signal", [4, 8]),
    (2, [4, 6, 8]),
    ("daily", [4, 6, 8]),       # first trade after the first decision, then each new UTC day's first bar
    ("weekly", [4]),
    ("monthly", [4]),
])
def test_schedules(schedule: str | int, expected: list[int]) -> None:
    # 12h bars from Mon 2025-01-06 00:00: days start at bars 0, 2, 4, 6, 8
    idx = pd.date_range("2025-01-06", periods=9, freq="12h", tz="UTC")
    decided = np.zeros(9, dtype=bool)
    decided[[3, 7]] = True
    assert np.flatnonzero(rebalance_bars(idx, schedule, decided)).tolist() == expected


def test_schedules_calendar_boundaries_and_trade_start() -> None:
    idx = pd.DatetimeIndex(["2025-01-30", "2025-01-31", "2025-02-01", "2025-02-02", "2025-02-03",
                            "2025-02-04"], tz="UTC")
    decided = np.ones(6, dtype=bool)
    assert np.flatnonzero(rebalance_bars(idx, "monthly", decided)).tolist() == [1, 2]
    assert np.flatnonzero(rebalance_bars(idx, "weekly", decided)).tolist() == [1, 4]   # 02-03 is a Monday
    assert np.flatnonzero(rebalance_bars(idx, "weekly", decided, begin=3)).tolist() == [3, 4]


def test_weights_are_checked() -> None:
    data = {"KRW-A": frame([100] * 3, [100] * 3), "KRW-B": frame([100] * 3, [100] * 3)}
    cfg = BacktestConfig(initial_capital=1000)
    with pytest.raises(StrategyError, match=r"weights at 2025-01-01 01:00:00\+00:00 sum to 1.2 \(at most 1"):
        run(data, {1: [0.6, 0.6]}, cfg)
    with pytest.raises(StrategyError, match="negative weight at 2025-01-01 00:00:00"):
        run(data, {0: [-0.1, 0.5]}, cfg)
    with pytest.raises(StrategyError, match="'rebalance' must be one of daily, weekly, monthly, signal"):
        EqualWeight(rebalance="hourly")
    with pytest.raises(StrategyError, match=r"'threshold' must be a fraction in \[0, 1\)"):
        EqualWeight(threshold=1.5)


def test_run_backtest_dispatches_and_per_symbol_paths_refuse() -> None:
    data = {"KRW-A": frame([100, 101, 102, 103], [101, 102, 103, 104]),
            "KRW-B": frame([100, 99, 98, 97], [99, 98, 97, 96])}
    r = run_backtest(data, EqualWeight(), BacktestConfig(initial_capital=1e6, fee_rate=0, slippage=0))
    # equal weight from bar 1's open: 0.5 each of 1e6
    np.testing.assert_allclose(r.equity.iloc[-1], 5e5 / 101 * 104 + 5e5 / 99 * 96, rtol=1e-12)
    assert set(PORTFOLIO_STRATEGIES) == {"MomentumRotation", "InverseVolatility", "EqualWeight"}
    assert builtin_strategy("MomentumRotation", top=2).params["top"] == 2
    with pytest.raises(StrategyError, match="EqualWeight is a portfolio strategy: it has no per-symbol signals"):
        EqualWeight(risk=Risk()).signals(data["KRW-A"])


def test_simulate_checks_the_weights_shape() -> None:
    md = prepare_data({"KRW-A": frame([100] * 3, [100] * 3)}, timeframe="1h")
    from workbench.errors import ValidationError

    with pytest.raises(ValidationError, match=r"weights must be 3 x 1 \(bars x symbols\), got \(3, 2\)"):
        simulate_portfolio(md, np.zeros((3, 2)), BacktestConfig())
