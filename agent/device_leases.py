"""Device leases: at most ``max_sessions`` holders per device, across processes and hosts.

A device with ``max_sessions: N`` has N slots, leased in the store as
``device:ID#0`` … ``device:ID#N-1``. Taking a device takes its first free slot,
each slot tried with the store's one atomic statement (``acquire_lease``), so two
workers never share a slot. The holder renews its lease while it works
(``DeviceLease.renew``, or the background heartbeat); a holder that crashed stops
renewing and its slot is free again once the lease expires.

A holder that lost its lease (it expired before a renew, or the store let another
holder take it) learns it on its next renew: ``renew()`` raises ``LeaseLost``.
The heartbeat thread cannot raise into the worker, so it records the loss, stops,
and calls ``on_lost``; the worker's next ``check()`` or ``renew()`` raises.

When every slot is held, ``lease_device`` follows the device's ``on_busy``:
``skip`` raises ``DeviceBusy`` at once (outcome ``skipped``); ``wait`` polls every
``poll_s`` with the injected ``sleep`` until a slot frees or ``wait_s`` has passed
on the injected clock (outcome ``waited_out``). ``DeviceBusy`` is a
``agent.leases.LeaseHeld``, so a sweep already stops as ``busy`` on it.

Holder names must be unique per holding (put the run id in them): a lease already
held by the same name is simply extended, so two workers sharing a name would share
a slot.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from agent.leases import DEFAULT_TTL_S, HeldLease, LeaseHeld, LeaseLost
from agent.store.engine import Store
from agent.store.leases import (
    acquire_lease,
    lease_holders,
    pid_alive,
    reclaim_dead_lease,
    release_lease,
)
from agent.store.types import utcnow
from devices.models import DeviceEntry

Clock = Callable[[], datetime]
DEFAULT_POLL_S = 2.0

__all__ = [
    "DEFAULT_TTL_S",
    "BusyOutcome",
    "BusyPolicy",
    "DeviceBusy",
    "DeviceLease",
    "LeaseLost",
    "SlotHolder",
    "device_holders",
    "lease_device",
    "slot_resource",
    "slot_resources",
    "try_lease_device",
]


class BusyPolicy(StrEnum):
    """What a sweep does when every slot of its device is leased (``DeviceEntry.on_busy``)."""

    WAIT = "wait"
    SKIP = "skip"


class BusyOutcome(StrEnum):
    """Why ``lease_device`` gave up."""

    SKIPPED = "skipped"  # on_busy: skip, and every slot was held
    WAITED_OUT = "waited_out"  # on_busy: wait, and no slot freed within wait_s


def slot_resource(device_id: str, slot: int) -> str:
    """The store resource of one slot of a device: ``device:ID#SLOT``."""
    return f"device:{device_id}#{slot}"


def slot_resources(device: DeviceEntry) -> list[str]:
    return [slot_resource(device.id, slot) for slot in range(device.max_sessions)]


@dataclass(frozen=True)
class SlotHolder:
    """Who holds one slot of a device now."""

    device: str
    slot: int
    holder: str
    host: str
    pid: int | None
    since: datetime
    expires_at: datetime


class DeviceBusy(LeaseHeld):
    """Every slot of the device is held; ``outcome`` says whether the caller waited."""

    def __init__(
        self, device: str, outcome: BusyOutcome, holders: list[SlotHolder], waited_s: float = 0
    ):
        self.device = device
        self.outcome = outcome
        self.holders = holders
        self.waited_s = waited_s
        who = ", ".join(f"{h.holder} on {h.host}" for h in holders) or "another sweep"
        super().__init__(f"device {device}", who)
        if outcome is BusyOutcome.WAITED_OUT:
            detail = f"no slot freed in {waited_s:g} s"
        else:
            detail = "on_busy: skip"
        self.args = (f"device {device} is in use by {who} ({detail})",)


def device_holders(store: Store, device: DeviceEntry, *, now: Clock = utcnow) -> list[SlotHolder]:
    """The current holders of a device's slots, in slot order (free slots are absent)."""
    held = lease_holders(store, slot_resources(device), now=now())
    out = []
    for slot, resource in enumerate(slot_resources(device)):
        lease = held.get(resource)
        if lease is not None:
            out.append(
                SlotHolder(
                    device.id,
                    slot,
                    lease.holder,
                    lease.host,
                    lease.pid,
                    lease.acquired_at,
                    lease.expires_at,
                )
            )
    return out


class DeviceLease(HeldLease):
    """One held slot of a device. Renew it while working; release it (or leave the
    ``with`` block) when done. Not created directly: see ``try_lease_device``."""

    def __init__(
        self, store: Store, device: str, slot: int, holder: str, ttl_s: float, now: Clock
    ) -> None:
        super().__init__(store, slot_resource(device, slot), holder, ttl_s, now)
        self.device = device
        self.slot = slot


def try_lease_device(
    store: Store,
    device: DeviceEntry,
    holder: str,
    *,
    ttl_s: float = DEFAULT_TTL_S,
    now: Clock = utcnow,
    alive: Callable[[int], bool] = pid_alive,
) -> DeviceLease | None:
    """Take the first free slot of ``device`` for ``holder``; None when every slot is held.
    A slot whose holder was a process on this host that has died is taken at once."""
    for slot, resource in enumerate(slot_resources(device)):
        if acquire_lease(store, resource, holder, ttl_s, now=now()):
            return DeviceLease(store, device.id, slot, holder, ttl_s, now)
    for slot, resource in enumerate(slot_resources(device)):  # a holder here that died
        if reclaim_dead_lease(store, resource, alive=alive) and acquire_lease(
            store, resource, holder, ttl_s, now=now()
        ):
            return DeviceLease(store, device.id, slot, holder, ttl_s, now)
    return None


def lease_device(
    store: Store,
    device: DeviceEntry,
    holder: str,
    *,
    ttl_s: float = DEFAULT_TTL_S,
    on_busy: BusyPolicy | None = None,
    wait_s: float | None = None,
    poll_s: float = DEFAULT_POLL_S,
    now: Clock = utcnow,
    sleep: Callable[[float], None] = time.sleep,
) -> DeviceLease:
    """Take a slot of ``device``, waiting or not as ``on_busy`` says (default: the
    device's own ``on_busy`` and ``wait_s``); raises ``DeviceBusy`` when none is had."""
    policy = on_busy if on_busy is not None else BusyPolicy(device.on_busy)
    limit = device.wait_s if wait_s is None else wait_s
    started = now()
    while True:
        lease = try_lease_device(store, device, holder, ttl_s=ttl_s, now=now)
        if lease is not None:
            return lease
        if policy is BusyPolicy.SKIP:
            raise DeviceBusy(device.id, BusyOutcome.SKIPPED, device_holders(store, device, now=now))
        waited = (now() - started).total_seconds()
        if waited >= limit:
            holders = device_holders(store, device, now=now)
            raise DeviceBusy(device.id, BusyOutcome.WAITED_OUT, holders, waited_s=waited)
        sleep(min(poll_s, limit - waited))


TAKEOVER_TTL_S = 12 * 3600.0  # a person's takeover holds the device until handback (or this)


def takeover_holder(workspace: str, takeover_id: int | None) -> str:
    return f"takeover {workspace} #{takeover_id}"


def hold_for_takeover(
    store: Store, device: DeviceEntry, workspace: str, takeover_id: int | None
) -> DeviceLease | None:
    """A person's takeover holds a slot of the workspace's device, so no sweep of another
    workspace on it runs meanwhile; None when every slot is busy (a sweep is finishing)."""
    return try_lease_device(
        store, device, takeover_holder(workspace, takeover_id), ttl_s=TAKEOVER_TTL_S
    )


def release_takeover(
    store: Store, device: DeviceEntry, workspace: str, takeover_id: int | None
) -> bool:
    """Hand back: free the slot the takeover held (False when it held none)."""
    holder = takeover_holder(workspace, takeover_id)
    return any([release_lease(store, r, holder) for r in slot_resources(device)])
