"""The ``strategies`` summary columns stay true: is_backtesting while a backtest, sweep or optimization of
the strategy runs (and until the last of several concurrent ones ends), and the totals over every stored
run of it afterwards."""

from __future__ import annotations

from typing import Any

import pandas as pd
import psycopg
import pytest
import sqlalchemy as sa

from workbench.core.strategies import EmaCross, strategy
from workbench.ingest.sample import generate_sample_candles
from workbench.store.database import Database
from workbench.store.runs import backtesting, save_strategy
from workbench.store.writer import write_table

#: what the probe strategy saw of its own row each time its signals were computed
SEEN: list[bool] = []
URL: list[str] = []


@strategy("FlagProbe", "day_trading")
def flag_probe(df: pd.DataFrame, *, fast: int = 5, slow: int = 13) -> tuple[pd.Series, pd.Series]:
    """EMA cross that records the stored ``is_backtesting`` of its strategy row (from another connection)."""
    with psycopg.connect(URL[0]) as conn:
        row = conn.execute("SELECT is_backtesting FROM strategies WHERE name = 'FlagProbe'").fetchone()
    SEEN.append(bool(row and row[0]))
    f, s = df.close.ewm(span=fast).mean(), df.close.ewm(span=slow).mean()
    return (f > s) & (f.shift() <= s.shift()), (f < s) & (f.shift() >= s.shift())


def _row(db: Any, name: str) -> dict[str, Any]:
    with db.begin() as conn:
        return dict(conn.execute(sa.text("SELECT * FROM strategies WHERE name = :n"), {"n": name}).mappings().one())


@pytest.fixture
def loaded(session: Any, database_url: str) -> Any:
    write_table(session.db, "candles", generate_sample_candles(days=10))
    SEEN.clear()
    URL[:] = [database_url]
    return session


def test_is_backtesting_while_a_sweep_and_an_optimization_run(loaded: Any) -> None:
    out = loaded.sweep(flag_probe(), {"fast": [3, 5], "slow": [13, 21]}, "KRW-SYNBTC", "1h", progress=False)
    assert len(SEEN) == 4 and all(SEEN), SEEN
    assert _row(loaded.db, "FlagProbe")["is_backtesting"] is False
    SEEN.clear()
    res = loaded.optimize(flag_probe(), {"fast": (3, 8), "slow": (15, 30)}, "KRW-SYNBTC", "1h", n_trials=3,
                          n_folds=1, holdout=0.3, seed=1, progress=False)
    assert len(SEEN) >= 3 and all(SEEN), SEEN
    row = _row(loaded.db, "FlagProbe")
    assert row["is_backtesting"] is False
    # the totals cover the 4 sweep runs and the optimization's in- and out-of-sample runs
    metrics = [r for _, r in out.table.iterrows()] + [res.in_sample.result.metrics.to_dict(),
                                                      res.out_of_sample.result.metrics.to_dict()]
    trades = sum(int(m["total_trades"]) for m in metrics)
    wins = sum(int(m["winning_trades"]) for m in metrics)
    assert row["total_trades"] == trades and row["winning_trades"] == wins
    assert row["win_rate"] == pytest.approx(wins / trades if trades else 0.0)
    assert row["total_pnl"] == pytest.approx(sum(m["total_return"] * 10_000_000 for m in metrics))
    assert row["max_drawdown"] == pytest.approx(max(m["max_drawdown"] for m in metrics))
    assert row["sharpe_ratio"] == pytest.approx(sum(m["sharpe_ratio"] for m in metrics) / len(metrics))
    with loaded.db.begin() as conn:
        newest = conn.execute(sa.text("SELECT max(created_at) FROM backtest_results")).scalar()
    assert row["last_executed"] == newest
    assert row["parameters"]["params"] == res.best_params     # the optimization's best is what is kept


def test_concurrent_runs_keep_the_flag_until_the_last_ends(loaded: Any, database_url: str) -> None:
    sid = save_strategy(loaded.db, loaded.user_id, EmaCross())
    other = Database(database_url)   # a second process's connections
    first, second = backtesting(loaded.db, sid), backtesting(other, sid)
    first.__enter__()
    assert _row(loaded.db, "EmaCross")["is_backtesting"] is True
    second.__enter__()
    first.__exit__(None, None, None)
    assert _row(loaded.db, "EmaCross")["is_backtesting"] is True    # the second run is still going
    second.__exit__(None, None, None)
    assert _row(loaded.db, "EmaCross")["is_backtesting"] is False
    other.dispose()
    with pytest.raises(RuntimeError), backtesting(loaded.db, sid):  # a failing run clears it too
        assert _row(loaded.db, "EmaCross")["is_backtesting"] is True
        raise RuntimeError("boom")
    assert _row(loaded.db, "EmaCross")["is_backtesting"] is False
