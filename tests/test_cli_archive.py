"""`workbench archive` against the real test database (plain PostgreSQL: archive, then retention)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.ingest.sample import generate_sample_candles
from workbench.store.writer import write_table

pytestmark = [pytest.mark.db, pytest.mark.redis]


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_archive_command(cli_env: dict[str, str], session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    old = generate_sample_candles({"KRW-SYNBTC": 1e6}, start="2025-03-30", days=4)
    recent = generate_sample_candles({"KRW-SYNBTC": 1e6}, days=1,
                                     start=(pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=3)).floor("1D"))
    write_table(session.db, "candles", pd.concat([old, recent]))
    out = run("archive")
    assert "candles: 5,760 rows in 2 files (2025-03..2025-04)" in out
    assert "candles 5,760 rows deleted" in out
    assert len(list((tmp_path / "arc" / "candles").rglob("part.parquet"))) == 2
    again = run("archive")
    assert "candles: nothing to archive" in again and "candles 0 rows deleted" in again
    from workbench.session import connect

    wb = connect()  # the settings of the command (WORKBENCH_ARCHIVE_URL)
    try:
        frame = wb.candles("KRW-SYNBTC", "1m", "2025-01-01", "2100-01-01")
    finally:
        wb.close()
    assert len(frame) == len(old) + len(recent)


def test_archive_command_rejects_a_bad_time(cli_env: dict[str, str]) -> None:
    proc = subprocess.run([sys.executable, "-c", "from workbench.cli import main; main()", "archive",
                           "--before", "yesterday-ish"], capture_output=True, text=True,
                          env={**os.environ, **cli_env}, timeout=120)
    assert proc.returncode == 1 and "before" in proc.stderr and "yesterday-ish" in proc.stderr
