"""``workbench serve``: the portal app under uvicorn until Ctrl-C / SIGTERM."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

from workbench.errors import ServiceError, ValidationError
from workbench.portal.app import PortalConfig, create_app
from workbench.store.database import Database

if TYPE_CHECKING:
    import redis

__all__ = ["listen", "serve"]


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (checked before anything else starts)."""
    if not host.strip():
        raise ValidationError("--host must be an address or name of this machine (got '')")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (OSError, UnicodeError):
        raise ValidationError(f"--host {host[:60]!r} is not an address or name of this machine") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as err:
        sock.close()
        raise ServiceError(f"cannot listen on {host}:{port}: {err.strerror}") from None
    return sock


def serve(db: Database, redis_client: redis.Redis | None, config: PortalConfig, sock: socket.socket, *,
          log: Callable[[str], None] = print) -> None:
    """Serve the portal on the bound ``sock`` (blocks). The client address used for login limits is the
    socket's peer: no proxy headers are trusted."""
    import uvicorn

    app = create_app(db, redis_client, config)
    host, port = sock.getsockname()[:2]
    log(f"serving {config.reports_dir.resolve()} at http://{host}:{port}/ (Ctrl-C stops)")
    server = uvicorn.Server(uvicorn.Config(app, proxy_headers=False, server_header=False, log_level="warning",
                                           access_log=False, lifespan="off"))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:   # Ctrl-C or SIGTERM, re-raised by uvicorn after its graceful shutdown
        pass
