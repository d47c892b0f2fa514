"""Fixtures of the paper-trading tests: the fake Bithumb server (tests/support/fake_bithumb.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_bithumb import FakeBithumb, serving


@pytest.fixture
def fake_bithumb() -> Iterator[FakeBithumb]:
    with serving(FakeBithumb()) as fake:
        yield fake
