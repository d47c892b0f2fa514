"""``workbench rerun``: a stored run re-executed from its manifest, compared bit for bit."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from workbench.cli import app
from workbench.core.backtest import run_backtest
from workbench.core.strategies import EmaCross, Risk, RsiReversion
from workbench.errors import DataNotFoundError, ValidationError
from workbench.ingest.sample import generate_sample_candles
from workbench.store.manifest import LOCK_KEY, package_versions, result_digests
from workbench.store.writer import write_frame, write_table

ROOT = Path(__file__).resolve().parents[1]
SYMBOLS = "KRW-SYNBTC,KRW-SYNETH"
WINDOW = {"start": "2025-01-02", "end": "2025-01-07"}


@pytest.fixture
def candles() -> pd.DataFrame:
    return generate_sample_candles(days=8)


@pytest.fixture
def loaded(session, candles: pd.DataFrame):  # type: ignore[no-untyped-def]
    write_table(session.db, "candles", candles)
    return session


def _decisive(report) -> dict[str, bool | None]:  # type: ignore[no-untyped-def]
    return {c.name: c.ok for c in report.checks if c.name in ("data", "equity", "trades", "metrics")}


def _execute(db, sql: str, **params) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as conn:
        conn.execute(sa.text(sql), params)


def test_a_stored_backtest_reproduces_bit_for_bit(loaded) -> None:  # type: ignore[no-untyped-def]
    risk = Risk(max_positions=2, stop_loss_pct=1.5, take_profit_pct=3.0)
    run = loaded.backtest(EmaCross(fast=5, slow=13, risk=risk), SYMBOLS, "1h", **WINDOW)
    report = loaded.rerun(run.backtest_id)
    assert report.reproduced, report.table()
    assert _decisive(report) == {"data": True, "equity": True, "trades": True, "metrics": True}
    assert report.check("environment").ok is True  # same requirements.lock as when it was stored
    new = report.result
    assert new is not run.result
    pd.testing.assert_series_equal(new.equity, run.result.equity, check_exact=True)
    pd.testing.assert_frame_equal(new.trades, run.result.trades, check_exact=True)
    assert new.metrics.to_dict() == run.result.metrics.to_dict()
    assert new.params == {"fast": 5, "slow": 13} and new.risk == risk.to_dict() and new.symbols == SYMBOLS.split(",")


def test_sweep_and_walk_forward_runs_reproduce(loaded) -> None:  # type: ignore[no-untyped-def]
    out = loaded.sweep(RsiReversion(), {"period": [7, 14], "oversold": [25, 35]}, SYMBOLS, "1h", chunk_size=3,
                       progress=False, **WINDOW)
    for bid in out.table["backtest_id"]:
        assert loaded.rerun(int(bid)).reproduced, bid
    wf = loaded.walk_forward(EmaCross(), {"fast": [3, 5], "slow": [13]}, "KRW-SYNBTC", "1h", n_folds=2,
                             progress=False)
    for bid in wf.folds["backtest_id"]:
        report = loaded.rerun(int(bid))
        assert report.reproduced, report.table()
        # out of sample: the fold's in-sample bars were loaded again as warm-up, trading starts at test_start
        fold = wf.folds.set_index("backtest_id").loc[bid]
        assert report.result.start == fold["test_start"]
    stitched = wf.folds.attrs["stitched_backtest_id"]
    with pytest.raises(ValidationError, match=f"backtest {stitched} is the stitched curve of a walk-forward"):
        loaded.rerun(stitched)


def test_close_at_end_is_replayed(loaded) -> None:  # type: ignore[no-untyped-def]
    run = loaded.backtest(EmaCross(fast=5, slow=13), "KRW-SYNBTC", "1h", **WINDOW, close_at_end=True)
    assert (run.result.trades["status"] == "closed").all()
    report = loaded.rerun(run.backtest_id)
    assert report.reproduced, report.table()
    assert (report.result.trades["exit_reason"] == "end").sum() == (run.result.trades["exit_reason"] == "end").sum()


def test_later_data_does_not_change_the_rerun(loaded, candles: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    run = loaded.backtest(EmaCross(fast=5, slow=13), "KRW-SYNBTC", "1h", "2025-01-01", "2025-01-05")
    later = candles[candles["timestamp"] >= pd.Timestamp("2025-01-05", tz="UTC")]
    write_frame(loaded.db, "candles", later.assign(close_price=later["close_price"] * 1.5,
                                                   high_price=later["high_price"] * 1.5), cache=loaded.cache)
    assert loaded.rerun(run.backtest_id).reproduced


def test_a_changed_candle_is_reported_as_other_data(loaded, candles: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    run = loaded.backtest(EmaCross(fast=5, slow=13), "KRW-SYNBTC", "1h", **WINDOW)
    row = candles[(candles["symbol"] == "KRW-SYNBTC")
                  & (candles["timestamp"] == pd.Timestamp("2025-01-03 12:59", tz="UTC"))]  # the 12:00 bar's close
    assert len(row) == 1
    write_frame(loaded.db, "candles", row.assign(close_price=row["close_price"] * 1.001,
                                                 high_price=row["high_price"] * 1.001), cache=loaded.cache)
    report = loaded.rerun(run.backtest_id)
    assert not report.reproduced
    assert report.check("data").ok is False and "the stored candles changed" in report.check("data").detail


def test_one_changed_bit_of_a_stored_metric_is_found(loaded) -> None:  # type: ignore[no-untyped-def]
    run = loaded.backtest(EmaCross(fast=5, slow=13), SYMBOLS, "1h", **WINDOW)
    sharpe = run.result.metrics.sharpe_ratio
    _execute(loaded.db, "UPDATE backtest_results SET sharpe_ratio = :v WHERE id = :id",
             v=float(np.nextafter(sharpe, np.inf)), id=run.backtest_id)
    report = loaded.rerun(run.backtest_id)
    assert not report.reproduced
    assert _decisive(report) == {"data": True, "equity": True, "trades": True, "metrics": False}
    assert "sharpe_ratio" in report.check("metrics").detail


def test_the_full_equity_digest_is_compared(loaded) -> None:  # type: ignore[no-untyped-def]
    """The stored curve is thinned; the digest covers every bar, so a stored digest that differs fails."""
    run = loaded.backtest(EmaCross(fast=5, slow=13), SYMBOLS, "1h", **WINDOW)
    _execute(loaded.db, "UPDATE backtest_manifests SET parameters = jsonb_set(parameters, "
             "'{replay,digests,equity}', to_jsonb(CAST(:d AS text))) WHERE backtest_result_id = :id",
             d="0" * 64, id=run.backtest_id)
    report = loaded.rerun(run.backtest_id)
    assert _decisive(report) == {"data": True, "equity": False, "trades": True, "metrics": True}


def test_a_run_stored_without_replay_data_is_compared_on_its_columns(loaded) -> None:  # type: ignore[no-untyped-def]
    run = loaded.backtest(EmaCross(fast=5, slow=13), SYMBOLS, "1h", **WINDOW)
    _execute(loaded.db, "UPDATE backtest_manifests SET parameters = parameters - 'replay' "
             "WHERE backtest_result_id = :id", id=run.backtest_id)
    report = loaded.rerun(run.backtest_id)
    assert report.reproduced, report.table()
    assert "stored columns only" in report.check("equity").detail


def test_runs_without_a_manifest_or_id_are_named(loaded) -> None:  # type: ignore[no-untyped-def]
    run = loaded.backtest(EmaCross(), "KRW-SYNBTC", "1h", **WINDOW)
    with pytest.raises(DataNotFoundError, match="no backtest result with id 99999"):
        loaded.rerun(99999)
    _execute(loaded.db, "DELETE FROM backtest_manifests WHERE backtest_result_id = :id", id=run.backtest_id)
    with pytest.raises(DataNotFoundError, match=f"backtest {run.backtest_id} has no manifest"):
        loaded.rerun(run.backtest_id)


def test_cli_rerun_exit_status(loaded, cli_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    run = loaded.backtest(EmaCross(fast=5, slow=13), SYMBOLS, "1h", **WINDOW)
    ok = CliRunner().invoke(app, ["rerun", str(run.backtest_id)], catch_exceptions=False)
    assert ok.exit_code == 0, ok.output
    assert f"backtest {run.backtest_id} reproduced bit for bit" in ok.output
    _execute(loaded.db, "UPDATE backtest_results SET total_trades = total_trades + 1 WHERE id = :id",
             id=run.backtest_id)
    bad = CliRunner().invoke(app, ["rerun", str(run.backtest_id)], catch_exceptions=False)
    assert bad.exit_code == 1 and "DIFFERENT" in bad.output


# ----------------------------------------------------------------- the manifest's pieces (no server)


def test_the_manifest_records_the_lock_file_hash() -> None:
    expected = hashlib.sha256((ROOT / "requirements.lock").read_bytes()).hexdigest()
    assert package_versions()[LOCK_KEY] == expected


def test_digests_change_with_one_bit_of_the_result() -> None:
    idx = pd.date_range("2025-01-01", periods=300, freq="1h", tz="UTC")
    rng = np.random.default_rng(3)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(idx))))
    df = pd.DataFrame({"open": close, "high": close * 1.01, "low": close * 0.99, "close": close,
                       "volume": 1.0}, index=idx)
    result = run_backtest(df, EmaCross(fast=5, slow=13), timeframe="1h", symbol="KRW-X")
    assert len(result.trades) > 0
    base = result_digests(result)
    assert result_digests(run_backtest(df, EmaCross(fast=5, slow=13), timeframe="1h", symbol="KRW-X")) == base

    equity = result.equity.copy()
    equity.iloc[150] = np.nextafter(equity.iloc[150], np.inf)
    trades = result.trades.copy()
    trades.loc[0, "pnl"] = np.nextafter(trades.loc[0, "pnl"], -np.inf)
    moved = result.trades.copy()
    moved.loc[0, "entry_time"] = moved.loc[0, "entry_time"] + pd.Timedelta(hours=1)
    for changed, key in [(equity, "equity"), (trades, "trades"), (moved, "trades")]:
        digests = result_digests(dataclasses.replace(result, **{key: changed}))
        assert digests[key] != base[key]
        assert {k: v for k, v in digests.items() if k != key} == {k: v for k, v in base.items() if k != key}


def test_benchmark_and_risk_free_rate_are_stored_and_rerun(loaded) -> None:  # type: ignore[no-untyped-def]
    run = loaded.backtest(EmaCross(fast=5, slow=13), "KRW-SYNETH", "1h", benchmark="KRW-SYNBTC",
                          risk_free_rate=0.03, **WINDOW)
    btc = loaded.candles("KRW-SYNBTC", "1h", **WINDOW)["close"]
    hold = 10_000_000.0 * btc / btc.iloc[0]                  # KRW-SYNBTC bought at the first close, not traded
    np.testing.assert_allclose(run.result.benchmark.to_numpy(), hold.to_numpy(), rtol=1e-12)
    stored = loaded.run(run.backtest_id)["backtest_config"]
    assert (stored["benchmark"], stored["risk_free_rate"]) == ("KRW-SYNBTC", 0.03)
    report = loaded.rerun(run.backtest_id)
    assert report.reproduced, report.table()
    assert report.result.config == run.result.config
    assert report.result.metrics.to_dict() == run.result.metrics.to_dict()
