"""CSV import into the market-data tables: one validated, all-or-nothing, idempotent write."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final, Literal

import numpy as np
import pandas as pd

from workbench.errors import ImportDataError, ValidationError
from workbench.markets import normalize_symbol, normalize_timeframe

__all__ = ["CsvKind", "read_csv_for_table"]

CsvKind = Literal["candles", "transactions", "tickers"]

_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "timestamp": ("timestamp", "ts", "time", "date", "datetime", "candle_date_time_utc", "transaction_date"),
    "open_price": ("open_price", "open", "opening_price", "o"),
    "high_price": ("high_price", "high", "h", "max_price"),
    "low_price": ("low_price", "low", "l", "min_price"),
    "close_price": ("close_price", "close", "closing_price", "trade_price", "c"),
    "volume": ("volume", "vol", "v", "units_traded", "candle_acc_trade_volume"),
    "price": ("price", "trade_price"),
    "quantity": ("quantity", "qty", "units_traded", "trade_volume", "amount"),
    "value": ("value", "total"),
    "side": ("side", "type", "ask_bid"),
    "bithumb_tx_id": ("bithumb_tx_id", "tx_id", "sequential_id", "id"),
    "symbol": ("symbol", "market"),
    "timeframe": ("timeframe", "interval"),
}
_REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "candles": ("timestamp", "open_price", "high_price", "low_price", "close_price", "volume"),
    "transactions": ("timestamp", "price", "quantity", "side"),
    "tickers": ("timestamp", "opening_price", "closing_price", "high_price", "low_price", "volume", "value",
                "change_24h", "change_rate_24h"),
}
_SIDES: Final = {"buy": "buy", "bid": "buy", "b": "buy", "sell": "sell", "ask": "sell", "s": "sell"}


_OPTIONAL: Final[dict[str, tuple[str, ...]]] = {
    "candles": ("symbol", "timeframe"),
    "transactions": ("symbol", "value", "bithumb_tx_id"),
    "tickers": ("symbol", "bid_price", "ask_price", "spread"),
}


def _rename(df: pd.DataFrame, kind: CsvKind) -> pd.DataFrame:
    """Lower-case the header and map known aliases onto the columns ``kind`` uses."""
    df = df.rename(columns={c: str(c).strip().lower() for c in df.columns})
    mapping: dict[str, str] = {}
    for target in _REQUIRED[kind] + _OPTIONAL[kind]:
        if target in df.columns:
            continue
        for name in _ALIASES.get(target, ()):
            if name in df.columns and name not in mapping and name not in _REQUIRED[kind]:
                mapping[name] = target
                break
    return df.rename(columns=mapping)


def parse_timestamps(values: pd.Series, *, tz: str, path: Path) -> pd.Series:
    """Epoch seconds/milliseconds or date strings -> UTC; naive strings are taken in ``tz``."""
    if pd.api.types.is_numeric_dtype(values):
        v = values.astype("float64")
        unit = "ms" if np.nanmax(np.abs(v.to_numpy())) > 1e11 else "s"
        out = pd.to_datetime(v, unit=unit, utc=True)
    else:
        try:
            parsed = pd.to_datetime(values, format="mixed")
        except (ValueError, TypeError) as err:
            raise ImportDataError(f"{path}: column 'timestamp' has a value that is not a date: {err}") from None
        if getattr(parsed.dt, "tz", None) is None:
            parsed = parsed.dt.tz_localize(tz)
        out = parsed.dt.tz_convert("UTC")
    bad = out.isna()
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        raise ImportDataError(f"{path}: row {first + 2}: empty or invalid timestamp {values.iloc[first]!r}")
    return out.astype("datetime64[us, UTC]")


def _label_column(df: pd.DataFrame, column: str, given: str | None, normalize: Callable[[str], str],
                  path: Path, example: str) -> None:
    """Fill ``df[column]`` (symbol/timeframe) from the file's own column or from ``given``, in canonical
    form; they must agree when both exist."""
    try:
        if column in df.columns:
            found = {normalize(str(v)) for v in df[column].dropna().unique()}
            if given is not None and found != {normalize(given)}:
                raise ImportDataError(f"{path}: {column} {given} disagrees with the file's {sorted(found)}")
            df[column] = df[column].astype(str).map(normalize)
        elif given is None:
            raise ImportDataError(f"{path}: the file has no {column} column; pass {column} (e.g. {example})")
        else:
            df[column] = normalize(given)
    except ValidationError as err:
        raise ImportDataError(f"{path}: {err}") from None


def read_csv_for_table(
    path: str | Path,
    kind: CsvKind,
    *,
    symbol: str | None = None,
    timeframe: str | None = None,
    tz: str = "UTC",
) -> pd.DataFrame:
    """Read and validate a CSV file as rows of the ``kind`` table.

    Column names are matched case-insensitively with common aliases (``open``/``open_price``,
    ``ts``/``time``/``date``...). ``symbol``/``timeframe`` fill or must agree with the file's columns.
    Timestamps may be epoch seconds/milliseconds or date strings (naive ones are in ``tz``).
    Raises ImportDataError naming the file, row and column of the first problem.
    """
    p = Path(path)
    if kind not in _REQUIRED:
        raise ValidationError(f"kind {kind!r} is not one of {sorted(_REQUIRED)}")
    if not p.is_file():
        raise ImportDataError(f"{p}: no such file")
    try:
        raw = pd.read_csv(p, engine="pyarrow")
    except Exception as err:  # pyarrow/pandas raise several types for malformed files
        raise ImportDataError(f"{p}: not a readable CSV file: {err}") from None
    if raw.empty:
        raise ImportDataError(f"{p}: the file has no rows")
    df = _rename(raw, kind)
    missing = [c for c in _REQUIRED[kind] if c not in df.columns]
    if missing:
        raise ImportDataError(f"{p}: missing column(s) {missing}; found {list(raw.columns)}")

    _label_column(df, "symbol", symbol, normalize_symbol, p, "KRW-BTC")

    df["timestamp"] = parse_timestamps(df["timestamp"], tz=tz, path=p)
    numeric = [c for c in _REQUIRED[kind] if c not in ("timestamp", "side")]
    for col in numeric + [c for c in ("value", "bid_price", "ask_price", "spread") if c in df.columns]:
        conv = pd.to_numeric(df[col], errors="coerce")
        bad = conv.isna() & df[col].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ImportDataError(f"{p}: row {row + 2}: column {col!r} value {df[col].iloc[row]!r} "
                                  "is not a number")
        df[col] = conv.astype("float64")

    if kind == "candles":
        _label_column(df, "timeframe", timeframe, normalize_timeframe, p, "1m")
        o, h, lo, c = (df[k] for k in ("open_price", "high_price", "low_price", "close_price"))
        broken = (h < np.maximum(o, c)) | (lo > np.minimum(o, c)) | (lo <= 0) | (df["volume"] < 0)
        if broken.any():
            row = int(np.flatnonzero(broken.to_numpy())[0])
            raise ImportDataError(f"{p}: row {row + 2}: inconsistent bar (need low <= open, close <= high, "
                                  f"low > 0, volume >= 0): {raw.iloc[row].to_dict()}")
        key = ["symbol", "timeframe", "timestamp"]
    elif kind == "transactions":
        side = df["side"].astype(str).str.strip().str.lower().map(_SIDES)
        if side.isna().any():
            row = int(np.flatnonzero(side.isna().to_numpy())[0])
            raise ImportDataError(f"{p}: row {row + 2}: side {df['side'].iloc[row]!r} is not buy/sell/bid/ask")
        df["side"] = side
        if "value" not in df.columns:
            df["value"] = df["price"] * df["quantity"]
        if "bithumb_tx_id" not in df.columns:
            # the ids Bithumb's legacy API parser gives the same trades, so CSV and API rows dedupe
            from workbench.ingest.bithumb.trade_ids import legacy_tx_ids

            df = df.sort_values("timestamp", kind="stable", ignore_index=True)
            ids = pd.Series("", index=df.index, dtype=object)
            for sym, g in df.groupby("symbol", sort=False):
                ids[g.index] = legacy_tx_ids(str(sym), list(g["timestamp"]), list(g["price"]),
                                             list(g["quantity"]), list(g["side"]))
            df["bithumb_tx_id"] = ids
        df["bithumb_tx_id"] = df["bithumb_tx_id"].astype(str)
        key = ["bithumb_tx_id", "timestamp"]
    else:
        for col in ("bid_price", "ask_price", "spread"):
            if col not in df.columns:
                df[col] = np.nan
        key = ["symbol", "timestamp"]

    dup = df.duplicated(subset=key, keep=False)
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise ImportDataError(f"{p}: row {row + 2}: duplicate {key} {df.loc[df.index[row], key].tolist()} "
                              "appears more than once in the file")
    return df.sort_values("timestamp", ignore_index=True)
