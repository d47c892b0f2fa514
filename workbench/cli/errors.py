"""One-line descriptions of failures for the command line (``error: ...``); tracebacks only on --debug.

Nothing here imports a driver: an exception is classified by the modules it comes from, which are
loaded already if they raised it. Every message goes through :func:`workbench.core.redact.mask_text`.
"""

from __future__ import annotations

import re
import sys
from typing import Final

from workbench.core.redact import mask_text

__all__ = ["command_path", "describe_failure", "describe_usage", "usage_kind"]

_DB_HINT: Final = ("check WORKBENCH_DATABASE_URL (or unset it for the embedded PostgreSQL: "
                   "`workbench services start`)")
_SCHEMA_HINT: Final = "the workbench schema is missing or out of date: run `workbench db init`"
_POOL_HINT: Final = "raise WORKBENCH_POOL_SIZE / WORKBENCH_MAX_OVERFLOW (or WORKBENCH_POOL_TIMEOUT)"
_LOST_HINT: Final = ("check that PostgreSQL is up and reachable (WORKBENCH_DATABASE_URL), then run the command "
                     "again")
_REDIS_HINT: Final = ("check WORKBENCH_REDIS_URL, or unset it for the embedded Redis, or set "
                      "WORKBENCH_CACHE_ENABLED=false")


def _first_line(err: BaseException) -> str:
    text = re.sub(r"\s*\(Background on this error at: [^)]*\)", "", str(err)).strip() or type(err).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # psycopg/libpq put the useful part ("Connection refused", "password authentication failed") last
    useful = [line for line in lines if not line.startswith(("(Background on", "[SQL:", "HINT:", "Is the server"))]
    return "; ".join(useful[:3]) if useful else lines[0]


def _chain(err: BaseException) -> list[BaseException]:
    """``err`` and what it was raised from (``__cause__`` or ``__context__``), outermost first."""
    seen: set[int] = set()
    out: list[BaseException] = []
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        out.append(current)
        current = current.__cause__ or current.__context__
    return out


def _of(err: BaseException, modules: tuple[str, ...]) -> bool:
    mod = type(err).__module__ or ""
    return any(mod == m or mod.startswith(m + ".") for m in modules)


def _from(err: BaseException, *modules: str) -> bool:
    """``err`` (or what it was raised from) is an exception class of one of ``modules``."""
    return any(_of(e, modules) for e in _chain(err))


_DB_MODULES: Final = ("psycopg", "sqlalchemy", "adbc_driver_manager", "adbc_driver_postgresql")
#: what a connection that was open and is no more looks like (psycopg/libpq messages; SQLSTATE classes
#: 57P admin/crash shutdown and 08 connection exception)
_LOST_MESSAGES: Final = ("server closed the connection unexpectedly", "consuming input failed",
                         "the connection is lost", "terminating connection")


def _connection_lost(err: BaseException) -> bool:
    """The database connection broke while in use (not: could not be opened)."""
    for e in _chain(err):
        if getattr(e, "connection_invalidated", False) is True:   # SQLAlchemy saw a disconnect
            return True
        state = getattr(e, "sqlstate", None) or ""
        if _of(e, ("psycopg",)) and (state.startswith(("57P", "08"))
                                      or any(m in str(e) for m in _LOST_MESSAGES)):
            return True
    return False


def describe_failure(err: BaseException, *secrets: str) -> str:
    """What failed and how to fix it, in one line, with passwords (and ``secrets``) masked."""
    from workbench.errors import WorkbenchError

    if isinstance(err, WorkbenchError):
        text = str(err)
    elif _from(err, "redis"):
        text = f"Redis failed: {_first_line(err)}; {_REDIS_HINT}"
    elif _from(err, *_DB_MODULES):
        sa = sys.modules.get("sqlalchemy.exc")
        cause = next(e for e in _chain(err) if _of(e, _DB_MODULES))   # not a wrapper's own message
        orig = getattr(cause, "orig", None) or cause
        if sa is not None and isinstance(err, sa.ArgumentError):
            text = f"the database URL is not valid: {_first_line(err)}; {_DB_HINT}"
        elif sa is not None and isinstance(err, sa.TimeoutError):   # the pool had no free connection
            text = f"no free database connection: {_first_line(err)}; {_POOL_HINT}"
        elif _connection_lost(err):   # e.g. optuna's "An exception is raised during the commit ..."
            text = f"the database connection was lost: {_first_line(orig)}; {_LOST_HINT}"
        else:
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


def usage_kind(err: BaseException) -> str | None:
    """``"help"`` (a group called without a command), ``"usage"`` (click's UsageError or another
    ClickException: the command line itself is wrong), ``"abort"`` (a prompt was aborted) or None.
    Matched by class name: typer raises the exceptions of its own copy of click (``typer._click``)."""
    names = {c.__name__ for c in type(err).__mro__
             if c.__module__.endswith("click.exceptions") or c.__module__ == "typer.exceptions"}
    if "NoArgsIsHelpError" in names:
        return "help"
    if "ClickException" in names:
        return "usage"
    return "abort" if "Abort" in names else None


def describe_usage(err: BaseException, command: str = "workbench") -> str:
    """A misuse of the command line (click/typer's UsageError: a bad option value, a missing argument, an
    unknown option or command) in one line: the command, what was wrong, where the help is. ``command``
    names the command when the error does not (click's option parser raises without a context)."""
    text = " ".join(str(getattr(err, "format_message", err.__str__)()).split()).rstrip(".")
    ctx = getattr(err, "ctx", None)
    path = ctx.command_path if ctx is not None else command
    return f"{path}: {text[:1].lower() + text[1:]} (see `{path} --help`)"


def command_path(group: object, args: list[str]) -> str:
    """``workbench paper`` for ``["paper", "--replay", "x"]``: the command of ``group`` (the root click group)
    that the arguments name."""
    cmd: object = group
    path = ["workbench"]
    for arg in args:
        get_command = getattr(cmd, "get_command", None)   # a group (commands may be loaded on first use)
        cmd = get_command(None, arg) if get_command is not None else None
        if cmd is None:
            break
        path.append(arg)
    return " ".join(path)
