"""The store's record of planned runs (``sweep_ticks``) and the facts a tick plans from.

A planned run is inserted once per workspace, kind and due time (the unique
constraint decides when two schedulers race: the second insert does nothing), then
moves ``queued`` → ``running`` → ``done`` under the lease ``tick:ID``, or is recorded
``skipped``. A run queued or running far longer than its flow may last is marked
``lost`` and planned again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import func, update
from sqlmodel import col, select

from agent.store import (
    Decision,
    Item,
    ItemStatus,
    OutboxEntry,
    Run,
    Store,
    SweepTick,
    Takeover,
    TickKind,
    TickState,
    WorkspacePause,
)
from agent.store.items import INSERT_CHUNK, dialect_insert

OPEN = (TickState.QUEUED.value, TickState.RUNNING.value)
CLOSED_ITEM = (ItemStatus.RESOLVED.value, ItemStatus.DROPPED.value, ItemStatus.REPLIED.value)


def tick_resource(tick_id: int) -> str:
    return f"tick:{tick_id}"


@dataclass
class Facts:
    """What the store says about every workspace at one tick (a few queries for all)."""

    anchors: dict[str, datetime] = field(default_factory=dict)  # last planned or swept
    last_sweeps: dict[str, Run] = field(default_factory=dict)  # the last sweep run
    open_ticks: dict[str, list[SweepTick]] = field(default_factory=dict)
    open_p1: set[str] = field(default_factory=set)
    paused: dict[str, WorkspacePause] = field(default_factory=dict)
    taken_over: dict[str, str] = field(default_factory=dict)  # workspace -> who
    outbox_waiting: set[str] = field(default_factory=set)


def read_facts(store: Store) -> Facts:
    facts = Facts()
    with store.session() as s:
        planned = select(SweepTick.workspace, func.max(SweepTick.planned_at)).where(
            SweepTick.kind == TickKind.SWEEP.value, SweepTick.state != TickState.LOST.value
        )
        for ws, at in s.exec(planned.group_by(SweepTick.workspace)):
            facts.anchors[ws] = at
        latest = (
            select(Run.workspace, func.max(Run.started_at).label("at"))
            .where(Run.kind == "sweep")
            .group_by(Run.workspace)
            .subquery()
        )
        runs = select(Run).join(
            latest,
            sa.and_(col(Run.workspace) == latest.c.workspace, col(Run.started_at) == latest.c.at),
        )
        for run in s.exec(runs):
            facts.last_sweeps[run.workspace] = run
            if run.workspace not in facts.anchors or facts.anchors[run.workspace] < run.started_at:
                facts.anchors[run.workspace] = run.started_at
        for tick in s.exec(select(SweepTick).where(col(SweepTick.state).in_(OPEN))):
            facts.open_ticks.setdefault(tick.workspace, []).append(tick)
        p1 = (
            select(Item.workspace)
            .join(Decision, Decision.item_id == Item.id)  # type: ignore[arg-type]
            .where(Decision.priority == "P1", col(Item.status).not_in(CLOSED_ITEM))
            .distinct()
        )
        facts.open_p1 = set(s.exec(p1).all())
        for pause in s.exec(select(WorkspacePause)):
            facts.paused[pause.workspace] = pause
        held = select(Takeover).where(col(Takeover.ended_at).is_(None))
        for row in s.exec(held):
            facts.taken_over[row.workspace] = row.user
        waiting = select(OutboxEntry.workspace).where(
            col(OutboxEntry.state).in_(("approved", "sending"))
        )
        facts.outbox_waiting = set(s.exec(waiting.distinct()).all())
    return facts


def plan_tick(
    store: Store,
    workspace: str,
    kind: TickKind,
    due_at: datetime,
    *,
    now: datetime,
    planned_by: str,
    queue: str,
    state: TickState = TickState.QUEUED,
    outcome: str | None = None,
) -> SweepTick | None:
    """Record one planned run; None when that run (workspace, kind, due) is already planned."""
    values = {
        "workspace": workspace,
        "kind": kind.value,
        "due_at": due_at,
        "planned_at": now,
        "planned_by": planned_by[:200],
        "queue": queue,
        "state": state.value,
        "attempts": 0,
        "outcome": outcome,
        "finished_at": now if state is TickState.SKIPPED else None,
    }
    with store.session() as s:
        stmt = dialect_insert(s, SweepTick).values(**values)
        stmt = stmt.on_conflict_do_nothing(index_elements=["workspace", "kind", "due_at"])
        inserted = s.execute(stmt.returning(SweepTick.id)).scalar_one_or_none()
        if inserted is None:
            return None
        return s.get(SweepTick, inserted)


def plan_ticks(
    store: Store,
    wanted: list[tuple[str, TickKind, datetime, str]],
    *,
    now: datetime,
    planned_by: str,
) -> list[SweepTick]:
    """Record many planned runs (workspace, kind, due, queue) in one statement; returns
    those this call recorded (a run already planned, by anyone, is left out)."""
    if not wanted:
        return []
    rows = [
        {
            "workspace": ws,
            "kind": kind.value,
            "due_at": due,
            "planned_at": now,
            "planned_by": planned_by[:200],
            "queue": queue,
            "state": TickState.QUEUED.value,
            "attempts": 0,
        }
        for ws, kind, due, queue in wanted
    ]
    ids: list[int] = []
    with store.session() as s:
        for start in range(0, len(rows), INSERT_CHUNK):
            stmt = dialect_insert(s, SweepTick).values(rows[start : start + INSERT_CHUNK])
            stmt = stmt.on_conflict_do_nothing(index_elements=["workspace", "kind", "due_at"])
            ids.extend(s.execute(stmt.returning(SweepTick.id)).scalars())
        found: list[SweepTick] = []
        for start in range(0, len(ids), INSERT_CHUNK):
            chunk = ids[start : start + INSERT_CHUNK]
            found.extend(s.exec(select(SweepTick).where(col(SweepTick.id).in_(chunk))))
        return sorted(found, key=lambda t: t.id or 0)


def get_tick(store: Store, tick_id: int) -> SweepTick | None:
    with store.session() as s:
        return s.get(SweepTick, tick_id)


def start_tick(store: Store, tick_id: int, *, worker: str, now: datetime) -> None:
    with store.session() as s:
        s.execute(
            update(SweepTick)
            .where(col(SweepTick.id) == tick_id)
            .values(
                state=TickState.RUNNING.value,
                attempts=SweepTick.attempts + 1,
                started_at=now,
                worker=worker[:200],
            )
        )


def finish_tick(
    store: Store,
    tick_id: int,
    *,
    now: datetime,
    result: str,
    run_id: str | None,
    outcome: str | None,
) -> None:
    with store.session() as s:
        s.execute(
            update(SweepTick)
            .where(col(SweepTick.id) == tick_id)
            .values(
                state=TickState.DONE.value,
                finished_at=now,
                result=result[:16],
                run_id=run_id,
                outcome=outcome,
            )
        )


def mark_lost(store: Store, tick_id: int, *, now: datetime, why: str) -> bool:
    """A run that never finished: closed as lost (only while still open)."""
    with store.session() as s:
        result = s.execute(
            update(SweepTick)
            .where(col(SweepTick.id) == tick_id, col(SweepTick.state).in_(OPEN))
            .values(state=TickState.LOST.value, finished_at=now, outcome=why)
        )
        return bool(getattr(result, "rowcount", 0))


def prune_ticks(store: Store, *, older_than: datetime) -> int:
    """Forget finished runs older than ``older_than`` (the runs table keeps the sweeps)."""
    from sqlalchemy import delete

    with store.session() as s:
        result = s.execute(
            delete(SweepTick).where(
                col(SweepTick.state).not_in(OPEN), col(SweepTick.finished_at) < older_than
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)


def ticks_of(
    store: Store, workspace: str | None = None, *, since: timedelta | None = None
) -> list[SweepTick]:
    with store.session() as s:
        query = select(SweepTick)
        if workspace is not None:
            query = query.where(SweepTick.workspace == workspace)
        return list(s.exec(query.order_by(col(SweepTick.id))).all())
