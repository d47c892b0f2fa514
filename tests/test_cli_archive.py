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
    from workbench.app.session import connect

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


def test_archive_verify_reports_each_kind_of_bad_file(cli_env: dict[str, str], session,  # type: ignore[no-untyped-def]
                                                      tmp_path: Path) -> None:
    import hashlib

    import pyarrow as pa
    import pyarrow.parquet as pq

    symbols = {"KRW-SYNBTC": 1e6, "KRW-SYNETH": 5e4, "KRW-SYNXRP": 800.0}
    write_table(session.db, "candles", generate_sample_candles(symbols, start="2025-03-30", days=4))
    run("archive")
    root = tmp_path / "arc" / "candles"

    def rel(symbol: str, month: str) -> str:
        return f"candles/symbol={symbol}/timeframe=1m/month={month}/part.parquet"

    def sha(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    ok = CliRunner().invoke(app, ["archive", "--verify"], catch_exceptions=False)
    assert (ok.exit_code, ok.output) == (0, "\n".join([
        f"archive {tmp_path / 'arc'}: 6 files, all ok",
        "file" + " " * 61 + "  status          detail",
        *(f"{rel(s, m)}  ok" for s in symbols for m in ("2025-03", "2025-04"))]) + "\n")

    flipped = tmp_path / "arc" / rel("KRW-SYNBTC", "2025-03")
    flipped_sha = sha(flipped)
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2: len(data) // 2 + 16] = bytes(b ^ 0xFF for b in data[len(data) // 2: len(data) // 2 + 16])
    flipped.write_bytes(bytes(data))
    truncated = tmp_path / "arc" / rel("KRW-SYNBTC", "2025-04")
    truncated_sha = sha(truncated)
    truncated.write_bytes(truncated.read_bytes()[:1000])
    eth, xrp = tmp_path / "arc" / rel("KRW-SYNETH", "2025-03"), tmp_path / "arc" / rel("KRW-SYNXRP", "2025-03")
    eth_bytes = eth.read_bytes()
    eth.write_bytes(xrp.read_bytes())
    xrp.write_bytes(eth_bytes)
    (tmp_path / "arc" / rel("KRW-SYNETH", "2025-04")).unlink()
    stray = root / "symbol=KRW-SYNDOGE" / "timeframe=1m" / "month=2025-03" / "part.parquet"
    stray.parent.mkdir(parents=True)
    doge = generate_sample_candles({"KRW-SYNDOGE": 300.0}, start="2025-03-30", days=1)
    pq.write_table(pa.Table.from_pandas(doge, preserve_index=False), stray)

    bad = CliRunner().invoke(app, ["archive", "--verify"], catch_exceptions=False)
    pad = " " * 2
    assert (bad.exit_code, bad.output) == (1, "\n".join([
        f"archive {tmp_path / 'arc'}: 7 files, 6 bad",
        "file" + " " * 62 + "  status          detail",
        f"{rel('KRW-SYNBTC', '2025-03')} {pad}damaged         is damaged: its sha256 {sha(flipped)} is not the "
        f"recorded {flipped_sha}",
        f"{rel('KRW-SYNBTC', '2025-04')} {pad}damaged         is damaged: its sha256 {sha(truncated)} is not the "
        f"recorded {truncated_sha}",
        f"{rel('KRW-SYNDOGE', '2025-03')}{pad}unrecorded      was not written by `workbench archive` (no record "
        "of it in the database)",
        f"{rel('KRW-SYNETH', '2025-03')} {pad}wrong identity  is a copy of '{rel('KRW-SYNXRP', '2025-03')}', "
        "which holds candles KRW-SYNXRP 1m 2025-03",
        f"{rel('KRW-SYNETH', '2025-04')} {pad}missing         is missing: it was archived with 2,880 rows of "
        "candles KRW-SYNETH 1m 2025-04",
        f"{rel('KRW-SYNXRP', '2025-03')} {pad}wrong identity  is a copy of '{rel('KRW-SYNETH', '2025-03')}', "
        "which holds candles KRW-SYNETH 1m 2025-03",
        f"{rel('KRW-SYNXRP', '2025-04')} {pad}ok"]) + "\n")
    # --adopt records only the unrecorded file that fits its place (the damaged and swapped ones stay bad)
    assert run("archive", "--adopt") == f"adopted 1 unrecorded archive files\n{rel('KRW-SYNDOGE', '2025-03')}\n"

    wrong = subprocess.run([sys.executable, "-c", "from workbench.cli import main; main()", "archive", "--verify",
                            "--before", "2025-01-01"], capture_output=True, text=True,
                           env={**os.environ, **cli_env}, timeout=120)
    assert (wrong.returncode, wrong.stdout) == (1, "")
    assert wrong.stderr.strip().splitlines()[-1].endswith(
        "archive --verify and --adopt take no other option: they archive nothing")
