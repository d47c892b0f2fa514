"""Fixtures of the portal tests: a reports directory with traps around it, users, and the portal app
served by a real uvicorn on a free port of 127.0.0.1 (in a thread of the test process)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from portal_data import PASSWORD, SECRET

from workbench.app.accounts import add_user
from workbench.portal import PortalConfig, create_app


@pytest.fixture
def reports_dir(tmp_path: Path) -> Path:
    """reports/ with index.html, a.html, sub/b.html and a hidden file; next to it a secret file, and
    inside symlinks to it and to /etc/passwd."""
    root = tmp_path / "reports"
    (root / "sub").mkdir(parents=True)
    (root / "index.html").write_text("<html><body>INDEX <a href=\"a.html\">a</a></body></html>", encoding="utf-8")
    (root / "a.html").write_text("<html><body>REPORT A</body></html>", encoding="utf-8")
    (root / "sub" / "b.html").write_text("<html><body>REPORT B</body></html>", encoding="utf-8")
    (root / ".hidden.html").write_text(SECRET, encoding="utf-8")
    (tmp_path / "secret.txt").write_text(SECRET, encoding="utf-8")
    (root / "link.html").symlink_to(tmp_path / "secret.txt")
    (root / "sub" / "up").symlink_to(tmp_path)
    (root / "passwd").symlink_to("/etc/passwd")
    return root


@pytest.fixture
def alice(db: Any) -> int:
    return add_user(db, "alice", "alice@example.com", PASSWORD)


@pytest.fixture
def portal(db: Any, redis_cache: Any, reports_dir: Path) -> Iterator[Callable[..., str]]:
    """``portal(**PortalConfig fields)`` starts the portal (on ``reports_dir`` unless given) and returns its
    base URL."""
    import uvicorn

    running: list[tuple[Any, threading.Thread]] = []

    def start(**fields: Any) -> str:
        fields.setdefault("reports_dir", reports_dir)
        app = create_app(db, redis_cache.client, PortalConfig(**fields))
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        assert server.started, "the portal did not start"
        running.append((server, thread))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield start
    for server, thread in running:
        server.should_exit = True
        thread.join(10)
