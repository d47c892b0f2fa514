"""The record of the Parquet archive's files (migration 0051) and the check of one file against it.

Every file :func:`workbench.store.archive.archive` writes is recorded in ``archive_files``: its path
relative to the archive root, the sha256 of its bytes, the partition it belongs to (table, symbol,
timeframe, month) and what it holds (size, row count, first and last timestamp). The row is inserted
before the file is moved into place (``committed`` false) and committed in the transaction that raises
the table's archive watermark, the one that lets retention delete the rows.

:func:`check` decides whether a file's bytes may be used for its partition: they must hash to a
recorded version of its path, and the file's own Parquet footer (row count, statistics of symbol,
timeframe and timestamp) must say it holds that partition's rows. Nothing here reads the archive.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from workbench.errors import ArchiveIntegrityError
from workbench.store.database import Database
from workbench.store.queries import Q, query

__all__ = [
    "FileRecord",
    "Partition",
    "Status",
    "Verdict",
    "adoptable",
    "check",
    "commit_records",
    "digest",
    "parse_path",
    "record_committed",
    "record_pending",
    "records",
    "relative_path",
]

Status = Literal["ok", "absent", "damaged", "missing", "unrecorded", "wrong identity"]
#: statuses that make a load (or ``workbench archive --verify``) fail
BAD: Final[frozenset[str]] = frozenset({"damaged", "missing", "unrecorded", "wrong identity"})
_DIGEST_CACHE_SIZE: Final[int] = 4096
#: (full path, size, mtime in ns) -> sha256 of the bytes seen in this process
_digests: dict[tuple[str, int, int], str] = {}
_digests_lock = threading.Lock()  # files are checked in parallel (Archive.read)


@dataclass(frozen=True, slots=True)
class Partition:
    """Which rows a file must hold: one table, symbol, timeframe (None: the table has none) and month."""

    table: str
    symbol: str
    timeframe: str | None
    month: str  # YYYY-MM

    def __str__(self) -> str:
        return " ".join(p for p in (self.table, self.symbol, self.timeframe, self.month) if p)

    @property
    def bounds(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        start = pd.Timestamp(self.month + "-01", tz="UTC")
        return start, start + pd.offsets.MonthBegin(1)


@dataclass(frozen=True, slots=True)
class FileRecord:
    """One recorded version of an archive file."""

    path: str  # relative to the archive root
    sha256: str
    partition: Partition
    size: int
    rows: int
    min_time: pd.Timestamp | None
    max_time: pd.Timestamp | None
    committed: bool = False


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Status
    detail: str = ""

    @property
    def bad(self) -> bool:
        return self.status in BAD

    def error(self, name: str) -> ArchiveIntegrityError:
        return ArchiveIntegrityError(f"archive file {name!r} {self.detail}; its rows are not used "
                                     f"(`workbench archive --verify` checks every file)")


def relative_path(partition: Partition, partition_columns: tuple[str, ...]) -> str:
    """``{table}/symbol=…[/timeframe=…]/month=YYYY-MM/part.parquet`` (the archive's layout)."""
    values = {"symbol": partition.symbol, "timeframe": partition.timeframe}
    return "/".join([partition.table, *(f"{c}={values[c]}" for c in partition_columns),
                     f"month={partition.month}", "part.parquet"])


def parse_path(path: str, layout: dict[str, tuple[str, ...]]) -> Partition | None:
    """The partition of a relative path in the archive's layout (``layout``: table -> partition
    columns), or None if the path is not one."""
    parts = path.split("/")
    if not parts or parts[0] not in layout or parts[-1] != "part.parquet":
        return None
    columns = layout[parts[0]]
    if len(parts) != len(columns) + 3:
        return None
    values: dict[str, str] = {}
    for col, part in zip((*columns, "month"), parts[1:-1], strict=True):
        name, sep, value = part.partition("=")
        if name != col or not sep or not value:
            return None
        values[col] = value
    try:
        pd.Timestamp(values["month"] + "-01")
    except ValueError:
        return None
    if len(values["month"]) != 7:
        return None
    return Partition(parts[0], values["symbol"], values.get("timeframe"), values["month"])


def digest(data: pa.Buffer | bytes, key: tuple[str, int, int] | None = None, *, rehash: bool = False) -> str:
    """sha256 (hex) of ``data``; remembered in this process under ``key`` (full path, size, mtime in
    ns) so a file that did not change is hashed once (``rehash``: hash it anyway)."""
    if key is not None and not rehash and (known := _digests.get(key)) is not None:
        return known
    value = hashlib.sha256(memoryview(data)).hexdigest()  # releases the GIL: files hash in parallel
    if key is not None:
        with _digests_lock:
            if len(_digests) >= _DIGEST_CACHE_SIZE:
                _digests.pop(next(iter(_digests)))
            _digests[key] = value
    return value


def forget_digests() -> None:
    """Drop the digests remembered by :func:`digest` (tests; a process that wants to re-hash)."""
    with _digests_lock:
        _digests.clear()


@dataclass(frozen=True, slots=True)
class _Footer:
    rows: int
    symbols: frozenset[str]
    timeframes: frozenset[str]
    min_time: pd.Timestamp | None
    max_time: pd.Timestamp | None


def _footer(data: pa.Buffer) -> _Footer | None:
    """What the file's Parquet footer says it holds; None if it is not a readable Parquet file or
    lacks the statistics the workbench writes."""
    try:
        meta = pq.ParquetFile(pa.BufferReader(data)).metadata
        names = [meta.schema.column(i).name for i in range(meta.num_columns)]
        found: dict[str, set[object]] = {"symbol": set(), "timeframe": set()}
        lo: pd.Timestamp | None = None
        hi: pd.Timestamp | None = None
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            if group.num_rows == 0:
                continue
            for i, name in enumerate(names):
                if name not in ("symbol", "timeframe", "timestamp"):
                    continue
                stats = group.column(i).statistics
                if stats is None or not stats.has_min_max:
                    return None
                if name == "timestamp":
                    a, b = pd.Timestamp(stats.min), pd.Timestamp(stats.max)
                    lo = a if lo is None else min(lo, a)
                    hi = b if hi is None else max(hi, b)
                else:
                    found[name].update((stats.min, stats.max))
        if "timestamp" not in names or "symbol" not in names:
            return None
        return _Footer(meta.num_rows, frozenset(map(str, found["symbol"])),
                       frozenset(map(str, found["timeframe"])), lo, hi)
    except (OSError, pa.ArrowException, ValueError, TypeError):
        return None


def _utc(ts: pd.Timestamp | None) -> pd.Timestamp | None:
    if ts is None:
        return None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _holds(footer: _Footer, partition: Partition) -> str | None:
    """None if ``footer`` describes rows of ``partition`` only, else what it holds instead."""
    start, end = partition.bounds
    want_tf = frozenset() if partition.timeframe is None else frozenset({partition.timeframe})
    lo, hi = _utc(footer.min_time), _utc(footer.max_time)
    in_month = footer.rows == 0 or (lo is not None and hi is not None and start <= lo and hi < end)
    if footer.symbols <= {partition.symbol} and footer.timeframes == (want_tf if footer.rows else frozenset()) \
            and in_month:
        return None
    symbols = ",".join(sorted(footer.symbols)) or "no symbol"
    tfs = ",".join(sorted(footer.timeframes))
    span = "no rows" if lo is None or hi is None else f"{lo:%Y-%m-%d %H:%M}..{hi:%Y-%m-%d %H:%M}"
    return " ".join(p for p in (symbols, tfs, span) if p)


def check(partition: Partition | None, data: pa.Buffer | None, sha256: str | None,
          versions: Iterable[FileRecord], *, elsewhere: Iterable[FileRecord] = ()) -> Verdict:
    """May the file at a path be used? ``partition`` is what its path says it holds (None: the path
    is not in the archive's layout), ``data``/``sha256`` its bytes and their digest (None: no file),
    ``versions`` the records of its path, ``elsewhere`` records of other paths with the same digest."""
    versions = list(versions)
    if data is None:
        committed = [v for v in versions if v.committed]
        if committed:
            return Verdict("missing", f"is missing: it was archived with {committed[0].rows:,} rows "
                                      f"of {committed[0].partition}")
        return Verdict("absent")
    match = next((v for v in versions if v.sha256 == sha256), None)
    if match is None:
        other = next(iter(elsewhere), None)
        if other is not None:
            return Verdict("wrong identity", f"is a copy of {other.path!r}, which holds {other.partition}")
        if not versions:
            return Verdict("unrecorded", "was not written by `workbench archive` (no record of it in the "
                                         "database)")
        footer = _footer(data)
        if footer is not None and partition is not None and (holds := _holds(footer, partition)) is not None:
            return Verdict("wrong identity", f"holds {holds}, not {partition}")
        return Verdict("damaged", f"is damaged: its sha256 {sha256} is not the recorded "
                                  f"{versions[0].sha256}")
    footer = _footer(data)
    if footer is None:
        return Verdict("damaged", "is damaged: its Parquet footer is unreadable")
    if partition is None or match.partition != partition:
        return Verdict("wrong identity", f"is recorded for {match.partition}, not its place in the archive")
    if (holds := _holds(footer, partition)) is not None:
        return Verdict("wrong identity", f"holds {holds}, not {partition}")
    if (footer.rows, _utc(footer.min_time), _utc(footer.max_time)) != (match.rows, match.min_time, match.max_time):
        return Verdict("wrong identity", f"holds {footer.rows:,} rows, recorded {match.rows:,}")
    return Verdict("ok")


def adoptable(path: str, partition: Partition | None, data: pa.Buffer, sha256: str) -> FileRecord | None:
    """A record of an unrecorded file as it is now, if its footer says it holds exactly the rows of the
    partition its path names (archives written before migration 0051); None otherwise."""
    footer = _footer(data)
    if partition is None or footer is None or _holds(footer, partition) is not None:
        return None
    return FileRecord(path, sha256, partition, data.size, footer.rows, _utc(footer.min_time),
                      _utc(footer.max_time))


# -- the records ------------------------------------------------------------------------------------
def _record(row: sa.Row[tuple[object, ...]]) -> FileRecord:
    m = row._mapping
    return FileRecord(
        path=str(m["path"]), sha256=str(m["sha256"]),
        partition=Partition(str(m["table_name"]), str(m["symbol"]),
                            None if m["timeframe"] is None else str(m["timeframe"]),
                            f"{pd.Timestamp(m['month']):%Y-%m}"),
        size=int(m["size_bytes"]), rows=int(m["row_count"]),
        min_time=None if m["min_time"] is None else _utc(pd.Timestamp(m["min_time"])),
        max_time=None if m["max_time"] is None else _utc(pd.Timestamp(m["max_time"])),
        committed=bool(m["committed"]))


def records(db: Database, table: str | None = None, symbol: str | None = None,
            timeframe: str | None = None) -> dict[str, list[FileRecord]]:
    """Recorded versions by relative path: of one partition's files (``table``, ``symbol``,
    ``timeframe``), or of every file when ``table`` is None."""
    with db.begin() as conn:
        if table is None:
            rows = conn.execute(query(Q.ARCHIVE_FILES_ALL).text).all()
        else:
            rows = conn.execute(query(Q.ARCHIVE_FILES_PARTITION).text,
                                {"table_name": table, "symbol": symbol, "timeframe": timeframe}).all()
    out: dict[str, list[FileRecord]] = {}
    for row in rows:
        rec = _record(row)
        out.setdefault(rec.path, []).append(rec)
    return out


def _params(rec: FileRecord) -> dict[str, object]:
    p = rec.partition
    return {"path": rec.path, "sha256": rec.sha256, "table_name": p.table, "symbol": p.symbol,
            "timeframe": p.timeframe, "month": p.bounds[0].date(), "size_bytes": rec.size,
            "row_count": rec.rows,
            "min_time": None if rec.min_time is None else rec.min_time.to_pydatetime(),
            "max_time": None if rec.max_time is None else rec.max_time.to_pydatetime()}


def record_pending(db: Database, rec: FileRecord) -> None:
    """Record a file version about to be moved into place (committed by :func:`commit_records`)."""
    with db.begin() as conn:
        conn.execute(query(Q.ARCHIVE_FILE_PENDING).text, _params(rec))


def record_committed(db: Database, recs: Iterable[FileRecord]) -> None:
    """Record files already in place as their paths' committed versions, all in one transaction."""
    recs = list(recs)
    with db.begin() as conn:
        for rec in recs:
            conn.execute(query(Q.ARCHIVE_FILE_PENDING).text, _params(rec))
        commit_records(conn, recs)


def commit_records(conn: sa.Connection, recs: Iterable[FileRecord]) -> None:
    """In the caller's transaction: each of ``recs`` becomes its path's committed version (the
    path's other versions are dropped)."""
    for rec in recs:
        params = {"path": rec.path, "sha256": rec.sha256}
        conn.execute(query(Q.ARCHIVE_FILE_DROP_OTHERS).text, params)
        conn.execute(query(Q.ARCHIVE_FILE_COMMIT).text, params)
