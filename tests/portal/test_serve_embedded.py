"""The embedded default needs no setup for the portal either: with no server configured, `workbench users
add` then `workbench serve` (both starting the embedded PostgreSQL/Redis) serve the reports after a login,
and SIGTERM stops the portal and the servers it started."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CLI = [sys.executable, "-c", "from workbench.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_on_the_embedded_servers_after_users_add(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.update({"WORKBENCH_DATA_DIR": str(tmp_path / "data"), "WORKBENCH_REPORTS_DIR": str(tmp_path / "reports")})
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "index.html").write_text("<html><body>THE INDEX</body></html>", encoding="utf-8")
    added = subprocess.run([*CLI, "users", "add", "alice", "--email", "alice@example.com", "--password-stdin"],
                           input="a long password\n", capture_output=True, text=True, env=env, cwd=tmp_path,
                           timeout=300)
    assert added.returncode == 0 and added.stdout == "user alice added (id 1)\n", added.stderr
    port = _free_port()
    serve = subprocess.Popen([*CLI, "serve", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env, cwd=tmp_path)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 240
        while True:
            try:
                page = httpx.get(base + "/login", timeout=5)
                break
            except httpx.TransportError:
                assert serve.poll() is None, serve.communicate()
                assert time.monotonic() < deadline, "the portal did not start"
                time.sleep(0.5)
        with httpx.Client(base_url=base, timeout=30) as c:
            page = c.get("/login", params={"next": "/index.html"})
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            r = c.post("/login", data={"csrf": csrf, "next": "/index.html", "username": "alice",
                                       "password": "a long password"}, follow_redirects=True)
            # the index is built for the user from the reports there (none)
            assert r.status_code == 200 and re.findall(r"(\d+) report\(s\)", r.text) == ["0"]
    finally:
        serve.send_signal(signal.SIGTERM)
        out, err = serve.communicate(timeout=120)
    assert serve.returncode == 0, err
    # (rich wraps the line at 80 columns when not on a terminal)
    assert " ".join(out.split()) == f"serving {(tmp_path / 'reports').resolve()} at {base}/ (Ctrl-C stops)"
    status = subprocess.run([*CLI, "services", "status"], capture_output=True, text=True, env=env, timeout=120)
    assert status.stdout.splitlines()[1:] == ["postgres: embedded, not running", "redis: embedded, not running"]
