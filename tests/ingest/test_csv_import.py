from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from workbench.errors import ImportDataError
from workbench.ingest.importer import import_csv
from workbench.store.database import Database
from workbench.store.market_data import load_candles, load_transactions


def _count(db: Database, table: str) -> int:
    with db.begin() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar())  # noqa: S608


def _candles_csv(path: Path, n: int = 30, *, epoch_ms: bool = True) -> pd.DataFrame:
    ts = pd.date_range("2025-02-01", periods=n, freq="1min", tz="UTC")
    df = pd.DataFrame({
        "Time": ts.as_unit("ms").asi8 if epoch_ms else ts.tz_localize(None).astype(str),
        "Open": [100.0 + i for i in range(n)], "High": [102.0 + i for i in range(n)],
        "Low": [99.0 + i for i in range(n)], "Close": [101.0 + i for i in range(n)],
        "Volume": [1.5] * n,
    })
    df.to_csv(path, index=False)
    return df


def test_import_candles_is_idempotent(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "btc.csv"
    _candles_csv(path)
    first = import_csv(db, path, "candles", symbol="btc", timeframe="1m")
    assert (first.rows, first.inserted) == (30, 30)
    again = import_csv(db, path, "candles", symbol="KRW-BTC", timeframe="1m")
    assert again.inserted == 0 and _count(db, "candles") == 30
    df = load_candles(db, "KRW-BTC", "1m")
    assert df.index[0] == pd.Timestamp("2025-02-01", tz="UTC") and df["close"].iloc[-1] == 130.0


def test_naive_times_are_read_in_the_given_zone(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "kst.csv"
    _candles_csv(path, 5, epoch_ms=False)
    import_csv(db, path, "candles", symbol="KRW-ETH", timeframe="1m", tz="Asia/Seoul")
    df = load_candles(db, "KRW-ETH", "1m")
    assert df.index[0] == pd.Timestamp("2025-01-31 15:00", tz="UTC")   # 00:00 KST


@pytest.mark.parametrize("mutate,message", [
    (lambda d: d.assign(Close=d["Close"].astype(object).where(d.index != 7, "abc")), "line 9: close_price: 'abc' is not a number"),
    (lambda d: d.assign(High=d["High"].where(d.index != 4, 50.0)), "line 6: inconsistent bar"),
    (lambda d: pd.concat([d, d.iloc[[2]]]), "line 32: same symbol, timeframe, timestamp as line 4"),
    (lambda d: d.drop(columns="Volume"), "missing column"),
    (lambda d: d.assign(Time=d["Time"].astype(object).where(d.index != 3, "yesterday")), "timestamp"),
])
def test_a_bad_file_writes_nothing_and_names_the_problem(db: Database, tmp_path: Path, mutate,
                                                         message: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.csv"
    mutate(_candles_csv(path)).to_csv(path, index=False)
    with pytest.raises(ImportDataError, match=message) as info:
        import_csv(db, path, "candles", symbol="KRW-BTC", timeframe="1m")
    assert str(path) in str(info.value)
    assert _count(db, "candles") == 0


def test_missing_symbol_or_file(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    _candles_csv(path)
    with pytest.raises(ImportDataError, match="pass symbol"):
        import_csv(db, path, "candles", timeframe="1m")
    with pytest.raises(ImportDataError, match="no such file"):
        import_csv(db, tmp_path / "nope.csv", "candles", symbol="KRW-BTC", timeframe="1m")
    (tmp_path / "empty.csv").write_text("timestamp,open,high,low,close,volume\n")
    with pytest.raises(ImportDataError, match="no rows"):
        import_csv(db, tmp_path / "empty.csv", "candles", symbol="KRW-BTC", timeframe="1m")


def test_trades_without_ids_get_stable_ids(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "trades.csv"
    pd.DataFrame({
        "transaction_date": ["2025-03-01 09:00:00", "2025-03-01 09:00:00", "2025-03-01 09:00:01"],
        "type": ["bid", "bid", "ask"],
        "units_traded": [0.5, 0.5, 1.0],
        "price": [50_000.0, 50_000.0, 49_990.0],
    }).to_csv(path, index=False)
    r1 = import_csv(db, path, "transactions", symbol="KRW-BTC", tz="Asia/Seoul")
    r2 = import_csv(db, path, "transactions", symbol="KRW-BTC", tz="Asia/Seoul")
    assert (r1.inserted, r2.inserted) == (3, 0)   # identical twin trades both kept, none twice
    tx = load_transactions(db, "KRW-BTC")
    assert tx["side"].tolist() == ["buy", "buy", "sell"] and tx["bithumb_tx_id"].nunique() == 3
    assert tx.index[0] == pd.Timestamp("2025-03-01 00:00", tz="UTC")
    assert tx["value"].iloc[2] == pytest.approx(49_990.0)


def test_legacy_trade_csv_gets_the_same_ids_as_the_api(db: Database, tmp_path: Path) -> None:
    from fake_bithumb import load

    from workbench.ingest.bithumb import parse_legacy_transactions

    body = load("legacy_transaction_history_BTC_KRW.json")
    path = tmp_path / "legacy.csv"
    pd.DataFrame(body["data"]).to_csv(path, index=False)
    import_csv(db, path, "transactions", symbol="KRW-BTC", tz="Asia/Seoul")
    api = parse_legacy_transactions(body, "KRW-BTC")
    stored = load_transactions(db, "KRW-BTC")
    assert sorted(stored["bithumb_tx_id"]) == sorted(api["bithumb_tx_id"])


def test_multi_symbol_trade_csv(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "multi.csv"
    pd.DataFrame({"symbol": ["KRW-A", "KRW-B", "KRW-A"], "timestamp": [1735689600, 1735689601, 1735689602], "price": [1.0, 2.0, 1.0],
                  "quantity": [1.0, 1.0, 1.0], "side": ["buy", "sell", "buy"]}).to_csv(path, index=False)
    assert import_csv(db, path, "transactions").inserted == 3
    assert len(load_transactions(db, "KRW-A")) == 2 and len(load_transactions(db, "KRW-B")) == 1


def test_symbol_column_must_agree_and_be_valid(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "sym.csv"
    _candles_csv(path).assign(symbol="BTC_KRW").to_csv(path, index=False)
    with pytest.raises(ImportDataError, match="line 2: symbol 'BTC_KRW' disagrees with the given KRW-ETH"):
        import_csv(db, path, "candles", symbol="KRW-ETH", timeframe="1m")
    assert import_csv(db, path, "candles", timeframe="1m").inserted == 30
    _candles_csv(path).assign(symbol="USDT-BTC").to_csv(path, index=False)
    with pytest.raises(ImportDataError, match=r"(?s)sym.csv: 30 bad row.*line 2: symbol 'USDT-BTC': only KRW markets"):
        import_csv(db, path, "candles", timeframe="1m")


# ----------------------------------------------------------------- real-world shapes (issue 8.5)
CDD = Path(__file__).resolve().parents[1] / "fixtures" / "csv" / "cdd_bithumb_btckrw_1h.csv"
# the file's rows, written out by hand: (UTC time, open, close, volume in BTC)
CDD_ROWS = [("2020-11-19 00:00", 19870000.0, 19890000.0, 1.5), ("2020-11-19 12:00", 19890000.0, 19900000.0, 2.0),
            ("2020-11-19 13:00", 19900000.0, 19950000.0, 4.0), ("2020-11-19 22:00", 19950000.0, 19980000.0, 3.125),
            ("2020-11-20 10:00", 20010000.0, 20030000.0, 8.25), ("2020-11-20 11:00", 20030000.0, 20050000.0, 12.5)]


def _expect_cdd(db: Database) -> None:
    df = load_candles(db, "KRW-BTC", "1h")
    assert list(df.index) == [pd.Timestamp(ts, tz="UTC") for ts, *_ in CDD_ROWS]
    assert df["open"].tolist() == [r[1] for r in CDD_ROWS] and df["close"].tolist() == [r[2] for r in CDD_ROWS]
    assert df["volume"].tolist() == [r[3] for r in CDD_ROWS]   # 'Volume BTC', not 'Volume KRW'


def test_cryptodatadownload_export_as_published(db: Database) -> None:
    result = import_csv(db, CDD, "candles", timeframe="1h")
    assert result.inserted == 6
    assert result.mapping == {"Unix Timestamp": "timestamp", "Symbol": "symbol", "Open": "open_price",
                              "High": "high_price", "Low": "low_price", "Close": "close_price",
                              "Volume BTC": "volume"}
    assert result.ignored == ("Date", "Volume KRW")
    assert "'Volume BTC' -> volume" in str(result) and "ignored 'Date', 'Volume KRW'" in str(result)
    _expect_cdd(db)
    again = import_csv(db, CDD, "candles", timeframe="1h")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 6) and "nothing written" in str(again)


def test_twelve_hour_dates_without_the_epoch_column(db: Database, tmp_path: Path) -> None:
    lines = CDD.read_text().splitlines()
    rows = [line.split(",") for line in lines[1:]]
    path = tmp_path / "dates.csv"
    path.write_text("\n".join(",".join(r[1:]) for r in rows) + "\n")   # no banner, no Unix Timestamp
    import_csv(db, path, "candles", timeframe="1h")
    _expect_cdd(db)


def test_volume_in_another_currency_than_the_symbol_is_refused(db: Database) -> None:
    with pytest.raises(ImportDataError, match="volume column is in BTC but the symbol is KRW-ETH"):
        import_csv(db, CDD, "candles", symbol="KRW-ETH", timeframe="1h")


@pytest.mark.parametrize("pair", ["BTCKRW", "BTC_KRW", "BTC/KRW", "btc/krw", "KRW-BTC"])
def test_bare_pairs_map_to_the_canonical_symbol(db: Database, tmp_path: Path, pair: str) -> None:
    path = tmp_path / "pair.csv"
    _candles_csv(path, 3).assign(pair=pair).to_csv(path, index=False)
    import_csv(db, path, "candles", timeframe="1m")
    assert len(load_candles(db, "KRW-BTC", "1m")) == 3


# ---------------------------------------------------------------- row validation (issue 11.1)
def _bad_rows_file(path: Path) -> None:
    path.write_text(
        "timestamp,open,high,low,close,volume\n"
        "1738368000000,100,101,99,100,1\n"          # line 2: good (ms)
        "1738368060000,100,inf,99,100,1\n"          # line 3: inf
        "1738368120,100,101,99,100,1\n"             # line 4: seconds among milliseconds
        "1738368180000,100,101,99,100,nan\n"        # line 5: NaN volume
        "1738368240000,100,101,99,100,1\n"          # line 6: good
        "1738368300000,100,101,99,100,-1\n"         # line 7: negative volume
    )


def test_every_bad_row_is_named_in_one_error_and_nothing_is_written(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    _bad_rows_file(path)
    with pytest.raises(ImportDataError) as info:
        import_csv(db, path, "candles", symbol="KRW-BTC", timeframe="1m")
    msg = str(info.value)
    assert "4 bad row(s)" in msg
    assert "line 3: high_price: inf is not a finite number" in msg
    assert "line 4: timestamp '1738368120' looks like epoch seconds but the file's timestamps are in milliseconds" in msg
    assert "line 5: volume: nan is not a finite number" in msg
    assert "line 7: inconsistent bar" in msg
    assert "line 2" not in msg and "line 6" not in msg
    assert _count(db, "candles") == 0


def test_skip_bad_rows_writes_the_good_ones_and_a_rejects_file(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    _bad_rows_file(path)
    result = import_csv(db, path, "candles", symbol="KRW-BTC", timeframe="1m", on_error="skip")
    assert (result.inserted, result.rejected) == (2, 4)
    assert result.rejects_path == tmp_path / "bad.csv.rejects.csv"
    rejects = pd.read_csv(result.rejects_path)
    assert rejects["line"].tolist() == [3, 4, 5, 7]
    assert rejects["row"].iloc[1] == "1738368120,100,101,99,100,1"
    df = load_candles(db, "KRW-BTC", "1m")
    assert list(df.index) == [pd.Timestamp("2025-02-01 00:00", tz="UTC"), pd.Timestamp("2025-02-01 00:04", tz="UTC")]


def test_day_month_order_must_be_known(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "dmy.csv"
    path.write_text("date,open,high,low,close,volume\n"
                    "02/01/2025 00:00,1,1,1,1,1\n"
                    "13/01/2025 00:00,1,1,1,1,1\n")
    with pytest.raises(ImportDataError, match=r"line 2: timestamp '02/01/2025 00:00': day and month are ambiguous") as info:
        import_csv(db, path, "candles", symbol="KRW-BTC", timeframe="1d")
    assert "line 3" not in str(info.value)   # 13/01 can only be 13 January
    import_csv(db, path, "candles", symbol="KRW-BTC", timeframe="1d", dayfirst=True)
    assert list(load_candles(db, "KRW-BTC", "1d").index) == [pd.Timestamp("2025-01-02", tz="UTC"),
                                                           pd.Timestamp("2025-01-13", tz="UTC")]
    with pytest.raises(ImportDataError, match="line 3: timestamp '13/01/2025 00:00' is not a date"):
        import_csv(db, path, "candles", symbol="KRW-BTC", timeframe="1d", dayfirst=False)


def test_negative_trade_price_or_quantity_is_rejected(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "trades.csv"
    path.write_text("timestamp,price,quantity,side\n"
                    "2025-03-01T00:00:00Z,100,1,buy\n"
                    "2025-03-01T00:00:01Z,-100,1,buy\n"
                    "2025-03-01T00:00:02Z,100,-0.5,sell\n"
                    "2025-03-01T00:00:03Z,100,0,sell\n")
    with pytest.raises(ImportDataError) as info:
        import_csv(db, path, "transactions", symbol="KRW-BTC")
    msg = str(info.value)
    assert "line 3: price -100 must be > 0" in msg and "line 4: quantity -0.5 must be > 0" in msg
    assert "line 5: quantity 0 must be > 0" in msg and _count(db, "transactions") == 0
