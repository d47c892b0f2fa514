"""One-line descriptions of failures for the command line (``error: ...``); tracebacks only on --debug.

Nothing here imports a driver: an exception is classified by the modules it comes from, which are
loaded already if they raised it. Every message goes through :func:`workbench.redact.mask_text`.
"""

from __future__ import annotations

import re
import sys
from typing import Final

from workbench.redact import mask_text

__all__ = ["describe_failure"]

_DB_HINT: Final = ("check WORKBENCH_DATABASE_URL (or unset it for the embedded PostgreSQL: "
                   "`workbench services start`)")
_SCHEMA_HINT: Final = "the workbench schema is missing or out of date: run `workbench db init`"
_POOL_HINT: Final = "raise WORKBENCH_POOL_SIZE / WORKBENCH_MAX_OVERFLOW (or WORKBENCH_POOL_TIMEOUT)"
_REDIS_HINT: Final = ("check WORKBENCH_REDIS_URL, or unset it for the embedded Redis, or set "
                      "WORKBENCH_CACHE_ENABLED=false")


def _first_line(err: BaseException) -> str:
    text = re.sub(r"\s*\(Background on this error at: [^)]*\)", "", str(err)).strip() or type(err).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # psycopg/libpq put the useful part ("Connection refused", "password authentication failed") last
    useful = [line for line in lines if not line.startswith(("(Background on", "[SQL:", "HINT:", "Is the server"))]
    return "; ".join(useful[:3]) if useful else lines[0]


def _from(err: BaseException, *modules: str) -> bool:
    """``err`` (or what it was raised from) is an exception class of one of ``modules``."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        mod = type(current).__module__ or ""
        if any(mod == m or mod.startswith(m + ".") for m in modules):
            return True
        current = current.__cause__ or current.__context__
    return False


def describe_failure(err: BaseException, *secrets: str) -> str:
    """What failed and how to fix it, in one line, with passwords (and ``secrets``) masked."""
    from workbench.errors import WorkbenchError

    if isinstance(err, WorkbenchError):
        text = str(err)
    elif _from(err, "redis"):
        text = f"Redis failed: {_first_line(err)}; {_REDIS_HINT}"
    elif _from(err, "psycopg", "sqlalchemy", "adbc_driver_manager", "adbc_driver_postgresql"):
        sa = sys.modules.get("sqlalchemy.exc")
        if sa is not None and isinstance(err, sa.ArgumentError):
            text = f"the database URL is not valid: {_first_line(err)}; {_DB_HINT}"
        elif sa is not None and isinstance(err, sa.TimeoutError):   # the pool had no free connection
            text = f"no free database connection: {_first_line(err)}; {_POOL_HINT}"
        else:
            orig = getattr(err, "orig", None) or err
            undefined = getattr(orig, "sqlstate", None) in ("42P01", "42703")  # undefined table / column
            text = f"PostgreSQL failed: {_first_line(orig)}; {_SCHEMA_HINT if undefined else _DB_HINT}"
    elif _from(err, "requests", "urllib3"):
        text = f"network request failed: {_first_line(err)}; check the connection and WORKBENCH_BITHUMB_BASE_URL"
    elif isinstance(err, OSError):
        text = f"{_first_line(err)}"
    else:
        text = f"unexpected {type(err).__name__}: {_first_line(err)} (run with --debug for the traceback)"
    return mask_text(" ".join(text.split("\n")) if "\n" in text and not isinstance(err, WorkbenchError) else text,
                     *secrets)
