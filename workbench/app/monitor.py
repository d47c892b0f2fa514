"""``workbench monitor`` and the portal's monitoring page: one snapshot of the database (connections, slow
statements, table and hypertable sizes, archive/retention state), Redis and free disk space."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from workbench.present.formatting import format_pct, format_time_kst
from workbench.store import monitor as probes
from workbench.store.alarm_state import active_alarms
from workbench.store.database import Database
from workbench.store.query_timings import read_timings, timings_frame

if TYPE_CHECKING:
    import redis

__all__ = ["SLOWEST_SHOWN", "MonitorReport", "format_bytes", "own_timings", "snapshot"]

#: rows of the slowest-queries table
SLOWEST_SHOWN = 10


def format_bytes(n: float | None) -> str:
    """``1536`` -> ``1.5 KiB`` (binary units).

    >>> format_bytes(1536), format_bytes(0), format_bytes(5 * 1024**3)
    ('1.5 KiB', '0 B', '5.0 GiB')
    """
    if n is None or n != n:
        return "–"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class MonitorReport:
    """A snapshot; :meth:`sections` gives it as titled tables of text for the CLI and the portal."""

    taken_at: datetime
    pool: str
    connections: pd.DataFrame
    #: client connections to the whole server and its max_connections
    server_connections: tuple[int, int]
    #: ``query calls mean_ms total_ms`` from pg_stat_statements, None without it
    slow_queries: pd.DataFrame | None
    #: the workbench's own timings (``query calls total_ms mean_ms max_ms``) when pg_stat_statements is missing
    own_timings: pd.DataFrame | None
    tables: pd.DataFrame
    hypertables: pd.DataFrame | None
    archive: pd.DataFrame
    redis: dict[str, int | float | None] | None
    disks: pd.DataFrame
    #: alarms raised by ``workbench monitor --check`` (key -> text, since), None without Redis
    alarms: dict[str, dict[str, str]] | None = None

    def sections(self) -> list[tuple[str, pd.DataFrame]]:
        used, most = self.server_connections
        out = [("server connections to this database (pg_stat_activity)", self.connections.astype(str)),
               ("server connections, all databases", pd.DataFrame({
                   "clients": [str(used)], "max_connections": [str(most)],
                   "used": [format_pct(used / most, sign=False) if most else "–"]})),
               ("connection pool of this process", pd.DataFrame({"status": [self.pool]}))]
        if self.slow_queries is None:
            t = self.own_timings if self.own_timings is not None else timings_frame({})
            out.append(("slowest queries (the workbench's own timings by mean time; pg_stat_statements is not "
                        "installed)", pd.DataFrame({
                            "query": t["query"], "calls": t["calls"].astype(str),
                            "mean": [f"{v:.1f} ms" for v in t["mean_ms"]],
                            "max": [f"{v:.1f} ms" for v in t["max_ms"]],
                            "total": [f"{v:.0f} ms" for v in t["total_ms"]]}).head(SLOWEST_SHOWN)))
        else:
            q = self.slow_queries
            out.append(("slowest queries (pg_stat_statements, by mean time)", pd.DataFrame({
                "query": q["query"], "calls": q["calls"].astype(str), "mean": [f"{v:.1f} ms" for v in q["mean_ms"]],
                "total": [f"{v:.0f} ms" for v in q["total_ms"]]})))
        t = self.tables[self.tables["bytes"] > 0]
        out.append(("table sizes", pd.DataFrame({"table": t["table_name"], "size": t["bytes"].map(format_bytes),
                                                 "rows (estimate)": t["rows_estimate"].clip(lower=0).astype(str)})))
        if self.hypertables is not None:
            h = self.hypertables

            def ratio(before: float | None, after: float | None) -> str:
                return f"{before / after:.1f}x" if before and after else "–"

            out.append(("hypertables", pd.DataFrame({
                "table": h["table_name"], "size": h["bytes"].map(format_bytes),
                "compression": [ratio(b, a) for b, a in zip(h["before_bytes"], h["after_bytes"], strict=True)]})))
        a = self.archive
        out.append(("archive and retention (rows older than 'archived until' are in the Parquet archive)",
                    pd.DataFrame({"table": a["table_name"],
                                  "archived until (UTC)": [f"{v:%Y-%m-%d %H:%M}" for v in a["archived_until"]],
                                  "archive run in progress": ["yes" if v == v and v is not None else "no"
                                                              for v in a["pending_until"]]})
                    if len(a) else pd.DataFrame({"note": ["nothing archived yet (workbench archive)"]})))
        if self.redis is None:
            out.append(("redis", pd.DataFrame({"note": ["no Redis in use (WORKBENCH_CACHE_ENABLED=false)"]})))
        else:
            r = self.redis
            rate = r["hit_rate"]
            out.append(("redis", pd.DataFrame({
                "memory": [format_bytes(r["used_memory"])],
                "limit": [format_bytes(r["maxmemory"]) if r["maxmemory"] else "none"],
                "keys": [str(r["keys"])], "hit rate": ["–" if rate is None else format_pct(float(rate), sign=False)],
                "hits / misses": [f"{r['hits']} / {r['misses']}"]})))
        d = self.disks
        out.append(("free disk", pd.DataFrame({
            "of": d["of"], "path": d["path"], "free": d["free"].map(format_bytes),
            "total": d["total"].map(format_bytes),
            "free %": [format_pct(f / t, sign=False) if t else "–" for f, t in zip(d["free"], d["total"],
                                                                                     strict=True)]})))
        if self.alarms:
            out.insert(0, ("alarms raised (workbench monitor --check)", pd.DataFrame({
                "check": list(self.alarms), "since": [format_time_kst(v["since"]) for v in self.alarms.values()],
                "alarm": [v["text"] for v in self.alarms.values()]})))
        return out


def own_timings(db: Database, redis_client: redis.Redis | None) -> pd.DataFrame:
    """The workbench's own query timings: every process's from Redis (this one's added first), or this
    process's alone without Redis."""
    if redis_client is None:
        return db.timings.local()
    db.timings.flush()
    return read_timings(redis_client)


def _disk(what: str, path: str) -> dict[str, object]:
    p = Path(path)
    while not p.exists() and p != p.parent:   # a directory not made yet: the disk it will be on
        p = p.parent
    usage = shutil.disk_usage(p)
    return {"of": what, "path": path, "free": usage.free, "total": usage.total}


def snapshot(db: Database, redis_client: redis.Redis | None, *, data_dir: Path, archive_location: str,
             reports_dir: Path | None = None) -> MonitorReport:
    """Everything :class:`MonitorReport` shows, read now."""
    disks = [_disk("data dir", str(data_dir))]
    if "://" not in archive_location:
        disks.append(_disk("archive", archive_location))
    if reports_dir is not None:
        disks.append(_disk("reports", str(reports_dir)))
    pool = db.engine.pool.status() if not db.single_connection else "no pool (single connection)"
    slow = probes.slow_queries(db)
    return MonitorReport(
        taken_at=pd.Timestamp.now(tz="UTC").to_pydatetime(), pool=pool,
        connections=probes.connections(db), server_connections=probes.server_connections(db),
        slow_queries=slow, own_timings=None if slow is not None else own_timings(db, redis_client),
        tables=probes.table_sizes(db),
        hypertables=probes.hypertable_sizes(db), archive=probes.archive_state(db),
        redis=None if redis_client is None else probes.redis_stats(redis_client), disks=pd.DataFrame(disks),
        alarms=None if redis_client is None else active_alarms(redis_client))
