"""Web sessions and presence, kept in the server's memory.

A session is a random 256-bit token in an HttpOnly, SameSite=Strict cookie
(Secure unless the server was started for plain-http localhost testing) that
maps, server-side, to the user id and the session's CSRF token. Nothing about
the user is in the cookie, and logging out deletes the server-side entry.

Keeping them in memory (no table, no migration) has two consequences, both
deliberate: restarting ``inbox-agent serve`` logs everyone out, and the server
must run as one process (which ``serve`` does). Presence (who looked at which
item, when) is kept the same way: it only has to be right for a few minutes.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

IDLE_SECONDS = 8 * 3600
MAX_SECONDS = 24 * 3600
PRESENCE_SECONDS = 120.0


@dataclass
class WebSession:
    token: str
    user_id: int
    csrf: str
    created: float
    last_seen: float


@dataclass
class SessionStore:
    idle_seconds: float = IDLE_SECONDS
    max_seconds: float = MAX_SECONDS
    clock: Callable[[], float] = time.monotonic
    _sessions: dict[str, WebSession] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def create(self, user_id: int) -> WebSession:
        now = self.clock()
        session = WebSession(
            secrets.token_urlsafe(32), user_id, secrets.token_urlsafe(32), now, now
        )
        with self._lock:
            self._expire(now)
            self._sessions[session.token] = session
        return session

    def get(self, token: str | None) -> WebSession | None:
        if not token:
            return None
        now = self.clock()
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            if (
                now - session.last_seen > self.idle_seconds
                or now - session.created > self.max_seconds
            ):
                del self._sessions[token]
                return None
            session.last_seen = now
            return session

    def delete(self, token: str | None) -> None:
        with self._lock:
            self._sessions.pop(token or "", None)

    def delete_user(self, user_id: int) -> None:
        with self._lock:
            for token in [t for t, s in self._sessions.items() if s.user_id == user_id]:
                del self._sessions[token]

    def _expire(self, now: float) -> None:
        stale = [
            t
            for t, s in self._sessions.items()
            if now - s.last_seen > self.idle_seconds or now - s.created > self.max_seconds
        ]
        for token in stale:
            del self._sessions[token]


@dataclass
class Presence:
    """Who viewed which item, and when (for "also viewing")."""

    window_seconds: float = PRESENCE_SECONDS
    clock: Callable[[], float] = time.time
    _views: dict[int, dict[str, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def viewed(self, item_id: int, user: str) -> list[tuple[str, float]]:
        """Record a view; returns the *other* recent viewers with seconds since their view."""
        now = self.clock()
        with self._lock:
            views = self._views.setdefault(item_id, {})
            for name in [n for n, t in views.items() if now - t > self.window_seconds]:
                del views[name]
            views[user] = now
            return sorted(((n, now - t) for n, t in views.items() if n != user), key=lambda v: v[1])
