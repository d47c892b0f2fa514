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
    (lambda d: d.assign(Close=d["Close"].astype(object).where(d.index != 7, "abc")), "row 9: column 'close_price'"),
    (lambda d: d.assign(High=d["High"].where(d.index != 4, 50.0)), "row 6: inconsistent bar"),
    (lambda d: pd.concat([d, d.iloc[[2]]]), "duplicate"),
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
    pd.DataFrame({"symbol": ["KRW-A", "KRW-B", "KRW-A"], "timestamp": [1, 2, 3], "price": [1.0, 2.0, 1.0],
                  "quantity": [1.0, 1.0, 1.0], "side": ["buy", "sell", "buy"]}).to_csv(path, index=False)
    assert import_csv(db, path, "transactions").inserted == 3
    assert len(load_transactions(db, "KRW-A")) == 2 and len(load_transactions(db, "KRW-B")) == 1


def test_symbol_column_must_agree_and_be_valid(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "sym.csv"
    _candles_csv(path).assign(symbol="BTC_KRW").to_csv(path, index=False)
    with pytest.raises(ImportDataError, match="symbol KRW-ETH disagrees with the file's"):
        import_csv(db, path, "candles", symbol="KRW-ETH", timeframe="1m")
    assert import_csv(db, path, "candles", timeframe="1m").inserted == 30
    _candles_csv(path).assign(symbol="USDT-BTC").to_csv(path, index=False)
    with pytest.raises(ImportDataError, match=r"sym.csv: symbol 'USDT-BTC': only KRW markets"):
        import_csv(db, path, "candles", timeframe="1m")
