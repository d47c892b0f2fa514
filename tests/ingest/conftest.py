"""Fixtures of the ingest tests: the fake Bithumb server and a client pointed at it."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest
import requests
from fake_bithumb import FakeBithumb, _handler

from workbench.ingest.bithumb import BithumbClient


@pytest.fixture
def bithumb_server() -> Iterator[FakeBithumb]:
    fake = FakeBithumb()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


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
