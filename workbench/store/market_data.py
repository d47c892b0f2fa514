"""Load market data from the (hyper)tables into pandas or polars.

Every loader validates symbol, timeframe and range first, reads with ADBC (binary COPY into Arrow)
and returns a frame indexed by ``ts`` (UTC). Candles at a timeframe that is not stored are read from
the 1m rollups (5m 15m 1h 4h 1d; continuous aggregates on TimescaleDB) or else bucketed on the server
from the largest stored timeframe that divides it. Rows that retention moved to the Parquet archive
are merged in when an archive is given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, Literal, TypeVar

import pandas as pd
import pyarrow as pa

from workbench.core.markets import (
    TIMEFRAMES,
    TimeLike,
    normalize_symbol,
    normalize_timeframe,
    validate_range,
)
from workbench.errors import DataNotFoundError, ValidationError
from workbench.store.archive import Archive
from workbench.store.cache import CANDLE_TTL, FrameCache, NullCache, TieredCache, candle_key
from workbench.store.database import Database
from workbench.store.maintenance import ROLLUP_TIMEFRAMES, refresh_stale_rollups
from workbench.store.queries import Q
from workbench.store.versions import data_version

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "ARROW",
    "Backend",
    "FRAME_KINDS",
    "FrameKind",
    "Frames",
    "OHLCV",
    "PANDAS",
    "POLARS",
    "bucket_candles",
    "candles_from_transactions",
    "load_candles",
    "load_indicators",
    "load_orderbooks",
    "load_tickers",
    "load_transactions",
    "source_timeframes",
    "stored_source_timeframe",
]

Backend = Literal["pandas", "polars", "arrow"]
F = TypeVar("F")
OHLCV = ("open", "high", "low", "close", "volume")


def _to_pandas(table: pa.Table, *, zero_copy: bool = False) -> pd.DataFrame:
    # zero_copy: columns on the table's memory (read-only arrays), for the in-process tier's kept
    # frame, which it never hands out itself
    df: pd.DataFrame = (table.to_pandas(split_blocks=True, coerce_temporal_nanoseconds=False) if zero_copy
                        else table.to_pandas())
    df = df.set_index("ts")
    if isinstance(df.index, pd.DatetimeIndex) and df.index.tz is None:
        df.index = df.index.tz_localize("UTC")
    return df


def _kept_frame(table: pa.Table) -> pd.DataFrame:
    """The frame the in-process tier keeps for ``table``: no copy of the columns (callers get shallow
    copies of it, which pandas' copy-on-write copies before any change)."""
    return _to_pandas(table, zero_copy=True)


def _pandas(table: pa.Table, key: str | None, cache: FrameCache) -> pd.DataFrame:
    if key is not None and isinstance(cache, TieredCache):   # a repeated load: no conversion again
        return cache.pandas_frame(key, table, _kept_frame)
    return _to_pandas(table)


def _polars(table: pa.Table, key: str | None, cache: FrameCache) -> pl.DataFrame:
    import polars as pl

    return pl.DataFrame(table)


def _arrow(table: pa.Table, key: str | None, cache: FrameCache) -> pa.Table:
    return table


@dataclass(frozen=True)
class FrameKind(Generic[F]):
    """What the loaders hand out: :data:`PANDAS` (indexed by ``ts``), :data:`POLARS` or :data:`ARROW`
    (``ts`` a column). ``convert(table, cache key or None, cache)`` builds it from the Arrow table read."""

    name: Backend
    convert: Callable[[pa.Table, str | None, FrameCache], F] = field(repr=False)


PANDAS: FrameKind[pd.DataFrame] = FrameKind("pandas", _pandas)
POLARS: FrameKind[pl.DataFrame] = FrameKind("polars", _polars)
ARROW: FrameKind[pa.Table] = FrameKind("arrow", _arrow)
FRAME_KINDS: dict[str, FrameKind[pd.DataFrame] | FrameKind[pl.DataFrame] | FrameKind[pa.Table]] = {
    k.name: k for k in (PANDAS, POLARS, ARROW)}


def source_timeframes(timeframe: str) -> list[str]:
    """Stored timeframes that ``timeframe`` can be built from, largest first (itself included)."""
    secs = TIMEFRAMES[timeframe]
    return sorted((tf for tf, s in TIMEFRAMES.items() if s <= secs and secs % s == 0),
                  key=TIMEFRAMES.__getitem__, reverse=True)


def _align(start: pd.Timestamp, end: pd.Timestamp, timeframe: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Widen [start, end) to whole buckets (origin 2000-01-03 00:00 UTC, as the SQL)."""
    origin = pd.Timestamp("2000-01-03", tz="UTC")
    step = pd.Timedelta(seconds=TIMEFRAMES[timeframe])
    s = origin + ((start - origin) // step) * step if start > origin else start
    e = origin + -((origin - end) // step) * step if end > origin else end
    return s, min(e, pd.Timestamp("2100-01-01", tz="UTC"))


_ORIGIN_US = 946_857_600_000_000  # 2000-01-03 00:00 UTC in microseconds: the bucket origin of the SQL
_ARCHIVE_NAMES = {"timestamp": "ts", "open_price": "open", "high_price": "high", "low_price": "low",
                  "close_price": "close"}
#: loader query -> (archived table, key columns of the loaded frame, the first unique on its own)
_ARCHIVED_QUERIES: dict[Q, tuple[str, tuple[str, ...]]] = {
    Q.CANDLES: ("candles", ("ts",)),
    Q.INDICATORS: ("technical_indicators", ("ts",)),
    Q.TICKERS: ("tickers", ("ts",)),
    Q.ORDERBOOKS: ("orderbooks", ("ts",)),
    Q.TRANSACTIONS: ("transactions", ("bithumb_tx_id", "ts")),
}


def _in_archive(db: Database, archive: Archive | None, table: str, start: pd.Timestamp, end: pd.Timestamp,
                **values: str) -> bool:
    """Whether the archive has (or its records in the database say it should have) files of the range."""
    if archive is None:
        return False
    return bool(archive.months_in(db, table, start, end, **values)[0])


def _with_archive(db: Database, db_rows: pa.Table, archive: Archive, name: Q, start: pd.Timestamp,
                  end: pd.Timestamp, **values: str) -> pa.Table:
    """``db_rows`` of loader query ``name`` merged with the archived rows of the same range: same
    columns, one row per key (the database's where both have it), in time order."""
    import pyarrow.compute as pc

    table, key = _ARCHIVED_QUERIES[name]
    stored = {v: k for k, v in _ARCHIVE_NAMES.items()}
    columns = [stored.get(c, c) for c in db_rows.column_names]
    old = archive.read(db, table, start, end, columns=[*columns, "id"] if name == Q.TRANSACTIONS else columns,
                       **values)
    if old is None or old.num_rows == 0:
        return db_rows
    if name == Q.TRANSACTIONS:  # trades sharing a timestamp: in id order, as the query
        old = old.sort_by([("timestamp", "ascending"), ("id", "ascending")]).drop_columns(["id"])
    old = old.rename_columns(db_rows.column_names).cast(db_rows.schema)
    if db_rows.num_rows == 0:
        return old
    # the database's rows win: drop archived rows whose key the database has (first key column is
    # unique within one symbol[/timeframe]: ts, or the trade id)
    old = old.filter(pc.invert(pc.is_in(old.column(key[0]), value_set=db_rows.column(key[0]))))
    merged = pa.concat_tables([old, db_rows])
    if old.num_rows and pc.max(old.column("ts")).as_py() > pc.min(db_rows.column("ts")).as_py():
        merged = merged.sort_by("ts")  # stable: archived rows first among equal times
    return merged


def bucket_candles(table: pa.Table, timeframe: str) -> pa.Table:
    """OHLCV bars at ``timeframe`` from time-ordered OHLCV ``table`` (columns ts open high low close
    volume), with the server queries' rules: buckets start at 2000-01-03 00:00 UTC + k * timeframe,
    open/close from the first/last row, high/low the extremes, volume the sum; empty buckets absent."""
    import polars as pl

    step = TIMEFRAMES[timeframe] * 1_000_000
    df = pl.DataFrame(table)
    ts_type = df.schema["ts"]
    micros = pl.col("ts").dt.cast_time_unit("us").cast(pl.Int64)
    bucket = ((micros - _ORIGIN_US) // step * step + _ORIGIN_US).cast(pl.Datetime("us", "UTC")).cast(ts_type)
    out = (df.with_columns(bucket.alias("ts"))
           .group_by("ts", maintain_order=True)
           .agg(pl.col("open").first(), pl.col("high").max(), pl.col("low").min(), pl.col("close").last(),
                pl.col("volume").sum())
           .sort("ts"))
    return out.to_arrow().cast(table.schema)


def _params(symbol: str, start: pd.Timestamp, end: pd.Timestamp, **extra: object) -> dict[str, object]:
    return {"symbol": symbol, "start": start.to_pydatetime(), "end": end.to_pydatetime(), **extra}


def load_candles(
    db: Database,
    symbol: str,
    timeframe: str = "1h",
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    *,
    source_timeframe: str | None = None,
    cache: FrameCache | None = None,
    archive: Archive | None = None,
    allow_empty: bool = False,
) -> pd.DataFrame:
    """OHLCV candles of ``symbol`` at ``timeframe`` in ``[start, end)``.

    Parameters
    ----------
    db : Database
    symbol : str
        ``KRW-BTC`` (``BTC_KRW`` and ``btc`` are accepted).
    timeframe : str
        One of ``1m 3m 5m 10m 15m 30m 1h 4h 6h 12h 1d 1w``.
    start, end : str, datetime or Timestamp, optional
        Half-open UTC range (naive = UTC); unbounded when omitted. When bucketing, the range is
        widened to whole buckets.
    source_timeframe : str, optional
        Stored timeframe to bucket from; by default the stored timeframe itself, else the largest
        stored one that divides ``timeframe``.
    cache : FrameCache, optional
        Looked up first, filled after a database read.
    archive : Archive, optional
        Parquet archive of rows that retention removed from the database: where it has rows of the
        range they are read with the database's as one frame (bucketed on the client, by the same
        rules, when a higher timeframe is built from them). Each archive file of the range is checked
        against its record first (:meth:`Archive.read`): a damaged, stray, swapped or missing file
        raises ArchiveIntegrityError naming it.
    allow_empty : bool
        Return an empty frame instead of raising DataNotFoundError.

    Returns
    -------
    DataFrame indexed by ``ts`` (UTC) with float columns ``open high low close volume``
    (``Frames(db, POLARS).candles(...)`` for polars, ``ARROW`` for a pyarrow Table: ``ts`` a column).
    """
    return Frames(db, PANDAS, cache=cache, archive=archive).candles(
        symbol, timeframe, start, end, source_timeframe=source_timeframe, allow_empty=allow_empty)


def _candles_table(db: Database, symbol: str, timeframe: str, start: TimeLike | None, end: TimeLike | None,
                   source_timeframe: str | None, cache: FrameCache, archive: Archive | None,
                   allow_empty: bool) -> tuple[pa.Table, str]:
    """:func:`load_candles`' Arrow table and its cache key."""
    sym = normalize_symbol(symbol)
    tf = normalize_timeframe(timeframe)
    s, e = validate_range(start, end)
    src: str | None
    if source_timeframe is not None:
        src = normalize_timeframe(source_timeframe)
        if src not in source_timeframes(tf):
            raise ValidationError(f"source_timeframe {src!r} cannot be bucketed into {tf!r}: "
                                  f"it must divide it (one of {source_timeframes(tf)})")
        version = 0 if isinstance(cache, NullCache) else data_version(db, "candles", sym)
    else:
        version, src = _version_and_source(db, sym, tf, s, e)
        if src is None and archive is not None:
            src = next((c for c in source_timeframes(tf)
                        if _in_archive(db, archive, "candles", s, e, symbol=sym, timeframe=c)), None)
    if src is not None and src != tf:
        s, e = _align(s, e, tf)
    key = candle_key(sym, tf, s, e, version, getattr(cache, "source", ""))
    table = cache.get_table(key)
    if table is None:
        if src is not None and _in_archive(db, archive, "candles", s, e, symbol=sym, timeframe=src):
            assert archive is not None
            table = _with_archive(db, db.fetch_arrow(Q.CANDLES, _params(sym, s, e, timeframe=src)), archive,
                                  Q.CANDLES, s, e, symbol=sym, timeframe=src)
            if src != tf:
                table = bucket_candles(table, tf)
        elif src is None:
            table = pa.table({c: pa.array([], pa.float64()) for c in OHLCV})
            table = table.add_column(0, "ts", pa.array([], pa.timestamp("us", tz="UTC")))
        elif src == tf:
            table = db.fetch_arrow(Q.CANDLES, _params(sym, s, e, timeframe=tf))
        else:
            table = None
            if src == "1m" and tf in ROLLUP_TIMEFRAMES:  # kept up to date at write time (migration 0005)
                if db.has_timescaledb:   # changes by other SQL clients, not yet in the aggregates
                    refresh_stale_rollups(db, sym)
                table = db.fetch_arrow(Q.CANDLES_ROLLUP, _params(sym, s, e, timeframe=tf))
            if table is None or table.num_rows == 0:  # no rollup: bucket on the server
                name = Q.CANDLES_RESAMPLED_TSDB if db.has_timescaledb else Q.CANDLES_RESAMPLED
                table = db.fetch_arrow(name, _params(sym, s, e, source_timeframe=src,
                                                     bucket=f"{TIMEFRAMES[tf]} seconds"))
        if table.num_rows:
            cache.set_table(key, table, CANDLE_TTL)
    if table.num_rows == 0 and not allow_empty:
        raise DataNotFoundError(
            f"no {tf} candles for {sym} in [{s.isoformat()}, {e.isoformat()})"
            + ("" if src else f" and no stored timeframe among {source_timeframes(tf)} to build them from")
            + "; ingest data (workbench ingest / import-csv) or load the sample (workbench sample)"
        )
    return table, key


def stored_source_timeframe(db: Database, symbol: str, timeframe: str, start: pd.Timestamp,
                            end: pd.Timestamp) -> str | None:
    """The largest stored timeframe with rows in ``[start, end)`` that ``timeframe`` can be built from."""
    return _version_and_source(db, symbol, timeframe, start, end)[1]


def _version_and_source(db: Database, symbol: str, timeframe: str, start: pd.Timestamp,
                        end: pd.Timestamp) -> tuple[int, str | None]:
    """The symbol's candle data version and :func:`stored_source_timeframe`, in one round trip."""
    from workbench.store.queries import query

    with db.begin() as conn:
        row = conn.execute(query(Q.CANDLES_LOOKUP).text,
                           _params(symbol, start, end, table_name="candles",
                                   timeframes=source_timeframes(timeframe))).one()
    return int(row.version), (None if row.source_timeframe is None else str(row.source_timeframe))


def _transactions_candles(db: Database, symbol: str, timeframe: str, start: TimeLike | None,
                          end: TimeLike | None) -> pa.Table:
    sym = normalize_symbol(symbol)
    tf = normalize_timeframe(timeframe)
    s, e = _align(*validate_range(start, end), tf)
    name = Q.CANDLES_FROM_TRANSACTIONS_TSDB if db.has_timescaledb else Q.CANDLES_FROM_TRANSACTIONS
    return db.fetch_arrow(name, _params(sym, s, e, bucket=f"{TIMEFRAMES[tf]} seconds"))


def _simple(name: Q, db: Database, symbol: str, start: TimeLike | None, end: TimeLike | None,
            archive: Archive | None = None, timeframe: str | None = None) -> pa.Table:
    sym = normalize_symbol(symbol)
    s, e = validate_range(start, end)
    extra = {} if timeframe is None else {"timeframe": timeframe}
    table = db.fetch_arrow(name, _params(sym, s, e, **extra))
    values = {"symbol": sym, **extra}
    if _in_archive(db, archive, _ARCHIVED_QUERIES[name][0], s, e, **values):
        assert archive is not None
        table = _with_archive(db, table, archive, name, s, e, **values)
    return table


class Frames(Generic[F]):
    """The loaders of one frame kind: ``Frames(db, POLARS).candles("KRW-BTC", "1m")`` is a polars
    DataFrame, ``Frames(db, ARROW)`` hands out pyarrow Tables, ``Frames(db, PANDAS)`` pandas DataFrames
    indexed by ``ts`` (the module's ``load_*`` functions). ``cache`` is looked up first and filled after
    a database read (candles); rows of ``archive`` (retention's Parquet files) are merged in."""

    def __init__(self, db: Database, kind: FrameKind[F], *, cache: FrameCache | None = None,
                 archive: Archive | None = None) -> None:
        self.db, self.kind, self.cache, self.archive = db, kind, cache or NullCache(), archive

    def candles(self, symbol: str, timeframe: str = "1h", start: TimeLike | None = None,
                end: TimeLike | None = None, *, source_timeframe: str | None = None,
                allow_empty: bool = False) -> F:
        """OHLCV candles of ``symbol`` at ``timeframe`` in ``[start, end)`` (:func:`load_candles`)."""
        table, key = _candles_table(self.db, symbol, timeframe, start, end, source_timeframe, self.cache,
                                    self.archive, allow_empty)
        return self.kind.convert(table, key, self.cache)

    def candles_from_transactions(self, symbol: str, timeframe: str = "1m", start: TimeLike | None = None,
                                  end: TimeLike | None = None) -> F:
        """OHLCV bars built on the server from the trades in ``transactions``.

        Besides ``open high low close volume`` the frame has ``vwap`` and ``trades`` (count).
        Buckets without trades are absent.
        """
        return self.kind.convert(_transactions_candles(self.db, symbol, timeframe, start, end), None, self.cache)

    def tickers(self, symbol: str, start: TimeLike | None = None, end: TimeLike | None = None) -> F:
        """Ticker snapshots of ``symbol`` in ``[start, end)`` (archived ones included)."""
        return self.kind.convert(_simple(Q.TICKERS, self.db, symbol, start, end, self.archive), None, self.cache)

    def transactions(self, symbol: str, start: TimeLike | None = None, end: TimeLike | None = None) -> F:
        """Trades of ``symbol`` in ``[start, end)`` (archived ones included)."""
        return self.kind.convert(_simple(Q.TRANSACTIONS, self.db, symbol, start, end, self.archive), None,
                                 self.cache)

    def orderbooks(self, symbol: str, start: TimeLike | None = None, end: TimeLike | None = None) -> F:
        """Order book snapshots of ``symbol`` (bids/asks as JSON text), archived ones included."""
        return self.kind.convert(_simple(Q.ORDERBOOKS, self.db, symbol, start, end, self.archive), None,
                                 self.cache)

    def indicators(self, symbol: str, timeframe: str, start: TimeLike | None = None,
                   end: TimeLike | None = None) -> F:
        """Stored ``technical_indicators`` rows (archived ones included)."""
        return self.kind.convert(_simple(Q.INDICATORS, self.db, symbol, start, end, self.archive,
                                         normalize_timeframe(timeframe)), None, self.cache)


def candles_from_transactions(db: Database, symbol: str, timeframe: str = "1m", start: TimeLike | None = None,
                              end: TimeLike | None = None) -> pd.DataFrame:
    """:meth:`Frames.candles_from_transactions` as pandas, indexed by ``ts``."""
    return Frames(db, PANDAS).candles_from_transactions(symbol, timeframe, start, end)


def load_tickers(db: Database, symbol: str, start: TimeLike | None = None, end: TimeLike | None = None,
                 *, archive: Archive | None = None) -> pd.DataFrame:
    """Ticker snapshots of ``symbol`` in ``[start, end)``, indexed by ``ts`` (archived ones included)."""
    return Frames(db, PANDAS, archive=archive).tickers(symbol, start, end)


def load_transactions(db: Database, symbol: str, start: TimeLike | None = None,
                      end: TimeLike | None = None, *, archive: Archive | None = None) -> pd.DataFrame:
    """Trades of ``symbol`` in ``[start, end)``, indexed by ``ts`` (archived ones included)."""
    return Frames(db, PANDAS, archive=archive).transactions(symbol, start, end)


def load_orderbooks(db: Database, symbol: str, start: TimeLike | None = None,
                    end: TimeLike | None = None, *, archive: Archive | None = None) -> pd.DataFrame:
    """Order book snapshots of ``symbol`` (bids/asks as JSON text), indexed by ``ts`` (archived ones included)."""
    return Frames(db, PANDAS, archive=archive).orderbooks(symbol, start, end)


def load_indicators(db: Database, symbol: str, timeframe: str, start: TimeLike | None = None,
                    end: TimeLike | None = None, *, archive: Archive | None = None) -> pd.DataFrame:
    """Stored ``technical_indicators`` rows, indexed by ``ts`` (archived ones included)."""
    return Frames(db, PANDAS, archive=archive).indicators(symbol, timeframe, start, end)
