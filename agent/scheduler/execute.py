"""Running one planned run: under its lease, the sweep (then the outbox), recorded on the row.

The same function runs a planned run in the scheduler's thread pool and in a
Celery worker. The run's lease (``tick:ID``) makes a second delivery of the same
run (a broker redelivering a message whose worker seemed gone) wait instead of
running twice; once the holder is really gone (its process died on this host, or
its lease expired) the next delivery runs it again. A rerun collects nothing twice:
items are stored once per stable key, and the sweep's own leases and run records
see the dead run closed as ``crashed``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from agent.errors import InboxAgentError
from agent.leases import new_holder, try_hold
from agent.runtime import Runtime
from agent.scheduler.ticks import OPEN, finish_tick, get_tick, start_tick, tick_resource
from agent.store import TickKind, utcnow

Clock = Callable[[], datetime]


class RunHeld(InboxAgentError):
    """Another worker holds this run's lease (it is running it now): try again later."""


@dataclass
class RunOutcome:
    tick: int
    workspace: str
    kind: str
    result: str  # ok | drift | stopped | failed | sent | already-finished
    run_id: str | None = None
    outcome: str | None = None
    sent: int = 0


def run_planned(
    rt: Runtime, tick_id: int, *, worker: str, now: Clock = utcnow, drain_outbox: bool = True
) -> RunOutcome:
    """Run planned run ``tick_id`` once; raises ``RunHeld`` when another worker runs it."""
    tick = get_tick(rt.store, tick_id)
    if tick is None:
        return RunOutcome(tick_id, "?", "?", "already-finished", outcome="no such run")
    if tick.state not in OPEN:
        return RunOutcome(tick_id, tick.workspace, tick.kind, "already-finished", tick.run_id)
    lease = try_hold(rt.store, tick_resource(tick_id), new_holder(f"run {tick_id} {worker}"))
    if lease is None:
        raise RunHeld(f"run {tick_id} of {tick.workspace} is being run by another worker")
    with lease:
        lease.start_heartbeat()
        tick = get_tick(rt.store, tick_id)
        if tick is None or tick.state not in OPEN:  # finished while we waited for the lease
            return RunOutcome(tick_id, tick.workspace if tick else "?", "?", "already-finished")
        start_tick(rt.store, tick_id, worker=worker, now=now())
        rt.log.append(tick.workspace, "scheduled_run_started", tick=tick_id, worker=worker)
        outcome = _run(rt, tick.workspace, tick.kind, tick_id, drain_outbox)
        finish_tick(
            rt.store,
            tick_id,
            now=now(),
            result=outcome.result,
            run_id=outcome.run_id,
            outcome=outcome.outcome,
        )
        return outcome


def _run(rt: Runtime, workspace: str, kind: str, tick_id: int, drain: bool) -> RunOutcome:
    from agent.outbox import Outbox

    if workspace not in rt.catalog.workspaces:
        return RunOutcome(tick_id, workspace, kind, "failed", outcome="not in the configuration")
    sweeper = rt.sweeper()
    out = RunOutcome(tick_id, workspace, kind, "sent")
    if kind == TickKind.SWEEP.value:
        result = sweeper.sweep(workspace)
        out.result, out.run_id = result.status, result.run_id
        out.outcome = result.stop_reason
    if kind == TickKind.SEND.value or (drain and out.result in ("ok", "drift")):
        sent = Outbox(rt, sweeper=sweeper).send(workspace)
        out.sent = sum(1 for r in sent if r.state == "sent")
    return out
