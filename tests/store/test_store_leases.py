"""Leases: one holder at a time, expiry, renewal, release, and races."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from agent.store import (
    Store,
    acquire_lease,
    lease_holder,
    open_store,
    release_lease,
    renew_lease,
)

WS = "workspace:acme"


def test_acquire_is_exclusive(store: Store) -> None:
    assert acquire_lease(store, WS, "worker-a", ttl_s=60)
    assert not acquire_lease(store, WS, "worker-b", ttl_s=60)
    assert acquire_lease(store, WS, "worker-a", ttl_s=60)  # re-acquiring extends
    assert acquire_lease(store, "workspace:other", "worker-b", ttl_s=60)
    held = lease_holder(store, WS)
    assert held is not None and held.holder == "worker-a" and held.pid


def test_expired_lease_can_be_taken_over(store: Store) -> None:
    assert acquire_lease(store, WS, "worker-a", ttl_s=0.2)
    assert not acquire_lease(store, WS, "worker-b", ttl_s=60)
    time.sleep(0.3)
    assert lease_holder(store, WS) is None
    assert acquire_lease(store, WS, "worker-b", ttl_s=60)
    assert not renew_lease(store, WS, "worker-a", ttl_s=60)  # a has lost it
    assert not release_lease(store, WS, "worker-a")
    held = lease_holder(store, WS)
    assert held is not None and held.holder == "worker-b"


def test_renew_extends_and_release_frees(store: Store) -> None:
    assert acquire_lease(store, WS, "worker-a", ttl_s=0.3)
    assert renew_lease(store, WS, "worker-a", ttl_s=60)
    time.sleep(0.4)
    assert not acquire_lease(store, WS, "worker-b", ttl_s=60)  # renewed: still a's
    assert not release_lease(store, WS, "worker-b")
    assert release_lease(store, WS, "worker-a")
    assert lease_holder(store, WS) is None
    assert not renew_lease(store, WS, "worker-a", ttl_s=60)
    assert acquire_lease(store, WS, "worker-b", ttl_s=60)


def test_an_expired_lease_cannot_be_renewed_even_if_nobody_took_it(store: Store) -> None:
    assert acquire_lease(store, WS, "worker-a", ttl_s=-1)  # already expired
    assert not renew_lease(store, WS, "worker-a", ttl_s=60)
    assert lease_holder(store, WS) is None
    assert acquire_lease(store, WS, "worker-a", ttl_s=60)  # it must acquire again
    assert renew_lease(store, WS, "worker-a", ttl_s=60)


def test_threads_racing_for_a_free_lease_get_one_winner(store: Store) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        wins = list(pool.map(lambda i: acquire_lease(store, WS, f"t{i}", 60), range(16)))
    assert wins.count(True) == 1


def _race(url: str, resource: str, holder: str, barrier, queue) -> None:
    try:
        with open_store(url) as store:
            barrier.wait(timeout=30)
            queue.put((holder, acquire_lease(store, resource, holder, ttl_s=60)))
    except Exception as exc:
        queue.put((holder, repr(exc)))


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_processes_racing_for_an_expired_lease_get_one_winner(backend, tmp_path, request) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'leases.db'}"
    else:
        url = request.getfixturevalue("fresh_postgres")()
    with open_store(url) as store:
        assert acquire_lease(store, WS, "dead-worker", ttl_s=0.1)
    time.sleep(0.2)
    ctx = multiprocessing.get_context("fork")
    n = 5
    barrier, queue = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_race, args=(url, WS, f"p{i}", barrier, queue)) for i in range(n)]
    for proc in procs:
        proc.start()
    results = dict(queue.get(timeout=60) for _ in procs)
    for proc in procs:
        proc.join(timeout=30)
    assert all(isinstance(v, bool) for v in results.values()), results
    winners = [h for h, won in results.items() if won]
    assert len(winners) == 1
    with open_store(url) as store:
        held = lease_holder(store, WS)
        assert held is not None and held.holder == winners[0]
