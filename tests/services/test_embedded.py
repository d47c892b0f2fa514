"""The embedded default: no URLs configured -> the workbench starts, reuses and stops its own servers."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from workbench.config import Settings
from workbench.services.embedded import EmbeddedPostgres, EmbeddedRedis
from workbench.services.resolve import resolve_urls, stop_embedded
from workbench.session import connect

pytestmark = pytest.mark.slow


@pytest.mark.db
@pytest.mark.redis
def test_embedded_default_starts_reuses_and_stops(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=None, redis_url=None, _env_file=None)
    try:
        wb = connect(settings)
        assert wb.urls.embedded_postgres and wb.urls.embedded_redis
        assert set(wb.urls.started) == {"postgres", "redis"}
        port = EmbeddedPostgres(tmp_path).running().port
        assert f"127.0.0.1:{port}/" in wb.urls.database_url
        assert wb.inventory().empty  # schema applied, tables empty
        assert redis.Redis.from_url(wb.urls.redis_url).ping()
        wb.close()
        again = resolve_urls(settings)  # a second process finds the running servers
        assert again.started == () and again.database_url == wb.urls.database_url
    finally:
        stopped = stop_embedded(settings)
    assert sorted(stopped) == ["postgres", "redis"]
    assert EmbeddedPostgres(tmp_path).running() is None and EmbeddedRedis(tmp_path).running() is None
    # data survives a restart
    try:
        wb = connect(settings)
        from workbench.store.migrations import migration_status

        assert migration_status(wb.db).up_to_date
        wb.close()
    finally:
        stop_embedded(settings)


def test_configured_urls_are_used_as_they_are(tmp_path: Path, database_url: str, redis_server_url: str) -> None:
    settings = Settings(data_dir=tmp_path, database_url=database_url, redis_url=redis_server_url,
                        _env_file=None)
    urls = resolve_urls(settings)
    assert urls.database_url == database_url and urls.redis_url == redis_server_url
    assert urls.started == () and not (tmp_path / "postgres").exists()


def test_bad_urls_are_rejected_with_the_setting_named() -> None:
    with pytest.raises(ValueError, match="database_url must start with postgresql://"):
        Settings(database_url="mysql://x", _env_file=None)
    with pytest.raises(ValueError, match="redis_url must start with redis://"):
        Settings(redis_url="http://x", _env_file=None)
