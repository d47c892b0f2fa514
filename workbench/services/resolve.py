"""Turn settings into server URLs: configured ones as they are, else the embedded servers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from workbench.config import Settings
from workbench.services import lease
from workbench.services.embedded import EmbeddedPostgres, EmbeddedRedis

__all__ = ["ResolvedUrls", "in_use", "resolve_urls", "stop_embedded"]


@dataclass(frozen=True, slots=True)
class ResolvedUrls:
    database_url: str
    redis_url: str | None
    embedded_postgres: bool
    embedded_redis: bool
    started: tuple[str, ...]

    def __repr__(self) -> str:
        from workbench.redact import mask_url

        redis = mask_url(self.redis_url) if self.redis_url else None
        return (f"ResolvedUrls(database_url={mask_url(self.database_url)!r}, redis_url={redis!r}, "
                f"embedded_postgres={self.embedded_postgres}, embedded_redis={self.embedded_redis}, "
                f"started={self.started})")


def resolve_urls(settings: Settings, *, start: bool = True, need_redis: bool = True) -> ResolvedUrls:
    """Return the URLs to use, starting the embedded servers where no URL is configured.

    This process takes a lease on every embedded server it uses (see :mod:`workbench.services.lease`);
    ``need_redis=False`` leaves an unconfigured Redis alone (not started, not used).
    """
    started: list[str] = []
    db_url = settings.database_url
    if db_url is None:
        pg = EmbeddedPostgres(settings.data_dir)
        info = pg.start() if start else pg.running()
        if info is None:
            raise_missing("PostgreSQL")
        db_url = info.url
        lease.acquire(settings.data_dir, "postgres")
        if info.started_here:
            started.append("postgres")
    redis_url = settings.redis_url
    if redis_url is None and need_redis and settings.cache_enabled:
        rd = EmbeddedRedis(settings.data_dir)
        rinfo = rd.start() if start else rd.running()
        if rinfo is not None:
            redis_url = rinfo.url
            lease.acquire(settings.data_dir, "redis")
            if rinfo.started_here:
                started.append("redis")
    return ResolvedUrls(db_url, redis_url, settings.database_url is None, settings.redis_url is None,
                        tuple(started))


def raise_missing(what: str) -> NoReturn:
    from workbench.errors import ServiceError

    raise ServiceError(f"no {what} URL is configured and the embedded {what} is not running")


def stop_embedded(settings: Settings, *, force: bool = False,
                  only: tuple[str, ...] = ("redis", "postgres")) -> list[str]:
    """Stop the embedded servers of ``settings.data_dir`` that no other running process uses (or all
    with ``force``); return the names of those stopped. This process's own leases are dropped."""
    stopped = []
    servers = (("redis", EmbeddedRedis(settings.data_dir)), ("postgres", EmbeddedPostgres(settings.data_dir)))
    for name, server in servers:
        if name not in only:
            continue
        lease.release(settings.data_dir, name)
        if not force and lease.holders(settings.data_dir, name):
            continue
        if server.stop():
            stopped.append(name)
    return stopped


def in_use(settings: Settings, name: str) -> list[int]:
    """Pids of other processes holding a lease on embedded server ``name``."""
    return lease.holders(settings.data_dir, name)

