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
from workbench.store.query_timings import QueryTimings, read_timings


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
    assert titles == ["server connections to this database (pg_stat_activity)", "server connections, all databases",
                      "connection pool of this process",
                      "slowest queries (the workbench's own timings by mean time; pg_stat_statements is not "
                      "installed)", "table sizes",
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
        assert re.findall(r"<h2>([^<]+)</h2>", r.text)[:3] == [
            "server connections to this database (pg_stat_activity)", "server connections, all databases",
            "connection pool of this process"]
        assert "<td>user_sessions</td>" in r.text and "<h2>free disk</h2>" in r.text


def test_query_timings_add_up_across_processes_in_redis(redis_cache: Any) -> None:
    client = redis_cache.client
    a, b = QueryTimings(flush_every=3600), QueryTimings(flush_every=3600)
    a.record("candles", 10.0)
    a.record("candles", 30.0)
    a.record("tickers", 1.5)
    b.record("candles", 50.0)
    assert a.local().values.tolist() == [["candles", 2, 40.0, 20.0, 30.0], ["tickers", 1, 1.5, 1.5, 1.5]]
    assert not a.flush()                  # no Redis attached: kept in memory
    a.attach(client)
    b.attach(client)
    assert a.flush() and b.flush() and a.local().empty
    assert read_timings(client).values.tolist() == [["candles", 3, 90.0, 30.0, 50.0], ["tickers", 1, 1.5, 1.5, 1.5]]
    b.record("tickers", 0.5)
    b.flush()
    assert read_timings(client).values.tolist()[1] == ["tickers", 2, 2.0, 1.0, 1.5]


def test_named_queries_are_timed_and_shown_without_pg_stat_statements(db: Any, redis_cache: Any,
                                                                    tmp_path: Path) -> None:
    from workbench.store.users import list_users

    db.timings.attach(redis_cache.client)
    for _ in range(3):
        list_users(db)
    with db.begin() as conn:
        conn.execute(sa.text("SELECT 1"))          # not a named query: not counted
    report = snapshot(db, redis_cache.client, data_dir=tmp_path, archive_location=str(tmp_path))
    assert report.slow_queries is None
    timings = report.own_timings.set_index("query")
    assert timings.loc["user_list", "calls"] == 3
    assert timings.loc["user_list", "max_ms"] * 3 >= timings.loc["user_list", "total_ms"] > 0
    assert "SELECT 1" not in timings.index and timings.loc["monitor_has_pg_stat_statements", "calls"] == 1
    title, table = next((t, f) for t, f in report.sections() if t.startswith("slowest queries"))
    assert table.columns.tolist() == ["query", "calls", "mean", "max", "total"]
    assert table.loc[table["query"] == "user_list", "calls"].tolist() == ["3"]


def test_a_session_adds_its_timings_to_redis_when_it_closes(session: Any, redis_cache: Any) -> None:
    session.runs()
    session.runs()
    session.close()
    timings = read_timings(redis_cache.client).set_index("query")
    assert timings.loc["backtest_runs", "calls"] == 2
