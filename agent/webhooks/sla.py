"""The time-based events: an open item's SLA about to pass (``sla.warning``) and passed
(``sla.breached``), found by a scan the sender runs every pass.

An item is open while it waits for a person (triaged, in review, paused: the review
queue's "pending"); its deadline is its newest decision's ``sla_due_at``. "About to pass"
is ``sla_warning_minutes`` before the deadline, or half the SLA when that is shorter, so a
15-minute SLA is not announced as about to pass the moment it is set. Each item gets at
most one warning and one breach (unique per type and item), a warning never after its
breach. The scan reads deadlines from ``LOOKBACK`` ago on (the ``ix_decisions_due`` index):
an item whose deadline passed while no sender ran for longer than that gets no event.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from agent.store import Decision, Item, ItemStatus, Store
from agent.store.models import WebhookEvent, WebhookEventType
from agent.webhooks.events import item_data, record_many

LOOKBACK = timedelta(days=7)
WAITING = (ItemStatus.TRIAGED.value, ItemStatus.IN_REVIEW.value, ItemStatus.PAUSED.value)
CHUNK = 500


def warning_window(sla_minutes: int | None, warning_minutes: float) -> timedelta:
    """How long before its deadline an item's SLA counts as about to pass."""
    window = timedelta(minutes=warning_minutes)
    if sla_minutes:
        window = min(window, timedelta(minutes=sla_minutes / 2))
    return window


def _recorded(session: Session, type_: WebhookEventType, subjects: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(subjects), CHUNK):
        part = subjects[start : start + CHUNK]
        rows = session.exec(
            select(WebhookEvent.subject).where(
                WebhookEvent.type == type_.value, col(WebhookEvent.subject).in_(part)
            )
        ).all()
        found.update(rows)
    return found


def scan_sla(store: Store, *, now: datetime, warning_minutes: float) -> int:
    """Record the SLA events due at ``now``; how many new ones were tried."""
    newer = sa.orm.aliased(Decision)
    latest = ~sa.exists().where(col(newer.item_id) == Decision.item_id, col(newer.id) > Decision.id)
    horizon = now + timedelta(minutes=warning_minutes)
    query = (
        select(Item, Decision)
        .join(Decision, col(Decision.item_id) == col(Item.id))
        .where(
            col(Decision.sla_due_at) >= now - LOOKBACK,
            col(Decision.sla_due_at) <= horizon,
            col(Item.status).in_(WAITING),
            latest,
        )
    )
    with store.session() as s:
        rows = list(s.exec(query).all())
        if not rows:
            return 0
        breached, warned = [], []
        for item, decision in rows:
            due = decision.sla_due_at
            assert due is not None
            if due <= now:
                breached.append((item, decision))
            elif due - now <= warning_window(decision.sla_minutes, warning_minutes):
                warned.append((item, decision))
        events = []
        for type_, group in (
            (WebhookEventType.SLA_BREACHED, breached),
            (WebhookEventType.SLA_WARNING, warned),
        ):
            done = _recorded(s, type_, [f"item:{i.id}" for i, _ in group])
            for item, decision in group:
                subject = f"item:{item.id}"
                if subject in done:
                    continue
                data = item_data(item, decision)
                due = decision.sla_due_at
                assert due is not None
                data["sla"] = {
                    "due_at": data["decision"]["sla_due_at"],
                    "minutes_left": round((due - now).total_seconds() / 60, 1),
                }
                events.append((type_, subject, item.workspace, data))
        return record_many(s, events, at=now)
