"""People: argon2 password hashes, roles, per-workspace grants, login rate limiting,
and personal API tokens.

Passwords are hashed with argon2id (argon2-cffi's defaults) and never stored or
logged in clear. Roles are ordered viewer < reviewer < approver < admin; an admin
sees every workspace, anyone else only the workspaces granted to them. An API token
acts as its user (that user's role and grants, never more); only its SHA-256 is kept.
"""

from __future__ import annotations

import functools
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, select, update

from agent.review.errors import NotFound, ReviewError
from agent.review.sessions import MAX_TOKEN_LENGTH, secret_hash
from agent.store import ApiToken, Grant, Role, User, utcnow

ROLE_RANK: dict[str, int] = {
    Role.VIEWER.value: 0,
    Role.REVIEWER.value: 1,
    Role.APPROVER.value: 2,
    Role.ADMIN.value: 3,
}
MIN_PASSWORD_LENGTH = 8
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so a wrong name costs as much as a
    wrong password. Hashed on first use, not at import (the CLI starts without paying for
    it); ``authenticate`` asks for it before looking the user up, so the first sign-in
    pays for it whether the name exists or not."""
    return _hasher.hash("not a password of anyone")


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ReviewError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def has_role(user: User, role: str) -> bool:
    """True when ``user``'s role is ``role`` or above."""
    return ROLE_RANK.get(user.role, -1) >= ROLE_RANK[role]


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ReviewError(f"bad user name {name!r}: use 1-64 letters, digits, '.', '_', '@' or '-'")
    return name


def check_role(role: str) -> str:
    if role not in ROLE_RANK:
        raise ReviewError(f"unknown role {role!r} (known: {', '.join(ROLE_RANK)})")
    return role


def get_user(session: Session, name: str) -> User | None:
    return session.exec(select(User).where(User.name == name)).first()


def require_user(session: Session, name: str) -> User:
    user = get_user(session, name)
    if user is None:
        raise NotFound(f"no user {name!r} (add one with `inbox-agent users add`)")
    if user.disabled:
        raise ReviewError(f"user {name!r} is disabled")
    return user


def add_user(session: Session, name: str, role: str, password: str) -> User:
    check_name(name)
    check_role(role)
    if get_user(session, name) is not None:
        raise ReviewError(f"user {name!r} exists already")
    user = User(name=name, role=role, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The enabled user with this name and password, else None (same cost either way)."""
    dummy = _dummy_hash()
    user = get_user(session, name) if _NAME.fullmatch(name) else None
    if user is None or user.disabled:
        verify_password(dummy, password)
        return None
    return user if verify_password(user.password_hash, password) else None


def grant(session: Session, user: User, workspace: str) -> bool:
    """Grant ``workspace`` to ``user``; False when it was granted already."""
    exists = session.exec(
        select(Grant).where(Grant.user_id == user.id, Grant.workspace == workspace)
    ).first()
    if exists is not None:
        return False
    assert user.id is not None
    session.add(Grant(user_id=user.id, workspace=workspace))
    session.flush()
    return True


def revoke(session: Session, user: User, workspace: str) -> bool:
    row = session.exec(
        select(Grant).where(Grant.user_id == user.id, Grant.workspace == workspace)
    ).first()
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def granted_workspaces(session: Session, user: User) -> set[str]:
    rows = session.exec(select(Grant.workspace).where(Grant.user_id == user.id)).all()
    return set(rows)


def require_visible(visible: set[str] | None, workspace: str | None) -> None:
    """A workspace filter the user may not see is a 404, as if it did not exist."""
    if workspace and visible is not None and workspace not in visible:
        raise NotFound(f"no workspace {workspace!r}")


def visible_workspaces(session: Session, user: User) -> set[str] | None:
    """The workspaces ``user`` may see; None means all of them (admin)."""
    if has_role(user, Role.ADMIN.value):
        return None
    return granted_workspaces(session, user)


def can_see(session: Session, user: User, workspace: str) -> bool:
    visible = visible_workspaces(session, user)
    return visible is None or workspace in visible


def list_users(session: Session) -> list[tuple[User, list[str]]]:
    users = session.exec(select(User).order_by(col(User.name))).all()
    grants = session.exec(select(Grant)).all()
    by_user: dict[int, list[str]] = {}
    for g in grants:
        by_user.setdefault(g.user_id, []).append(g.workspace)
    return [(u, sorted(by_user.get(u.id or -1, []))) for u in users]


@dataclass
class _Failures:
    count: int = 0
    locked_until: float = 0.0
    last: float = 0.0


@dataclass
class LoginLimiter:
    """Limits on password checks, per user name and address, per address, and in total.

    * a (user name, address) pair is locked for ``lock_seconds`` (60) after
      ``max_failures`` (5) failures; signing in resets it;
    * an address is locked for ``address_lock_seconds`` (300) after
      ``address_max_failures`` (20) failures under any user names, counted until it has
      been quiet for that long (success under one name does not reset it);
    * all addresses together get ``global_per_second`` (2) password checks a second, with
      bursts of up to ``global_burst`` (30): a flood of different names from many
      addresses is slowed to that rate, and each argon2 check it forces is paid for.

    In memory: a restart forgets the counters, which only errs towards one more round
    of guesses. At most ``max_tracked`` names and addresses are remembered (the oldest
    unlocked ones are forgotten first).
    """

    max_failures: int = 5
    lock_seconds: float = 60.0
    clock: Callable[[], float] = time.monotonic
    address_max_failures: int = 20
    address_lock_seconds: float = 300.0
    global_per_second: float = 2.0
    global_burst: int = 30
    max_tracked: int = 10_000
    _state: dict[tuple[str, str], _Failures] = field(default_factory=dict)
    _addresses: dict[str, _Failures] = field(default_factory=dict)
    _tokens: float | None = None
    _refilled: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def locked_for(self, username: str, address: str) -> float:
        """Seconds until this pair may try again (0 when it may try now)."""
        with self._lock:
            return self._locked(username, address, self.clock())

    def _locked(self, username: str, address: str, now: float) -> float:
        waits = [0.0]
        for entry in (self._state.get((username.lower(), address)), self._addresses.get(address)):
            if entry is not None:
                waits.append(entry.locked_until - now)
        return max(waits)

    def admit(self, username: str, address: str) -> tuple[float, str]:
        """May this attempt have its password checked now? ``(0, "")`` when it may (and
        it is counted against the global rate), else the seconds to wait and why."""
        with self._lock:
            now = self.clock()
            wait = self._locked(username, address, now)
            if wait > 0:
                return wait, "failed"
            if self._tokens is None:
                self._tokens, self._refilled = float(self.global_burst), now
            elapsed = max(0.0, now - self._refilled)
            self._tokens = min(
                float(self.global_burst), self._tokens + elapsed * self.global_per_second
            )
            self._refilled = now
            if self._tokens < 1:
                return (1 - self._tokens) / self.global_per_second, "busy"
            self._tokens -= 1
            return 0.0, ""

    def failed(self, username: str, address: str) -> None:
        with self._lock:
            now = self.clock()
            key = (username.lower(), address)
            entry = self._state.setdefault(key, _Failures())
            if entry.locked_until and entry.locked_until <= now:
                entry.count, entry.locked_until = 0, 0.0
            entry.count += 1
            entry.last = now
            if entry.count >= self.max_failures:
                entry.locked_until = now + self.lock_seconds
            by_address = self._addresses.setdefault(address, _Failures())
            quiet = now - by_address.last >= self.address_lock_seconds
            if (by_address.locked_until and by_address.locked_until <= now) or quiet:
                by_address.count, by_address.locked_until = 0, 0.0
            by_address.count += 1
            by_address.last = now
            if by_address.count >= self.address_max_failures:
                by_address.locked_until = now + self.address_lock_seconds
            self._prune(now)

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._state.pop((username.lower(), address), None)

    def _prune(self, now: float) -> None:
        _forget_oldest(self._state, self.max_tracked, now)
        _forget_oldest(self._addresses, self.max_tracked, now)


K = TypeVar("K")


def _forget_oldest(table: dict[K, _Failures], keep: int, now: float) -> None:
    """Drop entries beyond ``keep``: unlocked ones first, the longest quiet first."""
    if len(table) <= keep:
        return
    by_age = sorted(table, key=lambda k: (table[k].locked_until > now, table[k].last))
    for key in by_age[: len(table) - keep]:
        del table[key]


# -- personal API tokens --------------------------------------------------------------

API_TOKEN_PREFIX = "ia_"  # noqa: S105 (what every token starts with, not a secret)
SHOWN_PREFIX = len(API_TOKEN_PREFIX) + 8  # "ia_" and 8 characters: enough to tell tokens apart
MAX_TOKEN_DAYS = 3650
_TOKEN_NAME = re.compile(r"[^\x00-\x1f\x7f]{1,100}")
# ``last_used_at`` is written at most this often, not on every request.
TOKEN_TOUCH = timedelta(seconds=60)


def check_token_name(name: str) -> str:
    name = name.strip()
    if not _TOKEN_NAME.fullmatch(name) or not name.isprintable():
        raise ReviewError("a token's name is 1-100 printable characters (what the script is for)")
    return name


def new_api_token(
    session: Session,
    user: User,
    name: str,
    *,
    expires_days: int | None = None,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token for ``user``: its row, and the token itself (shown once, never stored).

    The token is 256 random bits, so the row keeps a plain SHA-256 of it: a slow hash
    (argon2, as for passwords) protects secrets people choose and attackers can guess;
    no one can find a preimage of 256 random bits, and a slow hash would cost half a
    second of CPU on every API request.
    """
    name = check_token_name(name)
    if expires_days is not None and not 1 <= expires_days <= MAX_TOKEN_DAYS:
        raise ReviewError(f"--expires-days must be 1 to {MAX_TOKEN_DAYS}")
    if user.disabled:
        raise ReviewError(f"user {user.name!r} is disabled")
    assert user.id is not None
    now = now or utcnow()
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=secret_hash(token),
        prefix=token[:SHOWN_PREFIX],
        created_at=now,
        expires_at=now + timedelta(days=expires_days) if expires_days is not None else None,
    )
    session.add(row)
    session.flush()
    return row, token


def list_api_tokens(session: Session, user: User | None = None) -> list[tuple[ApiToken, str]]:
    """Tokens (with their user's name), oldest first; only ``user``'s when given."""
    query = select(ApiToken, User.name).join(User, col(User.id) == col(ApiToken.user_id))
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    rows = session.exec(query.order_by(col(ApiToken.id))).all()
    return [(token, name) for token, name in rows]


def revoke_api_token(session: Session, token_id: int, *, now: datetime | None = None) -> bool:
    """Revoke a token; False when it was revoked already. Its requests stop at once."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no API token {token_id} (see `inbox-agent users token list`)")
    if row.revoked_at is not None:
        return False
    row.revoked_at = now or utcnow()
    session.add(row)
    session.flush()
    return True


def token_state(row: ApiToken, now: datetime) -> str:
    """``active``, ``revoked`` or ``expired``."""
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    return "active"


def api_token_user(session: Session, token: str, now: datetime) -> tuple[User, ApiToken] | None:
    """The enabled user of a valid (known, unrevoked, unexpired) API token, else None."""
    if not token.startswith(API_TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == secret_hash(token))).first()
    if row is None or token_state(row, now) != "active":
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    if row.last_used_at is None or now - row.last_used_at >= TOKEN_TOUCH:
        # A statement, not the ORM's flush: a token revoked meanwhile is no error.
        session.execute(update(ApiToken).where(col(ApiToken.id) == row.id).values(last_used_at=now))
    return user, row
