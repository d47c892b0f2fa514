"""`workbench monitor` / the portal's monitoring page: the figures against the servers' own views."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from portal_data import PASSWORD

from workbench.app.monitor import format_bytes, snapshot
from workbench.store.monitor import archive_state, connections, redis_stats, table_sizes


def test_database_figures(db: Any, database_url: str) -> None:
    conns = connections(db)
    assert list(conns.columns) == ["state", "connections"]
    assert int(conns.loc[conns["state"] == "active", "connections"].iloc[0]) >= 1   # this very query
    with db.begin() as conn:
        conn.execute(sa.text("INSERT INTO archive_watermarks (table_name, archived_until, generation) "
                             "VALUES ('candles', '2025-01-01T00:00:00Z', 3)"))
        users_bytes = conn.execute(sa.text("SELECT pg_total_relation_size('users')")).scalar()
    arch = archive_state(db)
    assert arch[["table_name", "generation"]].values.tolist() == [["candles", 3]]
    assert arch["archived_until"].iloc[0] == datetime(2025, 1, 1, tzinfo=UTC)
    sizes = table_sizes(db).set_index("table_name")
    assert {"users", "candles", "backtest_results", "user_sessions", "backtest_shares"} <= set(sizes.index)
    assert sizes.loc["users", "bytes"] == users_bytes


def test_redis_figures(redis_cache: Any) -> None:
    client = redis_cache.client
    client.set("a", b"1")
    client.set("b", b"2")
    stats = redis_stats(client)
    info = client.info()
    assert stats["keys"] == 2 and stats["used_memory"] > 0
    assert stats["hits"] <= info["keyspace_hits"] and stats["misses"] <= info["keyspace_misses"]
    assert stats["hit_rate"] == stats["hits"] / (stats["hits"] + stats["misses"])


def test_snapshot_sections_and_free_disk(db: Any, redis_cache: Any, tmp_path: Path) -> None:
    report = snapshot(db, redis_cache.client, data_dir=tmp_path / "data", archive_location="s3://bucket/x",
                      reports_dir=tmp_path)
    titles = [t for t, _ in report.sections()]
    assert titles == ["server connections to this database (pg_stat_activity)", "connection pool of this process",
                      "slowest queries", "table sizes",
                      "archive and retention (rows older than 'archived until' are in the Parquet archive)",
                      "redis", "free disk"]
    disks = report.disks
    assert disks["of"].tolist() == ["data dir", "reports"]       # an s3:// archive has no local disk
    st = os.statvfs(tmp_path)
    assert disks["total"].tolist() == [st.f_blocks * st.f_frsize] * 2
    assert abs(disks["free"].iloc[1] - st.f_bavail * st.f_frsize) < 1 << 30


def test_format_bytes() -> None:
    assert [format_bytes(n) for n in (0, 1023, 1024, 1536, 10 * 1024**2, 3 * 1024**4, None)] == [
        "0 B", "1023 B", "1.0 KiB", "1.5 KiB", "10.0 MiB", "3.0 TiB", "–"]


def test_the_monitoring_page_needs_a_login(portal: Any, alice: int) -> None:
    base = portal()
    with httpx.Client(base_url=base, timeout=30) as c:
        r = c.get("/monitor")
        assert r.status_code == 303 and r.headers["location"] == "/login?next=/monitor"
        page = c.get("/login", params={"next": "/monitor"})
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        r = c.post("/login", data={"csrf": csrf, "next": "/monitor", "username": "alice", "password": PASSWORD},
                   follow_redirects=True)
        assert r.status_code == 200
        assert re.findall(r"<h2>([^<]+)</h2>", r.text)[:2] == [
            "server connections to this database (pg_stat_activity)", "connection pool of this process"]
        assert "<td>user_sessions</td>" in r.text and "<h2>free disk</h2>" in r.text
