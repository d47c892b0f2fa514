"""Fixtures of the ingest tests: the fake Bithumb server and a client pointed at it."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
import requests
from fake_bithumb import FakeBithumb, serving

from workbench.ingest.bithumb import BithumbClient


@pytest.fixture
def bithumb_server() -> Iterator[FakeBithumb]:
    with serving(FakeBithumb()) as fake:
        yield fake


@pytest.fixture
def session() -> Iterator[requests.Session]:
    s = requests.Session()
    s.trust_env = False  # never route 127.0.0.1 through a proxy from the environment
    yield s
    s.close()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(bithumb_server: FakeBithumb, session: requests.Session, sleeps: list[float]) -> BithumbClient:
    return BithumbClient(base_url=bithumb_server.url, session=session, sleep=sleeps.append,
                         max_requests_per_second=math.inf, timeout=5.0)
