"""The Parquet archive of market history: nothing leaves the database before it is archived here.

Layout (Hive partitioning, zstd)::

    {root}/{table}/symbol={symbol}[/timeframe={timeframe}]/month={YYYY-MM}/part.parquet

One file per partition holds every archived row of that table, symbol, timeframe and UTC month, with
all the table's columns. Archiving a month again merges the file with the database's rows (the
database wins for rows with the same key) and replaces it atomically (written aside, then moved),
so :func:`archive` is idempotent and an interrupted run is simply run again.

``archive_watermarks`` (migration 0004) records per table up to where everything is archived;
retention (the TimescaleDB job ``workbench_archived_retention``, or :func:`apply_retention` on plain
PostgreSQL) never deletes rows newer than it.

``archive_files`` (migration 0051, :mod:`workbench.store.archive_files`) records each file's sha256,
partition, row count and time span; the record is committed with the watermark. :meth:`Archive.read`
checks every file it reads against it first and raises ArchiveIntegrityError naming a damaged,
swapped, stray or missing file (``workbench archive --verify``: :mod:`workbench.store.archive_verify`).
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, TypeAlias

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from workbench.errors import ArchiveError, ValidationError
from workbench.store.archive_files import (
    FileRecord,
    Partition,
    check,
    commit_records,
    digest,
    record_pending,
    records,
    relative_path,
)
from workbench.store.database import Database
from workbench.store.queries import Q, Query, query

__all__ = [
    "ARCHIVED_TABLES",
    "RETENTION",
    "ArchiveProgress",
    "Archive",
    "ArchiveReport",
    "RetentionReport",
    "apply_retention",
    "archive",
    "guard_write_sql",
]

#: table -> (partition columns besides month, key columns that identify a row)
ARCHIVED_TABLES: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "candles": (("symbol", "timeframe"), ("symbol", "timeframe", "timestamp")),
    "technical_indicators": (("symbol", "timeframe"), ("symbol", "timeframe", "timestamp")),
    "tickers": (("symbol",), ("symbol", "timestamp")),
    "orderbooks": (("symbol",), ("symbol", "timestamp")),
    "transactions": (("symbol",), ("symbol", "bithumb_tx_id", "timestamp")),
}
#: the schema document's retention horizon
RETENTION: Final[str] = "30 days"
#: writer target -> table it writes into
_WRITE_TARGET: Final[dict[str, str]] = {"candle_indicators": "candles"}
#: temporary file of a write in progress (left behind only by a killed run; never read)
_TMP: Final = re.compile(r"\.part-[0-9a-f]{32}\.tmp")


def _table_query(name: Q, table: str) -> Query:
    """Query ``name`` with its ``{table}`` placeholder replaced by a name from ARCHIVED_TABLES."""
    if table not in ARCHIVED_TABLES:
        raise ValidationError(f"table {table!r} is not archived; one of {sorted(ARCHIVED_TABLES)}")
    return Query(f"{name}:{table}", query(name).sql.replace("{table}", table))


def guard_write_sql(table: str) -> str | None:
    """Statement for the writer's transaction after staging rows of ``table`` into ``_wb_stage``:
    rows older than the archive watermark lower it (see ``archive_guard.sql``); None if not archived."""
    target = _WRITE_TARGET.get(table, table)
    if target not in ARCHIVED_TABLES:
        return None
    return query(Q.ARCHIVE_GUARD).literal({"table_name": target})


def _month_range(month: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = month.tz_localize("UTC") if month.tzinfo is None else month.tz_convert("UTC")
    return start, start + pd.offsets.MonthBegin(1)


@dataclass
class Archive:
    """A Parquet archive at ``url``: a local directory or any pyarrow filesystem URL (``file://``,
    ``s3://bucket/prefix``, ``gs://...``); other fsspec URLs work when fsspec is installed."""

    url: str
    filesystem: pafs.FileSystem = field(repr=False)
    root: str

    @classmethod
    def open(cls, url: str | Path) -> Archive:
        text = str(url)
        if "://" not in text:
            path = Path(text).expanduser().resolve()
            return cls(text, pafs.LocalFileSystem(), path.as_posix())
        try:
            fs, root = pafs.FileSystem.from_uri(text)
        except (pa.ArrowException, ValueError) as err:
            try:
                import fsspec  # type: ignore[import-untyped]  # optional, untyped
            except ImportError:
                raise ArchiveError(f"archive URL {text!r} is not supported by pyarrow ({err}); "
                                   f"install fsspec for other filesystems") from err
            try:
                ffs, root = fsspec.core.url_to_fs(text)
            except (ValueError, ImportError, OSError) as ferr:
                raise ArchiveError(f"archive URL {text!r} is not supported: {ferr}") from ferr
            fs = pafs.PyFileSystem(pafs.FSSpecHandler(ffs))
        return cls(text, fs, root.rstrip("/"))

    # -- layout ---------------------------------------------------------------------------------
    def _dir(self, table: str, values: dict[str, str]) -> str:
        parts, _ = ARCHIVED_TABLES[table]
        return "/".join([self.root, table, *(f"{c}={values[c]}" for c in parts)])

    def _file(self, table: str, values: dict[str, str], month: str) -> str:
        return f"{self._dir(table, values)}/month={month}/part.parquet"

    def months(self, table: str, **values: str) -> list[str]:
        """Archived months (``YYYY-MM``) of one partition, e.g. ``months("candles", symbol=..., timeframe=...)``."""
        try:
            infos = self.filesystem.get_file_info(pafs.FileSelector(self._dir(table, values), allow_not_found=True))
        except (OSError, pa.ArrowException) as err:
            raise ArchiveError(f"cannot list the archive at {self.url!r}: {err}") from err
        return sorted(i.base_name[len("month="):] for i in infos
                      if i.type == pafs.FileType.Directory and i.base_name.startswith("month="))

    def partition(self, table: str, values: dict[str, str], month: str) -> Partition:
        parts, _ = ARCHIVED_TABLES[table]
        return Partition(table, values["symbol"], values["timeframe"] if "timeframe" in parts else None, month)

    def relative(self, partition: Partition) -> str:
        """The path of ``partition``'s file relative to the archive root (as ``archive_files`` has it)."""
        return relative_path(partition, ARCHIVED_TABLES[partition.table][0])

    def files(self) -> list[str]:
        """Every file under the archive root (relative paths, sorted), except the temporary files an
        interrupted write leaves (``.part-*.tmp``)."""
        try:
            infos = self.filesystem.get_file_info(pafs.FileSelector(self.root, recursive=True, allow_not_found=True))
        except (OSError, pa.ArrowException) as err:
            raise ArchiveError(f"cannot list the archive at {self.url!r}: {err}") from err
        return sorted(i.path[len(self.root) + 1:] for i in infos
                      if i.type == pafs.FileType.File and not _TMP.fullmatch(i.base_name))

    def load_bytes(self, relative: str, *, rehash: bool = False) -> tuple[pa.Buffer | None, str | None]:
        """The bytes of a file and their sha256, or (None, None) if there is no such file. The digest
        of a file unchanged since this process hashed it (same size and mtime) is not recomputed
        unless ``rehash``."""
        path = f"{self.root}/{relative}"
        try:
            info = self.filesystem.get_file_info(path)
            if info.type != pafs.FileType.File:
                return None, None
            with self.filesystem.open_input_file(path) as f:
                data = f.read_buffer()
        except (OSError, pa.ArrowException) as err:
            raise ArchiveError(f"cannot read archive file {path!r}: {err}") from err
        mtime = info.mtime_ns
        key = (f"{self.filesystem.type_name}:{path}", data.size, mtime) \
            if mtime is not None and data.size == info.size else None
        return data, digest(data, key, rehash=rehash)

    def _verified(self, partition: Partition, versions: list[FileRecord], *, rehash: bool = False) -> pa.Buffer | None:
        """The bytes of ``partition``'s file once checked against its records (None: no file and none
        committed); ArchiveIntegrityError naming the file otherwise."""
        relative = self.relative(partition)
        data, sha = self.load_bytes(relative, rehash=rehash)
        verdict = check(partition, data, sha, versions)
        if verdict.bad:
            raise verdict.error(f"{self.root}/{relative}")
        return data

    def months_in(self, db: Database, table: str, start: pd.Timestamp, end: pd.Timestamp,
                  **values: str) -> tuple[list[str], dict[str, list[FileRecord]]]:
        """Months of one partition that overlap ``[start, end)`` and have a file or a record of one,
        with the partition's records."""
        recs = records(db, table, values["symbol"], self.partition(table, values, "").timeframe)
        months = set(self.months(table, **values)) | {v.partition.month for vs in recs.values() for v in vs}
        return [m for m in sorted(months)
                if _month_range(pd.Timestamp(m + "-01"))[1] > start and pd.Timestamp(m + "-01", tz="UTC") < end], recs

    def read(self, db: Database, table: str, start: pd.Timestamp, end: pd.Timestamp, *,
             columns: list[str] | None = None, **values: str) -> pa.Table | None:
        """Archived rows of one partition with ``start <= timestamp < end``, in time order (only
        ``columns`` if given); None when nothing of the range is archived. Every file is checked
        against ``archive_files`` first (digest, partition, row count, time span); a damaged, stray,
        swapped or missing file raises ArchiveIntegrityError naming it, and no rows are returned."""
        wanted, recs = self.months_in(db, table, start, end, **values)
        wanted_columns = columns if columns is None or "timestamp" in columns else [*columns, "timestamp"]

        def one(month: str) -> pa.Table | None:  # checked, then parsed from the very bytes hashed
            part = self.partition(table, values, month)
            data = self._verified(part, recs.get(self.relative(part), []))
            if data is None:
                return None
            try:
                got = pq.read_table(pa.BufferReader(data), columns=wanted_columns)
                lo, hi = part.bounds
                if lo < start or hi > end:
                    ts = got.column("timestamp")
                    got = got.filter(pc.and_(pc.greater_equal(ts, pa.scalar(start.to_pydatetime(), ts.type)),
                                             pc.less(ts, pa.scalar(end.to_pydatetime(), ts.type))))
            except (OSError, pa.ArrowException) as err:
                path = f"{self.root}/{self.relative(part)}"
                raise ArchiveError(f"cannot read archive file {path!r}: {err}") from err
            return got if wanted_columns is columns else got.drop_columns(["timestamp"])

        if not wanted:
            return None
        with ThreadPoolExecutor(max_workers=min(len(wanted), os.cpu_count() or 1)) as pool:
            # month order = time order; the first bad file (in that order) raises, and nothing is returned
            out = [t for t in pool.map(one, wanted) if t is not None]
        if not out:
            return None
        try:
            return pa.concat_tables([t if t.schema == out[0].schema else t.cast(out[0].schema) for t in out])
        except (OSError, pa.ArrowException) as err:
            raise ArchiveError(f"cannot read the archive at {self.url!r} ({table}, {values}): {err}") from err

    def write_partition(self, db: Database, table: str, values: dict[str, str], month: str,
                        rows: pa.Table) -> FileRecord:
        """Merge ``rows`` into one partition file (database rows win), after checking the file there
        against its records; record the new version (uncommitted) before moving it into place."""
        import polars as pl

        _, key = ARCHIVED_TABLES[table]
        part = self.partition(table, values, month)
        relative = self.relative(part)
        path = f"{self.root}/{relative}"
        versions = records(db, table, part.symbol, part.timeframe).get(relative, [])
        data = self._verified(part, versions, rehash=True)  # never merge a damaged file into a new one
        old = None if data is None else pq.read_table(pa.BufferReader(data))
        merged = pl.DataFrame(rows) if old is None else pl.concat(
            [pl.DataFrame(old.cast(rows.schema)), pl.DataFrame(rows)], how="vertical")
        order = ["timestamp", "id"] if "id" in merged.columns else ["timestamp"]
        merged = merged.unique(subset=list(key), keep="last", maintain_order=True).sort(order)
        out = merged.to_arrow()
        sink = pa.BufferOutputStream()
        pq.write_table(out, sink, compression="zstd")
        body = sink.getvalue()
        span = pc.min_max(out.column("timestamp"))
        lo, hi = span["min"].as_py(), span["max"].as_py()
        rec = FileRecord(relative, digest(body), part, body.size, out.num_rows,
                         None if lo is None else pd.Timestamp(lo).tz_convert("UTC"),
                         None if hi is None else pd.Timestamp(hi).tz_convert("UTC"))
        record_pending(db, rec)
        folder = path.rsplit("/", 1)[0]
        tmp = f"{folder}/.part-{uuid.uuid4().hex}.tmp"
        try:
            self.filesystem.create_dir(folder, recursive=True)
            with self.filesystem.open_output_stream(tmp) as f:
                f.write(body)
            self.filesystem.move(tmp, path)
        except (OSError, pa.ArrowException) as err:
            with contextlib.suppress(Exception):
                self.filesystem.delete_file(tmp)
            raise ArchiveError(f"cannot write archive file {path!r}: {err}") from err
        return rec


@dataclass
class TableReport:
    table: str
    rows: int = 0
    files: int = 0
    months: list[str] = field(default_factory=list)
    archived_until: pd.Timestamp | None = None
    raced: bool = False


@dataclass
class ArchiveReport:
    """What :func:`archive` wrote, per table."""

    cutoff: pd.Timestamp
    url: str
    tables: list[TableReport] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    @property
    def files(self) -> int:
        return sum(t.files for t in self.tables)

    def __str__(self) -> str:
        lines = [f"archive {self.url}: rows before {self.cutoff:%Y-%m-%d %H:%M} UTC"]
        for t in self.tables:
            if t.raced:
                note = "rows older than the cutoff were written meanwhile: run `workbench archive` again"
            elif t.rows:
                span = t.months[0] if len(t.months) == 1 else f"{t.months[0]}..{t.months[-1]}"
                note = f"{t.rows:,} rows in {t.files:,} files ({span})"
            else:
                note = "nothing to archive"
            lines.append(f"  {t.table}: {note}")
        return "\n".join(lines)


def _cutoff(before: pd.Timestamp | None) -> pd.Timestamp:
    if before is None:
        return pd.Timestamp.now(tz="UTC").floor("s") - pd.Timedelta(RETENTION)
    return before.tz_localize("UTC") if before.tzinfo is None else before.tz_convert("UTC")


#: ``progress(months, table, total)``: wraps the iteration over a table's months (e.g. in a progress bar).
ArchiveProgress: TypeAlias = Callable[[Iterator[pd.Timestamp], str, int], Iterator[pd.Timestamp]]


def archive(db: Database, store: Archive, *, before: pd.Timestamp | None = None,
            tables: tuple[str, ...] = tuple(ARCHIVED_TABLES),
            progress: ArchiveProgress | None = None) -> ArchiveReport:
    """Copy every row older than ``before`` (default: the 30-day retention horizon) to ``store`` and
    raise each table's watermark to it. Deletes nothing.

    ``progress(months, table, total)`` may wrap the iteration over months (e.g. with a progress bar).
    """
    import polars as pl

    cutoff = _cutoff(before)
    report = ArchiveReport(cutoff, store.url)
    for table in tables:
        rep = TableReport(table)
        report.tables.append(rep)
        params = {"table_name": table, "cutoff": cutoff.to_pydatetime()}
        with db.begin() as conn:
            generation = conn.execute(query(Q.ARCHIVE_WATERMARK_BEGIN).text, params).scalar_one()
        with db.begin() as conn:
            months = [pd.Timestamp(r[0]) for r in
                      conn.execute(_table_query(Q.ARCHIVE_MONTHS, table).text, params).all()]
        parts, _ = ARCHIVED_TABLES[table]
        rows_query = _table_query(Q.ARCHIVE_ROWS, table)
        written: list[FileRecord] = []
        it: Iterator[pd.Timestamp] = iter(months)
        if progress is not None:
            it = progress(it, table, len(months))
        for month in it:
            start, end = _month_range(month)
            sql = rows_query.literal({"start": start.to_pydatetime(), "end": min(end, cutoff).to_pydatetime()})
            with db.adbc() as aconn, aconn.cursor() as cur:
                cur.execute(sql)
                data = cur.fetch_arrow_table()
                aconn.rollback()
            label = f"{start:%Y-%m}"
            groups = pl.DataFrame(data.select(list(parts))).unique(maintain_order=True).rows()
            for group in groups:
                values = dict(zip(parts, (str(v) for v in group), strict=True))
                mask = None
                for col, val in values.items():
                    m = pc.equal(data.column(col), pa.scalar(val))
                    mask = m if mask is None else pc.and_(mask, m)
                subset = data.filter(mask)
                written.append(store.write_partition(db, table, values, label, subset))
                rep.rows += subset.num_rows
                rep.files += 1
            rep.months.append(label)
        with db.begin() as conn:  # the files' records and the watermark retention goes by, at once
            commit_records(conn, written)
            done = conn.execute(query(Q.ARCHIVE_WATERMARK_COMMIT).text,
                                {**params, "generation": generation}).scalar_one_or_none()
        rep.raced = done is None
        rep.archived_until = None if done is None else pd.Timestamp(done)
    return report


@dataclass
class RetentionReport:
    deleted: dict[str, int]

    def __str__(self) -> str:
        return f"retention ({RETENTION}): " + ", ".join(
            f"{t} {n:,} rows deleted" for t, n in self.deleted.items())


def apply_retention(db: Database, *, keep: str = RETENTION,
                    tables: tuple[str, ...] = tuple(ARCHIVED_TABLES)) -> RetentionReport:
    """Plain PostgreSQL: delete rows older than both ``keep`` and the table's archive watermark.

    On TimescaleDB the job ``workbench_archived_retention`` does this (dropping whole chunks).
    """
    deleted: dict[str, int] = {}
    for table in tables:
        with db.begin() as conn:
            if table == "candles":   # archived, not changed: versions and rollups stay (migration 0052)
                conn.execute(query(Q.CANDLES_MAINTAINED).text)
            result = conn.execute(_table_query(Q.ARCHIVE_RETENTION, table).text,
                                  {"keep": keep, "table_name": table})
            deleted[table] = int(result.rowcount or 0)
    return RetentionReport(deleted)
