"""The embedded default: no URLs configured -> the workbench starts, reuses and stops its own servers."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from workbench.app.session import connect
from workbench.services.config import Settings
from workbench.services.embedded import EmbeddedPostgres, EmbeddedRedis
from workbench.services.resolve import resolve_urls, stop_embedded

pytestmark = pytest.mark.slow


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """A data dir outside pytest's basetemp (which other pytest runs may remove while a server still runs)."""
    path = Path(tempfile.mkdtemp(prefix="wb-embedded-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


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


@pytest.mark.db
@pytest.mark.redis
def test_embedded_servers_are_locked_down_and_shared_by_lease(tmp_path: Path) -> None:
    import stat
    import subprocess
    import sys

    import psycopg

    from workbench.services import lease

    settings = Settings(data_dir=tmp_path, database_url=None, redis_url=None, _env_file=None)
    try:
        urls = resolve_urls(settings)
        for name in ("postgres", "redis"):
            secret = tmp_path / "secrets" / f"{name}.password"
            assert stat.S_IMODE(secret.stat().st_mode) == 0o600
            assert secret.read_text().strip() in (urls.database_url if name == "postgres" else urls.redis_url or "")
        assert stat.S_IMODE((tmp_path / "secrets").stat().st_mode) == 0o700
        with psycopg.connect(urls.database_url) as conn:
            assert conn.execute("SHOW fsync").fetchone()[0] == "on"
            assert conn.execute("SHOW password_encryption").fetchone()[0] == "scram-sha-256"
        port = EmbeddedPostgres(tmp_path).running().port  # type: ignore[union-attr]
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/workbench", connect_timeout=5).close()
        rport = EmbeddedRedis(tmp_path).running().port  # type: ignore[union-attr]
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=rport).ping()
        assert redis.Redis.from_url(urls.redis_url).ping()
        # another process is using the servers: stop leaves them up
        other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        try:
            (tmp_path / "leases" / f"postgres.{other.pid}").touch()
            assert stop_embedded(settings, only=("postgres",)) == []
            assert EmbeddedPostgres(tmp_path).running() is not None
        finally:
            other.kill()
            other.wait()
        assert lease.holders(tmp_path, "postgres") == []   # the dead holder's lease is dropped
    finally:
        stop_embedded(settings, force=True)
    assert EmbeddedPostgres(tmp_path).running() is None and EmbeddedRedis(tmp_path).running() is None


def test_db_init_starts_no_redis_and_cli_leaves_no_server(tmp_path: Path, database_url: str) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.update({"WORKBENCH_DATA_DIR": str(tmp_path), "WORKBENCH_DATABASE_URL": database_url})
    r = subprocess.run([sys.executable, "-c", "from workbench.cli import main; main()", "db", "init"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / "redis").exists() and EmbeddedRedis(tmp_path).running() is None
    # with nothing configured, a command starts the embedded PostgreSQL and stops it when done
    env.pop("WORKBENCH_DATABASE_URL")
    r = subprocess.run([sys.executable, "-c", "from workbench.cli import main; main()", "db", "init"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert EmbeddedPostgres(tmp_path).running() is None and EmbeddedRedis(tmp_path).running() is None


@pytest.mark.db
@pytest.mark.skipif(os.geteuid() != 0, reason="the root-only path: PostgreSQL refuses to run as root")
def test_under_root_no_permission_changes_outside_the_data_dir(tmp_path: Path) -> None:
    """As root, PostgreSQL runs in a user namespace: a data dir behind a 0700 parent works and no mode
    or owner outside the data dir changes (before: o+x was added to every parent and the wheel's files)."""
    import stat

    from workbench.services.embedded import _namespace_prefix

    if _namespace_prefix() is None:
        pytest.skip("this system does not allow user namespaces (the fallback chmods, with a warning)")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    data_dir = private / "data"
    pg = EmbeddedPostgres(data_dir)
    outside = [private, *private.parents, *pg.bin_dir.parents,
               *(p for p in pg.bin_dir.parent.rglob("*") if not p.is_symlink())]
    before = {p: (stat.S_IMODE(p.stat().st_mode), p.stat().st_uid) for p in outside}
    try:
        info = pg.start()
        import psycopg

        with psycopg.connect(info.url) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("postgres",)
        assert pg.pgdata.stat().st_uid == 0   # files belong to the user who ran the workbench
    finally:
        pg.stop()
    after = {p: (stat.S_IMODE(p.stat().st_mode), p.stat().st_uid) for p in outside}
    assert {p: (before[p], after[p]) for p in outside if before[p] != after[p]} == {}
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
