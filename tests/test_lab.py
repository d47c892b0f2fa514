"""``workbench lab`` on the embedded default, end to end: it starts the embedded servers, registers the
``workbench`` kernel, serves JupyterLab on the port asked, a kernel started through JupyterLab's REST API
connects to the same PostgreSQL, and when the lab is stopped (SIGTERM) its leases are gone and the servers
it started are stopped.

Everything lives under ``tmp_path``: the data dir (embedded servers), and Jupyter's data, runtime and config
dirs (``JUPYTER_*_DIR``), so the user's own kernels and Jupyter settings are not touched."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from workbench.services.embedded import EmbeddedPostgres, EmbeddedRedis


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _api(port: int, token: str, path: str, method: str = "GET", body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                     headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    return json.loads(text) if text else None


def _run_in_kernel(connection_file: Path, code: str) -> str:
    """What ``code`` printed in the kernel of ``connection_file`` (fails on an error in the kernel)."""
    from jupyter_client import BlockingKernelClient

    client = BlockingKernelClient()
    client.load_connection_file(str(connection_file))
    client.start_channels(hb=False)   # no heartbeat: a client without a kernel manager would call the kernel dead
                                      # until its first beat
    try:
        client.wait_for_ready(timeout=60)
        printed: list[str] = []
        errors: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            if msg["msg_type"] == "stream":
                printed.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                errors.append("\n".join(msg["content"]["traceback"]))

        reply = client.execute_interactive(code, timeout=180, output_hook=hook)
        assert reply["content"]["status"] == "ok" and not errors, errors
        return "".join(printed)
    finally:
        client.stop_channels()


@pytest.mark.slow
def test_lab_on_the_embedded_default(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKBENCH_", "JUPYTER_", "PYTEST_"))}
    env.update({"WORKBENCH_DATA_DIR": str(data), "JUPYTER_DATA_DIR": str(tmp_path / "jupyter-data"),
                "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"),
                "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"), "IPYTHONDIR": str(tmp_path / "ipython"),
                "PYTHONUNBUFFERED": "1"})
    port = _free_port()
    lab = subprocess.Popen([sys.executable, "-c", "from workbench.cli import main; main()", "lab", "--no-browser",
                            "--port", str(port)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                           stderr=(tmp_path / "lab.err").open("w"), text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(lab.stdout.readline, "")), daemon=True).start()  # type: ignore[union-attr]
    try:
        deadline = time.monotonic() + 180
        token = None
        while token is None and time.monotonic() < deadline and lab.poll() is None:
            found = [ln for ln in lines if ln.startswith("JupyterLab in ")]
            token = found[0].strip().rsplit("token=", 1)[1] if found else None
            time.sleep(0.2)
        assert token is not None, f"no URL printed: {lines} {(tmp_path / 'lab.err').read_text()[-3000:]}"
        # the two lines it prints, whole (the token is random)
        notebooks = Path(__file__).resolve().parents[1] / "notebooks"
        assert lines[:2] == [f"kernel 'workbench' registered in {tmp_path / 'jupyter-data' / 'kernels' / 'workbench'}\n",
                             f"JupyterLab in {notebooks}: http://127.0.0.1:{port}/lab?token={token}\n"]
        while True:  # JupyterLab answers
            try:
                version = _api(port, token, "/api")
                break
            except OSError:
                assert time.monotonic() < deadline and lab.poll() is None, (tmp_path / "lab.err").read_text()[-3000:]
                time.sleep(0.5)
        assert "version" in version

        # the embedded servers run, and the lab holds a lease on each
        pg = EmbeddedPostgres(data).running()
        assert pg is not None and EmbeddedRedis(data).running() is not None
        assert sorted(p.name for p in (data / "leases").iterdir()) == [f"postgres.{lab.pid}", f"redis.{lab.pid}"]

        # the registered kernel: this interpreter's ipykernel, with the data dir in its environment
        specs = _api(port, token, "/api/kernelspecs")
        assert specs["default"] == "workbench"
        spec = specs["kernelspecs"]["workbench"]["spec"]
        assert spec["argv"][0] == sys.executable and spec["argv"][-4:] == ["-m", "ipykernel_launcher", "-f",
                                                                            "{connection_file}"]
        assert spec["env"] == {"WORKBENCH_DATA_DIR": str(data)}
        assert spec["display_name"] == "Python (workbench)"

        # a kernel started by JupyterLab: workbench.connect() reaches the lab's PostgreSQL, and takes a lease
        kernel = _api(port, token, "/api/kernels", "POST", {"name": "workbench"})
        connection = tmp_path / "jupyter-runtime" / f"kernel-{kernel['id']}.json"
        for _ in range(100):
            if connection.exists():
                break
            time.sleep(0.1)
        printed = _run_in_kernel(connection, "import os\nimport workbench as wb\nsession = wb.connect()\n"
                                             "print(session.urls.database_url, session.urls.embedded_postgres, "
                                             "os.getpid(), sep='|')\nsession.close()")
        url, embedded, kernel_pid = printed.strip().split("|")
        assert (url, embedded) == (pg.url, "True")
        assert (data / "leases" / f"postgres.{kernel_pid}").exists()
        _api(port, token, f"/api/kernels/{kernel['id']}", "DELETE")
    finally:
        if lab.poll() is None:
            lab.send_signal(signal.SIGTERM)
        code = lab.wait(timeout=90)
    # stopped by SIGTERM, handled like Ctrl-C: typer ends an interrupted command with status 130
    assert code == 130, (tmp_path / "lab.err").read_text()[-3000:]
    # its leases are released, and the servers it started are stopped (nobody else uses them)
    assert sorted(p.name for p in (data / "leases").glob("*.*")) == []
    assert EmbeddedPostgres(data).running() is None and EmbeddedRedis(data).running() is None
