"""Exactly one active scheduler: a PostgreSQL advisory lock, or the store's lease on SQLite.

Every ``inbox-agent run`` tries to become the active scheduler at each tick; the
others stand by. On PostgreSQL the active one holds a session-level advisory lock
on a connection of its own: when its process dies the connection closes and the
database frees the lock, so a standby takes over at its next tick. On SQLite (one
host) it holds the lease ``scheduler`` in the store, heartbeaten; a dead holder on
this host is replaced at once. A standby that takes over plans from the store's
record of planned runs, so no run is planned twice.
"""

from __future__ import annotations

from typing import Protocol

import sqlalchemy as sa

from agent.leases import HeldLease, new_holder, try_hold
from agent.store import Store

ADVISORY_KEY = 0x1B0C_5C4E  # "inbox scheduler": one key per database
LEASE = "scheduler"


class Leadership(Protocol):
    holder: str

    def acquire(self) -> bool:
        """True when this scheduler is (or just became) the active one."""

    def release(self) -> None: ...


class AdvisoryLock:
    """PostgreSQL: ``pg_try_advisory_lock`` held on a dedicated connection."""

    def __init__(self, store: Store, holder: str):
        self.store = store
        self.holder = holder
        self._conn: sa.Connection | None = None

    def acquire(self) -> bool:
        if self._conn is not None:
            try:
                self._conn.execute(sa.text("SELECT 1"))
                return True
            except sa.exc.DBAPIError:  # the connection died: so did the lock
                self._drop()
        conn = self.store.engine.connect()
        try:
            got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY})
            if got.scalar():
                conn.commit()
                self._conn = conn
                return True
        except sa.exc.DBAPIError:
            pass
        conn.close()
        return False

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()
            finally:
                self._conn = None

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                self._conn.close()
            except sa.exc.DBAPIError:
                pass
            self._conn = None


class StoreLease:
    """SQLite (or any store): the lease ``scheduler``, renewed at every tick."""

    def __init__(self, store: Store, holder: str, ttl_s: float):
        self.store = store
        self.holder = holder
        self.ttl_s = ttl_s
        self._lease: HeldLease | None = None

    def acquire(self) -> bool:
        if self._lease is not None:
            if not self._lease.lost:
                return True
            self._lease = None
        self._lease = try_hold(self.store, LEASE, self.holder, ttl_s=self.ttl_s)
        if self._lease is not None:
            self._lease.start_heartbeat()
        return self._lease is not None

    def release(self) -> None:
        if self._lease is not None:
            self._lease.release()
            self._lease = None


def leadership_for(store: Store, *, ttl_s: float = 30.0) -> Leadership:
    holder = new_holder("scheduler")
    if store.dialect == "postgresql":
        return AdvisoryLock(store, holder)
    return StoreLease(store, holder, ttl_s)
