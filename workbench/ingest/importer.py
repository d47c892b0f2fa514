"""CSV files into the database: streamed in chunks, every row validated, written in one transaction.

Memory stays bounded by the chunk size, not the file: each validated chunk is staged (binary COPY
into a temporary table) and the upsert runs once at the end, in the same transaction. Rows that
repeat a key of an earlier row are found on the staged rows. With ``on_error="abort"`` (the
default) any bad row rolls everything back and the error names every bad row; with
``on_error="skip"`` the good rows are written and the bad ones go to a rejects file.

Candles of one (symbol, timeframe) whose range holds no stored candle (a first import) are copied
straight into ``candles`` instead (``StagedWrite(direct=True)``, same transaction and guarantees); if
a later chunk turns out not to qualify, the transaction is rolled back and the file imported again
the staged way. The next chunk is read and validated in a thread while the database takes the
current one (two chunks ahead at most).
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import pyarrow as pa
import pyarrow.compute as pc

from workbench.errors import ImportDataError
from workbench.ingest._prefetch import prefetch
from workbench.ingest.csv_import import CsvKind, CsvReader, Reject, describe_rejects
from workbench.store.cache import FrameCache, NullCache, candle_pattern
from workbench.store.database import Database
from workbench.store.writer import DirectWriteRefused, StagedWrite, WriteResult, to_arrow

__all__ = ["CsvImportResult", "ImportOptions", "OnError", "import_csv", "import_file"]

OnError = Literal["abort", "skip"]
_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "candles": ("symbol", "timeframe", "timestamp"),
    "transactions": ("bithumb_tx_id", "timestamp"),
    "tickers": ("symbol", "timestamp"),
}


@dataclass(frozen=True, slots=True)
class CsvImportResult:
    """What an import did: the write, which file columns were read as what, and what was rejected."""

    path: Path
    write: WriteResult
    mapping: dict[str, str]
    ignored: tuple[str, ...]
    rejected: int = 0
    rejects_path: Path | None = None
    direct: bool = False   # the rows were copied straight into the table (no staging, no upsert)

    @property
    def rows(self) -> int:
        return self.write.rows

    @property
    def inserted(self) -> int:
        return self.write.inserted

    @property
    def updated(self) -> int:
        return self.write.updated

    @property
    def unchanged(self) -> int:
        return self.write.unchanged

    def __str__(self) -> str:
        cols = ", ".join(f"{src!r} -> {dst}" for src, dst in self.mapping.items())
        text = f"{self.path.name}: columns {cols}"
        if self.ignored:
            text += f"; ignored {', '.join(repr(c) for c in self.ignored)}"
        text += f"\n{self.write}"
        if self.rejected:
            text += f"\n{self.rejected:,} bad row(s) skipped, listed in {self.rejects_path}"
        return text


def _has_duplicates(w: StagedWrite, kind: str) -> bool:
    """Does a key occur twice among the staged rows? (one hash aggregate; cheap next to the upsert)"""
    key = ", ".join(_KEYS[kind])
    found = w.execute(f"SELECT EXISTS (SELECT 1 FROM _wb_stage GROUP BY {key} HAVING count(*) > 1)")  # noqa: S608
    return bool(found.column(0)[0].as_py())


def _duplicates(w: StagedWrite, kind: str) -> list[Reject]:
    """Rows whose key repeats an earlier row's (deleted from the stage), with the line they repeat."""
    key = ", ".join(_KEYS[kind])
    table = w.execute(
        f"DELETE FROM _wb_stage s USING (SELECT _line, first_value(_line) OVER (PARTITION BY {key} ORDER BY _line) "  # noqa: S608 (constant column names)
        f"AS first FROM _wb_stage) d WHERE s._line = d._line AND d._line <> d.first RETURNING s._line, d.first")
    return [Reject(int(line), f"same {', '.join(_KEYS[kind])} as line {int(first)}")
            for line, first in zip(table.column(0).to_pylist(), table.column(1).to_pylist(), strict=True)]


class _KeyOrder:
    """Can the staged rows hold a key twice? Not when every chunk holds one series (the key columns
    but the timestamp), its timestamps distinct and all before or all after those of the earlier
    chunks of that series (a file sorted either way); otherwise the staged rows are checked."""

    def __init__(self, kind: str) -> None:
        self._series = [c for c in _KEYS[kind] if c != "timestamp"]
        self._seen: dict[tuple[object, ...], tuple[object, object]] = {}
        self.maybe_repeated = kind not in ("candles", "tickers")

    def add(self, data: pa.Table) -> None:
        if self.maybe_repeated or data.num_rows == 0:
            return
        values = [pc.unique(data.column(c)) for c in self._series]
        stamps = data.column("timestamp")
        if any(len(v) != 1 for v in values) or pc.count_distinct(stamps).as_py() != data.num_rows:
            self.maybe_repeated = True
            return
        key = tuple(v[0].as_py() for v in values)
        lo, hi = pc.min(stamps).as_py(), pc.max(stamps).as_py()
        if key in self._seen:
            seen_lo, seen_hi = self._seen[key]
            if not (hi < seen_lo or lo > seen_hi):
                self.maybe_repeated = True
                return
            lo, hi = min(lo, seen_lo), max(hi, seen_hi)
        self._seen[key] = (lo, hi)


def _bad_rows(reader: CsvReader) -> ImportDataError:
    return ImportDataError(describe_rejects(reader.path, reader.rejects, reader.rejected)
                           + "\n(or import the good rows only: on_error='skip', --skip-bad-rows)")


class _RejectsFile:
    """Rejected rows streamed to ``path`` (CSV: line, reason, row) as they are found; the file
    appears only when complete (written as ``.part``, renamed on success)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tmp = path.with_name(path.name + ".part")
        self._fh = self._tmp.open("w", newline="", encoding="utf-8")
        self._out = csv.writer(self._fh)
        self._out.writerow(["line", "reason", "row"])

    def restart(self) -> None:
        """Forget the rows written so far (the file is read again)."""
        self._fh.seek(0)
        self._fh.truncate()
        self._out.writerow(["line", "reason", "row"])

    def add(self, r: Reject) -> None:
        self._out.writerow([r.line, r.reason, r.text])

    def close(self, keep: bool) -> None:
        self._fh.close()
        if keep:
            self._tmp.replace(self.path)
        else:
            self._tmp.unlink(missing_ok=True)


@dataclass(frozen=True)
class ImportOptions:
    """How :func:`import_file` reads and writes a CSV file (the parameters of :func:`import_csv`)."""

    kind: CsvKind = "candles"
    symbol: str | None = None
    timeframe: str | None = None
    tz: str = "UTC"
    dayfirst: bool | None = None
    on_error: OnError = "abort"
    rejects_path: str | Path | None = None
    block_size: int = 4 << 20
    direct: bool = True


def import_csv(
    db: Database,
    path: str | Path,
    kind: CsvKind = "candles",
    *,
    symbol: str | None = None,
    timeframe: str | None = None,
    tz: str = "UTC",
    dayfirst: bool | None = None,
    on_error: OnError = "abort",
    rejects_path: str | Path | None = None,
    cache: FrameCache | None = None,
    block_size: int = 4 << 20,
    progress: Callable[[int], None] | None = None,
    direct: bool = True,
) -> CsvImportResult:
    """Import a CSV file (see :mod:`workbench.ingest.csv_import` for what is accepted and checked).

    Parameters
    ----------
    db : Database
    path : str or Path
    kind : {"candles", "transactions", "tickers"}
    symbol, timeframe : str, optional
        Fill (or must agree with) the file's own columns.
    tz : str
        Zone of naive date strings.
    dayfirst : bool, optional
        ``True`` for ``D/M/Y`` dates, ``False`` for ``M/D/Y``; by default rows whose order cannot be
        told are rejected.
    on_error : {"abort", "skip"}
        ``abort``: nothing is written when any row is bad (ImportDataError lists them); ``skip``:
        the good rows are written and the bad ones listed in ``rejects_path`` (default
        ``<file>.rejects.csv``).
    progress : callable, optional
        Called with the number of rows read after each chunk.
    direct : bool
        Candles: copy rows of one symbol and timeframe straight into ``candles`` when their range
        holds no stored candle (the default; same guarantees, much faster); False: always stage and
        upsert.
    """
    options = ImportOptions(kind, symbol=symbol, timeframe=timeframe, tz=tz, dayfirst=dayfirst, on_error=on_error,
                            rejects_path=rejects_path, block_size=block_size, direct=direct)
    return import_file(db, path, options, cache=cache, progress=progress)


def import_file(db: Database, path: str | Path, options: ImportOptions, *, cache: FrameCache | None = None,
                progress: Callable[[int], None] | None = None) -> CsvImportResult:
    """:func:`import_csv` with its options as one :class:`ImportOptions`."""
    if options.on_error not in ("abort", "skip"):
        raise ImportDataError(f"on_error {options.on_error!r} is not 'abort' or 'skip'")
    source = Path(path)
    rejects = (_RejectsFile(Path(options.rejects_path) if options.rejects_path
                            else source.with_name(source.name + ".rejects.csv"))
               if options.on_error == "skip" and source.is_file() else None)
    try:
        return _import(db, source, options, rejects, cache, progress)
    except BaseException:
        if rejects is not None:
            rejects.close(keep=False)
        raise


def _import(db: Database, path: Path, options: ImportOptions, rejects: _RejectsFile | None,
            cache: FrameCache | None, progress: Callable[[int], None] | None) -> CsvImportResult:
    for attempt in ((True, False) if options.kind == "candles" and options.direct else (False,)):
        try:
            return _import_once(db, path, options, rejects, cache, progress, direct=attempt)
        except DirectWriteRefused:   # rolled back: read the file again, staged
            if rejects is not None:
                rejects.restart()
    raise AssertionError("unreachable: the staged import does not refuse")


def _import_once(db: Database, path: Path, options: ImportOptions, rejects: _RejectsFile | None,
                 cache: FrameCache | None, progress: Callable[[int], None] | None, *, direct: bool) -> CsvImportResult:
    kind, on_error = options.kind, options.on_error
    reader = CsvReader(path, kind, symbol=options.symbol, timeframe=options.timeframe, tz=options.tz,
                       dayfirst=options.dayfirst, block_size=options.block_size, keep_rejects=1_000,
                       on_reject=rejects.add if rejects else None)
    symbols: set[str] = set()

    def chunks() -> Iterator[tuple[pa.Table, pa.Table, int, int]]:
        """(rows, line numbers, rows read, rejected so far) per chunk, converted in the reading thread."""
        for batch in reader.batches():
            if reader.rejected and on_error == "abort":
                yield _EMPTY, _EMPTY, reader.rows_read, reader.rejected   # keep validating, stage nothing
                continue
            yield (to_arrow(kind, batch.frame), pa.table({"_line": pa.array(batch.lines, pa.int64())}),
                   reader.rows_read, reader.rejected)

    order = _KeyOrder(kind)
    # closing: the reading thread has stopped before the write is rolled back or retried
    with StagedWrite(db, kind, direct=direct) as w, contextlib.closing(prefetch(chunks(), depth=2)) as parts:
        for data, lines, rows_read, rejected in parts:
            if rejected and on_error == "abort":
                continue
            w.add(data, lines)
            order.add(data)
            symbols.update(str(s) for s in pc.unique(data.column("symbol")).to_pylist())
            if progress is not None:
                progress(rows_read)
        if reader.rows_read == 0 and not reader.rejected:
            raise ImportDataError(f"{reader.path}: the file has no rows")
        if reader.rejected and on_error == "abort":
            raise _bad_rows(reader)
        if w.rows and not w.direct and order.maybe_repeated and _has_duplicates(w, kind):
            for r in _duplicates(w, kind):
                reader._reject(r.line, r.reason)
            if on_error == "abort":
                raise _bad_rows(reader)
        out: Path | None = None
        if rejects is not None:
            rejects.close(keep=bool(reader.rejected))
            out = rejects.path if reader.rejected else None
        result = w.commit()
    if result.inserted or result.updated:
        target = cache or NullCache()
        for sym in sorted(symbols):
            target.invalidate(candle_pattern(sym))
    return CsvImportResult(reader.path, result, dict(reader.mapping), tuple(reader.ignored), reader.rejected, out,
                           direct=w.direct)


_EMPTY: Final = pa.table({})
