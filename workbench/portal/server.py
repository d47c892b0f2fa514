"""``workbench serve``: the portal app under uvicorn until Ctrl-C / SIGTERM."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from workbench.portal.app import PortalConfig, create_app
from workbench.store.database import Database

if TYPE_CHECKING:
    import redis

__all__ = ["serve"]


def serve(db: Database, redis_client: redis.Redis | None, config: PortalConfig, *, host: str = "127.0.0.1",
          port: int = 8765, log: Callable[[str], None] = print) -> None:
    """Serve the portal on ``host:port`` (blocks). The client address used for login limits is the
    socket's peer: no proxy headers are trusted."""
    import uvicorn

    app = create_app(db, redis_client, config)
    log(f"serving {config.reports_dir.resolve()} at http://{host}:{port}/ (Ctrl-C stops)")
    uvicorn.run(app, host=host, port=port, proxy_headers=False, server_header=False, log_level="warning",
                access_log=False)
