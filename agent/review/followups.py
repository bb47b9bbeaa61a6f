"""Follow-ups: the day a person should look at an item again, part of its escalation record
(``agent.report.records``), and the record itself over the JSON API.

``set_follow_up`` is a review action like the others (``agent.review.actions``): one
transaction that locks the item, checks the person may see it (else ``NotFound``) and is
a reviewer (``NotAllowed``), stores the day on the item, writes a ``follow_up`` history
row (its note says the day, and why when given) and, after the commit, a ``review``
activity-log event. A day is ``YYYY-MM-DD``, from yesterday (a reviewer's day may still
be yesterday in UTC) to a year ahead; none clears it. It applies in every status: a
resolved item may need a look next week too.

The queue's "follow-ups due" is ``due(today)``: items whose day has come (UTC).

Routes (own router, included by ``create_app``): ``POST /api/items/{id}/follow-up``
(``{"date": "2026-12-24" | null, "note": "…"}``), ``GET /api/follow-ups`` (the due ones
the person may see), ``GET /api/items/{id}/record`` (the item's record).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlmodel import Session, col, func, select

from agent import days
from agent.review.actions import MAX_NOTE_CHARS, _any_state, _simple
from agent.review.context import ApiWriter, ItemId, PageViewer, state_of
from agent.review.errors import NotFound, ReviewError
from agent.review.queries import visible_item
from agent.store import Item, ReviewAction, Store, User, utcnow
from runlogs import ActivityLog

MAX_AHEAD = timedelta(days=366)
MAX_DUE = 200  # the largest queue page

router = APIRouter()


def parse_day(value: str | None) -> date | None:
    """``YYYY-MM-DD``, or None for an empty value (clear the follow-up)."""
    return days.parse_day("follow-up date", value, ReviewError)


def check_day(day: date | None, today: date) -> date | None:
    if day is None:
        return None
    if day < today - timedelta(days=1):
        raise ReviewError(f"follow-up date {day} is in the past (today is {today} UTC)")
    if day > today + MAX_AHEAD:
        raise ReviewError(f"follow-up date {day} is more than a year ahead")
    return day


def set_follow_up(
    target: Session | Store,
    item_id: int,
    user: User,
    day: date | None,
    *,
    note: str | None = None,
    seen_draft_hash: str | None = None,
    log: ActivityLog | None = None,
    today: date | None = None,
) -> Item:
    """Set the item's follow-up ``day`` (None clears it); see the module's docstring."""
    day = check_day(day, today or utcnow().date())
    if note is not None and len(note) > MAX_NOTE_CHARS:
        raise ReviewError(f"the note is {len(note):,} characters (at most {MAX_NOTE_CHARS:,})")
    reason = " ".join((note or "").split())
    said = f"follow up on {day}" if day else "follow-up cleared"
    history = f"{said}: {reason}" if reason else said

    def change(_s: Session, item: Item, _user: User) -> dict[str, Any]:
        before = item.follow_up_on
        item.follow_up_on = day
        return {"before": before.isoformat() if before else None}

    return _simple(
        target, item_id, user, ReviewAction.FOLLOW_UP, note=history,
        seen_draft_hash=seen_draft_hash, log=log, change=change, state_check=_any_state,
        follow_up=day.isoformat() if day else None,
    )  # fmt: skip


def due(today: date) -> Any:
    """The queue's filter: items whose follow-up day has come."""
    return col(Item.follow_up_on) <= today


def count_due(session: Session, visible: set[str] | None, today: date) -> int:
    """How many items the person may see have a follow-up day that has come."""
    query = select(func.count()).select_from(Item).where(due(today))
    if visible is not None:
        query = query.where(col(Item.workspace).in_(sorted(visible)))
    return int(session.exec(query).one())


def follow_ups_due(
    session: Session, visible: set[str] | None, today: date, limit: int = MAX_DUE
) -> list[Item]:
    """The due items the person may see, the longest due first."""
    query = select(Item).where(due(today))
    if visible is not None:
        query = query.where(col(Item.workspace).in_(sorted(visible)))
    query = query.order_by(col(Item.follow_up_on), col(Item.id)).limit(limit)
    return list(session.exec(query))


# -- the JSON API ---------------------------------------------------------------------


class FollowUpBody(BaseModel):
    date: str | None = Field(None, max_length=40, description="YYYY-MM-DD, or null to clear")
    note: str | None = Field(None, max_length=10_000)
    draft_hash: str | None = Field(None, max_length=64)


@router.post("/api/items/{item_id}/follow-up")
def follow_up_api(
    request: Request, viewer: ApiWriter, item_id: ItemId, body: FollowUpBody
) -> dict[str, Any]:
    rt = state_of(request).runtime
    item = set_follow_up(
        rt.store, item_id, viewer.user, parse_day(body.date), note=body.note,
        seen_draft_hash=body.draft_hash, log=rt.log,
    )  # fmt: skip
    day = item.follow_up_on
    return {"ok": True, "item": item.id, "follow_up": day.isoformat() if day else None}


@router.get("/api/follow-ups")
def due_api(request: Request, viewer: PageViewer) -> dict[str, Any]:
    today = utcnow().date()
    with state_of(request).runtime.store.session() as s:
        items = follow_ups_due(s, viewer.visible, today)
    return {
        "today": today.isoformat(),
        "items": [
            {"id": i.id, "workspace": i.workspace, "status": i.status,
             "follow_up": i.follow_up_on.isoformat() if i.follow_up_on else None}
            for i in items
        ],
    }  # fmt: skip


@router.get("/api/items/{item_id}/record")
def record_api(request: Request, viewer: PageViewer, item_id: ItemId) -> dict[str, Any]:
    from agent.report.records import item_record

    rt = state_of(request).runtime
    clients = rt.catalog.clients()
    with rt.store.session() as s:
        item = visible_item(s, item_id, viewer.visible)
        if item is None:
            raise NotFound(f"no item {item_id}")
        record = item_record(s, item, clients, rt.log)
    return record.to_dict()
