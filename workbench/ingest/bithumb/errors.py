"""Errors of the Bithumb client: API error bodies, transport failures, unexpected body shapes."""

from __future__ import annotations

from typing import Any

from workbench.errors import WorkbenchError

__all__ = ["BithumbAPIError", "BithumbError", "BithumbHTTPError", "BithumbResponseError"]


class BithumbError(WorkbenchError):
    """Base class of every Bithumb client error.

    Attributes
    ----------
    message : str
        What went wrong (Bithumb's own message where it sent one).
    endpoint : str
        Request path and query, e.g. ``"/public/ticker/BTC_KRW"``.
    status : str or int or None
        Bithumb's error code for API errors (``"5600"``, ``"invalid_parameter"``); the HTTP status
        for HTTP errors; ``None`` when no response was received.
    http_status : int or None
        HTTP status of the response, ``None`` when no response was received.
    """

    def __init__(self, message: str, *, endpoint: str = "?", status: str | int | None = None,
                 http_status: int | None = None) -> None:
        self.message = message
        self.endpoint = endpoint
        self.status = status
        self.http_status = http_status
        super().__init__(self._describe())

    def _describe(self) -> str:
        bits = []
        if self.status is not None and self.status != self.http_status:
            bits.append(f"status {self.status}")
        if self.http_status is not None:
            bits.append(f"HTTP {self.http_status}")
        return f"Bithumb {self.endpoint} -> {', '.join(bits) or self._no_status}: {self.message}"

    #: what the message says where there is no status: only transport errors lack a response
    _no_status = "no response"

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_error, (type(self), self.message, self.endpoint, self.status, self.http_status))


def _rebuild_error(cls: type[BithumbError], message: str, endpoint: str, status: Any,
                   http_status: Any) -> BithumbError:
    return cls(message, endpoint=endpoint, status=status, http_status=http_status)


class BithumbAPIError(BithumbError):
    """Bithumb answered with an error body: legacy ``status != "0000"`` or v1 ``{"error": {...}}``."""


class BithumbHTTPError(BithumbError):
    """Transport failure: non-2xx without an error body, a non-JSON body, or retries exhausted."""


class BithumbResponseError(BithumbError):
    """A successful JSON body whose shape is not what the endpoint documents.

    A response was received (``http_status`` is its status when the client parsed it; a parse
    function called on a body alone has none), so the message never says "no response".
    """

    _no_status = "response received"

