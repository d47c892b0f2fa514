"""Monitoring thresholds (`workbench monitor --check` / `--watch`): alarms told once while they hold, a
recovery when they clear, with hand-set thresholds."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from workbench.app.monitor import MonitorReport, snapshot
from workbench.app.monitor_alarms import AlarmChange, Check, Thresholds, check, evaluate, watch
from workbench.app.notify import list_notifications
from workbench.cli import app
from workbench.errors import WorkbenchError
from workbench.store.alarm_state import ALARMS_KEY, active_alarms

NOW = datetime(2025, 3, 1, tzinfo=UTC)
OFF = Thresholds(None, None, None, None, 0, None)


def _report(*, disks: list[tuple[str, int, int]] = (), conns: tuple[int, int] = (0, 100),
            redis: dict[str, Any] | None = None, archived: list[tuple[str, str]] = ()) -> MonitorReport:
    return MonitorReport(
        taken_at=NOW, pool="", connections=pd.DataFrame(), server_connections=conns, slow_queries=None,
        own_timings=None, tables=pd.DataFrame(), hypertables=None,
        archive=pd.DataFrame([{"table_name": t, "archived_until": pd.Timestamp(u), "pending_until": None}
                              for t, u in archived], columns=["table_name", "archived_until", "pending_until"]),
        redis=redis, disks=pd.DataFrame([{"of": o, "path": f"/{o}", "free": f, "total": t} for o, f, t in disks],
                                        columns=["of", "path", "free", "total"]))


def test_each_threshold_by_hand() -> None:
    t = Thresholds(disk_free_min_pct=10, connections_max_pct=80, redis_memory_max_pct=90, hit_rate_min_pct=50,
                   hit_rate_min_lookups=100, archive_lag_max_days=35)
    report = _report(disks=[("data dir", 9 * 1024**3, 100 * 1024**3), ("reports", 11, 100)], conns=(81, 100),
                     redis={"used_memory": 900, "maxmemory": 1000, "keys": 1, "hits": 49, "misses": 51,
                            "hit_rate": 0.49},
                     archived=[("candles", "2025-01-20T00:00Z"), ("tickers", "2025-01-25T00:00Z")])
    assert evaluate(report, t) == [
        Check("archive:candles", True, "archive of candles: archived until 2025-01-20 09:00 KST, 40.0 days behind, "
                                       "alarm above 35 days"),
        Check("archive:tickers", False, "archive of tickers: archived until 2025-01-25 09:00 KST, 35.0 days "
                                        "behind, alarm above 35 days"),
        Check("connections", True, "server connections: 81 of max_connections 100 (81.0%), alarm above 80.0%"),
        Check("disk:data dir", True, "free disk of the data dir (/data dir): 9.0% (9.0 GiB), alarm below 10.0%"),
        Check("disk:reports", False, "free disk of the reports (/reports): 11.0% (11 B), alarm below 10.0%"),
        Check("hit_rate", True, "Redis hit rate: 49.0% of 100 lookups, alarm below 50.0%"),
        Check("redis_memory", False, "Redis memory: 900 B of maxmemory 1000 B (90.0%), alarm above 90.0%"),
    ]
    # too few lookups to judge the hit rate; no maxmemory: no memory check; everything off: nothing checked
    quiet = _report(redis={"used_memory": 900, "maxmemory": 0, "keys": 1, "hits": 0, "misses": 99,
                           "hit_rate": 0.0})
    assert [c.key for c in evaluate(quiet, t)] == ["connections"]
    assert evaluate(report, OFF) == []


def test_an_alarm_is_told_once_and_its_recovery_once(session: Any) -> None:
    client = session.redis_client()
    with session.db.begin() as conn:
        conn.exec_driver_sql("UPDATE users SET telegram_notifications = TRUE, telegram_chat_id = '7' WHERE id = %s",
                             (session.user_id,))
    t = Thresholds(disk_free_min_pct=10, connections_max_pct=None, redis_memory_max_pct=None, hit_rate_min_pct=None,
                   archive_lag_max_days=None)
    low, high = _report(disks=[("data dir", 5, 100)]), _report(disks=[("data dir", 50, 100)])
    first = check(session, client, evaluate(low, t), [session.user_id])
    assert first == [AlarmChange("disk:data dir", True, "free disk of the data dir (/data dir): 5.0% (5 B), "
                                                        "alarm below 10.0%")]
    assert check(session, client, evaluate(low, t), [session.user_id]) == []      # still low: not told again
    assert list(active_alarms(client)) == ["disk:data dir"]
    (back,) = check(session, client, evaluate(high, t), [session.user_id])
    assert not back.raised and back.key == "disk:data dir" and not client.hexists(ALARMS_KEY, "disk:data dir")
    assert re.fullmatch(r"free disk of the data dir \(/data dir\): 50\.0% \(50 B\), alarm below 10\.0% "
                        r"\(alarm since \d{4}-\d\d-\d\d \d\d:\d\d KST\)", back.text)
    assert check(session, client, evaluate(high, t), [session.user_id]) == []
    assert active_alarms(client) == {}
    notes = list_notifications(client, session.user_id)
    assert [(n.kind, n.text) for n in notes] == [("monitor_recovered", back.text),
                                                 ("monitor_alarm", first[0].text)]
    queued = [json.loads(m) for m in client.lrange("telegram_queue", 0, -1)]
    assert [(m["kind"], m["to"]) for m in queued] == [("monitor_recovered", "7"), ("monitor_alarm", "7")]


def test_watch_repeats_until_stopped() -> None:
    rounds: list[float] = []
    stop = iter([False, False, False, True])
    seen = list(watch(lambda: _report(), lambda r: [AlarmChange("k", True, str(len(rounds)))], 5.0,
                      should_stop=lambda: next(stop), sleep=rounds.append))
    assert [c[0].text for c in seen] == ["0", "1", "2"] and len(rounds) == 3
    assert all(4.0 < s <= 5.0 for s in rounds)


def test_cli_check_against_the_real_servers(session: Any, cli_env: dict[str, str], monkeypatch: Any,
                                            database_url: str) -> None:
    for name in ("DISK_FREE_MIN_PCT", "REDIS_MEMORY_MAX_PCT", "HIT_RATE_MIN_PCT", "ARCHIVE_LAG_MAX_DAYS"):
        monkeypatch.setenv(f"WORKBENCH_MONITOR_{name}", "")
    monkeypatch.setenv("WORKBENCH_MONITOR_CONNECTIONS_MAX_PCT", "0")   # any connection is too many
    monkeypatch.setenv("COLUMNS", "300")
    with session.db.begin() as conn:
        most = int(conn.exec_driver_sql("SHOW max_connections").scalar())
    runner = CliRunner()
    res = runner.invoke(app, ["monitor", "--check"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    m = re.fullmatch(rf"ALARM connections: server connections: (\d+) of max_connections {most} \(\d+\.\d%\), "
                     r"alarm above 0\.0%\n", res.output)
    assert m and int(m.group(1)) >= 1, res.output
    assert runner.invoke(app, ["monitor", "--check"], catch_exceptions=False).output == ""   # still failing
    monkeypatch.setenv("WORKBENCH_MONITOR_CONNECTIONS_MAX_PCT", "100")
    res = runner.invoke(app, ["monitor", "--check"], catch_exceptions=False)
    assert re.fullmatch(rf"RECOVERED connections: server connections: \d+ of max_connections {most} "
                        r"\(\d+\.\d%\), alarm above 100\.0% \(alarm since .+ KST\)\n", res.output), res.output
    kinds = [n.kind for n in list_notifications(session.redis_client(), session.user_id)]
    assert kinds == ["monitor_recovered", "monitor_alarm"]


def test_the_snapshot_shows_raised_alarms(session: Any, tmp_path: Path) -> None:
    client = session.redis_client()
    check(session, client, [Check("disk:data dir", True, "free disk low")], [session.user_id])
    report = snapshot(session.db, client, data_dir=tmp_path, archive_location=str(tmp_path))
    title, frame = report.sections()[0]
    assert title == "alarms raised (workbench monitor --check)"
    assert frame["check"].tolist() == ["disk:data dir"] and frame["alarm"].tolist() == ["free disk low"]


def test_check_needs_redis() -> None:
    with pytest.raises(WorkbenchError) as err:
        check(object(), None, [], [])   # type: ignore[arg-type]
    assert str(err.value) == ("monitor --check: alarm state and notifications live in Redis, and the cache (Redis) "
                              "is off")
