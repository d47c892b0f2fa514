"""Login sessions: ``user_sessions`` rows and the Redis keys ``session:{hash}`` (TTL until ``expires_at``)
and ``user:{id}:active_sessions`` (the hashes of a user's sessions).

Only the sha256 of a session token is stored, in PostgreSQL and in Redis; the token itself lives in the
browser's cookie. A session is live while its Redis key exists (revoking deletes it at once); when Redis
has no key (flushed, restarted, or no Redis configured) the ``user_sessions`` row decides.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from workbench.store.database import Database
from workbench.store.queries import Q, query

if TYPE_CHECKING:
    import redis

__all__ = ["SessionInfo", "SessionStore", "active_sessions_key", "csrf_token", "session_key", "token_hash"]


def token_hash(token: str) -> str:
    """sha256 (hex) of a session token: what is stored instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(token: str) -> str:
    """The CSRF token of the session ``token`` (derived, so nothing more is stored; unknowable without the
    session cookie)."""
    return hashlib.sha256(b"workbench-csrf\0" + token.encode()).hexdigest()[:40]


def session_key(hashed: str) -> str:
    return f"session:{hashed}"


def active_sessions_key(user_id: int) -> str:
    return f"user:{user_id}:active_sessions"


@dataclass(frozen=True, slots=True)
class SessionInfo:
    session_id: int
    user_id: int
    username: str
    expires_at: datetime


class SessionStore:
    """Create, look up and revoke sessions (``redis_client`` None: PostgreSQL only)."""

    def __init__(self, db: Database, redis_client: redis.Redis | None) -> None:
        self.db = db
        self.redis = redis_client

    def create(self, user_id: int, username: str, *, lifetime: timedelta, ip_address: str | None = None,
               user_agent: str | None = None) -> tuple[str, SessionInfo]:
        """A new session of the user: ``(token for the cookie, session)``."""
        token = secrets.token_urlsafe(32)
        hashed = token_hash(token)
        expires = datetime.now(UTC) + lifetime
        with self.db.begin() as conn:
            sid = int(conn.execute(query(Q.SESSION_INSERT).text, {
                "user_id": user_id, "token_hash": hashed, "expires_at": expires,
                "ip_address": (ip_address or "")[:45] or None, "user_agent": user_agent}).scalar_one())
        info = SessionInfo(sid, user_id, username, expires)
        if self.redis is not None:
            ms = max(1, int(lifetime.total_seconds() * 1000))
            active = active_sessions_key(user_id)
            value = json.dumps({"session_id": sid, "user_id": user_id, "username": username,
                                "expires_at": expires.isoformat()})
            pipe = self.redis.pipeline()
            pipe.set(session_key(hashed), value, px=ms)
            pipe.sadd(active, hashed)
            pipe.execute()
            self._prune(active, ms)
        return token, info

    def _prune(self, active: str, ms: int) -> None:
        """Drop expired sessions from the user's set; keep the set as long as its longest session."""
        assert self.redis is not None
        members = [m.decode() if isinstance(m, bytes) else str(m) for m in self.redis.smembers(active)]
        gone = [m for m in members if not self.redis.exists(session_key(m))]
        if gone:
            self.redis.srem(active, *gone)
        if self.redis.pttl(active) < ms:
            self.redis.pexpire(active, ms)

    def get(self, token: str) -> SessionInfo | None:
        """The live session of ``token``, or None (unknown, expired, revoked, or its user disabled)."""
        if not token:
            return None
        hashed = token_hash(token)
        if self.redis is not None:
            raw = self.redis.get(session_key(hashed))
            if raw is not None:
                data = json.loads(raw)
                expires = datetime.fromisoformat(data["expires_at"])
                if expires > datetime.now(UTC):
                    return SessionInfo(int(data["session_id"]), int(data["user_id"]), str(data["username"]),
                                       expires)
                return None
        with self.db.begin() as conn:
            row = conn.execute(query(Q.SESSION_GET).text, {"token_hash": hashed}).mappings().first()
        if row is None:
            return None
        return SessionInfo(int(row["id"]), int(row["user_id"]), str(row["username"]), row["expires_at"])

    def revoke(self, token: str) -> bool:
        """End the session of ``token`` (logout); False if it was not active."""
        hashed = token_hash(token)
        with self.db.begin() as conn:
            uid = conn.execute(query(Q.SESSION_REVOKE).text, {"token_hash": hashed}).scalar()
        if self.redis is not None:
            self.redis.delete(session_key(hashed))
            if uid is not None:
                self.redis.srem(active_sessions_key(int(uid)), hashed)
        return uid is not None

    def revoke_user(self, user_id: int) -> int:
        """End every session of the user (disabled, or a new password); the number of sessions ended."""
        with self.db.begin() as conn:
            hashes = [str(h) for h in conn.execute(query(Q.SESSION_REVOKE_USER).text,
                                                   {"user_id": user_id}).scalars()]
        if self.redis is not None:
            active = active_sessions_key(user_id)
            members = {m.decode() if isinstance(m, bytes) else str(m) for m in self.redis.smembers(active)}
            keys = [session_key(h) for h in members | set(hashes)]
            if keys:
                self.redis.delete(*keys)
            self.redis.delete(active)
        return len(hashes)
