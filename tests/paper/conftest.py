"""Fixtures of the paper-trading tests: the fake Bithumb server of the ingest tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ingest"))

from fake_bithumb import FakeBithumb, serving  # noqa: E402


@pytest.fixture
def fake_bithumb() -> Iterator[FakeBithumb]:
    with serving(FakeBithumb()) as fake:
        yield fake
