"""The candle cache cannot be stale or poisoned: versioned keys, HMAC-sealed values, an in-process tier."""

from __future__ import annotations

import logging

import pandas as pd
import pyarrow as pa
import pytest

from workbench.ingest.sample import generate_sample_candles
from workbench.services.embedded import free_port
from workbench.store.cache import (
    CacheUnavailableWarning,
    NullCache,
    RedisCache,
    TieredCache,
    seal,
    table_to_bytes,
)
from workbench.store.database import Database
from workbench.store.market_data import FRAME_KINDS, Frames, load_candles
from workbench.store.versions import cache_secret
from workbench.store.writer import write_frame, write_table

pytestmark = [pytest.mark.db, pytest.mark.redis]
SYM = "KRW-SYNBTC"


@pytest.fixture
def candles(db: Database) -> pd.DataFrame:
    frame = generate_sample_candles({SYM: 1_000_000.0}, days=1)
    write_table(db, "candles", frame)
    return frame


@pytest.fixture
def cache(db: Database, redis_cache: RedisCache) -> RedisCache:
    return RedisCache(redis_cache.client, source="test-db", secret=cache_secret(db))


def _doubled_first_hour(frame: pd.DataFrame) -> pd.DataFrame:
    part = frame.iloc[:60]
    return part.assign(**{c: part[c] * 2 for c in ("open_price", "high_price", "low_price", "close_price")})


def test_a_write_without_the_cache_cannot_leave_a_stale_frame(db: Database, candles: pd.DataFrame,
                                                              cache: RedisCache) -> None:
    before = load_candles(db, SYM, "1h", cache=cache)
    assert load_candles(db, SYM, "1h", cache=cache).equals(before) and cache.hits == 1
    changed = _doubled_first_hour(candles)
    write_frame(db, "candles", changed, cache=NullCache())   # the writer never told Redis
    after = load_candles(db, SYM, "1h", cache=cache)
    assert after["open"].iloc[0] == changed["open_price"].iloc[0] == 2 * before["open"].iloc[0]


def test_a_redis_outage_during_the_write_cannot_leave_a_stale_frame(db: Database, candles: pd.DataFrame,
                                                                     cache: RedisCache) -> None:
    load_candles(db, SYM, "1h", cache=cache)
    dead = RedisCache.from_url(f"redis://127.0.0.1:{free_port()}/0")
    changed = _doubled_first_hour(candles)
    with pytest.warns(CacheUnavailableWarning):
        write_frame(db, "candles", changed, cache=dead)   # invalidation fails
    assert cache.client.keys("candle:*")                     # the old frame is still in Redis ...
    after = load_candles(db, SYM, "1h", cache=cache)         # ... but no longer under the current key
    assert after["close"].iloc[0] == pytest.approx(changed["close_price"].iloc[59])


def _old_format(table: pa.Table) -> bytes:
    """A frame as the cache wrote it before format WBF2: a bare lz4 Arrow IPC stream."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression="lz4")) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


@pytest.mark.parametrize("poison", [
    b"not arrow at all",
    b"",
    "forged",
    "one byte flipped",
    "garbage in the format, signed with the secret",
    "cut body, signed with the secret",
    "earlier format, signed with the secret",
])
def test_an_unverifiable_value_is_a_logged_miss_and_deleted(db: Database, candles: pd.DataFrame,
                                                            cache: RedisCache, poison: object,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    good = load_candles(db, SYM, "1h", cache=cache)
    (key,) = cache.client.keys("candle:*")
    key = key.decode()
    stored = cache.client.get(key)
    secret = cache_secret(db)
    frame = pa.Table.from_pandas(good.reset_index(), preserve_index=False)
    if poison == "forged":  # a well-formed frame with the right source tag and wrong prices, signed without the secret
        fake = pa.Table.from_pandas(good.reset_index().assign(close=1.0), preserve_index=False)
        value = seal(key, table_to_bytes(fake, cache.source), b"guessed secret")
    elif poison == "one byte flipped":
        value = stored[:-7] + bytes([stored[-7] ^ 1]) + stored[-6:]
    elif poison == "garbage in the format, signed with the secret":
        value = seal(key, b"WBF2C\x10\x00\x00\x00{not json at all}", secret)
    elif poison == "cut body, signed with the secret":
        value = seal(key, table_to_bytes(frame, cache.source)[:-9], secret)
    elif poison == "earlier format, signed with the secret":
        value = seal(key, _old_format(frame), secret)
    else:
        value = seal(key, bytes(poison), b"x" * 32) if poison else b"\x00" * 10  # type: ignore[arg-type]
    assert value != stored
    cache.client.set(key, value)
    with caplog.at_level(logging.WARNING, logger="workbench.store.cache"):
        loaded = load_candles(db, SYM, "1h", cache=cache)
    pd.testing.assert_frame_equal(loaded, good, check_exact=True)
    assert cache.rejected == 1 and f"cache value {key} dropped" in caplog.text
    assert cache.client.get(key) != value   # deleted (and refilled from the database)


@pytest.mark.parametrize("backend", ["pandas", "polars", "arrow"])
@pytest.mark.parametrize("timeframe", ["1m", "1h", "3m"])   # stored, from the rollups, bucketed on the server
def test_a_redis_hit_is_the_database_frame_bit_for_bit(db: Database, candles: pd.DataFrame, cache: RedisCache,
                                                       backend: str, timeframe: str) -> None:
    kind = FRAME_KINDS[backend]
    plain = Frames(db, kind).candles(SYM, timeframe)
    Frames(db, kind, cache=cache).candles(SYM, timeframe)
    (key,) = cache.client.keys("candle:*")
    assert cache.client.get(key)[32:37] == b"WBF2C"   # after the MAC: the compact column format
    other = RedisCache(cache.client, source=cache.source, secret=cache_secret(db))   # another process
    hit = Frames(db, kind, cache=other).candles(SYM, timeframe)
    assert (other.hits, other.misses, other.rejected) == (1, 0, 0)
    if backend == "pandas":
        pd.testing.assert_frame_equal(hit, plain, check_exact=True)
        assert str(hit.index.dtype) == "datetime64[us, UTC]" and hit.index.name == "ts"
    elif backend == "polars":
        from polars.testing import assert_frame_equal

        assert_frame_equal(hit, plain, check_exact=True)
    else:
        assert hit.schema.equals(plain.schema, check_metadata=True) and hit.equals(plain)


def test_a_value_moved_to_another_key_does_not_verify(db: Database, candles: pd.DataFrame,
                                                      cache: RedisCache) -> None:
    day = load_candles(db, SYM, "1h", "2025-01-01", "2025-01-01 12:00", cache=cache)
    other = load_candles(db, SYM, "1h", "2025-01-01 12:00", "2025-01-02", cache=cache)
    k1, k2 = sorted(k.decode() for k in cache.client.keys("candle:*"))
    cache.client.set(k2, cache.client.get(k1))
    assert load_candles(db, SYM, "1h", "2025-01-01 12:00", "2025-01-02", cache=cache).equals(other)
    assert cache.rejected == 1 and len(day) == len(other) == 12


def test_the_in_process_tier_serves_repeats_and_follows_writes(db: Database, candles: pd.DataFrame,
                                                               cache: RedisCache) -> None:
    tiered = TieredCache(cache)
    first = load_candles(db, SYM, "1h", cache=tiered)
    second = load_candles(db, SYM, "1h", cache=tiered)
    assert tiered.hits == 1 and cache.hits == 0 and second.equals(first)
    changed = _doubled_first_hour(candles)
    write_frame(db, "candles", changed, cache=NullCache())
    third = load_candles(db, SYM, "1h", cache=tiered)
    assert third["open"].iloc[0] == changed["open_price"].iloc[0]
    # another process (a fresh tier on the same Redis) gets the frame from Redis
    other = TieredCache(RedisCache(cache.client, source=cache.source, secret=cache_secret(db)))
    assert load_candles(db, SYM, "1h", cache=other).equals(third) and other.inner.hits == 1  # type: ignore[attr-defined]


def test_the_tier_is_bounded(candles: pd.DataFrame) -> None:
    table = pa.Table.from_pandas(candles, preserve_index=False)
    tier = TieredCache(NullCache(), max_bytes=int(table.nbytes * 2.5))
    for i in range(5):
        tier.set_table(f"candle:{SYM}:1m:{i}", table)
    assert tier.get_table(f"candle:{SYM}:1m:0") is None and tier.get_table(f"candle:{SYM}:1m:4") is not None
    assert tier.invalidate(f"candle:{SYM}:*") == 2


def test_a_repeated_load_reuses_the_kept_frame_and_a_caller_cannot_change_it(db: Database, candles: pd.DataFrame,
                                                                            cache: RedisCache) -> None:
    tiered = TieredCache(cache)
    first = load_candles(db, SYM, "1m", cache=tiered)
    expected = load_candles(db, SYM, "1m")                        # no cache: the database's frame
    first.loc[first.index[0], "close"] = -1.0                     # callers edit their frames in place
    first["open"] *= 2
    second = load_candles(db, SYM, "1m", cache=tiered)
    pd.testing.assert_frame_equal(second, expected, check_exact=True)
    assert tiered.hits == 1 and len(second) == 1440
    second.iloc[0, 0] = 5.0
    pd.testing.assert_frame_equal(load_candles(db, SYM, "1m", cache=tiered), expected, check_exact=True)


def test_the_kept_frame_is_built_once_counted_and_evicted_with_its_table(candles: pd.DataFrame) -> None:
    table = pa.Table.from_pandas(candles, preserve_index=False)
    built: list[int] = []

    def build(t: pa.Table) -> pd.DataFrame:
        built.append(1)
        return t.to_pandas()

    tier = TieredCache(NullCache(), max_bytes=table.nbytes * 5)
    tier.set_table("candle:a", table)
    one, two = tier.pandas_frame("candle:a", table, build), tier.pandas_frame("candle:a", table, build)
    assert len(built) == 1 and one.equals(two) and one is not two
    frame_bytes = int(one.memory_usage(index=True).sum())
    assert tier._bytes == table.nbytes + frame_bytes
    other = pa.Table.from_pandas(candles.iloc[:10], preserve_index=False)
    tier.pandas_frame("candle:a", other, build)                   # not the table it holds: built, not kept
    tier.pandas_frame("candle:b", table, build)                   # a key it does not hold: the same
    assert len(built) == 3 and tier._bytes == table.nbytes + frame_bytes
    assert tier.invalidate("candle:a") == 1 and tier._bytes == 0


def test_an_undecodable_json_value_is_a_logged_miss(cache: RedisCache, caplog: pytest.LogCaptureFixture) -> None:
    cache.set_json("ticker:KRW-SYNBTC", {"symbol": "KRW-SYNBTC", "closing_price": 1.0}, 5)
    assert cache.get_json("ticker:KRW-SYNBTC") == {"symbol": "KRW-SYNBTC", "closing_price": 1.0}
    cache.client.set("ticker:KRW-SYNBTC", b"\xb0\x01 not json")
    with caplog.at_level(logging.WARNING, logger="workbench.store.cache"):
        assert cache.get_json("ticker:KRW-SYNBTC") is None
    assert cache.client.get("ticker:KRW-SYNBTC") is None and "dropped" in caplog.text
