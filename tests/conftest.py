"""Shared fixtures: a real PostgreSQL database and a real Redis, never mocks.

Servers, in order of preference:
1. ``WORKBENCH_TEST_DATABASE_URL`` / ``WORKBENCH_TEST_REDIS_URL`` if set;
2. the local servers on 127.0.0.1:5432 / 127.0.0.1:6379 if they answer (CI machines have them);
3. otherwise the embedded servers, started in a temporary data dir (a fresh machine).

Each test session works in its own throwaway database, dropped at the end; Redis tests use db 13,
flushed around each test.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.store.cache import RedisCache
from workbench.store.database import Database
from workbench.store.migrations import migrate

#: Fixtures that reach a server: a test using any of them (directly or through other fixtures) gets
#: the marker, so ``-m "not db"`` / ``-m "not redis"`` select exactly the tests that run without one.
SERVER_FIXTURES = {
    "db": {"server_url", "database_url", "db"},
    "redis": {"redis_server_url", "redis_cache"},
}

MARKET_TABLES = ("candles", "technical_indicators", "tickers", "orderbooks", "transactions", "candle_rollups",
                 "archive_watermarks", "archive_files")
META_TABLES = ("users",)  # CASCADE empties the others


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    """Doctests are collected from every module (``--doctest-modules``); conftest files hold none, and
    collecting two of them as modules named ``conftest`` (tests/ingest, tests/paper) is an import clash."""
    return True if collection_path.name == "conftest.py" else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for marker, fixtures in SERVER_FIXTURES.items():
            if used & fixtures and item.get_closest_marker(marker) is None:
                item.add_marker(getattr(pytest.mark, marker))


def _open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="session")
def embedded_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("embedded")
    yield path
    from workbench.services.embedded import EmbeddedPostgres, EmbeddedRedis

    EmbeddedRedis(path).stop()
    EmbeddedPostgres(path).stop()


@pytest.fixture(scope="session")
def server_url(request: pytest.FixtureRequest) -> str:
    """URL of a PostgreSQL server's maintenance database."""
    url = os.environ.get("WORKBENCH_TEST_DATABASE_URL")
    if url:
        return url
    if _open(5432):
        return "postgresql://postgres@127.0.0.1:5432/postgres"
    from workbench.services.embedded import EmbeddedPostgres

    info = EmbeddedPostgres(request.getfixturevalue("embedded_dir")).start()
    return info.url.rsplit("/", 1)[0] + "/postgres"


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    """A fresh, migrated database for this test session."""
    import psycopg

    name = f"wbtest_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = server_url.rsplit("/", 1)[0] + "/" + name
    db = Database(url)
    migrate(db)
    db.dispose()
    yield url
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """The session database, emptied before the test."""
    database = Database(database_url, pool_size=2, max_overflow=2)
    with database.begin() as conn:
        conn.exec_driver_sql("TRUNCATE " + ", ".join(MARKET_TABLES + META_TABLES) + " RESTART IDENTITY CASCADE")
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def redis_server_url(request: pytest.FixtureRequest) -> str:
    url = os.environ.get("WORKBENCH_TEST_REDIS_URL")
    if url:
        return url
    if _open(6379):
        return "redis://127.0.0.1:6379/13"
    from workbench.services.embedded import EmbeddedRedis

    info = EmbeddedRedis(request.getfixturevalue("embedded_dir")).start()
    return info.url.rsplit("/", 1)[0] + "/13"


@pytest.fixture
def redis_cache(redis_server_url: str) -> Iterator[RedisCache]:
    cache = RedisCache.from_url(redis_server_url)
    cache.client.flushdb()
    yield cache
    cache.client.flushdb()
    cache.client.close()


@pytest.fixture
def session(db: Database, database_url: str, redis_cache: RedisCache, redis_server_url: str,
            tmp_path: Path) -> Iterator[object]:
    """A connected Workbench on the (emptied) test database and the (flushed) test Redis."""
    from workbench.app.session import connect
    from workbench.services.config import Settings

    settings = Settings(database_url=database_url, redis_url=redis_server_url, data_dir=tmp_path / "data",
                        reports_dir=tmp_path / "reports", _env_file=None)
    wb = connect(settings)
    yield wb
    wb.close()


@pytest.fixture
def cli_env(session: object, database_url: str, redis_server_url: str, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """WORKBENCH_* settings of the CLI tests (test database and Redis, data/reports/archive under
    ``tmp_path``), set in the environment and returned for subprocesses; the working dir is ``tmp_path``."""
    values = {"WORKBENCH_DATABASE_URL": database_url, "WORKBENCH_REDIS_URL": redis_server_url,
              "WORKBENCH_DATA_DIR": str(tmp_path / "data"), "WORKBENCH_REPORTS_DIR": str(tmp_path / "reports"),
              "WORKBENCH_ARCHIVE_URL": str(tmp_path / "arc")}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(tmp_path)
    return values
