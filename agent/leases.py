"""Held leases: the one lease system for workspaces, profiles, devices and the scheduler.

Every lease is a row of the store's lease table (``agent.store.leases``): a resource
(``workspace:acme``, ``profile:acme-web``, ``device:pixel-1#0``, ``scheduler``), its
holder, the host and process that hold it and when it expires. It works the same
on SQLite (one host) and on a shared PostgreSQL (several hosts).

A ``HeldLease`` is one lease taken: renewed while its holder works (``renew``, or
the heartbeat thread, every third of the ttl), given back when it is done. A holder
that dies stops renewing:

- on the same host its lease is freed at once by the next taker, because its
  process is gone (``reclaim_dead_lease``; what a file lock gave us, without one);
- on another host it is freed when it expires (``ttl_s``, 60 s by default).

A holder that lost its lease (it expired before a renew, or was taken) learns it on
its next ``renew`` or ``check``: ``LeaseLost``. Time comes from an injected clock,
so tests move it instead of sleeping.

Holder names must be unique per holding (put a run id or a random part in them): a
lease already held by the same name is simply extended.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from types import TracebackType

import sqlalchemy as sa

from agent.errors import InboxAgentError
from agent.store.engine import Store
from agent.store.leases import (
    acquire_lease,
    lease_holder,
    pid_alive,
    reclaim_dead_lease,
    release_lease,
    renew_lease,
)
from agent.store.types import this_host, utcnow

Clock = Callable[[], datetime]
DEFAULT_TTL_S = 60.0

__all__ = [
    "DEFAULT_TTL_S",
    "HeldLease",
    "LeaseHeld",
    "LeaseLost",
    "hold",
    "holding",
    "new_holder",
    "profile_resource",
    "workspace_resource",
]


class LeaseHeld(InboxAgentError):
    """Another holder has the resource; ``holder`` says who, when known."""

    def __init__(self, resource: str, holder: str):
        self.resource = resource
        self.holder = holder
        super().__init__(f"{resource} is in use by {holder}")


class LeaseLost(InboxAgentError):
    """The holder no longer holds its lease: it must stop using the resource."""

    def __init__(self, resource: str, holder: str):
        self.resource = resource
        self.holder = holder
        super().__init__(
            f"{holder} lost its lease on {resource} (it expired before it was renewed, or "
            "another holder took it): stop using it"
        )


def workspace_resource(workspace_id: str) -> str:
    return f"workspace:{workspace_id}"


def profile_resource(profile_name: str) -> str:
    return f"profile:{profile_name}"


def new_holder(what: str) -> str:
    """A holder name unique to this holding: what, this process and host, a random part."""
    return f"{what} pid {os.getpid()} on {this_host()} {uuid.uuid4().hex[:8]}"


class HeldLease:
    """One lease held in the store. Not created directly: see ``hold``."""

    def __init__(self, store: Store, resource: str, holder: str, ttl_s: float, now: Clock):
        self.store = store
        self.resource = resource
        self.holder = holder
        self.ttl_s = ttl_s
        self._now = now
        self._lock = threading.Lock()
        self._lost = threading.Event()
        self._released = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.renewals = 0
        self.last_error: Exception | None = None  # the heartbeat's last store error, if any

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    def renew(self) -> None:
        """Extend the lease by ``ttl_s`` from now; raises ``LeaseLost`` if it was lost."""
        with self._lock:
            if self._lost.is_set() or self._released:
                raise LeaseLost(self.resource, self.holder)
            if not renew_lease(self.store, self.resource, self.holder, self.ttl_s, now=self._now()):
                self._lost.set()
                raise LeaseLost(self.resource, self.holder)
            self.renewals += 1

    def check(self) -> None:
        """Raise ``LeaseLost`` if the heartbeat found the lease lost (no store call)."""
        if self._lost.is_set():
            raise LeaseLost(self.resource, self.holder)

    def release(self) -> bool:
        """Stop the heartbeat and give the lease up; False if it was no longer ours."""
        self.stop_heartbeat()
        with self._lock:
            if self._released:
                return False
            self._released = True
            return release_lease(self.store, self.resource, self.holder) and not self.lost

    def start_heartbeat(
        self,
        every_s: float | None = None,
        *,
        on_lost: Callable[[LeaseLost], None] | None = None,
        on_beat: Callable[[], None] | None = None,
    ) -> HeldLease:
        """Renew every ``every_s`` seconds (default: a third of the ttl) in a daemon thread.

        A store error is kept in ``last_error`` and retried at the next beat (the lease
        holds until it expires); a lost lease stops the thread and calls ``on_lost``.
        ``on_beat`` is called after every renewal that kept the lease.
        """
        if self._thread is not None:
            return self
        interval = every_s if every_s is not None else self.ttl_s / 3

        def beat() -> None:
            while not self._stop.wait(interval):
                try:
                    self.renew()
                except LeaseLost as exc:
                    if on_lost is not None and not self._stop.is_set():
                        on_lost(exc)
                    return
                except sa.exc.SQLAlchemyError as exc:
                    self.last_error = exc
                    continue
                if on_beat is not None:
                    on_beat()

        self._thread = threading.Thread(target=beat, name=f"lease {self.resource}", daemon=True)
        self._thread.start()
        return self

    def stop_heartbeat(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def __enter__(self) -> HeldLease:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def try_hold(
    store: Store,
    resource: str,
    holder: str,
    *,
    ttl_s: float = DEFAULT_TTL_S,
    now: Clock = utcnow,
    alive: Callable[[int], bool] = pid_alive,
) -> HeldLease | None:
    """Take ``resource`` for ``holder``, or None when someone else holds it. A lease whose
    holder was a process on this host that has died is taken at once."""
    if acquire_lease(store, resource, holder, ttl_s, now=now()):
        return HeldLease(store, resource, holder, ttl_s, now)
    if reclaim_dead_lease(store, resource, alive=alive) and acquire_lease(
        store, resource, holder, ttl_s, now=now()
    ):
        return HeldLease(store, resource, holder, ttl_s, now)
    return None


def hold(
    store: Store,
    resource: str,
    holder: str,
    *,
    ttl_s: float = DEFAULT_TTL_S,
    now: Clock = utcnow,
    alive: Callable[[int], bool] = pid_alive,
) -> HeldLease:
    """Take ``resource`` for ``holder`` or raise ``LeaseHeld`` naming who has it."""
    lease = try_hold(store, resource, holder, ttl_s=ttl_s, now=now, alive=alive)
    if lease is not None:
        return lease
    current = lease_holder(store, resource, now=now())
    who = f"{current.holder}" if current is not None else "another holder"
    raise LeaseHeld(resource, who)


@contextmanager
def holding(
    store: Store,
    resources: list[str],
    holder: str,
    *,
    ttl_s: float = DEFAULT_TTL_S,
    now: Clock = utcnow,
    on_lost: Callable[[LeaseLost], None] | None = None,
) -> Iterator[list[HeldLease]]:
    """Hold every one of ``resources`` (in order, heartbeaten) for the block, or raise
    ``LeaseHeld`` having taken none of them; all are given back when the block ends."""
    with ExitStack() as stack:
        held = []
        for resource in resources:
            lease = stack.enter_context(hold(store, resource, holder, ttl_s=ttl_s, now=now))
            lease.start_heartbeat(on_lost=on_lost)
            held.append(lease)
        yield held
