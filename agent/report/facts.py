"""What the report reads from the store: one row of facts per item, run and takeover.

A handful of plain SELECTs through the store's session (the same on SQLite and
PostgreSQL): the items first seen in the period, their decisions, reviews, corrections
and outbox entries (each restricted by a subquery on the items, never a long id list),
and the runs and takeovers that started in the period. Everything the measures need is
worked out here, once per item, so ``agent.report.compute`` only counts.

Triage's own conclusions are partly overwritten by what reviewers do (``correct``
changes the decision's intent, priority or queue; ``escalate`` its action; ``assign``
its owner; ``edit`` and ``reject`` its draft), so they are put back from the labels a
change leaves: the first correction of a field holds triage's value as ``old_value``;
a draft triage made is named by its saved reply in ``draft_source``, or, once a
reviewer replaced it, by the ``draft.*`` reason triage wrote into ``why`` (which
reviewers only ever append to).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from agent.store import Decision, Item, OutboxEntry, Review, Run, Takeover
from agent.store.models import Correction

# As agent.review.actions writes them (tests/report checks they agree; importing the
# review package here would load the whole web stack for a report).
EDITED_BY = "edited by "
REJECTED_BY = "draft rejected by "
EDITED_NOTE = "edited draft"  # the note of an approval whose text differs from the draft
ADDED_BY_REVIEWER = "added by a reviewer"  # the why of a decision a reviewer created
# The reasons triage's draft stage writes when it made a draft (agent.triage.drafts).
DRAFT_MADE = ("draft.saved_reply", "draft.move_to_dm", "draft.ask_details")
DRAFT_DROPPED = "ocr_low_confidence"  # agent.decide.uncertain_text took the draft away


@dataclass(frozen=True)
class Scope:
    """Which rows a report reads: UTC days (both included) and workspaces (None: all)."""

    since: date | None = None
    until: date | None = None
    workspaces: frozenset[str] | None = None


@dataclass(frozen=True)
class ReviewFact:
    action: str
    reviewer: str
    note: str | None  # approvals only (other notes are not needed, and can be long)
    at: datetime


@dataclass(frozen=True)
class OutboxFact:
    state: str
    last_error: str | None
    sent_at: datetime | None


@dataclass
class ItemFacts:
    """One item and what happened to it, with triage's conclusions put back."""

    id: int
    workspace: str
    status: str
    seen_at: datetime
    posted_at: datetime | None
    decided: bool = False  # triage decided on it (a decision no reviewer added)
    first_action: str | None = None  # triage's first action: drop, review, escalate, pause
    action: str | None = None  # the latest decision's action
    intent: str | None = None  # as reviewers left it (the latest decision)
    priority: str | None = None
    queue: str | None = None
    owner: str | None = None
    triage_intent: str | None = None  # as triage gave it
    triage_priority: str | None = None
    triage_queue: str | None = None
    pause_reasons: list[str] = field(default_factory=list)
    sla_due_at: datetime | None = None
    triage_drafted: bool = False
    reviews: list[ReviewFact] = field(default_factory=list)
    corrected: set[str] = field(default_factory=set)  # fields a reviewer corrected
    outbox: list[OutboxFact] = field(default_factory=list)
    case_id: int | None = None  # the case's first item (its own id for that one; 0013)

    def did(self, action: str) -> bool:
        return any(r.action == action for r in self.reviews)

    def first(self, *actions: str) -> datetime | None:
        """When a person first did one of ``actions`` (any action when none is named)."""
        times = [r.at for r in self.reviews if not actions or r.action in actions]
        return min(times) if times else None

    @property
    def handled_at(self) -> datetime | None:
        """When the item left the queue: approved or resolved (what its SLA asks for)."""
        return self.first("approve", "resolve")

    @property
    def resolved_at(self) -> datetime | None:
        """When it was resolved: its reply was sent, or a person resolved it without one."""
        times = [o.sent_at for o in self.outbox if o.sent_at is not None]
        resolve = self.first("resolve")
        if resolve is not None:
            times.append(resolve)
        return min(times) if times else None

    @property
    def approved_edited(self) -> bool:
        """An approval whose text differed from the draft, or a draft saved by a person."""
        return self.did("edit") or any(
            r.action == "approve" and r.note == EDITED_NOTE for r in self.reviews
        )


@dataclass
class RunFact:
    workspace: str
    kind: str
    status: str
    stop_reason: str | None
    started_at: datetime
    missed: int


@dataclass
class TakeoverFact:
    workspace: str
    user: str
    started_at: datetime


@dataclass
class Facts:
    items: list[ItemFacts]
    runs: list[RunFact]
    takeovers: list[TakeoverFact]


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _between(column: Any, scope: Scope) -> list[Any]:
    conds = []
    if scope.since is not None:
        conds.append(column >= day_start(scope.since))
    if scope.until is not None:
        conds.append(column < day_start(scope.until + timedelta(days=1)))
    return conds


def _in_workspaces(column: Any, scope: Scope) -> list[Any]:
    return [] if scope.workspaces is None else [column.in_(sorted(scope.workspaces))]


def triage_drafted(draft_source: str | None, why: Iterable[str]) -> bool:
    """Whether triage made a draft for the decision (see the module's docstring)."""
    if draft_source is None:
        return False  # untouched by reviewers, and triage made none
    if not draft_source.startswith((EDITED_BY, REJECTED_BY)):
        return True  # triage's saved reply, still as it was
    reasons = list(why)
    made = any(r.startswith(DRAFT_MADE) for r in reasons)
    return made and not any(r.startswith(DRAFT_DROPPED) for r in reasons)


def read_facts(session: Session, scope: Scope) -> Facts:
    """Every fact the report needs for ``scope``."""
    item_conds = _between(col(Item.seen_at), scope) + _in_workspaces(col(Item.workspace), scope)
    ids = select(Item.id).where(*item_conds)
    rows = session.execute(
        sa.select(
            col(Item.id), col(Item.workspace), col(Item.status), col(Item.seen_at),
            col(Item.posted_at), col(Item.case_id),
        )
        .where(*item_conds)
        .order_by(col(Item.id))
    ).all()  # fmt: skip
    items = {
        i: ItemFacts(id=i, workspace=w, status=st, seen_at=seen, posted_at=posted, case_id=case)
        for i, w, st, seen, posted, case in rows
        if i is not None
    }
    _add_decisions(session, ids, items)
    _add_reviews(session, ids, items)
    _add_corrections(session, ids, items)
    _add_outbox(session, ids, items)
    run_conds = _between(col(Run.started_at), scope) + _in_workspaces(col(Run.workspace), scope)
    runs = [
        RunFact(r.workspace, r.kind, r.status, r.stop_reason, r.started_at, r.missed)
        for r in session.exec(select(Run).where(*run_conds).order_by(col(Run.started_at)))
    ]
    taken = _between(col(Takeover.started_at), scope)
    taken += _in_workspaces(col(Takeover.workspace), scope)
    takeovers = [
        TakeoverFact(t.workspace, t.user, t.started_at)
        for t in session.exec(select(Takeover).where(*taken).order_by(col(Takeover.started_at)))
    ]
    return Facts(list(items.values()), runs, takeovers)


def _add_decisions(session: Session, ids: Any, items: dict[int, ItemFacts]) -> None:
    by_item: dict[int, list[Decision]] = defaultdict(list)
    stmt = select(Decision).where(col(Decision.item_id).in_(ids)).order_by(col(Decision.id))
    for d in session.exec(stmt):
        by_item[d.item_id].append(d)
    for item_id, decisions in by_item.items():
        facts = items.get(item_id)
        if facts is None:
            continue
        first, latest = decisions[0], decisions[-1]
        facts.decided = any(ADDED_BY_REVIEWER not in d.why for d in decisions)
        facts.first_action = first.action
        facts.action = latest.action
        facts.intent, facts.priority = latest.intent, latest.priority
        facts.queue, facts.owner = latest.queue, latest.owner
        facts.triage_intent, facts.triage_priority = latest.intent, latest.priority
        facts.triage_queue = latest.queue
        facts.pause_reasons = list(latest.pause_reasons or [])
        facts.sla_due_at = latest.sla_due_at
        facts.triage_drafted = triage_drafted(latest.draft_source, latest.why or [])


def _add_reviews(session: Session, ids: Any, items: dict[int, ItemFacts]) -> None:
    note = sa.case((col(Review.action) == "approve", col(Review.note)), else_=None)
    stmt = (
        sa.select(
            col(Review.item_id), col(Review.action), col(Review.reviewer), note,
            col(Review.created_at),
        )
        .where(col(Review.item_id).in_(ids))
        .order_by(col(Review.id))
    )  # fmt: skip
    for item_id, action, reviewer, approve_note, at in session.execute(stmt):
        if item_id in items:
            items[item_id].reviews.append(ReviewFact(action, reviewer, approve_note, at))


def _add_corrections(session: Session, ids: Any, items: dict[int, ItemFacts]) -> None:
    stmt = (
        select(Correction.item_id, Correction.field, Correction.old_value)
        .where(col(Correction.item_id).in_(ids))
        .order_by(col(Correction.id))
    )
    for item_id, name, old in session.exec(stmt):
        facts = items.get(item_id)
        if facts is None or name in facts.corrected:
            continue  # only the first correction of a field holds triage's value
        facts.corrected.add(name)
        if name in ("intent", "priority", "queue"):
            setattr(facts, f"triage_{name}", old)


def _add_outbox(session: Session, ids: Any, items: dict[int, ItemFacts]) -> None:
    stmt = (
        select(OutboxEntry.item_id, OutboxEntry.state, OutboxEntry.last_error, OutboxEntry.sent_at)
        .where(col(OutboxEntry.item_id).in_(ids))
        .order_by(col(OutboxEntry.id))
    )
    for item_id, state, error, sent_at in session.exec(stmt):
        if item_id in items:
            items[item_id].outbox.append(OutboxFact(state, error, sent_at))
