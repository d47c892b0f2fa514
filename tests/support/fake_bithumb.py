"""A scripted stand-in for Bithumb's HTTP API: recorded bodies served over real local HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from local_server import QuietHandler, http_server, port_of, running, send

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bithumb"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"
    disconnect: bool = False   # close the connection without answering


def json_reply(body: Any, status: int = 200, **headers: str) -> Reply:
    return Reply(status, json.dumps(body).encode(), headers)


def fixture_reply(name: str, status: int = 200, **headers: str) -> Reply:
    return Reply(status, (FIXTURES / name).read_bytes(), headers)


class FakeBithumb:
    """Maps request paths to scripted replies; each reply is used once, the last one sticks."""

    def __init__(self) -> None:
        self._routes: dict[str, list[Reply]] = {}
        self._queued: dict[str, list[Reply]] = {}
        self._dynamic: dict[str, Callable[[dict[str, list[str]]], Reply]] = {}
        self._lock = threading.Lock()
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self.url = ""

    def route(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._routes[path] = list(replies)

    def route_fn(self, path: str, fn: Callable[[dict[str, list[str]]], Reply]) -> None:
        """Answer ``path`` with ``fn(query)`` (after any replies queued with :meth:`queue`)."""
        with self._lock:
            self._dynamic[path] = fn

    def queue(self, path: str, *replies: Reply) -> None:
        """One-shot replies for the next requests of ``path`` (errors, rate limits, disconnects)."""
        with self._lock:
            self._queued.setdefault(path, []).extend(replies)

    def reply_for(self, path: str, query: dict[str, list[str]]) -> Reply:
        with self._lock:
            self.requests.append((path, query))
            if self._queued.get(path):
                return self._queued[path].pop(0)
            if path in self._dynamic:
                return self._dynamic[path](query)
            replies = self._routes.get(path)
            if not replies:
                return Reply(404, b"<html><body><h1>404 Not Found</h1></body></html>", {}, "text/html")
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def paths(self) -> list[str]:
        return [p for p, _ in self.requests]


def _handler(fake: FakeBithumb) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            parts = urlsplit(self.path)
            reply = fake.reply_for(parts.path, parse_qs(parts.query))
            if reply.disconnect:
                self.close_connection = True
                return
            send(self, reply.status, reply.body, reply.content_type, reply.headers)

    return Handler


@contextmanager
def serving(fake: FakeBithumb) -> Iterator[FakeBithumb]:
    """``fake`` served over HTTP on a free port of 127.0.0.1 (``fake.url``) until the block ends."""
    with running(http_server(_handler(fake))) as server:
        fake.url = f"http://127.0.0.1:{port_of(server)}"
        yield fake
