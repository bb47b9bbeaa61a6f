"""Scheduled sweeps on this host, in real Chromium against the sandbox: the scheduler's
pool runs what is due, a SIGTERM lets the sweep in progress finish, and the store's
workspace leases keep a second sweep out (and let a dead holder's lease go at once)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import select

from agent.config import load_catalog
from agent.leases import hold, new_holder, workspace_resource
from agent.runtime import Runtime
from agent.scheduler.dispatch import InProcess
from agent.scheduler.leadership import leadership_for
from agent.scheduler.planner import Planner
from agent.scheduler.service import SchedulerService
from agent.store import Run, SweepTick
from agent.store.leases import acquire_lease
from sandbox.testing import RunningSandbox
from tests.sweeps.conftest import ACME, stored_items

CLI = str(Path(sys.executable).parent / "inbox-agent")


def _awake_all_night(rt: Runtime) -> None:
    """Drop the example workspaces' quiet hours (23:00-06:00 Berlin): these tests are about
    the pool and SIGTERM, and must not depend on the hour they run at (quiet hours have
    their own tests, on an injected clock, in tests/scheduler/test_cadence.py)."""
    for path in rt.home.config_dir("workspaces").glob("*.yaml"):
        text = path.read_text()
        path.write_text("\n".join(line for line in text.split("\n") if "quiet_hours:" not in line))
    rt.catalog = load_catalog(rt.home)
    assert rt.catalog.problems == []
    assert all(not ws.model.schedule.quiet_hours for ws in rt.catalog.workspaces.values())


def test_a_tick_sweeps_every_due_workspace_on_this_hosts_pool(
    sb: RunningSandbox, rt: Runtime
) -> None:
    _awake_all_night(rt)
    sb.client.bulk("acme", "dm", 12, seed=3)
    leadership = leadership_for(rt.store)
    planner = Planner(rt.home, rt.catalog, rt.store, rt.log, leadership.holder)
    pool = InProcess(rt, 2, name=leadership.holder)
    service = SchedulerService(rt, planner, pool, leadership)
    report = service.tick()
    pool.close(wait=True)
    leadership.release()
    assert report is not None and service.active
    assert {t.workspace for t in report.planned} == set(rt.catalog.workspaces)
    with rt.store.session() as s:
        ticks = {t.workspace: t for t in s.exec(select(SweepTick))}
    assert all(t.state == "done" for t in ticks.values())
    assert ticks[ACME].result == "ok" and ticks[ACME].run_id
    assert ticks["sandbox-globex-web"].outcome == "login_required"  # never signed in
    assert len(stored_items(rt)) == 12
    assert {o.workspace for o in pool.outcomes} == set(rt.catalog.workspaces)


def test_sigterm_lets_the_sweep_in_progress_finish_then_exits(
    sb: RunningSandbox, rt: Runtime
) -> None:
    _awake_all_night(rt)
    sb.client.bulk("acme", "dm", 60, seed=4)
    sb.client.fault("acme", "slow", slow_ms=400)
    env = {**os.environ, "INBOX_AGENT_HOME": str(rt.home.root)}
    proc = subprocess.Popen(
        [CLI, "run", "--quiet"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if stored_items(rt):  # the acme sweep is collecting
                break
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            time.sleep(0.2)
        else:
            pytest.fail("the scheduled sweep never started collecting")
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out.decode()
    with rt.store.session() as s:
        tick = s.exec(select(SweepTick).where(SweepTick.workspace == ACME)).one()
        run = s.get(Run, tick.run_id)
    assert tick.state == "done" and tick.result == "ok"  # finished, not cut off
    assert run is not None and run.status == "ok" and run.finished_at is not None
    assert len(stored_items(rt)) == 60


def test_a_workspace_leased_by_a_live_holder_is_busy(rt: Runtime) -> None:
    holder = new_holder("another sweep")
    with hold(rt.store, workspace_resource(ACME), holder):
        result = rt.sweeper().sweep(ACME)
    assert result.status == "stopped" and result.stop_reason == "busy"
    assert holder in (result.message or "")


def test_a_dead_holders_workspace_lease_is_taken_at_once(rt: Runtime) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    from agent.store import Lease

    assert acquire_lease(rt.store, workspace_resource(ACME), "a sweep that was killed", 3600)
    with rt.store.session() as s:
        row = s.exec(select(Lease).where(Lease.resource == workspace_resource(ACME))).one()
        row.pid = dead.pid  # the holder was that process, which is gone
        s.add(row)
    sweeper = rt.sweeper()
    ws = rt.catalog.workspace(ACME)
    with sweeper.leased(ws):  # no wait for the hour-long lease to expire
        with rt.store.session() as s:
            row = s.exec(select(Lease).where(Lease.resource == workspace_resource(ACME))).one()
        assert row.pid == os.getpid() and "sweep sandbox-acme-web" in row.holder
