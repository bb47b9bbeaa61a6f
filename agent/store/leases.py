"""Leases: at most one holder per resource at a time, across processes and hosts.

A lease names a resource (``workspace:acme``, ``profile:/path``, ``device:SERIAL``),
its holder and when it expires. Acquiring is one ``INSERT … ON CONFLICT DO
UPDATE … WHERE expired or already mine`` statement: the unique constraint on
``resource`` decides ties and the database's row lock makes the take-over of an
expired lease atomic, on SQLite and on PostgreSQL alike. A holder that stops
renewing loses the lease when it expires.

Every function takes ``now`` (default: the wall clock), so the caller decides
what time it is: tests drive expiry with a clock of their own, and a device lease
(``agent.device_leases``) passes its injected clock down. The database never
supplies the time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import col, select

from agent.store.engine import Store
from agent.store.items import dialect_insert
from agent.store.models import Lease
from agent.store.types import this_host, utcnow


def acquire_lease(
    store: Store, resource: str, holder: str, ttl_s: float, *, now: datetime | None = None
) -> bool:
    """Take ``resource`` for ``ttl_s`` seconds; True if ``holder`` now holds it.

    Succeeds when the resource is free, its lease has expired, or ``holder``
    already holds it (which extends it). Fails, without waiting, otherwise.
    """
    now = now or utcnow()
    table = Lease.__table__  # type: ignore[attr-defined]
    with store.session() as session:
        stmt = dialect_insert(session, Lease).values(
            resource=resource,
            holder=holder,
            host=this_host(),
            pid=os.getpid(),
            acquired_at=now,
            expires_at=now + timedelta(seconds=ttl_s),
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["resource"],
            set_={
                "holder": stmt.excluded.holder,
                "host": stmt.excluded.host,
                "pid": stmt.excluded.pid,
                "acquired_at": stmt.excluded.acquired_at,
                "expires_at": stmt.excluded.expires_at,
            },
            where=(table.c.expires_at <= now) | (table.c.holder == holder),
        )
        session.execute(stmt)
        current = session.exec(select(Lease.holder).where(Lease.resource == resource)).first()
        return current == holder


def renew_lease(
    store: Store, resource: str, holder: str, ttl_s: float, *, now: datetime | None = None
) -> bool:
    """Extend a lease ``holder`` still holds; False if it expired, was taken or released.

    An expired lease is lost even when nobody has taken it yet: whatever its holder
    did after expiry was unguarded, so it must acquire the resource again.
    """
    now = now or utcnow()
    with store.session() as session:
        stmt = (
            update(Lease)
            .where(
                Lease.resource == resource,  # type: ignore[arg-type]
                Lease.holder == holder,  # type: ignore[arg-type]
                Lease.expires_at > now,  # type: ignore[arg-type]
            )
            .values(expires_at=now + timedelta(seconds=ttl_s))
        )
        result = session.execute(stmt)
        return bool(getattr(result, "rowcount", 0))


def release_lease(store: Store, resource: str, holder: str) -> bool:
    """Give a lease up; False if ``holder`` did not hold it (nothing changes then)."""
    with store.session() as session:
        stmt = delete(Lease).where(
            Lease.resource == resource,  # type: ignore[arg-type]
            Lease.holder == holder,  # type: ignore[arg-type]
        )
        result = session.execute(stmt)
        return bool(getattr(result, "rowcount", 0))


def reclaim_dead_lease(store: Store, resource: str, *, alive: Callable[[int], bool]) -> bool:
    """Free ``resource`` when its holder was a process on this host that no longer exists
    (killed, crashed): waiting for its lease to expire would only idle the device. A holder
    on another host is never judged from here; its lease expires as usual."""
    host = this_host()
    with store.session() as session:
        row = session.exec(select(Lease).where(Lease.resource == resource)).first()
        if row is None or row.host != host or row.pid is None or alive(row.pid):
            return False
        stmt = delete(Lease).where(
            Lease.resource == resource,  # type: ignore[arg-type]
            Lease.holder == row.holder,  # type: ignore[arg-type]
            Lease.pid == row.pid,  # type: ignore[arg-type]
        )
        return bool(getattr(session.execute(stmt), "rowcount", 0))


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True


def lease_holder(store: Store, resource: str, *, now: datetime | None = None) -> Lease | None:
    """The current, unexpired lease on ``resource`` (None if free)."""
    with store.session() as session:
        stmt = select(Lease).where(Lease.resource == resource, Lease.expires_at > (now or utcnow()))
        return session.exec(stmt).first()


def lease_holders(
    store: Store, resources: Iterable[str], *, now: datetime | None = None
) -> dict[str, Lease]:
    """The unexpired leases among ``resources``, by resource (free ones are absent)."""
    wanted = list(resources)
    if not wanted:
        return {}
    with store.session() as session:
        stmt = select(Lease).where(
            col(Lease.resource).in_(wanted), Lease.expires_at > (now or utcnow())
        )
        return {lease.resource: lease for lease in session.exec(stmt)}
