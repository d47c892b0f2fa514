"""Runs stored in backtest_results (every column), their manifests, strategies and their aggregates."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from workbench.core.strategies import EmaCross, Risk, RsiReversion, strategy
from workbench.errors import DataNotFoundError, StrategyError
from workbench.ingest.sample import generate_sample_candles
from workbench.store.runs import StoredRun, load_strategy, save_strategy
from workbench.store.writer import write_table

SYMBOLS = ["KRW-SYNBTC", "KRW-SYNETH"]


@pytest.fixture
def loaded(session):  # type: ignore[no-untyped-def]
    write_table(session.db, "candles", generate_sample_candles(days=8))
    return session


def _columns(db, table: str) -> list[str]:  # type: ignore[no-untyped-def]
    with db.begin() as conn:
        return [r[0] for r in conn.execute(sa.text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = :t ORDER BY ordinal_position"),
            {"t": table})]


def test_backtest_fills_every_column_and_manifest(loaded) -> None:  # type: ignore[no-untyped-def]
    run = loaded.backtest(EmaCross(risk=Risk(max_positions=2)), SYMBOLS, "1h")
    cols = _columns(loaded.db, "backtest_results")
    with loaded.db.begin() as conn:
        row = conn.execute(sa.text("SELECT * FROM backtest_results WHERE id = :id"),
                           {"id": run.backtest_id}).mappings().one()
        manifest = conn.execute(sa.text("SELECT * FROM backtest_manifests WHERE backtest_result_id = :id"),
                                {"id": run.backtest_id}).mappings().one()
    assert [c for c in cols if row[c] is None] == []
    m = run.result.metrics
    assert row["symbol"] == "SYNBTC+SYNETH" and row["timeframe"] == "1h"
    assert row["total_trades"] == m.total_trades > 0 and row["sharpe_ratio"] == pytest.approx(m.sharpe_ratio)
    assert row["sortino_ratio"] == pytest.approx(m.sortino_ratio)
    assert row["profit_factor"] == pytest.approx(m.profit_factor)
    assert row["execution_time"] > 0
    assert len(row["equity_curve"]) == len(run.result.equity)
    assert len(row["trade_history"]) == len(run.result.trades)
    assert set(row["trade_history"][0]) >= {"symbol", "entry_time", "exit_time", "pnl", "entry_price"}
    assert row["monthly_returns"] == pytest.approx(run.result.monthly_returns())
    assert manifest["run_id"] == run.run_id and manifest["split"] == "full"
    assert manifest["data_fingerprint"] == run.result.data_fingerprint and len(manifest["data_fingerprint"]) == 64
    assert manifest["parameters"]["params"] == {"fast": 8, "slow": 21}
    assert manifest["parameters"]["risk"]["max_positions"] == 2
    assert manifest["parameters"]["symbols"] == SYMBOLS
    assert {"numba", "pandas", "numpy", "workbench", "python", "requirements.lock"} <= set(manifest["package_versions"])
    assert manifest["git_commit"] is None or len(manifest["git_commit"]) >= 40
    assert manifest["backtest_config"]["fee_rate"] == 0.0025


def test_same_data_same_fingerprint(loaded) -> None:  # type: ignore[no-untyped-def]
    a = loaded.backtest(EmaCross(), "KRW-SYNBTC", "1h", store=False)
    b = loaded.backtest(RsiReversion(), "KRW-SYNBTC", "1h", store=False)
    c = loaded.backtest(EmaCross(), "KRW-SYNBTC", "1h", "2025-01-02", store=False)
    assert a.result.data_fingerprint == b.result.data_fingerprint != c.result.data_fingerprint
    assert a.backtest_id is None and loaded.runs().empty
    assert {"id", "strategy", "total_return", "sweep_id"} <= set(loaded.runs().columns)


def test_strategy_aggregates_sum_over_runs(loaded) -> None:  # type: ignore[no-untyped-def]
    r1 = loaded.backtest(EmaCross(), "KRW-SYNBTC", "1h")
    r2 = loaded.backtest(EmaCross(), "KRW-SYNETH", "1h")
    assert r1.strategy_id == r2.strategy_id
    with loaded.db.begin() as conn:
        s = conn.execute(sa.text("SELECT * FROM strategies WHERE id = :id"), {"id": r1.strategy_id}).mappings().one()
    m1, m2 = r1.result.metrics, r2.result.metrics
    assert s["total_trades"] == m1.total_trades + m2.total_trades
    assert s["winning_trades"] == m1.winning_trades + m2.winning_trades
    assert s["total_pnl"] == pytest.approx(m1.total_pnl + m2.total_pnl)
    assert s["max_drawdown"] == pytest.approx(max(m1.max_drawdown, m2.max_drawdown))
    assert s["sharpe_ratio"] == pytest.approx((m1.sharpe_ratio + m2.sharpe_ratio) / 2)
    assert s["win_rate"] == pytest.approx(s["winning_trades"] / s["total_trades"])
    assert s["last_executed"] is not None and s["is_backtesting"] is False
    assert s["strategy_type"] == "day_trading"
    status = loaded.cache.get_json(f"strategy:{r1.strategy_id}:status")
    assert status == {"state": "idle", "last_backtest_id": r2.backtest_id}


def test_strategies_round_trip_through_the_table(session) -> None:  # type: ignore[no-untyped-def]
    uid = session.user_id
    risk = Risk(risk_per_trade=1.5, max_positions=3, stop_loss_pct=2.5, take_profit_pct=7.0)
    sid = save_strategy(session.db, uid, EmaCross(fast=5, slow=34, risk=risk))
    back = load_strategy(session.db, sid)
    assert type(back) is EmaCross and back.params == {"fast": 5, "slow": 34} and back.risk == risk
    assert save_strategy(session.db, uid, EmaCross(fast=3, slow=34, risk=risk)) == sid  # same name: updated
    assert load_strategy(session.db, "EmaCross", user_id=uid).params["fast"] == 3

    @strategy("notebook_dip", "swing_trading")
    def dip(df: pd.DataFrame, *, drop: float = 0.02) -> tuple[pd.Series, pd.Series]:
        ch = df["close"].pct_change()
        return ch < -drop, ch > drop

    did = save_strategy(session.db, uid, dip(drop=0.03))
    again = session.strategy(did)
    assert again.params == {"drop": 0.03} and again.strategy_type == "swing_trading"
    with pytest.raises(DataNotFoundError):
        load_strategy(session.db, 999_999)
    with session.db.begin() as conn:
        conn.execute(sa.text("UPDATE strategies SET parameters = CAST(:p AS jsonb) WHERE id = :id"),
                     {"p": json.dumps({"class": "__main__:gone", "params": {}}), "id": did})
    with pytest.raises(StrategyError, match="defined in a notebook"):
        load_strategy(session.db, did)


def test_sweep_stores_every_combination(loaded) -> None:  # type: ignore[no-untyped-def]
    out = loaded.sweep(EmaCross(), {"fast": [3, 5], "slow": [13, 21]}, "KRW-SYNBTC", "1h", chunk_size=3,
                       progress=False)
    assert len(out.table) == 4 and out.table["backtest_id"].notna().all()
    runs = loaded.runs(sweep_id=out.sweep_id)
    assert sorted(runs["id"]) == sorted(out.table["backtest_id"])
    by_id = runs.set_index("id")
    for row in out.table.itertuples():
        assert by_id.loc[row.backtest_id, "parameters"]["params"] == {"fast": row.fast, "slow": row.slow}
        assert by_id.loc[row.backtest_id, "total_return"] == pytest.approx(row.total_return)
    assert isinstance(out.sweep_id, uuid.UUID)


def test_walk_forward_stores_out_of_sample_runs_and_the_stitched_run(loaded) -> None:  # type: ignore[no-untyped-def]
    wf = loaded.walk_forward(EmaCross(), {"fast": [3, 5], "slow": [13]}, "KRW-SYNBTC", "1h", n_folds=2,
                             progress=False)
    runs = loaded.runs()
    assert len(runs) == 3 and sorted(runs["split"]) == ["out_of_sample", "out_of_sample", "walk_forward"]
    oos = runs[runs["split"] == "out_of_sample"]
    assert sorted(oos["id"]) == sorted(wf.folds["backtest_id"])
    stitched = runs[runs["split"] == "walk_forward"].iloc[0]
    assert stitched["id"] == wf.folds.attrs["stitched_backtest_id"]
    assert stitched["total_return"] == pytest.approx(wf.metrics.total_return)
    assert len(set(runs["sweep_id"])) == 1


def test_load_run_gives_the_equity_curve_back(loaded) -> None:  # type: ignore[no-untyped-def]
    run = loaded.backtest(EmaCross(), "KRW-SYNBTC", "1h")
    stored = loaded.run(run.backtest_id)
    np.testing.assert_allclose(stored["equity"].to_numpy(), run.result.equity.to_numpy())
    assert stored["strategy_name"] == "EmaCross" and stored["data_rows"] == len(run.result.equity)
    with pytest.raises(DataNotFoundError):
        loaded.run(123456)


def test_load_run_gives_exactly_the_keys_of_stored_run_with_their_types(loaded) -> None:  # type: ignore[no-untyped-def]
    run = loaded.backtest(EmaCross(), "KRW-SYNBTC", "1h")
    stored: Mapping[str, object] = loaded.run(run.backtest_id)
    assert set(stored) == set(StoredRun.__annotations__)
    kinds = {"id": int, "strategy_id": int, "user_id": int, "start_date": datetime, "end_date": datetime,
             "initial_capital": float, "symbol": str, "timeframe": str, "total_return": float, "total_trades": int,
             "equity_curve": list, "trade_history": list, "created_at": datetime, "run_id": uuid.UUID,
             "split": str, "strategy_class": str, "parameters": dict, "backtest_config": dict,
             "data_fingerprint": str, "data_rows": int, "package_versions": dict, "strategy_name": str,
             "equity": pd.Series}
    assert {k: type(stored[k]).__name__ for k in kinds if not isinstance(stored[k], kinds[k])} == {}


def test_a_strategy_saved_by_two_writers_at_once_is_stored_once(session) -> None:  # type: ignore[no-untyped-def]
    import threading

    user = session.user_id
    ids: list[list[int]] = [[], []]
    start = threading.Barrier(2)

    def save(k: int) -> None:
        for i in range(40):
            start.wait(timeout=60)   # both look the name up together (two studies or sweeps at once)
            ids[k].append(save_strategy(session.db, user, EmaCross(name=f"Race{i}")))

    threads = [threading.Thread(target=save, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert ids[0] == ids[1] and len(set(ids[0])) == 40
    with session.db.begin() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM strategies WHERE name LIKE 'Race%'")).scalar() == 40
