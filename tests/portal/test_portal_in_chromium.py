"""The portal as a stakeholder uses it, in real headless Chromium (Debian's ``chromium``, driven over the
DevTools protocol on a pipe: tests/support/cdp.py): log in, open the index and a strategy_backtest report
whose plotly figures draw, log out; an expired or revoked session goes back to the login page; a disabled
user cannot log in."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cdp import Browser
from portal_data import PASSWORD

from workbench.app.accounts import disable_user
from workbench.app.report import run_report
from workbench.ingest.sample import generate_sample_candles
from workbench.store.writer import write_table

REPO = Path(__file__).resolve().parents[2]
SMALL = {"start": "2025-01-01", "end": "2025-01-04", "strategy_params": '{"fast": 5, "slow": 13}',
         "symbols": "KRW-SYNBTC,KRW-SYNETH", "max_positions": "2", "store": "false"}


@pytest.fixture
def browsers(tmp_path: Path) -> Iterator[Any]:
    opened: list[Browser] = []

    def new() -> Browser:
        opened.append(Browser(tmp_path / f"profile-{len(opened)}"))
        return opened[-1]

    yield new
    for b in opened:
        b.close()


@pytest.fixture
def real_reports(session: Any, database_url: str, redis_server_url: str, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Path:
    """reports/ with index.html and one strategy_backtest report made by `workbench report`."""
    write_table(session.db, "candles", generate_sample_candles(days=5))
    for key in [k for k in os.environ if k.startswith("WORKBENCH_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", database_url)
    monkeypatch.setenv("WORKBENCH_REDIS_URL", redis_server_url)
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NUMBA_CACHE_DIR", os.environ.get("NUMBA_CACHE_DIR", str(REPO / ".cache" / "numba")))
    out = tmp_path / "real-reports"
    run_report("strategy_backtest", SMALL, output_dir=out, progress=False)
    return out


def _path(b: Browser) -> str:
    return str(b.js("location.pathname"))


def _login(b: Browser, base: str, username: str, password: str, target: str = "/index.html") -> None:
    b.goto(base + target)
    assert _path(b) == "/login"
    b.submit({"username": username, "password": password}, "login")


@pytest.mark.slow
@pytest.mark.chromium
def test_log_in_read_reports_log_out(portal: Any, alice: int, real_reports: Path, browsers: Any, db: Any,
                                     redis_cache: Any) -> None:
    base = portal(reports_dir=real_reports)
    b = browsers()
    _login(b, base, "alice", PASSWORD)
    assert _path(b) == "/index.html"
    cookies = {c["name"]: c for c in b.cookies()}
    assert cookies["wb_session"]["httpOnly"] is True and cookies["wb_session"]["sameSite"] == "Strict"
    assert b.js("document.cookie") == ""          # HttpOnly: no script can read the session
    links = b.js("[...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))")
    report = next(p.name for p in real_reports.glob("strategy_backtest-*.html"))
    assert links == [report]
    b.events.clear()
    b.js("document.querySelector('a[href]').click()")
    b.wait_for(f"location.pathname === {json.dumps('/' + report)} && document.readyState === 'complete'")
    # every plotly figure of the file drew (equity vs buy & hold, underwater, monthly returns, trades of both
    # symbols, ...)
    html = (real_reports / report).read_text(encoding="utf-8")
    figures = len(re.findall(r'<div class="plotly-graph-div" id="[^"]+"', html))
    drawn = b.wait_for("(() => { const d = document.querySelectorAll('.plotly-graph-div');"
                       " const ok = [...d].filter(x => x.classList.contains('js-plotly-plot')"
                       " && x.querySelector('svg.main-svg')); return d.length && ok.length === d.length"
                       " ? ok.length : 0; })()")
    assert figures >= 5 and drawn == figures, (figures, drawn)
    assert [e for e in b.events if e.get("method") == "Runtime.exceptionThrown"] == []
    assert "SYNTHETIC SAMPLE DATA" in b.js("document.body.innerText")

    b.goto(base + "/")
    assert b.js("document.getElementById('user').textContent") == "alice"
    b.submit({}, "logout")
    assert _path(b) == "/login"
    b.goto(base + "/" + report)                     # the old session no longer opens anything
    assert _path(b) == "/login" and "wb_session" not in {c["name"] for c in b.cookies()}

    # a revoked session (the user is disabled) goes back to the login page, and the user cannot log in
    _login(b, base, "alice", PASSWORD)
    assert _path(b) == "/index.html"
    assert disable_user(db, redis_cache.client, "alice") == 1
    b.goto(base + "/index.html")
    assert _path(b) == "/login"
    b.submit({"username": "alice", "password": PASSWORD}, "login")
    assert _path(b) == "/login"
    assert b.js("document.getElementById('error').textContent") == "Wrong user name or password."


@pytest.mark.chromium
def test_an_expired_session_goes_back_to_the_login_page(portal: Any, alice: int, browsers: Any) -> None:
    base = portal(session_lifetime=timedelta(seconds=3))
    b = browsers()
    _login(b, base, "alice", PASSWORD, "/a.html")
    assert _path(b) == "/a.html" and b.js("document.body.innerText") == "REPORT A"
    time.sleep(3.5)
    b.goto(base + "/a.html")
    assert _path(b) == "/login"
    assert b.js("document.querySelector('input[name=next]').value") == "/a.html"


@pytest.mark.chromium
def test_the_notifications_page(portal: Any, alice: int, session: Any, browsers: Any) -> None:
    from workbench.app.notify import notify

    notify(session, "report_finished", "report finished: A", user_id=alice)
    notify(session, "monitor_alarm", "free disk low", user_id=alice)
    base = portal()
    b = browsers()
    _login(b, base, "alice", PASSWORD, "/")
    b.js("document.getElementById('notifications').click()")
    b.wait_for("location.pathname === '/notifications' && document.readyState === 'complete'")
    rows = b.js("[...document.querySelectorAll('#notifications tr')].slice(1)"
                ".map(r => [...r.cells].slice(1).map(c => c.textContent))")
    assert rows == [["monitor_alarm", "free disk low"], ["report_finished", "report finished: A"]]
    times = b.js("[...document.querySelectorAll('#notifications tr')].slice(1).map(r => r.cells[0].textContent)")
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d KST", t) for t in times) and len(times) == 2
