from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from workbench.errors import ImportDataError
from workbench.ingest.sample import generate_sample_candles
from workbench.store.database import Database
from workbench.store.writer import write_table


def _count(db: Database, table: str) -> int:
    with db.begin() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar())  # noqa: S608


def test_rewrite_adds_no_duplicates_and_updates_values(db: Database) -> None:
    frame = generate_sample_candles({"KRW-SYNBTC": 100.0}, days=1)
    r1 = write_table(db, "candles", frame)
    assert (r1.rows, r1.inserted, r1.updated) == (1440, 1440, 0)
    frame2 = frame.assign(volume=frame["volume"] + 1)
    r2 = write_table(db, "candles", frame2)
    assert (r2.inserted, r2.updated) == (0, 1440)
    assert _count(db, "candles") == 1440
    with db.begin() as conn:
        v = conn.execute(sa.text("SELECT volume FROM candles ORDER BY timestamp LIMIT 1")).scalar()
    assert v == pytest.approx(frame2["volume"].iloc[0])


def test_failed_write_leaves_nothing(db: Database) -> None:
    good = generate_sample_candles({"KRW-SYNBTC": 100.0}, days=1)
    # the database refuses the last row (symbol longer than VARCHAR(20)) after the rest was staged
    bad = pd.concat([good, good.tail(1).assign(symbol="KRW-" + "X" * 30)], ignore_index=True)
    with pytest.raises(Exception, match="too long"):
        write_table(db, "candles", bad)
    assert _count(db, "candles") == 0


def test_frame_validation_names_the_problem(db: Database) -> None:
    frame = generate_sample_candles({"KRW-SYNBTC": 100.0}, days=1)
    with pytest.raises(ImportDataError, match="missing column"):
        write_table(db, "candles", frame.drop(columns=["volume"]))
    with pytest.raises(ImportDataError, match="'close_price' has 1 empty"):
        f = frame.copy()
        f.loc[3, "close_price"] = None
        write_table(db, "candles", f)
    with pytest.raises(ImportDataError, match="timezone-aware"):
        write_table(db, "candles", frame.assign(timestamp=frame["timestamp"].dt.tz_localize(None)))
    with pytest.raises(ImportDataError, match="unknown target table"):
        write_table(db, "users", frame)
    assert _count(db, "candles") == 0


def test_query_literals_are_quoted_by_psycopg(db: Database) -> None:
    from workbench.store.queries import Query

    q = Query("probe", "SELECT CAST(:s AS text) AS s, CAST(:t AS timestamptz) AS ts, :n AS n")
    text = q.literal({"s": "it's'; DROP TABLE candles; --", "t": pd.Timestamp("2025-01-01", tz="UTC").to_pydatetime(),
                      "n": 3})
    with db.begin() as conn:
        row = conn.exec_driver_sql(text.replace("%", "%%")).one()
    assert row.s == "it's'; DROP TABLE candles; --" and row.n == 3 and row.ts.year == 2025
    with pytest.raises(KeyError, match="needs parameter"):
        q.literal({"s": "x"})


def _version(db: Database, symbol: str) -> int:
    with db.begin() as conn:
        return int(conn.execute(sa.text("SELECT COALESCE((SELECT version FROM data_versions WHERE "
                                        "table_name = 'candles' AND symbol = :s), 0)"), {"s": symbol}).scalar())


def test_unchanged_rows_are_not_rewritten_and_keep_the_data_version(db: Database) -> None:
    frame = generate_sample_candles({"KRW-SYNBTC": 100.0, "KRW-SYNETH": 10.0}, days=1)
    before = _version(db, "KRW-SYNBTC")
    write_table(db, "candles", frame)
    assert _version(db, "KRW-SYNBTC") == before + 1 and _version(db, "KRW-SYNETH") >= 1
    with db.begin() as conn:
        xmin = conn.execute(sa.text("SELECT xmin::text FROM candles ORDER BY timestamp, symbol LIMIT 1")).scalar()
    again = write_table(db, "candles", frame)
    assert (again.rows, again.inserted, again.updated, again.unchanged) == (2880, 0, 0, 2880)
    assert "nothing written" in str(again)
    with db.begin() as conn:  # the row was not rewritten: same creating transaction
        assert conn.execute(sa.text("SELECT xmin::text FROM candles ORDER BY timestamp, symbol LIMIT 1")).scalar() == xmin
    assert _version(db, "KRW-SYNBTC") == before + 1
    one = frame.copy()
    one.loc[5, "volume"] += 1.0
    third = write_table(db, "candles", one)
    assert (third.inserted, third.updated, third.unchanged) == (0, 1, 2879)
    assert _version(db, one.loc[5, "symbol"]) >= 2
