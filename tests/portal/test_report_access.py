"""Per-user reports in the portal: a report that names stored runs is for the users who may see them all
(their own and those shared with them); one that names none is for every signed-in user; the index lists
only what its reader may open, and a direct URL to another user's report answers 404. And the
notifications page."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from portal_data import PASSWORD

from workbench.app.accounts import add_user
from workbench.app.notify import notify
from workbench.core.strategies import EmaCross
from workbench.ingest.sample import generate_sample_candles
from workbench.portal.access import report_runs
from workbench.present.index import build_index
from workbench.store.runs import share_run
from workbench.store.writer import write_table


@contextmanager
def _signed_in(base: str, username: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=30) as c:
        page = c.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        r = c.post("/login", data={"csrf": csrf, "next": "/", "username": username, "password": PASSWORD})
        assert r.status_code == 303, r.text
        yield c


def _report(root: Path, name: str, created: str, **meta: Any) -> None:
    (root / f"{name}.html").write_text(f"<html><body>{name}</body></html>", encoding="utf-8")
    (root / f"{name}.json").write_text(json.dumps({"html": f"{name}.html", "created": created, "title": name,
                                                   **meta}), encoding="utf-8")


@pytest.fixture
def runs(session: Any, alice: int) -> dict[str, int]:
    """Runs of alice (``a``), of bob (``b``) and of bob shared with alice (``shared``)."""
    bob = add_user(session.db, "bob", "bob@example.com", PASSWORD)
    write_table(session.db, "candles", generate_sample_candles({"KRW-SYNBTC": 50_000_000.0}, days=2))
    ids = {name: session.backtest(EmaCross(fast=f), "KRW-SYNBTC", "1h").backtest_id
           for name, f in (("a", 5), ("b", 6), ("shared", 7))}
    with session.db.begin() as conn:
        for name, owner in (("a", alice), ("b", bob), ("shared", bob)):
            conn.execute(sa.text("UPDATE backtest_results SET user_id = :u WHERE id = :i"),
                         {"u": owner, "i": ids[name]})
    share_run(session.db, ids["shared"], owner_id=bob, user_id=alice)
    return {**ids, "alice": alice, "bob": bob}


def test_each_user_sees_their_reports_and_the_shared_ones(portal: Any, runs: dict[str, int],
                                                          reports_dir: Path) -> None:
    _report(reports_dir, "alices", "2025-01-05T00:00:00+00:00", notebook="strategy_backtest", backtest_id=runs["a"])
    _report(reports_dir, "bobs", "2025-01-04T00:00:00+00:00", notebook="strategy_backtest", backtest_id=runs["b"])
    _report(reports_dir, "shared", "2025-01-03T00:00:00+00:00", notebook="run_comparison",
            backtest_ids=[runs["shared"]])
    # an older run_comparison: its runs only in its parameters; alice may not see b, bob may not see a
    _report(reports_dir, "both", "2025-01-02T00:00:00+00:00", notebook="run_comparison",
            parameters={"run_ids": f"{runs['a']},{runs['b']}"})
    _report(reports_dir, "explore", "2025-01-01T00:00:00+00:00", notebook="data_exploration")   # names no run
    _report(reports_dir, "broken", "2025-01-01T00:00:00+00:00")
    (reports_dir / "broken.json").write_text("{not json", encoding="utf-8")          # for no one
    (reports_dir / "a.html").unlink()
    (reports_dir / "link.html").unlink()
    build_index(reports_dir)           # the file on disk lists every report
    assert len(re.findall(r'<a href="', (reports_dir / "index.html").read_text())) == 6
    base = portal()
    seen = {"alice": ["alices.html", "shared.html", "explore.html"], "bob": ["bobs.html", "shared.html",
                                                                               "explore.html"]}
    for user, expected in seen.items():
        with _signed_in(base, user) as c:
            index = c.get("/index.html")
            assert index.status_code == 200
            assert re.findall(r'<a href="([^"]+)"', index.text) == expected
            for name in ("alices", "bobs", "shared", "both", "explore", "broken"):
                for suffix in (".html", ".json"):
                    r = c.get(f"/{name}{suffix}")
                    assert r.status_code == (200 if f"{name}.html" in expected else 404), (user, name, suffix)
            assert c.get("/bobs.html" if user == "alice" else "/alices.html").text.count("No such report.") == 1


def test_the_runs_a_report_names() -> None:
    assert report_runs({"backtest_id": 3}) == ({3}, set())
    assert report_runs({"backtest_id": None, "notebook": "strategy_backtest"}) == (set(), set())
    assert report_runs({"notebook": "run_comparison", "backtest_ids": [4, 5], "parameters": {"run_ids": "9"}}) \
        == ({4, 5}, set())
    assert report_runs({"notebook": "run_comparison", "parameters": {"run_ids": " 7, 8 ,x"}}) == ({7, 8}, set())
    assert report_runs({"notebook": "reconciliation", "parameters": {"run_id": "0"}}) == (set(), set())
    assert report_runs({"notebook": "reconciliation", "paper_run_ids": [2]}) == (set(), {2})
    assert report_runs({"notebook": "reconciliation", "parameters": {"run_id": "6"}}) == (set(), {6})


def test_the_notifications_page_lists_the_users_own_newest_first(portal: Any, session: Any, alice: int) -> None:
    bob = add_user(session.db, "bob", "bob@example.com", PASSWORD)
    notify(session, "test", "first <b>one</b>", user_id=alice)
    notify(session, "report_finished", "second", user_id=alice)
    notify(session, "test", "for bob", user_id=bob)
    notes = session.redis_client().lrange(f"notifications:{alice}", 0, -1)
    created = [json.loads(n)["created"] for n in notes]            # newest first, ISO UTC
    base = portal()
    with _signed_in(base, "alice") as c:
        assert 'href="/notifications"' in c.get("/").text
        page = c.get("/notifications")
    assert page.status_code == 200
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>(.*?)</td></tr>", page.text)
    # times in KST: UTC + 9 hours, written by hand from the stored UTC text
    kst = []
    for text in created:
        day, clock = text[:10], text[11:19]
        hour = int(clock[:2]) + 9
        d = date.fromisoformat(day) + timedelta(days=hour // 24)
        kst.append(f"{d.isoformat()} {hour % 24:02d}{clock[2:]} KST")
    assert rows == [(kst[0], "report_finished", "second"), (kst[1], "test", "first &lt;b&gt;one&lt;/b&gt;")]
    with httpx.Client(base_url=base) as anonymous:
        r = anonymous.get("/notifications")
        assert r.status_code == 303 and r.headers["location"] == "/login?next=/notifications"
