"""Leases on the embedded servers: who is using them, so nobody stops a server another process needs.

A lease is a file ``<data_dir>/leases/<server>.<pid>`` held by a running process (the CLI, a notebook
kernel, a report kernel). :func:`stop_if_unused` stops a server only when no live process other than
the caller holds a lease; leases of dead processes are removed on the way. A process's leases are
dropped at its exit.

The process that started a server stops it when it finishes; if others still use it then, it hands the
duty over (a file ``<data_dir>/leases/stop-when-unused.<server>`` naming the server's pid), and the last
of them to finish stops it (:func:`workbench.services.resolve.finish_embedded`).
"""

from __future__ import annotations

import atexit
import contextlib
import os
from pathlib import Path

__all__ = ["acquire", "clear_hand_over", "hand_over", "handed_over", "holders", "pid_alive", "release"]

_held: set[Path] = set()
_registered = False


def _folder(data_dir: Path) -> Path:
    return Path(data_dir).expanduser().resolve() / "leases"


def pid_alive(pid: int) -> bool:
    """Is process ``pid`` running (also one of another user)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def acquire(data_dir: Path, server: str) -> Path:
    """Record that this process uses ``server`` (idempotent); released at exit or by :func:`release`."""
    global _registered
    folder = _folder(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{server}.{os.getpid()}"
    path.touch()
    _held.add(path)
    if not _registered:
        atexit.register(_release_all)
        _registered = True
    return path


def release(data_dir: Path, server: str | None = None) -> None:
    """Drop this process's lease(s) on ``server`` (all servers when None)."""
    for path in list(_held):
        if path.parent == _folder(data_dir) and (server is None or path.name.rsplit(".", 1)[0] == server):
            with contextlib.suppress(OSError):
                path.unlink()
            _held.discard(path)


def holders(data_dir: Path, server: str) -> list[int]:
    """Pids of other live processes holding a lease on ``server``; stale leases are removed."""
    found = []
    folder = _folder(data_dir)
    if not folder.is_dir():
        return []
    for path in folder.glob(f"{server}.*"):
        try:
            pid = int(path.name.rsplit(".", 1)[1])
        except ValueError:
            continue
        if pid == os.getpid():
            continue
        if pid_alive(pid):
            found.append(pid)
        else:
            with contextlib.suppress(OSError):
                path.unlink()
    return sorted(found)


def _release_all() -> None:
    for path in list(_held):
        with contextlib.suppress(OSError):
            path.unlink()
    _held.clear()


def _duty(data_dir: Path, server: str) -> Path:
    return _folder(data_dir) / f"stop-when-unused.{server}"


def hand_over(data_dir: Path, server: str, server_pid: int) -> None:
    """Leave stopping ``server`` (running as ``server_pid``) to the last process still using it."""
    path = _duty(data_dir, server)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(str(server_pid))
    tmp.replace(path)


def handed_over(data_dir: Path, server: str) -> int | None:
    """The pid of the ``server`` whose stop was handed over (None: no hand-over)."""
    try:
        return int(_duty(data_dir, server).read_text().strip())
    except (OSError, ValueError):
        return None


def clear_hand_over(data_dir: Path, server: str) -> None:
    """Drop the hand-over of ``server`` (it was stopped, or is not the server it named)."""
    with contextlib.suppress(OSError):
        _duty(data_dir, server).unlink()
