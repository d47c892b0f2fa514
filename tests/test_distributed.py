"""Sweeps on Dask give the same rows as in one process, store each combination once and resume."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pandas as pd
import pytest
import sqlalchemy as sa

from workbench.core.strategies import EmaCross
from workbench.ingest.sample import generate_sample_candles
from workbench.store.writer import write_table

pytestmark = [pytest.mark.db, pytest.mark.redis]
GRID = {"fast": [3, 5, 8], "slow": [13, 21, 34]}
SYMBOLS = ["KRW-SYNBTC", "KRW-SYNETH"]


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as c:
        yield c


@pytest.fixture
def loaded(session):  # type: ignore[no-untyped-def]
    write_table(session.db, "candles", generate_sample_candles(days=8))
    return session


def _stored(db, sweep_id: uuid.UUID) -> int:  # type: ignore[no-untyped-def]
    with db.begin() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM sweep_items WHERE sweep_id = CAST(:s AS uuid)"),
                                {"s": str(sweep_id)}).scalar_one())


def _metrics(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=["backtest_id"]).reset_index(drop=True)


def test_dask_sweep_rows_equal_the_in_process_sweep(loaded, client) -> None:  # type: ignore[no-untyped-def]
    local = loaded.sweep(EmaCross(), GRID, SYMBOLS, "1h", store=False, progress=False)
    dist = loaded.sweep(EmaCross(), GRID, SYMBOLS, "1h", client=client, chunk_size=2, progress=False)
    pd.testing.assert_frame_equal(_metrics(dist.table), _metrics(local.table))
    assert dist.table["backtest_id"].notna().all() and dist.table["backtest_id"].is_unique
    assert _stored(loaded.db, dist.sweep_id) == 9 and len(loaded.runs(sweep_id=dist.sweep_id)) == 9
    assert dist.overfitting is not None and local.overfitting is not None
    assert dist.overfitting.deflated_sharpe_ratio == pytest.approx(local.overfitting.deflated_sharpe_ratio)
    assert dist.overfitting.pbo == local.overfitting.pbo
    # the same id again: everything is stored, no task runs, nothing is added
    again = loaded.sweep(EmaCross(), GRID, SYMBOLS, "1h", client=client, sweep_id=dist.sweep_id, progress=False)
    assert again.table.attrs["resumed"] == 9 and _stored(loaded.db, dist.sweep_id) == 9
    pd.testing.assert_frame_equal(_metrics(again.table), _metrics(local.table), check_dtype=False)


def test_dask_resumes_a_sweep_interrupted_in_process(loaded, client) -> None:  # type: ignore[no-untyped-def]
    part = loaded.sweep(EmaCross(), {"fast": [3, 5], "slow": [13]}, SYMBOLS, "1h", progress=False)
    done = loaded.sweep(EmaCross(), GRID, SYMBOLS, "1h", client=client, sweep_id=part.sweep_id, progress=False)
    assert done.table.attrs["resumed"] == 2 and _stored(loaded.db, part.sweep_id) == 9
    assert len(loaded.runs(sweep_id=part.sweep_id)) == 9
    local = loaded.sweep(EmaCross(), GRID, SYMBOLS, "1h", store=False, progress=False)
    pd.testing.assert_frame_equal(_metrics(done.table), _metrics(local.table), check_dtype=False)


def test_dask_per_symbol_tasks_equal_single_symbol_sweeps(loaded, client) -> None:  # type: ignore[no-untyped-def]
    dist = loaded.sweep(EmaCross(), GRID, SYMBOLS, "1h", client=client, per_symbol=True, chunk_size=4,
                        progress=False)
    assert list(dist.table["symbol"]) == [SYMBOLS[0]] * 9 + [SYMBOLS[1]] * 9
    for symbol in SYMBOLS:
        local = loaded.sweep(EmaCross(), GRID, symbol, "1h", store=False, progress=False)
        mine = dist.table[dist.table["symbol"] == symbol].drop(columns=["symbol"])
        pd.testing.assert_frame_equal(_metrics(mine), _metrics(local.table))
    assert _stored(loaded.db, dist.sweep_id) == 18


def test_cli_sweep_on_a_scheduler_prints_the_dashboard(loaded, client,  # type: ignore[no-untyped-def]
                                                       cli_env: dict[str, str]) -> None:
    from typer.testing import CliRunner

    from workbench.cli import app

    res = CliRunner().invoke(app, ["sweep", "EmaCross", "--grid", "fast=3,5", "--grid", "slow=13",
                                   "--symbols", "KRW-SYNBTC", "--scheduler", client.scheduler.address],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "dask dashboard: http" in res.output and "sweep" in res.output
    assert len(loaded.runs()) == 2


def test_dask_walk_forward_folds_equal_the_in_process_ones(loaded, client) -> None:  # type: ignore[no-untyped-def]
    grid = {"fast": [3, 5], "slow": [13, 21]}
    local = loaded.walk_forward(EmaCross(), grid, SYMBOLS, "1h", n_folds=3, store=False, progress=False)
    dist = loaded.walk_forward(EmaCross(), grid, SYMBOLS, "1h", n_folds=3, client=client, progress=False)
    pd.testing.assert_frame_equal(dist.folds.drop(columns=["backtest_id"]), local.folds)
    assert dist.metrics.to_dict() == pytest.approx(local.metrics.to_dict(), nan_ok=True)
    pd.testing.assert_series_equal(dist.equity, local.equity)
    runs = loaded.runs()
    assert sorted(runs["split"]) == ["out_of_sample"] * 3 + ["walk_forward"]
    assert sorted(runs[runs["split"] == "out_of_sample"]["id"]) == sorted(dist.folds["backtest_id"])


def test_dask_sweep_and_walk_forward_of_a_portfolio_strategy(loaded, client) -> None:  # type: ignore[no-untyped-def]
    """A portfolio strategy on Dask: the same rows and folds as in one process."""
    from workbench.core.strategies.portfolio import MomentumRotation

    strategy = MomentumRotation(lookback=6, top=1, rebalance=6)
    grid = {"lookback": [6, 12], "top": [1, 2]}
    symbols = [*SYMBOLS, "KRW-SYNXRP"]
    local = loaded.sweep(strategy, grid, symbols, "1h", store=False, progress=False)
    dist = loaded.sweep(strategy, grid, symbols, "1h", client=client, chunk_size=3, progress=False)
    pd.testing.assert_frame_equal(_metrics(dist.table), _metrics(local.table))
    assert set(loaded.runs(sweep_id=dist.sweep_id)["symbol"]) == {"SYNBTC+SYNETH+SYNXRP"}
    wf_local = loaded.walk_forward(strategy, grid, symbols, "1h", n_folds=3, store=False, progress=False)
    wf_dist = loaded.walk_forward(strategy, grid, symbols, "1h", n_folds=3, client=client, progress=False)
    pd.testing.assert_frame_equal(wf_dist.folds.drop(columns=["backtest_id"]), wf_local.folds)
    pd.testing.assert_series_equal(wf_dist.equity, wf_local.equity)
