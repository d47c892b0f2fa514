"""The portal's ASGI app (Starlette): login, logout, a home page, and the files of the reports directory
for logged-in users only.

Security: session cookies are HttpOnly and SameSite=Strict (Secure over https); only the sha256 of a
session token is stored (:mod:`workbench.store.sessions`); the login form carries a token that must equal
a cookie (double submit) and the logout form one derived from the session; a POST whose ``Origin`` is
another site is refused; failed logins are limited per user name and per client address
(:class:`~workbench.portal.ratelimit.LoginLimiter`); request paths are resolved by
:func:`~workbench.portal.files.resolve_report`, so nothing outside the reports directory is served.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from workbench.app.accounts import authenticate
from workbench.portal.access import ReportAccess
from workbench.portal.files import INDEX, resolve_report
from workbench.portal.pages import home_page, login_page, message_page, monitor_page, notifications_page
from workbench.portal.ratelimit import LoginLimiter
from workbench.present.formatting import format_pct, format_time_kst
from workbench.present.index import index_page, report_entries
from workbench.store.database import Database
from workbench.store.sessions import SessionInfo, SessionStore, csrf_token

if TYPE_CHECKING:
    import redis

__all__ = ["CSRF_COOKIE", "SESSION_COOKIE", "PortalConfig", "create_app"]

SESSION_COOKIE = "wb_session"
CSRF_COOKIE = "wb_csrf"
_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
            "X-Frame-Options": "SAMEORIGIN"}
_PAGE_HEADERS = {**_HEADERS, "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                                        "form-action 'self'; frame-ancestors 'none'"}


@dataclass(frozen=True)
class PortalConfig:
    """What the portal serves and how: the reports directory, the session lifetime and the login limits."""

    reports_dir: Path
    session_lifetime: timedelta = timedelta(hours=12)
    max_failures_per_user: int = 5
    max_failures_per_address: int = 20
    failure_window_seconds: int = 900
    runs_shown: int = 50
    notifications_shown: int = 100
    #: for the monitoring page (free disk): the data dir and archive location of the settings
    data_dir: Path | None = None
    archive_location: str | None = None


def _safe_next(value: str | None) -> str:
    """A local path to go to after login (anything else: the home page)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _cookie(response: Response, request: Request, name: str, value: str, *, max_age: int | None,
            path: str = "/") -> None:
    response.set_cookie(name, value, max_age=max_age, path=path, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")


def _same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another site (``Origin``)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return origin == f"{request.url.scheme}://{request.headers.get('host', '')}"


async def _form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (the only kind the portal's forms send)."""
    body = (await request.body())[:16_384].decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def create_app(db: Database, redis_client: redis.Redis | None, config: PortalConfig) -> Starlette:
    """The portal app on ``db`` (users, sessions, runs) and ``redis_client`` (sessions, login limits; None:
    PostgreSQL and memory only)."""
    sessions = SessionStore(db, redis_client)
    limiter = LoginLimiter(redis_client, per_user=config.max_failures_per_user,
                           per_address=config.max_failures_per_address, window=config.failure_window_seconds)
    lifetime = int(config.session_lifetime.total_seconds())

    def current(request: Request) -> tuple[str, SessionInfo] | None:
        token = request.cookies.get(SESSION_COOKIE, "")
        info = sessions.get(token) if token else None
        return None if info is None else (token, info)

    def to_login(request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        response = RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303, headers=_HEADERS)
        if request.cookies.get(SESSION_COOKIE):
            response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    def login_form(request: Request, *, error: str | None = None, username: str = "", status: int = 200,
                   next_path: str | None = None) -> Response:
        csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        page = login_page(csrf=csrf, next_path=_safe_next(next_path or request.query_params.get("next")),
                          error=error, username=username)
        response = HTMLResponse(page, status_code=status, headers=_PAGE_HEADERS)
        _cookie(response, request, CSRF_COOKIE, csrf, max_age=None, path="/login")
        return response

    def login_get(request: Request) -> Response:
        if current(request) is not None:
            return RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303, headers=_HEADERS)
        return login_form(request)

    async def login(request: Request) -> Response:
        if request.method == "GET":
            return await run_in_threadpool(login_get, request)
        return await run_in_threadpool(login_post, request, await _form(request))

    def login_post(request: Request, form: dict[str, str]) -> Response:
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not _same_origin(request) or not cookie or not hmac.compare_digest(cookie, form.get("csrf", "")):
            return HTMLResponse(message_page("Refused", "The sign-in form had expired or came from another site; "
                                             "open the sign-in page again."), status_code=403, headers=_PAGE_HEADERS)
        username, password = form.get("username", "").strip(), form.get("password", "")
        next_path = _safe_next(form.get("next"))
        address = request.client.host if request.client else "unknown"
        if limiter.blocked(username, address):
            return login_form(request, error="Too many failed sign-ins; try again later.", username=username,
                              status=429, next_path=next_path)
        account = authenticate(db, username, password)
        if account is None:
            limiter.failed(username, address)
            return login_form(request, error="Wrong user name or password.", username=username, status=401,
                              next_path=next_path)
        limiter.succeeded(username)
        token, _ = sessions.create(account.id, account.username, lifetime=config.session_lifetime,
                                   ip_address=address, user_agent=request.headers.get("user-agent"))
        response = RedirectResponse(next_path, status_code=303, headers=_HEADERS)
        _cookie(response, request, SESSION_COOKIE, token, max_age=lifetime)
        response.delete_cookie(CSRF_COOKIE, path="/login")
        return response

    async def logout(request: Request) -> Response:
        return await run_in_threadpool(logout_post, request, await _form(request))

    def logout_post(request: Request, form: dict[str, str]) -> Response:
        found = current(request)
        if found is None:
            return to_login(request)
        token, _ = found
        if not _same_origin(request) or not hmac.compare_digest(csrf_token(token), form.get("csrf", "")):
            return HTMLResponse(message_page("Refused", "The sign-out form came from another site."),
                                status_code=403, headers=_PAGE_HEADERS)
        sessions.revoke(token)
        response = RedirectResponse("/login", status_code=303, headers=_HEADERS)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    def home(request: Request) -> Response:
        found = current(request)
        if found is None:
            return to_login(request)
        token, info = found
        from workbench.store.runs import list_runs

        frame = list_runs(db, user_id=info.user_id, limit=config.runs_shown)
        runs = [{"id": r.id, "strategy": r.strategy, "symbol": r.symbol, "timeframe": r.timeframe,
                 "total_return": format_pct(r.total_return), "owner": r.owner} for r in frame.itertuples()]
        page = home_page(username=info.username, csrf=csrf_token(token), runs=runs,
                         has_index=resolve_report(config.reports_dir, INDEX) is not None)
        return HTMLResponse(page, headers=_PAGE_HEADERS)

    def monitor(request: Request) -> Response:
        found = current(request)
        if found is None:
            return to_login(request)
        from workbench.app.monitor import snapshot

        data_dir = config.data_dir or config.reports_dir
        report = snapshot(db, redis_client, data_dir=data_dir, archive_location=config.archive_location
                          or str(data_dir / "archive"), reports_dir=config.reports_dir)
        return HTMLResponse(monitor_page(username=found[1].username, csrf=csrf_token(found[0]),
                                         taken_at=f"{report.taken_at:%Y-%m-%d %H:%M:%S} UTC",
                                         sections=report.sections()), headers=_PAGE_HEADERS)

    def notifications(request: Request) -> Response:
        found = current(request)
        if found is None:
            return to_login(request)
        token, info = found
        from workbench.app.notify import list_notifications

        notes = [] if redis_client is None else list_notifications(redis_client, info.user_id,
                                                                    config.notifications_shown)
        rows = [{"time": format_time_kst(n.created, seconds=True), "kind": n.kind, "text": n.text} for n in notes]
        return HTMLResponse(notifications_page(username=info.username, csrf=csrf_token(token), rows=rows,
                                               kept=redis_client is not None), headers=_PAGE_HEADERS)

    def report(request: Request) -> Response:
        found = current(request)
        if found is None:
            return to_login(request)
        target = resolve_report(config.reports_dir, request.path_params["path"])
        access = ReportAccess(db, found[1].user_id)
        if target is not None and target == resolve_report(config.reports_dir, INDEX):
            # the index lists only what this user may read
            entries = access.entries(config.reports_dir, [e for e in report_entries(config.reports_dir)
                                                          if resolve_report(config.reports_dir, str(e["html"]))])
            return HTMLResponse(index_page(entries), headers=_HEADERS)
        if target is None or not access.can_read(target):
            return HTMLResponse(message_page("Not found", "No such report."), status_code=404,
                                headers=_PAGE_HEADERS)
        return FileResponse(target, headers=_HEADERS)

    return Starlette(routes=[
        Route("/", home),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/monitor", monitor),
        Route("/notifications", notifications),
        Route("/{path:path}", report),
    ])

