"""Turn settings into server URLs: configured ones as they are, else the embedded servers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from workbench.config import Settings
from workbench.services.embedded import EmbeddedPostgres, EmbeddedRedis

__all__ = ["ResolvedUrls", "resolve_urls", "stop_embedded"]


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
    """Return the URLs to use, starting the embedded servers where no URL is configured."""
    started: list[str] = []
    db_url = settings.database_url
    if db_url is None:
        pg = EmbeddedPostgres(settings.data_dir)
        info = pg.start() if start else pg.running()
        if info is None:
            raise_missing("PostgreSQL")
        db_url = info.url
        if info.started_here:
            started.append("postgres")
    redis_url = settings.redis_url
    if redis_url is None and need_redis and settings.cache_enabled:
        rd = EmbeddedRedis(settings.data_dir)
        rinfo = rd.start() if start else rd.running()
        if rinfo is not None:
            redis_url = rinfo.url
            if rinfo.started_here:
                started.append("redis")
    return ResolvedUrls(db_url, redis_url, settings.database_url is None, settings.redis_url is None,
                        tuple(started))


def raise_missing(what: str) -> NoReturn:
    from workbench.errors import ServiceError

    raise ServiceError(f"no {what} URL is configured and the embedded {what} is not running")


def stop_embedded(settings: Settings) -> list[str]:
    """Stop the embedded servers of ``settings.data_dir``; return the names of those stopped."""
    stopped = []
    if EmbeddedRedis(settings.data_dir).stop():
        stopped.append("redis")
    if EmbeddedPostgres(settings.data_dir).stop():
        stopped.append("postgres")
    return stopped

