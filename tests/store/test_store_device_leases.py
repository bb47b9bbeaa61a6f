"""Device leases: slots per max_sessions, renewal and loss, busy policies, processes racing,
and a SIGKILLed holder's slot freed by expiry. Time is a clock the tests move."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import queue as queue_mod
import signal
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from agent.device_leases import (
    BusyOutcome,
    BusyPolicy,
    DeviceBusy,
    LeaseLost,
    device_holders,
    lease_device,
    slot_resource,
    try_lease_device,
)
from agent.leases import LeaseHeld
from agent.store import Store, open_store
from agent.store.leases import lease_holder
from agent.store.types import utcnow
from devices.models import DeviceEntry

T0 = datetime(2030, 5, 1, 12, 0, tzinfo=utcnow().tzinfo)


class Clock:
    """A clock the test moves; read from the heartbeat thread too."""

    def __init__(self, start: datetime = T0) -> None:
        self._t = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._t

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._t += timedelta(seconds=seconds)


def phone(device_id: str = "pixel-1", **extra: object) -> DeviceEntry:
    return DeviceEntry.model_validate(
        {"id": device_id, "driver": "uiautomator2", "serial": "S1", **extra}
    )


def test_a_device_has_one_slot_per_session_and_the_first_free_one_is_taken(store: Store) -> None:
    clock = Clock()
    device = phone(max_sessions=2)
    a = try_lease_device(store, device, "sweep-a", now=clock)
    b = try_lease_device(store, device, "sweep-b", now=clock)
    assert a is not None and b is not None
    assert (a.resource, b.resource) == ("device:pixel-1#0", "device:pixel-1#1")
    assert try_lease_device(store, device, "sweep-c", now=clock) is None
    holders = device_holders(store, device, now=clock)
    assert [(h.slot, h.holder, h.pid) for h in holders] == [
        (0, "sweep-a", os.getpid()),
        (1, "sweep-b", os.getpid()),
    ]
    assert holders[0].since == T0 and holders[0].expires_at == T0 + timedelta(seconds=60)
    assert a.release()
    c = try_lease_device(store, device, "sweep-c", now=clock)
    assert c is not None and c.slot == 0
    other = try_lease_device(store, phone("pixel-2"), "sweep-a", now=clock)
    assert other is not None and other.resource == slot_resource("pixel-2", 0)


def test_renewing_keeps_the_slot_and_a_lapsed_holder_learns_it_lost_it(store: Store) -> None:
    clock = Clock()
    device = phone()
    a = try_lease_device(store, device, "sweep-a", ttl_s=60, now=clock)
    assert a is not None
    clock.advance(50)
    a.renew()  # now held until T0+110
    clock.advance(50)
    assert try_lease_device(store, device, "sweep-b", now=clock) is None
    clock.advance(11)  # T0+111: expired
    b = try_lease_device(store, device, "sweep-b", now=clock)
    assert b is not None
    with pytest.raises(LeaseLost, match="sweep-a lost its lease on device:pixel-1#0"):
        a.renew()
    assert a.lost
    with pytest.raises(LeaseLost):
        a.check()
    assert not a.release()  # b's slot is untouched
    held = lease_holder(store, b.resource, now=clock())
    assert held is not None and held.holder == "sweep-b"


def test_an_expired_lease_is_lost_even_if_nobody_took_it(store: Store) -> None:
    clock = Clock()
    a = try_lease_device(store, phone(), "sweep-a", ttl_s=60, now=clock)
    assert a is not None
    clock.advance(61)
    with pytest.raises(LeaseLost):
        a.renew()
    assert device_holders(store, phone(), now=clock) == []


def test_the_with_block_releases(store: Store) -> None:
    clock = Clock()
    with lease_device(store, phone(), "sweep-a", now=clock) as lease:
        assert device_holders(store, phone(), now=clock)[0].holder == "sweep-a"
        lease.renew()
    assert device_holders(store, phone(), now=clock) == []
    with pytest.raises(LeaseLost):
        lease.renew()  # a released lease is not renewed back into existence


def _never_sleep(seconds: float) -> None:
    raise AssertionError(f"slept {seconds} s")


def test_skip_policy_reports_busy_at_once_naming_the_holder(store: Store) -> None:
    clock = Clock()
    device = phone(on_busy="skip")
    assert try_lease_device(store, device, "sweep-a run 1", now=clock) is not None
    with pytest.raises(DeviceBusy) as caught:
        lease_device(store, device, "sweep-b", now=clock, sleep=_never_sleep)
    busy = caught.value
    assert isinstance(busy, LeaseHeld)  # the sweep stops as busy on it
    assert busy.outcome is BusyOutcome.SKIPPED and busy.device == "pixel-1"
    assert [h.holder for h in busy.holders] == ["sweep-a run 1"]
    assert "device pixel-1 is in use by sweep-a run 1 on " in str(busy)
    assert "on_busy: skip" in str(busy)


def test_wait_policy_polls_until_a_slot_frees(store: Store) -> None:
    clock = Clock()
    device = phone(on_busy="wait", wait_s=30)
    first = try_lease_device(store, device, "sweep-a", now=clock)
    assert first is not None
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)
        if len(slept) == 3:
            first.release()

    lease = lease_device(store, device, "sweep-b", poll_s=2, now=clock, sleep=sleep)
    assert slept == [2, 2, 2]
    assert lease.holder == "sweep-b" and lease.slot == 0


def test_wait_policy_gives_up_after_wait_s_on_the_injected_clock(store: Store) -> None:
    clock = Clock()
    device = phone(on_busy="wait", wait_s=5)
    assert try_lease_device(store, device, "sweep-a", ttl_s=600, now=clock) is not None
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)

    with pytest.raises(DeviceBusy) as caught:
        lease_device(store, device, "sweep-b", poll_s=2, now=clock, sleep=sleep)
    assert slept == [2, 2, 1]
    assert caught.value.outcome is BusyOutcome.WAITED_OUT and caught.value.waited_s == 5
    assert "no slot freed in 5 s" in str(caught.value)
    # the call's own policy overrides the device's
    with pytest.raises(DeviceBusy) as skipped:
        lease_device(store, device, "sweep-c", on_busy=BusyPolicy.SKIP, now=clock, sleep=sleep)
    assert skipped.value.outcome is BusyOutcome.SKIPPED and len(slept) == 3


def test_the_heartbeat_renews_and_reports_a_lost_lease(store: Store) -> None:
    clock = Clock()
    device = phone()
    lease = try_lease_device(store, device, "sweep-a", ttl_s=60, now=clock)
    assert lease is not None
    beats: queue_mod.Queue[int] = queue_mod.Queue()
    lost: queue_mod.Queue[LeaseLost] = queue_mod.Queue()
    lease.start_heartbeat(0.01, on_lost=lost.put, on_beat=lambda: beats.put(lease.renewals))
    clock.advance(50)
    while not beats.empty():
        beats.get_nowait()
    beats.get(timeout=10)
    beats.get(timeout=10)  # this beat began after the clock moved: held until T0+110
    clock.advance(50)
    assert try_lease_device(store, device, "sweep-b", now=clock) is None
    clock.advance(1000)  # the next beat finds the lease expired
    error = lost.get(timeout=10)
    assert error.resource == "device:pixel-1#0"
    assert lease.lost
    with pytest.raises(LeaseLost):
        lease.check()
    assert try_lease_device(store, device, "sweep-b", now=clock) is not None
    assert not lease.release()


# -- processes ---------------------------------------------------------------------------

DEVICES = [phone(f"dev-{n}") for n in range(3)]
ROUNDS = 4


def _record(path: str, line: str) -> None:
    """Append one line to the shared record; the flock orders the appends."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(line + "\n")
        handle.flush()


def _compete(url: str, index: int, record: str, barrier) -> None:  # type: ignore[no-untyped-def]
    with open_store(url) as store:
        barrier.wait(timeout=60)
        for round_ in range(ROUNDS):
            device = DEVICES[(index + round_) % len(DEVICES)]
            holder = f"p{index}-r{round_}"
            lease = lease_device(
                store, device, holder, on_busy=BusyPolicy.WAIT, wait_s=120, poll_s=0.005
            )
            _record(record, f"take {device.id} {holder}")
            lease.renew()  # raises if another process took the slot meanwhile
            _record(record, f"drop {device.id} {holder}")
            assert lease.release()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_eight_processes_never_hold_one_device_at_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'leases.db'}"
    else:
        url = request.getfixturevalue("fresh_postgres")()
    with open_store(url):
        pass  # migrated once, before the processes start
    record = tmp_path / "record.txt"
    record.touch()
    ctx = multiprocessing.get_context("fork")
    n = 8
    barrier = ctx.Barrier(n)
    procs = [ctx.Process(target=_compete, args=(url, i, str(record), barrier)) for i in range(n)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in procs] == [0] * n
    lines = record.read_text().splitlines()
    assert len(lines) == 2 * n * ROUNDS
    holding: dict[str, str | None] = {d.id: None for d in DEVICES}
    for line in lines:
        event, device, holder = line.split()
        if event == "take":
            assert holding[device] is None, (
                f"{holder} took {device} while {holding[device]} held it"
            )
            holding[device] = holder
        else:
            assert holding[device] == holder
            holding[device] = None
    assert holding == {d.id: None for d in DEVICES}


def _hold_until_killed(url: str, start: datetime, ready) -> None:  # type: ignore[no-untyped-def]
    with open_store(url) as store:
        lease = lease_device(store, phone(), "doomed", ttl_s=60, now=lambda: start)
        ready.put((lease.resource, os.getpid()))
        threading.Event().wait()  # until SIGKILL


def test_a_killed_holders_device_is_free_once_its_lease_expires(db_url: str) -> None:
    with open_store(db_url):
        pass
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Queue()
    proc = ctx.Process(target=_hold_until_killed, args=(db_url, T0, ready))
    proc.start()
    try:
        resource, pid = ready.get(timeout=60)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(timeout=30)
    assert proc.exitcode == -signal.SIGKILL and resource == "device:pixel-1#0"
    clock = Clock(T0)
    with open_store(db_url) as store:
        clock.advance(59)
        assert [(h.holder, h.pid) for h in device_holders(store, phone(), now=clock)] == [
            ("doomed", pid)
        ]
        # Judged as if from another host (the holder's liveness cannot be seen): expiry.
        unknown = lambda pid: True  # noqa: E731
        assert try_lease_device(store, phone(), "next", now=clock, alive=unknown) is None
        clock.advance(1)  # T0+60: the dead holder's lease has expired
        lease = try_lease_device(store, phone(), "next", now=clock, alive=unknown)
        assert lease is not None and lease.resource == resource


def test_a_dead_holder_on_this_host_frees_its_device_at_once(db_url: str) -> None:
    """No idle minute after a crash here: the holder's process is gone, so its slot is
    taken at once, and a live holder's slot never is."""
    with open_store(db_url):
        pass
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Queue()
    proc = ctx.Process(target=_hold_until_killed, args=(db_url, T0, ready))
    proc.start()
    try:
        resource, _pid = ready.get(timeout=60)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(timeout=30)
    clock = Clock(T0)
    with open_store(db_url) as store:
        clock.advance(1)  # long before the lease's expiry
        lease = try_lease_device(store, phone(), "next", now=clock)
        assert lease is not None and lease.resource == resource
        # "next" is alive (this process): a third holder does not get its slot.
        assert try_lease_device(store, phone(), "third", now=clock) is None
