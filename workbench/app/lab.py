"""``workbench lab``: JupyterLab on the workbench's servers, with a registered ``workbench`` kernel.

It starts (or joins) the servers the configuration names, the embedded default included, and holds a lease
on every embedded one while JupyterLab runs; registers a Jupyter kernel named ``workbench`` (this
interpreter's ipykernel, installed into the user's Jupyter data dir, ``JUPYTER_DATA_DIR`` if set) whose
environment makes ``workbench.connect()`` reach the same servers; and runs JupyterLab in the notebooks
folder until it exits. Then the lease is released, and an embedded server this command started is stopped
unless another process still uses it (like every command).

The kernel's environment names the configured URLs (``WORKBENCH_DATABASE_URL`` / ``WORKBENCH_REDIS_URL``,
also when they came from a ``.env`` file that a kernel in another folder would not read) and always the data
dir (``WORKBENCH_DATA_DIR``): with the embedded default a kernel finds the running embedded servers there
and takes its own lease, so the registered kernel keeps working in later sessions.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Final

from workbench.errors import ServiceError
from workbench.services.config import Settings

__all__ = ["KERNEL_NAME", "install_kernel", "kernel_env", "lab_folder", "run_lab"]

#: the name of the registered kernel (``jupyter kernelspec list``)
KERNEL_NAME: Final = "workbench"
_DISPLAY_NAME: Final = "Python (workbench)"
_DEFAULT_PORT: Final = 8888


def kernel_env(settings: Settings) -> dict[str, str]:
    """The environment of the ``workbench`` kernel: the data dir, and the settings that are not their
    defaults (configured server URLs, cache off, user name, notebooks dir)."""
    env = {"WORKBENCH_DATA_DIR": str(Path(settings.data_dir).expanduser().resolve())}
    if settings.database_url:
        env["WORKBENCH_DATABASE_URL"] = settings.database_url
    if settings.redis_url:
        env["WORKBENCH_REDIS_URL"] = settings.redis_url
    if not settings.cache_enabled:
        env["WORKBENCH_CACHE_ENABLED"] = "false"
    if settings.username != "local":
        env["WORKBENCH_USERNAME"] = settings.username
    if settings.notebooks_dir is not None:
        env["WORKBENCH_NOTEBOOKS_DIR"] = str(Path(settings.notebooks_dir).expanduser().resolve())
    return env


def install_kernel(env: dict[str, str]) -> Path:
    """Register (or update) the ``workbench`` kernel: this interpreter's ipykernel with ``env``, in the user's
    Jupyter data dir (``JUPYTER_DATA_DIR`` if set). Returns the kernelspec's folder."""
    from ipykernel.kernelspec import install

    return Path(install(user=True, kernel_name=KERNEL_NAME, display_name=_DISPLAY_NAME, env=env))


def lab_folder(settings: Settings) -> Path:
    """Where JupyterLab opens: ``WORKBENCH_NOTEBOOKS_DIR`` if set, else the checkout's ``notebooks/``, else the
    working directory (an installed wheel has no checkout)."""
    if settings.notebooks_dir is not None:
        return Path(settings.notebooks_dir).expanduser().resolve()
    shipped = Path(__file__).resolve().parents[2] / "notebooks"
    return shipped if shipped.is_dir() else Path.cwd()


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _port(port: int | None) -> int:
    """``port`` (refused when taken), else 8888 when free, else a free one."""
    if port is not None:
        if not 1 <= port <= 65535:
            raise ServiceError(f"lab: port {port} is not a TCP port (1-65535)")
        if not _free(port):
            raise ServiceError(f"lab: port {port} on 127.0.0.1 is in use; give another with --port")
        return port
    if _free(_DEFAULT_PORT):
        return _DEFAULT_PORT
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_lab(settings: Settings, *, port: int | None = None, open_browser: bool = True,
            log: Callable[[str], None] = print) -> int:
    """Start (or join) the servers, register the ``workbench`` kernel, run JupyterLab on 127.0.0.1 until it
    exits (Ctrl-C or SIGTERM stop it), then release this process's leases and stop what it started that
    nobody else uses. Returns JupyterLab's exit status."""
    from workbench.app.session import connect
    from workbench.services.resolve import finish_embedded

    chosen = _port(port)
    wb = connect(settings)       # the servers, started or joined (leases held), and the schema up to date
    try:
        wb.close()               # the leases stay until the end: JupyterLab's kernels use the servers
        env = kernel_env(settings)
        spec = install_kernel(env)
        folder = lab_folder(settings)
        token = secrets.token_hex(24)
        cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={chosen}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--MappingKernelManager.default_kernel_name={KERNEL_NAME}"]
        if not open_browser:
            cmd.append("--no-browser")
        if hasattr(os, "geteuid") and os.geteuid() == 0:   # a container's root: Jupyter refuses without it
            cmd.append("--allow-root")
        log(f"kernel {KERNEL_NAME!r} registered in {spec}")
        log(f"JupyterLab in {folder}: http://127.0.0.1:{chosen}/lab?token={token}")
        # the server (and a "Python 3" kernel started in it) gets the same settings as the workbench kernel
        proc = subprocess.Popen(cmd, env={**os.environ, **env})
        try:
            return proc.wait()
        except BaseException:    # Ctrl-C or SIGTERM: JupyterLab shuts its kernels down, then this returns
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=10)
            raise
    finally:
        finish_embedded(settings, wb.urls)
