"""Fixtures of the report notebook tests: the test database with sample data and one stored run, and
the environment report kernels run with."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from workbench.core.strategies import EmaCross, Risk
from workbench.ingest.sample import generate_sample_candles
from workbench.store.writer import write_table

REPO = Path(__file__).resolve().parents[2]
SMALL_RANGE = {"start": "2025-01-01", "end": "2025-01-04"}


@pytest.fixture
def loaded(session: Any) -> Any:
    """The test database with 5 days of sample candles and one stored run."""
    write_table(session.db, "candles", generate_sample_candles(days=5))
    risk = Risk(stop_loss_pct=2.0, take_profit_pct=4.0, risk_per_trade=1.0, max_positions=2)
    run = session.backtest(EmaCross(fast=5, slow=13, risk=risk), "KRW-SYNBTC,KRW-SYNETH", "1h", **SMALL_RANGE)
    assert run.backtest_id is not None
    session.paper_replay(EmaCross(fast=5, slow=13, risk=risk), "KRW-SYNBTC,KRW-SYNETH", "1h", **SMALL_RANGE)
    return session


@pytest.fixture
def kernel_env(database_url: str, redis_server_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment of notebook kernels: the test servers, a throwaway data dir, the numba cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKBENCH_", "PYTEST_"))}
    env.update({
        "WORKBENCH_DATABASE_URL": database_url,
        "WORKBENCH_REDIS_URL": redis_server_url,
        "WORKBENCH_DATA_DIR": str(tmp_path / "data"),
        "NUMBA_CACHE_DIR": os.environ.get("NUMBA_CACHE_DIR", str(REPO / ".cache" / "numba")),
    })
    return env
