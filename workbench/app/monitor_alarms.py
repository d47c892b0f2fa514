"""Thresholds on the monitoring figures (``workbench monitor --check`` / ``--watch SECONDS``).

:func:`evaluate` judges a :class:`~workbench.app.monitor.MonitorReport` against :class:`Thresholds`:
free disk below a percentage, client connections above a percentage of ``max_connections``, Redis memory
above a percentage of ``maxmemory`` (when it has one), the Redis hit rate below a percentage (once enough
lookups were made), an archive watermark older than some days. :func:`check` raises a ``monitor_alarm``
notification to the alarm users when a check starts failing and a ``monitor_recovered`` one when it
passes again; the state is kept in Redis (:mod:`workbench.store.alarm_state`), so an alarm is told once
while its condition holds, whichever process checks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pandas as pd

from workbench.app.monitor import MonitorReport, format_bytes
from workbench.app.notify.notifier import NotifyContext, notify, user_id_by_name
from workbench.errors import WorkbenchError
from workbench.present.formatting import format_pct, format_time_kst
from workbench.services.config import Settings
from workbench.store.alarm_state import clear_alarm, raise_alarm

if TYPE_CHECKING:
    import redis

__all__ = ["AlarmChange", "Check", "Thresholds", "alarm_user_ids", "check", "evaluate", "watch"]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Limits in percent (of 100) and days; None turns that check off."""

    disk_free_min_pct: float | None = 10.0
    connections_max_pct: float | None = 80.0
    redis_memory_max_pct: float | None = 90.0
    hit_rate_min_pct: float | None = 50.0
    hit_rate_min_lookups: int = 1000
    archive_lag_max_days: float | None = 35.0

    @classmethod
    def from_settings(cls, s: Settings) -> Thresholds:
        return cls(disk_free_min_pct=s.monitor_disk_free_min_pct, connections_max_pct=s.monitor_connections_max_pct,
                   redis_memory_max_pct=s.monitor_redis_memory_max_pct, hit_rate_min_pct=s.monitor_hit_rate_min_pct,
                   hit_rate_min_lookups=s.monitor_hit_rate_min_lookups,
                   archive_lag_max_days=s.monitor_archive_lag_max_days)


@dataclass(frozen=True, slots=True)
class Check:
    """One judged figure: ``failing`` when past its threshold; ``text`` says the figure and the limit."""

    key: str
    failing: bool
    text: str


def _pct(fraction: float) -> str:
    return format_pct(fraction, 1, sign=False)


def evaluate(report: MonitorReport, t: Thresholds, *, now: datetime | None = None) -> list[Check]:
    """Every check that applies to ``report`` (by key)."""
    now = now or report.taken_at
    out: list[Check] = []
    if t.disk_free_min_pct is not None:
        for disk in report.disks.to_dict("records"):
            if disk["total"]:
                free = float(disk["free"]) / float(disk["total"])
                out.append(Check(f"disk:{disk['of']}", free * 100 < t.disk_free_min_pct,
                                 f"free disk of the {disk['of']} ({disk['path']}): {_pct(free)} "
                                 f"({format_bytes(disk['free'])}), alarm below {_pct(t.disk_free_min_pct / 100)}"))
    used, most = report.server_connections
    if t.connections_max_pct is not None and most:
        out.append(Check("connections", used / most * 100 > t.connections_max_pct,
                         f"server connections: {used} of max_connections {most} ({_pct(used / most)}), "
                         f"alarm above {_pct(t.connections_max_pct / 100)}"))
    r = report.redis
    if r is not None and t.redis_memory_max_pct is not None and r["maxmemory"]:
        share = float(r["used_memory"] or 0) / float(r["maxmemory"])
        out.append(Check("redis_memory", share * 100 > t.redis_memory_max_pct,
                         f"Redis memory: {format_bytes(r['used_memory'])} of maxmemory "
                         f"{format_bytes(r['maxmemory'])} ({_pct(share)}), alarm above "
                         f"{_pct(t.redis_memory_max_pct / 100)}"))
    if (r is not None and t.hit_rate_min_pct is not None and r["hit_rate"] is not None
            and int(r["hits"] or 0) + int(r["misses"] or 0) >= t.hit_rate_min_lookups):
        rate = float(r["hit_rate"])
        out.append(Check("hit_rate", rate * 100 < t.hit_rate_min_pct,
                         f"Redis hit rate: {_pct(rate)} of {int(r['hits'] or 0) + int(r['misses'] or 0):,} "
                         f"lookups, alarm below {_pct(t.hit_rate_min_pct / 100)}"))
    if t.archive_lag_max_days is not None:
        for table in report.archive.to_dict("records"):
            lag = (pd.Timestamp(now) - pd.Timestamp(table["archived_until"])) / pd.Timedelta(days=1)
            out.append(Check(f"archive:{table['table_name']}", lag > t.archive_lag_max_days,
                             f"archive of {table['table_name']}: archived until "
                             f"{format_time_kst(table['archived_until'])}, {lag:.1f} days behind, alarm above "
                             f"{t.archive_lag_max_days:g} days"))
    return sorted(out, key=lambda c: c.key)


@dataclass(frozen=True, slots=True)
class AlarmChange:
    """An alarm raised or recovered by :func:`check` (and told to the alarm users)."""

    key: str
    raised: bool
    text: str

    def __str__(self) -> str:
        return f"{'ALARM' if self.raised else 'RECOVERED'} {self.key}: {self.text}"


def alarm_user_ids(ctx: NotifyContext, settings: Settings) -> list[int]:
    """Ids of ``monitor_alarm_users`` (default: the settings' user)."""
    names = [n.strip() for n in (settings.monitor_alarm_users or "").split(",") if n.strip()]
    return [user_id_by_name(ctx.db, n) for n in names] if names else [ctx.user_id]


def check(ctx: NotifyContext, client: redis.Redis | None, checks: list[Check],
          user_ids: list[int]) -> list[AlarmChange]:
    """Raise what newly fails and recover what passes again (state in Redis: ``client``), notifying
    ``user_ids`` of each change; returns the changes."""
    if client is None:
        raise WorkbenchError("monitor --check: alarm state and notifications live in Redis, and the cache "
                             "(Redis) is off")
    since = datetime.now(UTC).isoformat(timespec="seconds")
    changes = []
    for c in checks:
        if c.failing:
            if raise_alarm(client, c.key, c.text, since):
                changes.append(AlarmChange(c.key, True, c.text))
        else:
            was = clear_alarm(client, c.key)
            if was is not None:
                changes.append(AlarmChange(c.key, False, f"{c.text} (alarm since {format_time_kst(was['since'])})"))
    for change in changes:
        for uid in user_ids:
            notify(ctx, "monitor_alarm" if change.raised else "monitor_recovered", change.text, user_id=uid,
                   check=change.key)
    return changes


def watch(take: Callable[[], MonitorReport], judge: Callable[[MonitorReport], list[AlarmChange]], every: float,
          *, should_stop: Callable[[], bool] = lambda: False,
          sleep: Callable[[float], None] = time.sleep) -> Iterator[list[AlarmChange]]:
    """Take a snapshot and judge it every ``every`` seconds until ``should_stop()``; yields each round's changes."""
    while not should_stop():
        started = time.monotonic()
        yield judge(take())
        sleep(max(0.0, every - (time.monotonic() - started)))


def run_checks(ctx: NotifyContext, client: redis.Redis | None, settings: Settings, take: Callable[[], MonitorReport],
               every: float | None = None) -> Iterator[AlarmChange]:
    """``workbench monitor --check`` (once) or ``--watch every`` (until interrupted): the alarm changes."""
    thresholds, users = Thresholds.from_settings(settings), alarm_user_ids(ctx, settings)

    def judge(report: MonitorReport) -> list[AlarmChange]:
        return check(ctx, client, evaluate(report, thresholds), users)

    if every is None:
        yield from judge(take())
        return
    for changes in watch(take, judge, every):
        yield from changes
