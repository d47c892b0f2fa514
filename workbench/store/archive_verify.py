"""``workbench archive --verify``: every file of the Parquet archive checked against ``archive_files``.

Each file present (and each recorded file that should be) gets a status:

* ``ok``             -- its bytes hash to a recorded version of its path and hold that partition's rows;
* ``damaged``        -- recorded, but its bytes are not the recorded ones (flipped, truncated, rewritten);
* ``missing``        -- recorded (committed) but not in the archive;
* ``unrecorded``     -- in the archive, but no archive run wrote it there;
* ``wrong identity`` -- holds rows of another partition (another symbol, timeframe or month), e.g. a
  file copied or swapped from elsewhere in the archive.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench.store.archive import ARCHIVED_TABLES, Archive
from workbench.store.archive_files import (
    FileRecord,
    Verdict,
    adoptable,
    check,
    parse_path,
    record_committed,
    records,
)
from workbench.store.database import Database

__all__ = ["VerifyReport", "adopt_unrecorded", "verify_archive"]


@dataclass
class VerifyReport:
    """Status of every archive file (relative path -> verdict), in path order."""

    url: str
    files: dict[str, Verdict] = field(default_factory=dict)

    @property
    def bad(self) -> dict[str, Verdict]:
        return {p: v for p, v in self.files.items() if v.bad}

    @property
    def ok(self) -> bool:
        return not self.bad

    def __str__(self) -> str:
        head = (f"archive {self.url}: {len(self.files):,} files, "
                + ("all ok" if self.ok else f"{len(self.bad):,} bad"))
        if not self.files:
            return head
        width = max(len(p) for p in self.files)
        lines = [head, f"{'file':<{width}}  {'status':<14}  detail"]
        for path, verdict in self.files.items():
            lines.append(f"{path:<{width}}  {verdict.status:<14}  {verdict.detail}".rstrip())
        return "\n".join(lines)


def verify_archive(db: Database, store: Archive) -> VerifyReport:
    """Hash and check every file under the archive root and every recorded file (reads them all,
    hashing each anew: no digest remembered by earlier loads is trusted)."""
    recorded = records(db)
    by_digest: dict[str, list[FileRecord]] = {}
    for versions in recorded.values():
        for v in versions:
            by_digest.setdefault(v.sha256, []).append(v)
    layout = {t: parts for t, (parts, _) in ARCHIVED_TABLES.items()}
    report = VerifyReport(store.url)
    for path in sorted(set(store.files()) | set(recorded)):
        data, sha = store.load_bytes(path, rehash=True)
        elsewhere = [] if sha is None else [v for v in by_digest.get(sha, []) if v.path != path]
        verdict = check(parse_path(path, layout), data, sha, recorded.get(path, []), elsewhere=elsewhere)
        if verdict.status != "absent":  # recorded but never moved into place (a killed run): nothing lost
            report.files[path] = verdict
    return report


def adopt_unrecorded(db: Database, store: Archive) -> list[str]:
    """Record, as they are now, the files that have no record and hold exactly the rows of the
    partition their path names: the upgrade of an archive written before migration 0051. Files that
    are recorded (ok or not) and files that do not fit their place are left alone. Returns the
    adopted paths; nothing is recorded if any of them cannot be."""
    recorded = records(db)
    layout = {t: parts for t, (parts, _) in ARCHIVED_TABLES.items()}
    adopted: list[FileRecord] = []
    for path in store.files():
        if path in recorded:
            continue
        data, sha = store.load_bytes(path, rehash=True)
        if data is None or sha is None:
            continue
        rec = adoptable(path, parse_path(path, layout), data, sha)
        if rec is not None:
            adopted.append(rec)
    record_committed(db, adopted)
    return [r.path for r in adopted]
