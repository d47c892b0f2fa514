"""Load market data from the (hyper)tables into pandas or polars.

Every loader validates symbol, timeframe and range first, reads with ADBC (binary COPY into Arrow)
and returns a frame indexed by ``ts`` (UTC). Candles at a timeframe that is not stored are bucketed
on the server from the largest stored timeframe that divides it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, TypeAlias, overload

import pandas as pd
import pyarrow as pa

from workbench.errors import DataNotFoundError, ValidationError
from workbench.markets import (
    TIMEFRAMES,
    TimeLike,
    normalize_symbol,
    normalize_timeframe,
    validate_range,
)
from workbench.store.cache import CANDLE_TTL, FrameCache, NullCache, candle_key
from workbench.store.database import Database

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "Backend",
    "Frame",
    "OHLCV",
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
#: What a loader returns for ``backend`` "pandas", "polars" or "arrow" (the overloads pick one).
Frame: TypeAlias = "pd.DataFrame | pl.DataFrame | pa.Table"
OHLCV = ("open", "high", "low", "close", "volume")


def _frame(table: pa.Table, backend: Backend) -> Frame:
    if backend == "arrow":
        return table
    if backend == "polars":
        import polars as pl

        return pl.from_arrow(table)
    df = table.to_pandas()  # backend was checked by the caller (_check_backend)
    df = df.set_index("ts")
    if df.index.tz is None:
        df.index = df.index.tz_localize("UTC")
    return df


def _check_backend(backend: str) -> None:
    if backend not in ("pandas", "polars", "arrow"):
        raise ValidationError(f"backend {backend!r} is not one of 'pandas', 'polars', 'arrow'")


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


def _params(symbol: str, start: pd.Timestamp, end: pd.Timestamp, **extra: Any) -> dict[str, Any]:
    return {"symbol": symbol, "start": start.to_pydatetime(), "end": end.to_pydatetime(), **extra}


@overload
def load_candles(db: Database, symbol: str, timeframe: str = ..., start: TimeLike | None = ...,
                 end: TimeLike | None = ..., *, source_timeframe: str | None = ...,
                 backend: Literal["pandas"] = ..., cache: FrameCache | None = ...,
                 allow_empty: bool = ...) -> pd.DataFrame: ...
@overload
def load_candles(db: Database, symbol: str, timeframe: str = ..., start: TimeLike | None = ...,
                 end: TimeLike | None = ..., *, source_timeframe: str | None = ...,
                 backend: Literal["polars"], cache: FrameCache | None = ...,
                 allow_empty: bool = ...) -> pl.DataFrame: ...
@overload
def load_candles(db: Database, symbol: str, timeframe: str = ..., start: TimeLike | None = ...,
                 end: TimeLike | None = ..., *, source_timeframe: str | None = ...,
                 backend: Literal["arrow"], cache: FrameCache | None = ...,
                 allow_empty: bool = ...) -> pa.Table: ...
@overload
def load_candles(db: Database, symbol: str, timeframe: str = ..., start: TimeLike | None = ...,
                 end: TimeLike | None = ..., *, source_timeframe: str | None = ...,
                 backend: Backend, cache: FrameCache | None = ...,
                 allow_empty: bool = ...) -> Frame: ...
def load_candles(
    db: Database,
    symbol: str,
    timeframe: str = "1h",
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    *,
    source_timeframe: str | None = None,
    backend: Backend = "pandas",
    cache: FrameCache | None = None,
    allow_empty: bool = False,
) -> Frame:
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
    backend : {"pandas", "polars", "arrow"}
    cache : FrameCache, optional
        Looked up first, filled after a database read.
    allow_empty : bool
        Return an empty frame instead of raising DataNotFoundError.

    Returns
    -------
    DataFrame indexed by ``ts`` (UTC) with float columns ``open high low close volume``
    (polars/arrow: ``ts`` is a column).
    """
    sym = normalize_symbol(symbol)
    tf = normalize_timeframe(timeframe)
    _check_backend(backend)
    s, e = validate_range(start, end)
    cache = cache or NullCache()
    src: str | None
    if source_timeframe is not None:
        src = normalize_timeframe(source_timeframe)
        if src not in source_timeframes(tf):
            raise ValidationError(f"source_timeframe {src!r} cannot be bucketed into {tf!r}: "
                                  f"it must divide it (one of {source_timeframes(tf)})")
    else:
        src = stored_source_timeframe(db, sym, tf, s, e)
    if src is not None and src != tf:
        s, e = _align(s, e, tf)
    key = candle_key(sym, tf, s, e)
    table = cache.get_table(key)
    if table is None:
        if src is None:
            table = pa.table({c: pa.array([], pa.float64()) for c in OHLCV})
            table = table.add_column(0, "ts", pa.array([], pa.timestamp("us", tz="UTC")))
        elif src == tf:
            table = db.fetch_arrow("candles", _params(sym, s, e, timeframe=tf))
        else:
            name = "candles_resampled_tsdb" if db.has_timescaledb else "candles_resampled"
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
    return _frame(table, backend)


def stored_source_timeframe(db: Database, symbol: str, timeframe: str, start: pd.Timestamp,
                            end: pd.Timestamp) -> str | None:
    """The largest stored timeframe with rows in ``[start, end)`` that ``timeframe`` can be built from."""
    from workbench.store.queries import query

    with db.begin() as conn:
        for src in source_timeframes(timeframe):
            found = conn.execute(query("candles_exist").text,
                                 _params(symbol, start, end, timeframe=src)).scalar()
            if found:
                return src
    return None


@overload
def candles_from_transactions(db: Database, symbol: str, timeframe: str = ..., start: TimeLike | None = ...,
                              end: TimeLike | None = ..., *,
                              backend: Literal["pandas"] = ...) -> pd.DataFrame: ...
@overload
def candles_from_transactions(db: Database, symbol: str, timeframe: str = ..., start: TimeLike | None = ...,
                              end: TimeLike | None = ..., *, backend: Literal["polars"]) -> pl.DataFrame: ...
@overload
def candles_from_transactions(db: Database, symbol: str, timeframe: str = ..., start: TimeLike | None = ...,
                              end: TimeLike | None = ..., *, backend: Literal["arrow"]) -> pa.Table: ...
@overload
def candles_from_transactions(db: Database, symbol: str, timeframe: str = ..., start: TimeLike | None = ...,
                              end: TimeLike | None = ..., *, backend: Backend) -> Frame: ...
def candles_from_transactions(
    db: Database,
    symbol: str,
    timeframe: str = "1m",
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    *,
    backend: Backend = "pandas",
) -> Frame:
    """OHLCV bars built on the server from the trades in ``transactions``.

    Besides ``open high low close volume`` the frame has ``vwap`` and ``trades`` (count).
    Buckets without trades are absent.
    """
    sym = normalize_symbol(symbol)
    tf = normalize_timeframe(timeframe)
    _check_backend(backend)
    s, e = _align(*validate_range(start, end), tf)
    name = "candles_from_transactions_tsdb" if db.has_timescaledb else "candles_from_transactions"
    table = db.fetch_arrow(name, _params(sym, s, e, bucket=f"{TIMEFRAMES[tf]} seconds"))
    return _frame(table, backend)


def _simple(name: str, db: Database, symbol: str, start: TimeLike | None, end: TimeLike | None,
            backend: Backend, **extra: Any) -> Frame:
    sym = normalize_symbol(symbol)
    _check_backend(backend)
    s, e = validate_range(start, end)
    return _frame(db.fetch_arrow(name, _params(sym, s, e, **extra)), backend)


@overload
def load_tickers(db: Database, symbol: str, start: TimeLike | None = ..., end: TimeLike | None = ..., *,
                 backend: Literal["pandas"] = ...) -> pd.DataFrame: ...
@overload
def load_tickers(db: Database, symbol: str, start: TimeLike | None = ..., end: TimeLike | None = ..., *,
                 backend: Literal["polars"]) -> pl.DataFrame: ...
@overload
def load_tickers(db: Database, symbol: str, start: TimeLike | None = ..., end: TimeLike | None = ..., *,
                 backend: Literal["arrow"]) -> pa.Table: ...
@overload
def load_tickers(db: Database, symbol: str, start: TimeLike | None = ..., end: TimeLike | None = ..., *,
                 backend: Backend) -> Frame: ...
def load_tickers(db: Database, symbol: str, start: TimeLike | None = None, end: TimeLike | None = None,
                 *, backend: Backend = "pandas") -> Frame:
    """Ticker snapshots of ``symbol`` in ``[start, end)``, indexed by ``ts``."""
    return _simple("tickers", db, symbol, start, end, backend)


@overload
def load_transactions(db: Database, symbol: str, start: TimeLike | None = ..., end: TimeLike | None = ..., *,
                      backend: Literal["pandas"] = ...) -> pd.DataFrame: ...
@overload
def load_transactions(db: Database, symbol: str, start: TimeLike | None = ..., end: TimeLike | None = ..., *,
                      backend: Literal["polars"]) -> pl.DataFrame: ...
@overload
def load_transactions(db: Database, symbol: str, start: TimeLike | None = ..., end: TimeLike | None = ..., *,
                      backend: Literal["arrow"]) -> pa.Table: ...
@overload
def load_transactions(db: Database, symbol: str, start: TimeLike | None = ..., end: TimeLike | None = ..., *,
                      backend: Backend) -> Frame: ...
def load_transactions(db: Database, symbol: str, start: TimeLike | None = None,
                      end: TimeLike | None = None, *, backend: Backend = "pandas") -> Frame:
    """Trades of ``symbol`` in ``[start, end)``, indexed by ``ts``."""
    return _simple("transactions", db, symbol, start, end, backend)


@overload
def load_orderbooks(db: Database, symbol: str, start: TimeLike | None = ..., end: TimeLike | None = ..., *,
                    backend: Literal["pandas"] = ...) -> pd.DataFrame: ...
@overload
def load_orderbooks(db: Database, symbol: str, start: TimeLike | None = ..., end: TimeLike | None = ..., *,
                    backend: Literal["polars"]) -> pl.DataFrame: ...
@overload
def load_orderbooks(db: Database, symbol: str, start: TimeLike | None = ..., end: TimeLike | None = ..., *,
                    backend: Literal["arrow"]) -> pa.Table: ...
@overload
def load_orderbooks(db: Database, symbol: str, start: TimeLike | None = ..., end: TimeLike | None = ..., *,
                    backend: Backend) -> Frame: ...
def load_orderbooks(db: Database, symbol: str, start: TimeLike | None = None,
                    end: TimeLike | None = None, *, backend: Backend = "pandas") -> Frame:
    """Order book snapshots of ``symbol`` (bids/asks as JSON text), indexed by ``ts``."""
    return _simple("orderbooks", db, symbol, start, end, backend)


@overload
def load_indicators(db: Database, symbol: str, timeframe: str, start: TimeLike | None = ...,
                    end: TimeLike | None = ..., *, backend: Literal["pandas"] = ...) -> pd.DataFrame: ...
@overload
def load_indicators(db: Database, symbol: str, timeframe: str, start: TimeLike | None = ...,
                    end: TimeLike | None = ..., *, backend: Literal["polars"]) -> pl.DataFrame: ...
@overload
def load_indicators(db: Database, symbol: str, timeframe: str, start: TimeLike | None = ...,
                    end: TimeLike | None = ..., *, backend: Literal["arrow"]) -> pa.Table: ...
@overload
def load_indicators(db: Database, symbol: str, timeframe: str, start: TimeLike | None = ...,
                    end: TimeLike | None = ..., *, backend: Backend) -> Frame: ...
def load_indicators(db: Database, symbol: str, timeframe: str, start: TimeLike | None = None,
                    end: TimeLike | None = None, *, backend: Backend = "pandas") -> Frame:
    """Stored ``technical_indicators`` rows, indexed by ``ts``."""
    return _simple("indicators", db, symbol, start, end, backend, timeframe=normalize_timeframe(timeframe))
