"""Bithumb API keys are encrypted at rest and never appear in plain text anywhere the workbench writes."""

from __future__ import annotations

import logging

import pytest
from typer.testing import CliRunner

from workbench.app.paper.runner import replay
from workbench.cli import app
from workbench.core.strategies import EmaCross, Risk
from workbench.errors import ConfigError
from workbench.ingest.sample import generate_sample_candles
from workbench.store.paper_keys import redis_client
from workbench.store.secrets import ENV_VAR, BithumbKeys, generate_key, load_bithumb_keys, store_bithumb_keys
from workbench.store.writer import write_table

pytestmark = [pytest.mark.db, pytest.mark.redis]

API_KEY = "bk-PLAIN-api-key-0123456789abcdef"
SECRET = "bs-PLAIN-secret-fedcba9876543210"


def _everything_in_the_database(db) -> str:  # type: ignore[no-untyped-def]
    with db.begin() as conn:
        tables = conn.exec_driver_sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").scalars().all()
        return "\n".join(str(row[0]) for t in tables
                         for row in conn.exec_driver_sql(f'SELECT row_to_json(x)::text FROM "{t}" x').all())


def _everything_in_redis(client) -> str:  # type: ignore[no-untyped-def]
    parts = []
    for key in client.scan_iter(count=500):
        kind = client.type(key).decode()
        parts.append(key.decode(errors="replace"))
        if kind == "string":
            parts.append(client.get(key).decode(errors="replace"))
        elif kind == "list":
            parts += [v.decode(errors="replace") for v in client.lrange(key, 0, -1)]
        elif kind == "set":
            parts += [v.decode(errors="replace") for v in client.smembers(key)]
    return "\n".join(parts)


def test_keys_encrypted_and_never_in_plain_text(session, monkeypatch, caplog, tmp_path, database_url,
                                                redis_server_url) -> None:
    key = generate_key()
    monkeypatch.setenv(ENV_VAR, key)
    caplog.set_level(logging.DEBUG)
    store_bithumb_keys(session.db, session.user_id, API_KEY, SECRET)
    loaded = load_bithumb_keys(session.db, session.user_id)
    assert loaded == BithumbKeys(API_KEY, SECRET)
    assert API_KEY not in repr(loaded) and SECRET not in str(loaded) and "***" in repr(loaded)
    # a paper run and a backtest (manifests) with the keys stored
    write_table(session.db, "candles", generate_sample_candles({"KRW-SYNBTC": 5e7}, days=4, timeframe="1h"))
    strat = EmaCross(fast=3, slow=8, risk=Risk(max_positions=1))
    replay(session, strat, ["KRW-SYNBTC"], "1h", "2025-01-01", "2025-01-05")
    session.backtest(strat, "KRW-SYNBTC", "1h")
    # the CLI
    for k, v in {"WORKBENCH_DATABASE_URL": database_url, "WORKBENCH_REDIS_URL": redis_server_url,
                 "WORKBENCH_DATA_DIR": str(tmp_path / "data")}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(tmp_path)
    status = CliRunner().invoke(app, ["secrets", "status"], catch_exceptions=False)
    assert status.exit_code == 0 and "bk-P…" in status.output
    setting = CliRunner().invoke(app, ["secrets", "set-bithumb"], input=f"{API_KEY}\n{SECRET}\n",
                                 catch_exceptions=False)
    assert setting.exit_code == 0, setting.output
    outputs = status.output + setting.output + caplog.text
    written = _everything_in_the_database(session.db) + _everything_in_redis(redis_client(session.cache))
    written += "".join(p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file())
    for plain in (API_KEY, SECRET, key):
        assert plain not in written
        assert plain not in outputs
    assert "bithumb_api_key" in _everything_in_the_database(session.db)     # the dump did see the users row


def test_wrong_or_missing_key(session, monkeypatch) -> None:
    monkeypatch.setenv(ENV_VAR, generate_key())
    store_bithumb_keys(session.db, session.user_id, API_KEY, SECRET)
    monkeypatch.setenv(ENV_VAR, generate_key())
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        load_bithumb_keys(session.db, session.user_id)
    monkeypatch.setenv(ENV_VAR, "not-a-key")
    with pytest.raises(ConfigError, match="not a valid Fernet key"):
        load_bithumb_keys(session.db, session.user_id)
    monkeypatch.delenv(ENV_VAR)
    monkeypatch.setattr("workbench.store.secrets._keyring_get", lambda: None)
    with pytest.raises(ConfigError, match="WORKBENCH_SECRET_KEY"):
        load_bithumb_keys(session.db, session.user_id)
