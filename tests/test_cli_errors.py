"""Failures reach the user as one ``error:`` line naming what failed and how to fix it, never a
traceback (unless --debug) and never a password."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.services.config import Settings
from workbench.services.embedded import free_port
from workbench.services.resolve import ResolvedUrls

PASSWORD = "hunter2-Secret"


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    base.update({"WORKBENCH_DATA_DIR": str(tmp_path / "data"), "WORKBENCH_CACHE_ENABLED": "false",
                 "COLUMNS": "200", **env})
    return subprocess.run([sys.executable, "-c", "from workbench.cli import main; main()", *args],
                          capture_output=True, text=True, env=base, cwd=tmp_path, timeout=120)


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{free_port()}/workbench"
    r = _cli(tmp_path, "db", "status", WORKBENCH_DATABASE_URL=url)
    assert r.returncode == 1
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error: PostgreSQL failed:") and "WORKBENCH_DATABASE_URL" in lines[0]
    assert "refused" in lines[0].lower()
    assert "Traceback" not in r.stderr and PASSWORD not in r.stdout + r.stderr


def test_debug_shows_the_traceback_masked(tmp_path: Path) -> None:
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{free_port()}/workbench"
    r = _cli(tmp_path, "db", "status", "--debug", WORKBENCH_DATABASE_URL=url)
    assert r.returncode == 1 and "Traceback" in r.stderr and "error: PostgreSQL failed" in r.stderr
    assert PASSWORD not in r.stdout + r.stderr


@pytest.mark.parametrize("url", [f"postgres:/postgres:{PASSWORD}@127.0.0.1/db",
                                 f"mysql://postgres:{PASSWORD}@127.0.0.1/db"])
def test_a_mistyped_url_error_does_not_print_the_password(tmp_path: Path, url: str) -> None:
    r = _cli(tmp_path, "db", "status", WORKBENCH_DATABASE_URL=url)
    assert r.returncode == 1 and r.stderr.startswith("error: invalid settings")
    assert PASSWORD not in r.stdout + r.stderr and "Traceback" not in r.stderr


def test_reprs_mask_passwords() -> None:
    s = Settings(database_url=f"postgresql://u:{PASSWORD}@db:5432/x", redis_url=f"redis://:{PASSWORD}@r:6379/0",
                 _env_file=None)
    urls = ResolvedUrls(s.database_url or "", s.redis_url, False, False, ())
    for text in (repr(s), str(s), repr(urls)):
        assert PASSWORD not in text and "***" in text
