"""What the application's functions need of a connected workbench, defined once.

:class:`workbench.app.session.Workbench` is one; research, optimisation, paper trading, reconciliation and
notifications take any object with these three attributes (tests pass small stand-ins).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from workbench.store.cache import FrameCache
    from workbench.store.database import Database

__all__ = ["SessionContext"]


class SessionContext(Protocol):
    """A connected workbench as the application's functions see it: its database, its cache and the
    user the work is done for."""

    @property
    def db(self) -> Database: ...

    @property
    def cache(self) -> FrameCache: ...

    @property
    def user_id(self) -> int: ...
