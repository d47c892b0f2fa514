"""Local test servers (fake Bithumb, Telegram, SMTP) on a free port of 127.0.0.1, served from a thread."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar

S = TypeVar("S", bound=socketserver.BaseServer)


class TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def http_server(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    return server


def tcp_server(handler: type[socketserver.BaseRequestHandler]) -> TCPServer:
    return TCPServer(("127.0.0.1", 0), handler)


def port_of(server: socketserver.BaseServer) -> int:
    return int(server.server_address[1])  # type: ignore[index]


@contextmanager
def running(server: S) -> Iterator[S]:
    """``server`` answering from a thread until the block ends, then shut down and closed."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str = "application/json",
         headers: dict[str, str] | None = None) -> None:
    """Answer an HTTP request with ``body``."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    handler.end_headers()
    handler.wfile.write(body)


class QuietHandler(BaseHTTPRequestHandler):
    """An HTTP handler that logs nothing."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server API)
        pass
