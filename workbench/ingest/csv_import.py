"""CSV files as rows of a market-data table: read in streamed chunks, validated row by row.

What is read as it comes (exchange and data-vendor exports):

* a banner line before the header (CryptoDataDownload's ``https://www.CryptoDataDownload.com``);
* headers in any case/spacing with common aliases (``Open``/``open_price``, ``Unix Timestamp``,
  ``Date``, ``transaction_date`` ...), unit-suffixed volumes (``Volume BTC`` is the base-currency
  volume, ``Volume KRW`` the quote volume, not stored);
* timestamps as epoch seconds, milliseconds or microseconds (decided per row by magnitude; a file
  must use one unit), ISO dates (naive ones in ``tz``), 12-hour dates (``2020-11-20 07-AM``,
  ``2020-11-20 07:00:00 PM``), and ``D/M/Y`` or ``M/D/Y`` dates where the order is given
  (``dayfirst``) or provable (a field above 12); any row order;
* bare pairs in a symbol column (``BTCKRW``, ``BTC_KRW``, ``BTC/KRW`` -> ``KRW-BTC``).

Every row is checked; a rejected row never reaches the database: non-numeric or non-finite numbers,
empty required fields, inconsistent bars (need ``low <= open, close <= high``, ``low > 0``,
``volume >= 0``), trades with price or quantity ``<= 0``, ambiguous day/month dates, a timestamp in
another epoch unit than the file's, timestamps before 2009-01-03 or more than a day ahead, unknown
sides/symbols/timeframes, rows with the wrong number of fields. Line numbers are the file's lines
(blank lines, which are skipped, and quoted line breaks are not counted).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from workbench.core.markets import normalize_symbol, normalize_timeframe
from workbench.errors import ImportDataError, ValidationError

__all__ = ["CsvBatch", "CsvKind", "CsvReader", "Reject", "csv_symbol", "describe_rejects", "read_csv_for_table"]

CsvKind = Literal["candles", "transactions", "tickers"]

#: target column -> header spellings (normalised: lower case, single spaces), in order of preference
_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "timestamp": ("timestamp", "unix timestamp", "unix", "unix time", "ts", "time", "open time", "date",
                  "datetime", "date(utc)", "candle date time utc", "transaction date"),
    "open_price": ("open price", "open", "opening price", "o"),
    "high_price": ("high price", "high", "h", "max price"),
    "low_price": ("low price", "low", "l", "min price"),
    "close_price": ("close price", "close", "closing price", "trade price", "c"),
    "volume": ("volume", "vol", "v", "units traded", "candle acc trade volume"),
    "price": ("price", "trade price"),
    "quantity": ("quantity", "qty", "units traded", "trade volume", "amount"),
    "value": ("value", "total"),
    "side": ("side", "type", "ask bid"),
    "bithumb_tx_id": ("bithumb tx id", "tx id", "sequential id", "id"),
    "symbol": ("symbol", "market", "pair"),
    "timeframe": ("timeframe", "interval"),
    "opening_price": ("opening price", "open"),
    "closing_price": ("closing price", "close"),
    "change_24h": ("change 24h", "fluctate 24h"),
    "change_rate_24h": ("change rate 24h", "fluctate rate 24h"),
    "bid_price": ("bid price", "buy price"),
    "ask_price": ("ask price", "sell price"),
    "spread": ("spread",),
}
_REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "candles": ("timestamp", "open_price", "high_price", "low_price", "close_price", "volume"),
    "transactions": ("timestamp", "price", "quantity", "side"),
    "tickers": ("timestamp", "opening_price", "closing_price", "high_price", "low_price", "volume", "value",
                "change_24h", "change_rate_24h"),
}
_OPTIONAL: Final[dict[str, tuple[str, ...]]] = {
    "candles": ("symbol", "timeframe"),
    "transactions": ("symbol", "value", "bithumb_tx_id"),
    "tickers": ("symbol", "bid_price", "ask_price", "spread"),
}
_TEXT: Final = ("timestamp", "side", "bithumb_tx_id", "symbol", "timeframe")
_SIDES: Final = {"buy": "buy", "bid": "buy", "b": "buy", "sell": "sell", "ask": "sell", "s": "sell"}
_UNIT_VOLUME: Final = re.compile(r"^volume ([a-z0-9]{1,15})$")
_EARLIEST: Final = pd.Timestamp("2009-01-03", tz="UTC")  # nothing traded before Bitcoin's first block
_UNITS: Final = (("s", 1e11, 1_000_000), ("ms", 1e14, 1_000), ("us", 1e17, 1))
_UNIT_NAMES: Final = {"s": "seconds", "ms": "milliseconds", "us": "microseconds"}
_DMY: Final = re.compile(r"^\s*(\d{1,2})[/.](\d{1,2})[/.](\d{4})(.*)$")
_H12: Final = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2})[ T](\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s*-?\s*([AaPp][Mm])\s*$")
_TZ_SUFFIX: Final = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_MAX_REPORTED: Final = 20
_BANNER_LINES: Final = 5


@dataclass(frozen=True, slots=True)
class Reject:
    """A row that was not imported: its line in the file, why, and its text."""

    line: int
    reason: str
    text: str = ""


@dataclass(slots=True)
class CsvBatch:
    """Validated rows of one chunk (the table's columns) and their line numbers in the file."""

    frame: pd.DataFrame
    lines: np.ndarray


def _norm_header(name: str) -> str:
    return re.sub(r"[\s_]+", " ", str(name).strip().lower())


def csv_symbol(value: str) -> str:
    """A symbol as exports write it -> ``KRW-XXX``: also bare pairs ``BTCKRW``, ``BTC/KRW``, ``BTC_KRW``.

    >>> [csv_symbol(s) for s in ("BTCKRW", "btc/krw", "BTC_KRW", "KRW-BTC", "eth")]
    ['KRW-BTC', 'KRW-BTC', 'KRW-BTC', 'KRW-BTC', 'KRW-ETH']
    """
    text = str(value).strip().upper()
    m = re.fullmatch(r"([A-Z0-9]{1,15}?)[/_ ]?KRW", text)
    if m and not text.startswith("KRW-"):
        return normalize_symbol(f"KRW-{m.group(1)}")
    if "/" in text:
        base, _, quote = text.partition("/")
        return normalize_symbol(f"{base}_{quote}")
    return normalize_symbol(text)


def _find_header(path: Path) -> tuple[int, list[str]]:
    """(lines to skip before the header, header fields): banner lines above the header are skipped."""
    try:
        with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
            head = [fh.readline() for _ in range(_BANNER_LINES + 1)]
    except OSError as err:
        raise ImportDataError(f"{path}: cannot read the file: {err}") from None
    known = {a for names in _ALIASES.values() for a in names}
    for i, line in enumerate(head):
        fields = [_norm_header(f.strip().strip('"')) for f in line.rstrip("\r\n").split(",")]
        if len(fields) >= 2 and sum(f in known or bool(_UNIT_VOLUME.match(f)) for f in fields) >= 2:
            return i, [f.strip().strip('"') for f in line.lstrip("\ufeff").rstrip("\r\n").split(",")]
    if not any(line.strip() for line in head):
        raise ImportDataError(f"{path}: the file is empty")
    raise ImportDataError(f"{path}: no header line with known column names in the first {_BANNER_LINES + 1} "
                          f"lines; expected e.g. timestamp,open,high,low,close,volume")


class CsvReader:
    """Streams a CSV file as validated :class:`CsvBatch` es; rejected rows are counted in ``rejected``,
    the first ``keep_rejects`` kept in ``rejects`` and each passed to ``on_reject`` (if given).

    ``mapping`` (file column -> table column) and ``ignored`` (file columns not used) say what was
    read as what. Raises ImportDataError for problems of the whole file (no file, no header,
    missing columns, a unit-suffixed volume of another currency than the symbol).
    """

    def __init__(self, path: str | Path, kind: CsvKind, *, symbol: str | None = None,
                 timeframe: str | None = None, tz: str = "UTC", dayfirst: bool | None = None,
                 block_size: int = 4 << 20, keep_rejects: int = 10_000,
                 on_reject: Callable[[Reject], None] | None = None) -> None:
        self.path = p = Path(path)
        if kind not in _REQUIRED:
            raise ValidationError(f"kind {kind!r} is not one of {sorted(_REQUIRED)}")
        if not p.is_file():
            raise ImportDataError(f"{p}: no such file")
        self.kind = kind
        self.tz = tz
        self.dayfirst = dayfirst
        self.block_size = block_size
        self.keep_rejects = keep_rejects
        self.on_reject = on_reject
        self.rejects: list[Reject] = []
        self.rejected = 0
        self.rows_read = 0
        try:
            self.symbol = csv_symbol(symbol) if symbol is not None else None
            self.timeframe = normalize_timeframe(timeframe) if timeframe is not None else None
        except ValidationError as err:
            raise ImportDataError(f"{p}: {err}") from None
        self.skip, header = _find_header(p)
        self.header_line = self.skip + 1
        self.mapping, self.ignored, self.volume_unit = self._map(header)
        self._epoch_unit: str | None = None
        self._numeric_time: bool | None = None
        self._proven_dayfirst: tuple[bool, int] | None = None
        self._occurrences: dict[tuple[Any, ...], int] = {}
        self._invalid_lines: set[int] = set()

    # ------------------------------------------------------------------ columns
    def _map(self, header: list[str]) -> tuple[dict[str, str], list[str], str | None]:
        normed = {_norm_header(h): h for h in header if h}
        if len(normed) != len([h for h in header if h]):
            raise ImportDataError(f"{self.path}: the header repeats a column name: {header}")
        mapping: dict[str, str] = {}
        used: set[str] = set()
        volume_unit = None
        for target in _REQUIRED[self.kind] + _OPTIONAL[self.kind]:
            for alias in (_norm_header(target), *_ALIASES.get(target, ())):
                if alias in normed and alias not in used:
                    mapping[normed[alias]] = target
                    used.add(alias)
                    break
            else:
                if target == "volume":
                    for n in normed:
                        m = _UNIT_VOLUME.match(n)
                        if m and m.group(1) != "krw" and n not in used:
                            mapping[normed[n]] = "volume"
                            used.add(n)
                            volume_unit = m.group(1).upper()
                            break
        missing = [c for c in _REQUIRED[self.kind] if c not in mapping.values()]
        if missing:
            quote_only = [h for n, h in normed.items() if n == "volume krw"]
            hint = (f"; {quote_only[0]!r} is the KRW (quote) volume, the base-currency volume is needed"
                    if "volume" in missing and quote_only else "")
            raise ImportDataError(f"{self.path}: missing column(s) {missing}; found {header}{hint}")
        if volume_unit and self.symbol and self.symbol != f"KRW-{volume_unit}":
            raise ImportDataError(f"{self.path}: the volume column is in {volume_unit} but the symbol is "
                                  f"{self.symbol}")
        if "symbol" not in mapping.values() and self.symbol is None:
            raise ImportDataError(f"{self.path}: the file has no symbol column; pass symbol (e.g. KRW-BTC)")
        if (self.kind == "candles" and "timeframe" not in mapping.values() and self.timeframe is None):
            raise ImportDataError(f"{self.path}: the file has no timeframe column; pass timeframe (e.g. 1m)")
        ignored = [h for h in header if h and h not in mapping]
        return mapping, ignored, volume_unit

    def describe_mapping(self) -> str:
        """``'Unix Timestamp' -> timestamp, ...; ignored: 'Date', 'Volume KRW'`` for messages."""
        text = ", ".join(f"{src!r} -> {dst}" for src, dst in self.mapping.items())
        return text + (f"; ignored: {', '.join(repr(c) for c in self.ignored)}" if self.ignored else "")

    # ------------------------------------------------------------------ reading
    def _on_invalid(self, row: Any) -> str:
        line = int(row.number) if row.number is not None else -1
        self._invalid_lines.add(line)
        self._reject(line, f"expected {row.expected_columns} fields, found {row.actual_columns}", row.text)
        return "skip"

    def _reject(self, line: int, reason: str, text: str = "") -> None:
        self.rejected += 1
        reject = Reject(line, reason, text)
        if self.on_reject is not None:
            self.on_reject(reject)
        if len(self.rejects) < self.keep_rejects:
            self.rejects.append(reject)

    def batches(self) -> Iterator[CsvBatch]:
        """Validated chunks, in file order; rows that fail a check go to ``rejects`` instead."""
        cols = list(self.mapping)
        try:
            reader = pacsv.open_csv(
                self.path,
                read_options=pacsv.ReadOptions(skip_rows=self.skip, block_size=self.block_size, use_threads=False),
                parse_options=pacsv.ParseOptions(invalid_row_handler=self._on_invalid),
                convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(cols, pa.string()),
                                                     include_columns=cols, strings_can_be_null=True,
                                                     null_values=[""]),
            )
        except (pa.ArrowInvalid, OSError) as err:
            raise ImportDataError(f"{self.path}: not a readable CSV file: {err}") from None
        next_line = self.header_line + 1
        with reader:
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                except (pa.ArrowInvalid, OSError) as err:
                    raise ImportDataError(f"{self.path}: not a readable CSV file: {err}") from None
                lines = next_line + np.arange(batch.num_rows, dtype=np.int64)
                for bad in sorted(x for x in self._invalid_lines if x >= next_line):
                    lines[lines >= bad] += 1  # a malformed row (rejected by the parser) took this line
                next_line = int(lines[-1]) + 1 if batch.num_rows else next_line
                self.rows_read += batch.num_rows
                if batch.num_rows:
                    yield self._validate(batch, lines)

    # ------------------------------------------------------------------ validation
    def _validate(self, batch: pa.RecordBatch, lines: np.ndarray) -> CsvBatch:
        n = batch.num_rows
        reasons = np.full(n, None, dtype=object)

        def flag(mask: np.ndarray, reason: Any) -> None:
            todo = mask & pd.isna(reasons)
            for i in np.flatnonzero(todo):
                reasons[i] = reason(i) if callable(reason) else reason

        raw = {self.mapping[c]: batch.column(c) for c in batch.schema.names}
        out: dict[str, Any] = {}
        for col, arr in raw.items():
            if col in _TEXT:
                continue
            values, bad_text = _to_float(arr)
            if bad_text.any():
                flag(bad_text, lambda i, col=col, arr=arr: f"{col}: {arr[int(i)].as_py()!r} is not a number")
            required = col in _REQUIRED[self.kind] or (col == "value" and self.kind == "transactions")
            if required:
                flag(np.isnan(values) & ~bad_text & _is_null(arr), f"{col} is empty")
            flag(np.isinf(values) | (np.isnan(values) & ~_is_null(arr) & ~bad_text),
                 lambda i, col=col, v=values: f"{col}: {v[int(i)]} is not a finite number")
            out[col] = values
        out["timestamp"] = self._timestamps(raw["timestamp"], flag)

        if "symbol" in raw:
            out["symbol"] = self._labels(raw["symbol"], csv_symbol, "symbol", self.symbol, flag)
            if self.volume_unit:
                wrong = (out["symbol"] != f"KRW-{self.volume_unit}") & pd.notna(out["symbol"])
                flag(wrong, lambda i: f"symbol {out['symbol'][int(i)]} but the volume column is in "
                                      f"{self.volume_unit}")
        else:
            out["symbol"] = np.full(n, self.symbol, dtype=object)
        if self.kind == "candles":
            if "timeframe" in raw:
                out["timeframe"] = self._labels(raw["timeframe"], normalize_timeframe, "timeframe",
                                                self.timeframe, flag)
            else:
                out["timeframe"] = np.full(n, self.timeframe, dtype=object)
            o, h, lo, c, v = (out[k] for k in ("open_price", "high_price", "low_price", "close_price", "volume"))
            with np.errstate(invalid="ignore"):
                broken = (h < np.maximum(o, c)) | (lo > np.minimum(o, c)) | (lo <= 0) | (v < 0)
            flag(broken, lambda i: (f"inconsistent bar (need low <= open, close <= high, low > 0, volume >= 0): "
                                    f"open {o[i]:g} high {h[i]:g} low {lo[i]:g} close {c[i]:g} volume {v[i]:g}"))
        elif self.kind == "transactions":
            side = pd.Series(raw["side"].to_pandas(), dtype=object).str.strip().str.lower().map(_SIDES)
            flag(side.isna().to_numpy(), lambda i: f"side {raw['side'][int(i)].as_py()!r} is not buy/sell/bid/ask")
            out["side"] = side.to_numpy(dtype=object)
            with np.errstate(invalid="ignore"):
                flag(out["price"] <= 0, lambda i: f"price {out['price'][i]:g} must be > 0")
                flag(out["quantity"] <= 0, lambda i: f"quantity {out['quantity'][i]:g} must be > 0")
                if "value" in out:
                    flag(out["value"] < 0, lambda i: f"value {out['value'][i]:g} must be >= 0")
        else:
            with np.errstate(invalid="ignore"):
                for col in ("opening_price", "closing_price", "high_price", "low_price"):
                    flag(out[col] <= 0, lambda i, col=col: f"{col} {out[col][i]:g} must be > 0")

        good = pd.isna(reasons)
        if not good.all():
            for i in np.flatnonzero(~good):
                self._reject(int(lines[i]), str(reasons[i]), _row_text(batch, int(i)))
        frame = pd.DataFrame({k: (v[good] if isinstance(v, np.ndarray) else v[good]) for k, v in out.items()})
        frame["timestamp"] = pd.to_datetime(frame["timestamp"].to_numpy(dtype="datetime64[us]")).tz_localize("UTC")
        if self.kind == "transactions":
            self._trade_columns(frame, raw, good)
        elif self.kind == "tickers":
            for col in ("bid_price", "ask_price", "spread"):
                if col not in frame.columns:
                    frame[col] = np.nan
        return CsvBatch(frame, lines[good])

    def _trade_columns(self, frame: pd.DataFrame, raw: dict[str, Any], good: np.ndarray) -> None:
        if "value" not in frame.columns:
            frame["value"] = frame["price"] * frame["quantity"]
        if "bithumb_tx_id" in raw:
            frame["bithumb_tx_id"] = np.asarray(raw["bithumb_tx_id"].to_pandas(), dtype=object)[good].astype(str)
            return
        # the ids Bithumb's legacy API parser gives the same trades, so CSV and API rows dedupe; identical
        # trades are numbered in file order across chunks
        from workbench.ingest.bithumb.trade_ids import legacy_tx_id

        ids = []
        for sym, ts, price, qty, side in zip(frame["symbol"], frame["timestamp"], frame["price"],
                                             frame["quantity"], frame["side"], strict=True):
            key = (sym, ts, price, qty, side)
            occurrence = self._occurrences.get(key, 0)
            self._occurrences[key] = occurrence + 1
            ids.append(legacy_tx_id(str(sym), ts, price, qty, str(side), occurrence))
        frame["bithumb_tx_id"] = ids

    def _labels(self, arr: pa.Array, normalize: Any, what: str, given: str | None, flag: Any) -> np.ndarray:
        values = np.asarray(arr.to_pandas(), dtype=object)
        out = np.full(len(values), None, dtype=object)
        for raw_value in pd.unique(values):
            rows = values == raw_value if raw_value is not None else pd.isna(values)
            if raw_value is None or (isinstance(raw_value, float) and np.isnan(raw_value)):
                if given is None:
                    flag(np.asarray(rows), f"{what} is empty")
                else:
                    out[np.asarray(rows)] = given
                continue
            try:
                canonical = normalize(str(raw_value))
            except ValidationError as err:
                flag(np.asarray(rows), str(err) if repr(str(raw_value)) in str(err) else f"{what} {raw_value!r}: {err}")
                continue
            if given is not None and canonical != given:
                flag(np.asarray(rows), f"{what} {raw_value!r} disagrees with the given {given}")
                continue
            out[np.asarray(rows)] = canonical
        return out

    def _timestamps(self, arr: pa.Array, flag: Any) -> np.ndarray:
        """Timestamps -> ``datetime64[us]`` (UTC); bad rows flagged (their value is NaT)."""
        empty = _is_null(arr)
        flag(empty, "timestamp is empty")

        def shown(i: Any) -> Any:
            return arr[int(i)].as_py()

        if self._numeric_time is None:
            first = arr.drop_null()[:1].to_pylist()
            self._numeric_time = bool(first) and bool(re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", str(first[0])))
        if self._numeric_time:
            result = self._epochs(arr, empty, flag, shown)   # stays in Arrow/numpy: no Python strings
        else:
            result = self._dates(pd.Series(arr.to_pandas(), dtype=object), empty, flag)
        with np.errstate(invalid="ignore"):
            ts = pd.DatetimeIndex(result).tz_localize("UTC")
            early = np.asarray(ts < _EARLIEST) & ~pd.isna(result)
            late = np.asarray(ts > pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=1)) & ~pd.isna(result)
        flag(early, lambda i: f"timestamp {shown(i)!r} is {ts[int(i)]:%Y-%m-%d}, before any crypto trading "
                              f"(epoch unit or date format?)")
        flag(late, lambda i: f"timestamp {shown(i)!r} is in the future ({ts[int(i)]:%Y-%m-%d %H:%M})")
        return result

    def _epochs(self, arr: pa.Array, empty: np.ndarray, flag: Any, shown: Any) -> np.ndarray:
        values, bad = _to_float(arr)
        flag(bad, lambda i: f"timestamp {shown(i)!r} is not an epoch number like the rows before")
        known = ~np.isnan(values)
        # unit by magnitude: 0 = seconds (< 1e11), 1 = milliseconds (< 1e14), 2 = microseconds (< 1e17)
        code = np.searchsorted(np.array([u for _, u, _ in _UNITS]), np.abs(np.where(known, values, 0)), side="right")
        if self._epoch_unit is None and known.any():
            self._epoch_unit = _UNITS[min(int(np.bincount(code[known]).argmax()), len(_UNITS) - 1)][0]
        names = [name for name, _, _ in _UNITS]
        file_code = names.index(self._epoch_unit) if self._epoch_unit in names else 0
        other = (code != file_code) & known
        def unit_name(i: Any) -> str:
            c = int(code[int(i)])
            return _UNIT_NAMES[names[c]] if c < len(names) else "nanoseconds or more"

        flag(other, lambda i: (f"timestamp {shown(i)!r} looks like epoch {unit_name(i)} but the file's "
                               f"timestamps are in {_UNIT_NAMES[names[file_code]]}"))
        factor = _UNITS[file_code][2]
        usable = known & ~other
        micros = np.zeros(len(values), dtype="int64")
        micros[usable] = np.round(values[usable] * factor).astype("int64")
        result = micros.astype("datetime64[us]")
        result[~usable] = np.datetime64("NaT")
        return result

    def _dates(self, text: pd.Series, empty: np.ndarray, flag: Any) -> np.ndarray:
        s = text.astype(object).where(~empty, None)
        iso = s.copy()
        # 12-hour clock: "2020-11-20 07-AM", "2020-11-20 7:05 pm"
        h12 = s.str.extract(_H12)
        is12 = h12[0].notna().to_numpy()
        if is12.any():
            hour = h12.loc[is12, 1].astype(int)
            pm = h12.loc[is12, 4].str.upper() == "PM"
            valid = (hour >= 1) & (hour <= 12)
            hour24 = (hour % 12) + np.where(pm, 12, 0)
            iso.loc[is12] = (h12.loc[is12, 0] + " " + hour24.map("{:02d}".format) + ":"
                             + h12.loc[is12, 2].fillna("00") + ":" + h12.loc[is12, 3].fillna("00"))
            bad12 = np.zeros(len(s), dtype=bool)
            bad12[np.flatnonzero(is12)[~valid.to_numpy()]] = True
            flag(bad12, lambda i: f"timestamp {s.iloc[int(i)]!r}: hour must be 1-12 with AM/PM")
        # D/M/Y or M/D/Y
        dmy = s.str.extract(_DMY)
        isdmy = dmy[0].notna().to_numpy()
        if isdmy.any():
            a = dmy[0].astype(float).to_numpy()
            b = dmy[1].astype(float).to_numpy()
            for i in (int(k) for k in np.flatnonzero(isdmy)):
                dayfirst = self.dayfirst
                if dayfirst is None:
                    if a[i] > 12 >= b[i]:
                        dayfirst = True
                    elif b[i] > 12 >= a[i]:
                        dayfirst = False
                    elif a[i] == b[i]:
                        dayfirst = True
                    else:
                        flag(_one(len(s), i), f"timestamp {s.iloc[i]!r}: day and month are ambiguous; say which "
                                              f"comes first (dayfirst=True/False, --dayfirst/--monthfirst)")
                        continue
                    if a[i] != b[i]:
                        if self._proven_dayfirst is None:
                            self._proven_dayfirst = (dayfirst, i)
                        elif self._proven_dayfirst[0] != dayfirst:
                            flag(_one(len(s), i), f"timestamp {s.iloc[i]!r} is "
                                                  f"{'day' if dayfirst else 'month'}-first but earlier rows are "
                                                  f"{'day' if not dayfirst else 'month'}-first")
                            continue
                day, month = (a[i], b[i]) if dayfirst else (b[i], a[i])
                iso.iloc[i] = f"{dmy.iloc[i, 2]!s}-{int(month):02d}-{int(day):02d}{dmy.iloc[i, 3]!s}"
        iso = iso.str.replace(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})", r"\1-\2-\3", regex=True)
        has_tz = iso.str.strip().str.contains(_TZ_SUFFIX, na=False).to_numpy()
        out = np.full(len(s), np.datetime64("NaT"), dtype="datetime64[us]")
        for aware in (False, True):
            rows = (has_tz == aware) & iso.notna().to_numpy()
            if not rows.any():
                continue
            parsed = pd.to_datetime(iso[rows], format="ISO8601", errors="coerce", utc=aware)
            if not aware:
                try:
                    parsed = pd.DatetimeIndex(parsed).tz_localize(self.tz, ambiguous="NaT", nonexistent="NaT")
                except (ValueError, TypeError) as err:
                    raise ImportDataError(f"{self.path}: time zone {self.tz!r}: {err}") from None
            parsed = pd.DatetimeIndex(parsed).tz_convert("UTC").tz_localize(None)
            out[rows] = parsed.to_numpy(dtype="datetime64[us]")
        flag(pd.isna(out) & ~empty, lambda i: f"timestamp {s.iloc[int(i)]!r} is not a date"
             + (f" (or does not exist in {self.tz})" if self.tz != "UTC" else ""))
        return out


def _one(n: int, i: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[i] = True
    return mask


def _is_null(arr: pa.Array) -> np.ndarray:
    return np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)


def _to_float(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Text -> float64 (NaN where empty or not a number) and the mask of non-numbers."""
    try:
        values = pc.cast(pc.utf8_trim_whitespace(arr), pa.float64())
        return values.to_numpy(zero_copy_only=False).astype("float64", copy=False), np.zeros(len(arr), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        text = pd.Series(arr.to_pandas(), dtype=object)
        values = pd.to_numeric(text.str.strip(), errors="coerce").to_numpy(dtype="float64")
        return values, np.isnan(values) & text.notna().to_numpy()


def _row_text(batch: pa.RecordBatch, i: int) -> str:
    return ",".join("" if (v := batch.column(c)[i].as_py()) is None else str(v) for c in range(batch.num_columns))


def describe_rejects(path: Path, rejects: list[Reject], total: int) -> str:
    """One message naming every rejected row (the first ``_MAX_REPORTED`` in full)."""
    shown = sorted(rejects, key=lambda r: r.line)[:_MAX_REPORTED]
    lines = [f"  line {r.line}: {r.reason}" for r in shown]
    more = f"\n  ... and {total - len(shown):,} more" if total > len(shown) else ""
    return f"{path}: {total:,} bad row(s); nothing was imported:\n" + "\n".join(lines) + more


def read_csv_for_table(
    path: str | Path,
    kind: CsvKind,
    *,
    symbol: str | None = None,
    timeframe: str | None = None,
    tz: str = "UTC",
    dayfirst: bool | None = None,
) -> pd.DataFrame:
    """The whole file as rows of the ``kind`` table (in memory; imports stream instead).

    Raises ImportDataError naming every bad row (line and reason) when any row is bad, and for rows
    that repeat a key of another row.
    """
    reader = CsvReader(path, kind, symbol=symbol, timeframe=timeframe, tz=tz, dayfirst=dayfirst)
    parts = [b.frame.assign(_line=b.lines) for b in reader.batches()]
    if reader.rows_read == 0 and not reader.rejected:
        raise ImportDataError(f"{reader.path}: the file has no rows")
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    key = {"candles": ["symbol", "timeframe", "timestamp"], "transactions": ["bithumb_tx_id", "timestamp"],
           "tickers": ["symbol", "timestamp"]}[kind]
    if len(df):
        dup = df.duplicated(subset=key, keep="first")
        firsts = df.drop_duplicates(subset=key).set_index(key)["_line"]
        for _, row in df[dup].iterrows():
            reader._reject(int(row["_line"]), f"same {', '.join(key)} as line "
                                              f"{int(firsts.loc[tuple(row[k] for k in key)])}")
    if reader.rejected:
        raise ImportDataError(describe_rejects(reader.path, reader.rejects, reader.rejected))
    return df.drop(columns="_line").sort_values("timestamp", ignore_index=True)
