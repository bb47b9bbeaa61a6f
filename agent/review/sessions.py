"""Web sessions, kept in the store, and presence, kept in the server's memory.

A session is a random 256-bit token in an HttpOnly, SameSite=Strict cookie
(Secure unless the server was started for plain-http localhost testing) that
maps, server-side, to a ``web_sessions`` row: the user id, when the session began,
when it was last used and when it ends. Nothing about the user is in the cookie.

The row holds only the SHA-256 of the token, never the token: someone who can read
the database (or a backup of it) cannot sign in with what they read. The token is 256
random bits, so a fast hash is enough (a slow one such as argon2 protects guessable
passwords; nobody can guess a preimage of 256 random bits). The session's CSRF token is
derived from the cookie's token (an HMAC keyed by it), so it is not stored either, and
knowing it (it is in every page) tells nothing about the cookie.

Because the sessions are in the store, restarting ``inbox-agent serve`` keeps people
signed in, and several ``serve`` processes over one store share them. Signing out
deletes the row; a session ends after ``idle_seconds`` (8 hours) without a request and
``max_seconds`` (24 hours) after sign-in, whichever comes first. ``last_seen`` is
written at most once every ``touch_seconds`` (a minute), not on every request, so the
idle limit is exact to within that.

Presence (who looked at which item, when) stays in memory: it only has to be right for
a few minutes, and a restart forgetting it is harmless.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import col, delete, select, update

from agent.store import Store, WebSessionRow

IDLE_SECONDS = 8 * 3600
MAX_SECONDS = 24 * 3600
TOUCH_SECONDS = 60.0
PRESENCE_SECONDS = 120.0
# Longer than any token this module or ``auth.new_api_token`` makes: anything longer is
# refused before it is hashed.
MAX_TOKEN_LENGTH = 256


def secret_hash(secret: str) -> str:
    """The SHA-256 (hex) under which a session or API token is stored."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def csrf_for(token: str) -> str:
    """The CSRF token of the session whose cookie holds ``token``."""
    mac = hmac.new(token.encode("utf-8"), b"inbox-agent csrf v1", hashlib.sha256)
    return mac.hexdigest()


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@dataclass
class WebSession:
    token: str
    user_id: int
    csrf: str
    created: float
    last_seen: float


@dataclass
class SessionStore:
    """The sessions of the review app, in the store's ``web_sessions`` table.

    ``clock`` gives wall-clock seconds (``time.time``; a test injects its own), since
    the times are kept across restarts. ``store`` is set by ``create_app`` when not
    given.
    """

    store: Store | None = None
    idle_seconds: float = IDLE_SECONDS
    max_seconds: float = MAX_SECONDS
    clock: Callable[[], float] = time.time
    touch_seconds: float = TOUCH_SECONDS

    def _store(self) -> Store:
        if self.store is None:
            raise RuntimeError("this SessionStore has no store (create_app sets one)")
        return self.store

    def now(self) -> datetime:
        """The clock's time as the store keeps times (aware UTC)."""
        return _at(self.clock())

    def create(self, user_id: int) -> WebSession:
        now = self.clock()
        token = secrets.token_urlsafe(32)
        idle_cut = _at(now - self.idle_seconds)
        with self._store().session() as s:
            s.execute(
                delete(WebSessionRow).where(
                    sa.or_(
                        col(WebSessionRow.expires_at) <= _at(now),
                        col(WebSessionRow.last_seen) < idle_cut,
                    )
                )
            )
            s.add(
                WebSessionRow(
                    token_hash=secret_hash(token),
                    user_id=user_id,
                    created_at=_at(now),
                    last_seen=_at(now),
                    expires_at=_at(now + self.max_seconds),
                )
            )
        return WebSession(token, user_id, csrf_for(token), now, now)

    def get(self, token: str | None) -> WebSession | None:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        now = self.clock()
        with self._store().session() as s:
            row = s.exec(
                select(WebSessionRow).where(WebSessionRow.token_hash == secret_hash(token))
            ).first()
            if row is None:
                return None
            created, last_seen = row.created_at.timestamp(), row.last_seen.timestamp()
            if (
                now - last_seen > self.idle_seconds
                or now - created > self.max_seconds
                or now >= row.expires_at.timestamp()
            ):
                s.execute(delete(WebSessionRow).where(col(WebSessionRow.id) == row.id))
                return None
            if now - last_seen >= self.touch_seconds:
                # A statement, not the ORM's flush: a row signed out meanwhile is no error.
                s.execute(
                    update(WebSessionRow)
                    .where(col(WebSessionRow.id) == row.id)
                    .values(last_seen=_at(now))
                )
                last_seen = now
            return WebSession(token, row.user_id, csrf_for(token), created, last_seen)

    def delete(self, token: str | None) -> None:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return
        with self._store().session() as s:
            s.execute(
                delete(WebSessionRow).where(col(WebSessionRow.token_hash) == secret_hash(token))
            )

    def delete_user(self, user_id: int) -> None:
        with self._store().session() as s:
            s.execute(delete(WebSessionRow).where(col(WebSessionRow.user_id) == user_id))


@dataclass
class Presence:
    """Who is looking at which item (for "also viewing"): a page load counts for
    ``window_seconds``; an item page's open live stream (``agent.review.live``) counts
    for as long as it is open, and its closing ends that person's view at once."""

    window_seconds: float = PRESENCE_SECONDS
    clock: Callable[[], float] = time.time
    _views: dict[int, dict[str, float]] = field(default_factory=dict)
    _open: dict[int, dict[str, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def viewed(self, item_id: int, user: str) -> list[tuple[str, float]]:
        """Record a view; returns the *other* viewers with seconds since their view (0 for
        someone whose page is open now)."""
        with self._lock:
            self._views.setdefault(item_id, {})[user] = self.clock()
        return self.others(item_id, user)

    def others(self, item_id: int, user: str) -> list[tuple[str, float]]:
        """Who else is viewing the item: open pages first, then recent views, newest first."""
        now = self.clock()
        with self._lock:
            views = self._views.get(item_id, {})
            for name in [n for n, t in views.items() if now - t > self.window_seconds]:
                del views[name]
            seen = {n: now - t for n, t in views.items()}
            for name in self._open.get(item_id, {}):
                seen[name] = 0.0
        return sorted(((n, ago) for n, ago in seen.items() if n != user), key=lambda v: v[1])

    def opened(self, item_id: int, user: str) -> None:
        """An item page of ``user``'s opened its live stream."""
        with self._lock:
            pages = self._open.setdefault(item_id, {})
            pages[user] = pages.get(user, 0) + 1

    def closed(self, item_id: int, user: str) -> None:
        """That page closed (or went elsewhere): when it was the user's last page on the
        item, they stop viewing it now, not a window later."""
        with self._lock:
            pages = self._open.get(item_id, {})
            left = pages.get(user, 0) - 1
            if left > 0:
                pages[user] = left
                return
            pages.pop(user, None)
            if not pages:
                self._open.pop(item_id, None)
            self._views.get(item_id, {}).pop(user, None)
