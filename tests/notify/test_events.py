"""Events emitted from the existing code paths, and the ``workbench notify`` commands."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from workbench.app.notify import list_notifications
from workbench.app.notify.events import check_after_ingest, report_finished
from workbench.cli import app
from workbench.core.strategies import EmaCross
from workbench.errors import DataNotFoundError
from workbench.store.paper_keys import redis_client
from workbench.store.writer import write_frame


def _candles(symbol, start, n, *, drop=(), zero_volume=()):
    ts = pd.date_range(start, periods=n, freq="1min", tz="UTC")
    close = 100.0 + 0.01 * (np.arange(n) % 2)
    frame = pd.DataFrame({"symbol": symbol, "timeframe": "1m", "timestamp": ts, "open_price": close,
                          "high_price": close + 1, "low_price": close - 1, "close_price": close,
                          "volume": [0.0 if i in zero_volume else 5.0 for i in range(n)]})
    return frame.drop(index=list(drop)).reset_index(drop=True)


def _notes(session):
    return list_notifications(redis_client(session.cache), session.user_id, limit=500)


def test_quality_alarm_after_ingest(session):
    write_frame(session.db, "candles", _candles("KRW-BTC", "2026-01-01", 60, drop=range(10, 13)))
    note = check_after_ingest(session, "KRW-BTC", "1m", 60, now=pd.Timestamp("2026-01-01 01:00", tz="UTC"))
    assert note is not None and note.kind == "quality_alarm"
    assert note.text == ("data quality of KRW-BTC 1m (2026-01-01T00:00:00+00:00 to 2026-01-01T00:59:00+00:00): "
                         "1 gaps, 3 missing bars")
    assert note.data == {"symbol": "KRW-BTC", "timeframe": "1m", "rows": 57, "gaps": 1, "missing_bars": 3,
                         "duplicate_timestamps": 0, "zero_volume_runs": 0, "price_jumps": 0, "bad_bars": 0}
    assert [n.id for n in _notes(session)] == [note.id]


def test_clean_ingest_raises_no_alarm(session):
    write_frame(session.db, "candles", _candles("KRW-ETH", "2026-01-01", 60))
    assert check_after_ingest(session, "KRW-ETH", "1m", 60, now=pd.Timestamp("2026-01-01 01:00", tz="UTC")) is None
    assert _notes(session) == []


def test_report_finished_names_the_report(session, tmp_path):
    html = tmp_path / "strategy_backtest-20260101T000000.html"
    html.write_text("<html></html>")
    html.with_suffix(".json").write_text(json.dumps({"title": "EmaCross on KRW-BTC"}))
    note = report_finished(session, html)
    assert note is not None and note.kind == "report_finished"
    assert note.text == "report finished: EmaCross on KRW-BTC (strategy_backtest-20260101T000000.html)"


def test_sweep_notifies_when_finished(session):
    write_frame(session.db, "candles", _candles("KRW-BTC", "2026-01-01", 300))
    out = session.sweep(EmaCross(), {"fast": [3, 5], "slow": [10]}, "KRW-BTC", "1m", progress=False)
    (note,) = _notes(session)
    assert note.kind == "sweep_finished"
    assert note.text == f"sweep {out.sweep_id} of EmaCross on KRW-BTC 1m finished: 2 combinations"
    assert note.data == {"sweep_id": str(out.sweep_id), "strategy": "EmaCross", "combinations": 2}


def test_cli_notify_test_and_list(session, cli_env, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    with session.db.begin() as conn:
        conn.exec_driver_sql("UPDATE users SET telegram_notifications = TRUE, telegram_chat_id = '9' WHERE id = %s",
                             (session.user_id,))
    runner = CliRunner()
    res = runner.invoke(app, ["notify", "test"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    (note,) = _notes(session)
    assert res.output == f"test notification {note.id}: list, telegram_queue\n"
    res = runner.invoke(app, ["notify", "list"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    lines = [line.strip() for line in res.output.splitlines() if line.strip()]
    cells = [re.split(r"\s*[│┃]\s*", line.strip("│┃ ")) for line in lines if line[0] in "│┃"]
    assert lines[0] == "notifications"
    assert cells == [["time (UTC)", "kind", "text"],
                     [note.created[:19].replace("T", " "), "test", "Test notification from the workbench."]]
    res = runner.invoke(app, ["notify", "list", "--user", "nobody"])
    assert isinstance(res.exception, DataNotFoundError) and str(res.exception) == "user 'nobody': no such user"


def test_optimize_notifies_when_finished(session):
    from workbench.ingest.sample import generate_sample_candles
    from workbench.store.writer import write_table

    write_table(session.db, "candles", generate_sample_candles(days=10))
    res = session.optimize(EmaCross(), {"fast": (3, 10), "slow": (15, 40)}, "KRW-SYNBTC", "1h", n_trials=3,
                           n_folds=2, holdout=0.3, seed=1, study_name="opt-note", progress=False)
    (note,) = _notes(session)
    complete = int((res.trials["state"] == "COMPLETE").sum())
    params = f"fast={res.best_params['fast']} slow={res.best_params['slow']}"
    assert note.kind == "optimize_finished"
    assert note.text == (f"optimization opt-note of EmaCross finished: {complete} complete trials, best sharpe_ratio "
                         f"{res.best_value:.4g} ({params})")
    assert note.data == {"study": "opt-note", "strategy": "EmaCross", "metric": "sharpe_ratio",
                         "best_value": res.best_value}


def test_paper_run_end_and_failure_notify(session, monkeypatch):
    from workbench.app.paper.runner import _Run, replay
    from workbench.ingest.sample import generate_sample_candles
    from workbench.store.writer import write_table

    write_table(session.db, "candles", generate_sample_candles(days=10))
    out = replay(session, EmaCross(), "KRW-SYNBTC", "1h", "2025-01-01", "2025-02-01", max_bars=3)
    note = _notes(session)[0]
    assert out.status == "stopped" and note.kind == "paper_run_stopped"
    assert note.text == f"paper run {out.run_id} (EmaCross, KRW-SYNBTC 1h) stopped: 3 bars, 0 fills, equity 10,000,000 KRW"
    assert note.data == {"paper_run_id": out.run_id, "bars": 3, "fills": 0, "equity": 10_000_000.0}

    def broken(self, symbol, ts):
        raise RuntimeError("boom")

    monkeypatch.setattr(_Run, "_decide", broken)
    with pytest.raises(RuntimeError, match="boom"):
        replay(session, EmaCross(), "KRW-SYNBTC", "1h", "2025-01-01", "2025-02-01", max_bars=3)
    note = _notes(session)[0]
    assert note.kind == "paper_run_failed" and note.data["bars"] == 0
