"""``workbench rerun`` after candles were changed by another SQL client (not the workbench): the
triggers of migration 0052 move the data version, so the re-run loads the changed candles (not a
cached frame or a stale rollup) and reports the mismatch with exit status 1."""

from __future__ import annotations

import re

import psycopg
import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.core.strategies import EmaCross
from workbench.ingest.sample import generate_sample_candles
from workbench.store.writer import write_table

pytestmark = [pytest.mark.db, pytest.mark.redis]


def _checks(output: str) -> dict[str, tuple[str, str]]:
    """The rerun table's rows: check -> (result, detail, wrapped lines joined)."""
    rows: dict[str, list[str]] = {}
    last = ""
    for line in output.splitlines():
        if not line.startswith("│"):
            continue
        check, result, detail = (c.strip() for c in line.strip("│").split("│"))
        if check:
            last = check
            rows[check] = [result, detail]
        else:
            rows[last][1] += " " + detail
    return {k: (v[0], v[1]) for k, v in rows.items()}


def test_rerun_reports_a_candle_changed_by_plain_sql(session, cli_env: dict[str, str],  # type: ignore[no-untyped-def]
                                                     database_url: str) -> None:
    write_table(session.db, "candles", generate_sample_candles(days=8))
    run = session.backtest(EmaCross(fast=5, slow=13), "KRW-SYNBTC", "1h", start="2025-01-02", end="2025-01-07")
    bid, stored = run.backtest_id, run.result.data_fingerprint
    ok = CliRunner().invoke(app, ["rerun", str(bid)], catch_exceptions=False)
    assert ok.exit_code == 0, ok.output
    assert ok.output.splitlines()[-1] == f"backtest {bid} reproduced bit for bit"
    assert _checks(ok.output)["data"] == ("same", f"fingerprint {stored[:16]}…, 120 rows")

    with psycopg.connect(database_url, autocommit=True) as conn:   # the 12:00 bar's close, as psql would
        conn.execute("UPDATE candles SET close_price = close_price * 1.001, high_price = high_price * 1.001 "
                     "WHERE symbol = 'KRW-SYNBTC' AND timeframe = '1m' AND timestamp = '2025-01-03 12:59+00'")
    bad = CliRunner().invoke(app, ["rerun", str(bid)], catch_exceptions=False)
    assert bad.exit_code == 1, bad.output
    assert bad.output.splitlines()[-1] == f"backtest {bid} did NOT reproduce: data differ"
    checks = _checks(bad.output)
    assert {k: checks[k][0] for k in ("data", "equity", "trades", "metrics")} == {
        "data": "DIFFERENT", "equity": "same", "trades": "same", "metrics": "same"}
    found = re.fullmatch(r"stored (\w+)… \(120 rows\), now (\w+)… \(120 rows\): the stored candles changed",
                         checks["data"][1])
    assert found is not None, checks["data"]
    assert found.group(1) == stored[:16] and found.group(2) != stored[:16]
