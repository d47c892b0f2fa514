"""Which file of the reports directory a request path names, if any: nothing outside it is reachable."""

from __future__ import annotations

from pathlib import Path

__all__ = ["INDEX", "resolve_report"]

INDEX = "index.html"


def resolve_report(root: Path, path: str) -> Path | None:
    """The file under ``root`` that the (percent-decoded) URL path ``path`` names, or None.

    Refused: ``..`` and ``.`` segments, empty segments (so no absolute path), backslashes, NUL, hidden
    names (``.x``), and anything whose real path (symlinks followed) is not inside ``root``'s real path.

    >>> resolve_report(Path("/nonexistent"), "../etc/passwd") is None
    True
    """
    rel = path.lstrip("/") if path.startswith("/") and not path.startswith("//") else path
    rel = rel or INDEX
    if "\0" in rel or "\\" in rel:
        return None
    parts = rel.split("/")
    if any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        return None
    base = root.resolve()
    try:
        target = (base / rel).resolve(strict=True)
    except (OSError, RuntimeError):   # missing, or a symlink loop
        return None
    if not target.is_relative_to(base) or not target.is_file():
        return None
    return target
