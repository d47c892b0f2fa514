"""The report portal: ``reports/`` (index and reports) behind a login, served by ``workbench serve``.

:func:`create_app` builds the ASGI app (Starlette); :func:`serve` runs it with uvicorn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["PortalConfig", "create_app", "serve"]

if TYPE_CHECKING:
    from workbench.portal.app import PortalConfig, create_app
    from workbench.portal.server import serve


def __getattr__(name: str) -> object:
    if name in ("PortalConfig", "create_app"):
        from workbench.portal import app

        return getattr(app, name)
    if name == "serve":
        from workbench.portal.server import serve

        return serve
    raise AttributeError(name)
