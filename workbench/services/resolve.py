"""Turn settings into server URLs: configured ones as they are, else the embedded servers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from workbench.services import lease
from workbench.services.config import Settings
from workbench.services.embedded import EmbeddedPostgres, EmbeddedRedis, EmbeddedServer

__all__ = ["ResolvedUrls", "finish_embedded", "in_use", "resolve_urls", "stop_embedded"]


@dataclass(frozen=True, slots=True)
class ResolvedUrls:
    database_url: str
    redis_url: str | None
    embedded_postgres: bool
    embedded_redis: bool
    started: tuple[str, ...]

    @property
    def embedded_in_use(self) -> tuple[str, ...]:
        """The embedded servers this process uses (and holds a lease on)."""
        return tuple(name for name, used in (("redis", self.embedded_redis and self.redis_url is not None),
                                             ("postgres", self.embedded_postgres)) if used)

    def __repr__(self) -> str:
        from workbench.core.redact import mask_url

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
        # the lease comes first: a process finishing meanwhile sees this one as a user and keeps the server
        lease.acquire(settings.data_dir, "postgres")
        try:
            pg = EmbeddedPostgres(settings.data_dir)
            info = pg.start() if start else pg.running()
            if info is None:
                raise_missing("PostgreSQL")
        except BaseException:
            lease.release(settings.data_dir, "postgres")
            raise
        db_url = info.url
        if info.started_here:
            started.append("postgres")
    redis_url = settings.redis_url
    if redis_url is None and need_redis and settings.cache_enabled:
        lease.acquire(settings.data_dir, "redis")
        try:
            rd = EmbeddedRedis(settings.data_dir)
            rinfo = rd.start() if start else rd.running()
        except BaseException:
            lease.release(settings.data_dir, "redis")
            raise
        if rinfo is None:
            lease.release(settings.data_dir, "redis")
        else:
            redis_url = rinfo.url
            if rinfo.started_here:
                started.append("redis")
    return ResolvedUrls(db_url, redis_url, settings.database_url is None, settings.redis_url is None,
                        tuple(started))


def raise_missing(what: str) -> NoReturn:
    from workbench.errors import ServiceError

    raise ServiceError(f"no {what} URL is configured and the embedded {what} is not running")


def _servers(settings: Settings) -> tuple[tuple[str, EmbeddedServer], ...]:
    return (("redis", EmbeddedRedis(settings.data_dir)), ("postgres", EmbeddedPostgres(settings.data_dir)))


def stop_embedded(settings: Settings, *, force: bool = False,
                  only: tuple[str, ...] = ("redis", "postgres")) -> list[str]:
    """Stop the embedded servers of ``settings.data_dir`` that no other running process uses (or all
    with ``force``); return the names of those stopped. This process's own leases are dropped."""
    stopped = []
    for name, server in _servers(settings):
        if name not in only:
            continue
        with server.locked():   # nobody starts it, or takes a lease and finds it running, meanwhile
            lease.release(settings.data_dir, name)
            if not force and lease.holders(settings.data_dir, name):
                continue
            if server.stop():
                stopped.append(name)
            lease.clear_hand_over(settings.data_dir, name)
    return stopped


def finish_embedded(settings: Settings, urls: ResolvedUrls) -> list[str]:
    """What a process that used embedded servers does when it is done with them: drop its leases and
    stop each server it started, or whose stop was handed over to it, unless another running process
    still uses it; then the duty is handed over to the last of those to finish. Returns the names of
    the servers stopped."""
    stopped = []
    for name, server in _servers(settings):
        if name not in urls.embedded_in_use:
            continue
        with server.locked():   # finishing processes take turns: the last one sees no other user
            lease.release(settings.data_dir, name)
            info = server.running()
            duty = lease.handed_over(settings.data_dir, name)
            if info is None or (duty is not None and duty != info.pid):
                lease.clear_hand_over(settings.data_dir, name)   # stopped already, or another server since
                duty = None
            if info is None or (name not in urls.started and duty is None):
                continue
            if lease.holders(settings.data_dir, name):
                lease.hand_over(settings.data_dir, name, info.pid)
                continue
            if server.stop():
                stopped.append(name)
            lease.clear_hand_over(settings.data_dir, name)
    return stopped


def in_use(settings: Settings, name: str) -> list[int]:
    """Pids of other processes holding a lease on embedded server ``name``."""
    return lease.holders(settings.data_dir, name)

