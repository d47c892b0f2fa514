from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from workbench.errors import DataNotFoundError, ValidationError
from workbench.ingest.sample import generate_sample_candles
from workbench.store.cache import CANDLE_TTL, NullCache, RedisCache
from workbench.store.database import Database
from workbench.store.market_data import POLARS, Frames, candles_from_transactions, load_candles, load_transactions
from workbench.store.writer import write_frame, write_table


@pytest.fixture
def minute_candles(db: Database) -> pd.DataFrame:
    frame = generate_sample_candles({"KRW-SYNBTC": 1_000_000.0}, days=3)
    write_table(db, "candles", frame)
    return frame


def _expected_resample(frame: pd.DataFrame, rule: str) -> pd.DataFrame:
    df = frame.set_index("timestamp")
    agg = df.resample(rule, origin=pd.Timestamp("2000-01-03", tz="UTC")).agg(
        {"open_price": "first", "high_price": "max", "low_price": "min", "close_price": "last", "volume": "sum"})
    agg.columns = ["open", "high", "low", "close", "volume"]
    return agg.dropna()


def test_load_raw_candles_pandas(db: Database, minute_candles: pd.DataFrame) -> None:
    df = load_candles(db, "KRW-SYNBTC", "1m", "2025-01-01 01:00", "2025-01-01 02:00")
    assert list(df.columns) == ["open", "high", "low", "close", "volume"]
    assert df.index.name == "ts" and str(df.index.tz) == "UTC"
    assert len(df) == 60 and df.index.is_monotonic_increasing
    src = minute_candles.set_index("timestamp").loc["2025-01-01 01:00":"2025-01-01 01:59"]
    np.testing.assert_allclose(df["close"].to_numpy(), src["close_price"].to_numpy())


def test_symbol_aliases_and_polars(db: Database, minute_candles: pd.DataFrame) -> None:
    a = Frames(db, POLARS).candles("synbtc_krw", "1m", "2025-01-01", "2025-01-01 00:10")
    assert isinstance(a, pl.DataFrame) and a.height == 10
    assert a.columns == ["ts", "open", "high", "low", "close", "volume"]
    assert str(a.schema["ts"].time_zone) == "UTC"


@pytest.mark.parametrize("timeframe,rule", [("5m", "5min"), ("1h", "1h"), ("4h", "4h"), ("1d", "24h")])
def test_server_side_bucketing_matches_pandas(db: Database, minute_candles: pd.DataFrame, timeframe: str,
                                              rule: str) -> None:
    got = load_candles(db, "KRW-SYNBTC", timeframe)
    want = _expected_resample(minute_candles, rule)
    assert list(got.index) == list(want.index)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-12)


def test_bucketing_widens_range_to_whole_buckets(db: Database, minute_candles: pd.DataFrame) -> None:
    got = load_candles(db, "KRW-SYNBTC", "1h", "2025-01-01 00:30", "2025-01-01 02:10")
    assert list(got.index) == list(pd.date_range("2025-01-01 00:00", periods=3, freq="1h", tz="UTC"))
    assert got["volume"].iloc[0] == pytest.approx(minute_candles["volume"].iloc[:60].sum())


def test_weekly_buckets_start_on_monday(db: Database) -> None:
    write_table(db, "candles", generate_sample_candles({"KRW-SYNETH": 100.0}, days=20, timeframe="1h"))
    got = load_candles(db, "KRW-SYNETH", "1w")
    assert all(ts.day_of_week == 0 for ts in got.index)


def test_validation_errors_name_the_input(db: Database) -> None:
    with pytest.raises(ValidationError, match="timeframe '7m'"):
        load_candles(db, "KRW-BTC", "7m")
    with pytest.raises(ValidationError, match="only KRW markets"):
        load_candles(db, "BTC-ETH", "1m")
    with pytest.raises(ValidationError, match="start .* must be before end"):
        load_candles(db, "KRW-BTC", "1m", "2025-02-01", "2025-01-01")
    with pytest.raises(ValidationError, match="source_timeframe '1h' cannot be bucketed into '1m'"):
        load_candles(db, "KRW-BTC", "1m", source_timeframe="1h")


def test_missing_data_raises_with_hint_or_returns_empty(db: Database) -> None:
    with pytest.raises(DataNotFoundError, match="no 1h candles for KRW-NOPE"):
        load_candles(db, "KRW-NOPE", "1h")
    empty = load_candles(db, "KRW-NOPE", "1h", allow_empty=True)
    assert empty.empty and list(empty.columns) == ["open", "high", "low", "close", "volume"]


def test_cache_hit_returns_same_frame_and_ingest_invalidates(db: Database, redis_cache: RedisCache,
                                                             minute_candles: pd.DataFrame) -> None:
    first = load_candles(db, "KRW-SYNBTC", "1h", cache=redis_cache)
    assert redis_cache.misses == 1 and redis_cache.hits == 0
    keys = [k.decode() for k in redis_cache.client.keys("candle:*")]
    assert len(keys) == 1 and keys[0].startswith("candle:KRW-SYNBTC:1h:")
    assert 0 < redis_cache.client.pttl(keys[0]) <= CANDLE_TTL * 1000  # has an expiry, at most CANDLE_TTL
    second = load_candles(db, "KRW-SYNBTC", "1h", cache=redis_cache)
    assert redis_cache.hits == 1
    pd.testing.assert_frame_equal(first, second)
    # a write of new candles drops the cached frames of that symbol
    changed = minute_candles.iloc[:60].assign(close_price=minute_candles["close_price"].iloc[:60] * 2,
                                              high_price=minute_candles["high_price"].iloc[:60] * 2)
    write_frame(db, "candles", changed, cache=redis_cache)
    assert redis_cache.client.keys("candle:*") == []
    third = load_candles(db, "KRW-SYNBTC", "1h", cache=redis_cache)
    assert third["close"].iloc[0] == pytest.approx(changed["close_price"].iloc[-1])


def test_loads_work_when_redis_is_down(db: Database, minute_candles: pd.DataFrame) -> None:
    from workbench.services.embedded import free_port
    from workbench.store.cache import CacheUnavailableWarning

    dead = RedisCache.from_url(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.warns(CacheUnavailableWarning, match="Redis cache unavailable"):
        df = load_candles(db, "KRW-SYNBTC", "1h", cache=dead)
    assert len(df) == 72
    pd.testing.assert_frame_equal(df, load_candles(db, "KRW-SYNBTC", "1h", cache=NullCache()))


def _trades(symbol: str) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    ts = pd.Timestamp("2025-03-01", tz="UTC") + pd.to_timedelta(np.sort(rng.uniform(0, 3600, 500)), unit="s")
    price = 50_000 + np.cumsum(rng.normal(0, 20, 500))
    qty = rng.uniform(0.01, 2, 500)
    return pd.DataFrame({"symbol": symbol, "timestamp": ts.astype("datetime64[us, UTC]"), "price": price,
                         "quantity": qty, "value": price * qty,
                         "side": rng.choice(["buy", "sell"], 500),
                         "bithumb_tx_id": [f"t{i}" for i in range(500)]})


def test_candles_from_transactions(db: Database) -> None:
    trades = _trades("KRW-SYNXRP")
    assert write_table(db, "transactions", trades).inserted == 500
    assert write_table(db, "transactions", trades).inserted == 0  # re-run adds nothing
    bars = candles_from_transactions(db, "KRW-SYNXRP", "5m")
    g = trades.set_index("timestamp").resample("5min")
    assert len(bars) == 12
    np.testing.assert_allclose(bars["open"], g["price"].first())
    np.testing.assert_allclose(bars["close"], g["price"].last())
    np.testing.assert_allclose(bars["high"], g["price"].max())
    np.testing.assert_allclose(bars["volume"], g["quantity"].sum())
    np.testing.assert_allclose(bars["vwap"], g["value"].sum() / g["quantity"].sum())
    assert bars["trades"].sum() == 500
    loaded = load_transactions(db, "KRW-SYNXRP")
    assert len(loaded) == 500 and loaded.index.is_monotonic_increasing


def test_frames_cached_from_another_database_are_misses(db: Database, redis_cache: RedisCache,
                                                          minute_candles: pd.DataFrame) -> None:
    load_candles(db, "KRW-SYNBTC", "1h", cache=redis_cache)
    other = RedisCache(redis_cache.client, source="another-database")
    load_candles(db, "KRW-SYNBTC", "1h", cache=other)
    assert other.hits == 0 and other.misses == 1
    load_candles(db, "KRW-SYNBTC", "1h", cache=redis_cache)   # each database has its own keys
    assert (redis_cache.hits, redis_cache.misses) == (1, 1)


def test_one_lookup_gives_the_data_version_and_the_largest_stored_source(db: Database) -> None:
    from workbench.store.market_data import _version_and_source, stored_source_timeframe
    from workbench.store.versions import data_version

    sym = "KRW-SYNBTC"
    day = pd.Timestamp("2025-01-01", tz="UTC"), pd.Timestamp("2025-01-02", tz="UTC")
    later = pd.Timestamp("2025-01-02", tz="UTC"), pd.Timestamp("2025-01-03", tz="UTC")
    before = data_version(db, "candles", sym)   # the db fixture does not empty data_versions
    assert _version_and_source(db, sym, "15m", *day) == (before, None)   # no candles yet
    write_table(db, "candles", generate_sample_candles({sym: 1e6}, days=2, timeframe="1m"))
    write_table(db, "candles", generate_sample_candles({sym: 1e6}, days=1, timeframe="5m"))
    version = data_version(db, "candles", sym)
    assert version >= before + 2   # each write bumped it
    # 15m is built from 15m, 5m, 3m or 1m (largest first); 5m is stored on the first day only
    assert _version_and_source(db, sym, "15m", *day) == (version, "5m")
    assert _version_and_source(db, sym, "15m", *later) == (version, "1m")
    assert stored_source_timeframe(db, sym, "1m", *day) == "1m"
    assert stored_source_timeframe(db, sym, "1h", pd.Timestamp("2025-02-01", tz="UTC"),
                                   pd.Timestamp("2025-02-02", tz="UTC")) is None
