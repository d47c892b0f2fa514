"""The portal over real HTTP (uvicorn on a free port): login, cookies, CSRF, sessions in PostgreSQL and
Redis, logout and disabling revoke at once, expiry, login limits, and no path outside reports/."""

from __future__ import annotations

import hashlib
import re
import socket
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa
from portal_data import PASSWORD, SECRET

from workbench.app.accounts import disable_user, enable_user, set_password
from workbench.portal.files import resolve_report


def _client(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, follow_redirects=False, timeout=30)


def _csrf(page: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    assert m, page
    return m.group(1)


def _login(c: httpx.Client, username: str = "alice", password: str = PASSWORD, next_path: str = "/",
           **headers: str) -> httpx.Response:
    page = c.get("/login", params={"next": next_path})
    assert page.status_code == 200
    return c.post("/login", data={"csrf": _csrf(page.text), "next": next_path, "username": username,
                                  "password": password}, headers=headers)


def _set_cookie(resp: httpx.Response, name: str) -> str:
    headers = [h for h in resp.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(headers) == 1, resp.headers.get_list("set-cookie")
    return headers[0]


def _session_row(db: Any, token: str) -> Any:
    with db.begin() as conn:
        return conn.execute(sa.text("SELECT * FROM user_sessions WHERE session_token = :h"),
                            {"h": hashlib.sha256(token.encode()).hexdigest()}).mappings().one_or_none()


def test_reports_need_a_login_and_the_session_is_stored_hashed(portal: Any, alice: int, db: Any,
                                                               redis_cache: Any, reports_dir: Path) -> None:
    base = portal()
    with _client(base) as c:
        r = c.get("/index.html")
        assert r.status_code == 303 and r.headers["location"] == "/login?next=/index.html"
        page = c.get("/login", params={"next": "/index.html"})
        assert page.status_code == 200
        csrf_cookie = _set_cookie(page, "wb_csrf")
        assert "HttpOnly" in csrf_cookie and "SameSite=strict" in csrf_cookie and "Path=/login" in csrf_cookie
        r = c.post("/login", data={"csrf": _csrf(page.text), "next": "/index.html", "username": "alice",
                                   "password": PASSWORD})
        assert r.status_code == 303 and r.headers["location"] == "/index.html"
        cookie = _set_cookie(r, "wb_session")
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=43200" in cookie
        token = c.cookies["wb_session"]
        r = c.get("/index.html")
        # the index is built for the user: every report they may read (a.html names no run), nothing that
        # leads out of reports/ (link.html)
        assert r.status_code == 200 and re.findall(r'<a href="([^"]+)"', r.text) == ["a.html"]
        assert r.headers["cache-control"] == "no-store"
        assert c.get("/sub/b.html").text == "<html><body>REPORT B</body></html>"
        home = c.get("/")
        assert home.status_code == 200 and '<b id="user">alice</b>' in home.text
    row = _session_row(db, token)
    assert row is not None and row["is_active"] is True and row["user_id"] == alice
    assert row["session_token"] != token and len(row["session_token"]) == 64
    with db.begin() as conn:
        stored = [r[0] for r in conn.execute(sa.text("SELECT session_token FROM user_sessions"))]
        last_login = conn.execute(sa.text("SELECT last_login FROM users WHERE id = :id"), {"id": alice}).scalar()
    assert token not in stored and last_login is not None
    key = f"session:{row['session_token']}"
    ttl = redis_cache.client.pttl(key)
    expected = (row["expires_at"] - row["created_at"]).total_seconds() * 1000
    assert 43_100_000 < ttl <= 43_200_000 and abs(expected - 43_200_000) < 1000
    assert redis_cache.client.smembers(f"user:{alice}:active_sessions") == {row["session_token"].encode()}
    assert redis_cache.client.keys("session:*") == [key.encode()]
    assert token.encode() not in redis_cache.client.get(key) and token.encode() not in key.encode()


def test_logout_revokes_at_once(portal: Any, alice: int, db: Any, redis_cache: Any) -> None:
    base = portal()
    with _client(base) as c:
        assert _login(c).status_code == 303
        token = c.cookies["wb_session"]
        home = c.get("/")
        # no CSRF token: refused, still logged in
        assert c.post("/logout", data={}).status_code == 403
        assert c.get("/a.html").status_code == 200
        r = c.post("/logout", data={"csrf": _csrf(home.text)})
        assert r.status_code == 303 and r.headers["location"] == "/login"
    with _client(base) as replay:
        replay.cookies.set("wb_session", token)
        r = replay.get("/a.html")
        assert r.status_code == 303 and r.headers["location"] == "/login?next=/a.html"
    row = _session_row(db, token)
    assert row["is_active"] is False
    assert redis_cache.client.exists(f"session:{row['session_token']}") == 0
    assert redis_cache.client.smembers(f"user:{alice}:active_sessions") == set()


def test_disabling_a_user_revokes_their_sessions_and_blocks_login(portal: Any, alice: int, db: Any,
                                                                  redis_cache: Any) -> None:
    base = portal()
    clients = [_client(base), _client(base)]
    for c in clients:
        assert _login(c).status_code == 303
        assert c.get("/a.html").status_code == 200
    assert disable_user(db, redis_cache.client, "alice") == 2
    for c in clients:
        assert c.get("/a.html").status_code == 303
        c.close()
    assert redis_cache.client.keys("session:*") == []
    with _client(base) as c:
        r = _login(c)
        assert r.status_code == 401 and "Wrong user name or password." in r.text
        assert "wb_session" not in c.cookies
    enable_user(db, "alice")
    with _client(base) as c:
        assert _login(c).status_code == 303 and c.get("/a.html").status_code == 200
        assert set_password(db, redis_cache.client, "alice", "a new long password") == 1
        assert c.get("/a.html").status_code == 303
        assert _login(c).status_code == 401
        assert _login(c, password="a new long password").status_code == 303


def test_an_expired_session_goes_back_to_the_login_page(portal: Any, alice: int, db: Any, redis_cache: Any) -> None:
    base = portal(session_lifetime=timedelta(seconds=2))
    with _client(base) as c:
        assert _login(c).status_code == 303
        assert c.get("/a.html").status_code == 200
        # Redis flushed (restart): the user_sessions row still vouches for the session until it expires
        redis_cache.client.delete(*redis_cache.client.keys("session:*"))
        assert c.get("/a.html").status_code == 200
        time.sleep(2.2)
        r = c.get("/a.html")
        assert r.status_code == 303 and r.headers["location"] == "/login?next=/a.html"
    with _client(base) as c:
        assert _login(c).status_code == 303
        key = redis_cache.client.keys("session:*")
        assert len(key) == 1 and 0 < redis_cache.client.pttl(key[0]) <= 2000
        time.sleep(2.2)
        assert redis_cache.client.exists(key[0]) == 0       # Redis dropped it (TTL of expires_at)
        assert c.get("/a.html").status_code == 303


def test_login_forms_are_csrf_safe(portal: Any, alice: int) -> None:
    base = portal()
    form = {"username": "alice", "password": PASSWORD, "next": "/"}
    with _client(base) as c:   # no CSRF cookie (a cross-site form post carries none: SameSite=Strict)
        r = c.post("/login", data={**form, "csrf": "x"})
        assert r.status_code == 403 and "wb_session" not in c.cookies
    with _client(base) as c:   # a cookie, but the form's token differs
        c.get("/login")
        r = c.post("/login", data={**form, "csrf": "forged"})
        assert r.status_code == 403 and "wb_session" not in c.cookies
    with _client(base) as c:   # right token, but the browser says the form is from another site
        r = _login(c, **{"Origin": "http://evil.example"})
        assert r.status_code == 403 and "wb_session" not in c.cookies
    with _client(base) as c:   # same origin is fine
        assert _login(c, **{"Origin": base}).status_code == 303
    with _client(base) as c:   # no open redirect after login
        r = _login(c, next_path="//evil.example/x")
        assert r.status_code == 303 and r.headers["location"] == "/"


def test_failed_logins_are_limited_per_user_and_per_address(portal: Any, alice: int, db: Any,
                                                            redis_cache: Any) -> None:
    from workbench.app.accounts import add_user

    add_user(db, "bob", "bob@example.com", PASSWORD)
    base = portal(max_failures_per_user=3, max_failures_per_address=5)
    with _client(base) as c:
        assert [_login(c, password="wrong password").status_code for _ in range(3)] == [401, 401, 401]
        r = _login(c)   # the right password no longer helps
        assert r.status_code == 429 and "Too many failed sign-ins" in r.text
        assert int(redis_cache.client.get("login_failures:user:alice")) == 3
        assert 0 < redis_cache.client.ttl("login_failures:user:alice") <= 900
        # another user from the same address: 2 more failures reach the address's limit of 5
        assert [_login(c, "bob", "wrong password").status_code for _ in range(2)] == [401, 401]
        assert _login(c, "bob").status_code == 429
        assert int(redis_cache.client.get("login_failures:addr:127.0.0.1")) == 5
    assert int(redis_cache.client.get("login_failures:user:bob")) == 2
    redis_cache.client.delete("login_failures:addr:127.0.0.1", "login_failures:user:alice", "login_failures:user:bob")
    with _client(base) as c:
        assert _login(c, "bob", "wrong password").status_code == 401
        assert _login(c, "bob").status_code == 303
        assert redis_cache.client.get("login_failures:user:bob") is None   # a success clears the user's count


def _raw_get(base: str, target: str, token: str) -> tuple[int, bytes]:
    """GET with the request target sent exactly as written (no client-side normalisation of ``..``)."""
    host, port = urlsplit(base).hostname, urlsplit(base).port
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: wb_session={token}\r\n"
                  "Connection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1]), data


#: request targets that try to leave reports/ (dot segments plain and percent-encoded, encoded slashes and
#: backslashes, absolute paths, symlinks out of the directory, hidden files, NUL)
ESCAPES = ["/../secret.txt", "/sub/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
           "/sub/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt", "/sub%2f..%2f..%2fsecret.txt", "//etc/passwd",
           "/%2fetc%2fpasswd", "/%2Fetc/passwd", "/link.html", "/sub/up/secret.txt", "/passwd", "/.hidden.html",
           "/..%5csecret.txt", "/a.html%00.txt", "/sub/./../a.html"]


def test_no_path_outside_the_reports_directory(portal: Any, alice: int) -> None:
    base = portal()
    with _client(base) as c:
        assert _login(c).status_code == 303
        token = c.cookies["wb_session"]
    assert _raw_get(base, "/a.html", token)[0] == 200   # the session works for raw requests
    for target in ESCAPES:
        status, data = _raw_get(base, target, token)
        assert status == 404, (target, data[:300])
        assert SECRET.encode() not in data and b"root:" not in data, target


@pytest.mark.parametrize(("path", "expected"), [
    ("", "index.html"), ("/", "index.html"), ("a.html", "a.html"), ("sub/b.html", "sub/b.html"),
    ("/sub/b.html", "sub/b.html"), ("../secret.txt", None), ("sub/../a.html", None), ("/etc/passwd", None),
    ("//etc/passwd", None), ("link.html", None), ("sub/up/secret.txt", None), ("passwd", None),
    (".hidden.html", None), ("sub", None), ("sub\\..\\a.html", None), ("a.html\0", None),
])
def test_resolve_report(reports_dir: Path, path: str, expected: str | None) -> None:
    got = resolve_report(reports_dir, path)
    assert got == (None if expected is None else (reports_dir / expected).resolve())
