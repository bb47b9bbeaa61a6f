"""Cases: many customers writing the same thing are one case, each still a customer.

Triage puts a near-duplicate from another author or another thread into the first
item's case (``items.case_id`` holds the first item's id; the first item holds its own).
The queue shows the case once, on its first item's row, with its member count, platforms,
threads and the SLA of its oldest member (``summaries``); the case page lists every
member with its evidence (``members``).

What a person does to a case, each one transaction that locks every member first (so a
member cannot change between the check and the write):

- ``approve``: one outbox entry per member, each bound to that member's workspace,
  thread, item and the hash of the text it gets: a reply per kind (a public comment and
  a DM may get different approved texts), the outbox then sends each through its own
  reply flow with the checks of any send (the final text's stop rules per member: private
  data in a public comment is blocked). A member paused for a reason of its own (its card
  number) is skipped until a person decides it on its own page; one paused for the case's
  own reasons (the first item's) is decided with the case, by an approver. Members the
  reviewer leaves out go back to the queue on their own.
  The page's ``case hash`` (members and their statuses) must still hold: a member who
  joined, left or changed since the page loaded refuses the approval.
- ``resolve``: every open member resolved without a reply, with one note.
- ``split``: a member leaves the case and is an item of its own in the queue.
- ``move``: a member (or a stand-alone item) joins another case of its workspace.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from agent.review.actions import (
    MAX_NOTE_CHARS,
    MAX_REPLY_CHARS,
    _clean,
    _fresh_user,
    _lock_item,
    _require,
    _review,
    _unit,
    queue_reply,
)
from agent.review.errors import InvalidState, NotFound, ReviewError, StaleDraft
from agent.review.queries import PENDING, format_left, sla_state
from agent.store import (
    Decision,
    Item,
    ItemStatus,
    OutboxEntry,
    ReviewAction,
    Role,
    Store,
    User,
    text_hash,
    utcnow,
)
from runlogs import ActivityLog

if TYPE_CHECKING:
    from agent.config import Catalog

# what a case's approval answers: members waiting for it, and the first item while open
ANSWERABLE = (ItemStatus.IN_CASE.value, ItemStatus.TRIAGED.value, ItemStatus.IN_REVIEW.value)
OPEN = (*PENDING, ItemStatus.IN_CASE.value)


def answerable(first: bool, status: str) -> bool:
    """Whether the case's approval answers a member: one waiting in the case (paused ones
    among them when paused for the case's own reasons), and the first item while open,
    paused included (its pause is the case's: the approver approving it decides it)."""
    return status in ANSWERABLE or (first and status == ItemStatus.PAUSED.value)


MAX_MEMBERS = 1000  # members one approval answers (a page lists them all)


@dataclass
class CaseSummary:
    """What the queue shows of a case on its first item's row."""

    case_id: int
    members: int  # the first item included
    platforms: list[str]
    threads: int
    kinds: dict[str, int]
    paused: int
    oldest_due: datetime | None  # the SLA deadline of the member seen first

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.case_id,
            "members": self.members,
            "platforms": self.platforms,
            "threads": self.threads,
            "kinds": self.kinds,
            "paused": self.paused,
            "oldest_due": self.oldest_due,
        }


@dataclass
class Member:
    item: Item
    decision: Decision | None
    first: bool  # the case's first item


@dataclass
class Case:
    case_id: int
    members: list[Member]
    hash: str
    sla: str
    left: str
    # per kind (comment, dm): the draft a member of that kind got from triage, as the
    # approval form's starting text (a comment needing private details got move-to-DM)
    drafts: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.case_id,
            "hash": self.hash,
            "sla": self.sla,
            "left": self.left,
            "drafts": self.drafts,
            "members": [
                {
                    "id": m.item.id,
                    "first": m.first,
                    "workspace": m.item.workspace,
                    "platform": m.item.platform,
                    "thread": m.item.thread,
                    "kind": m.item.kind,
                    "author": m.item.author,
                    "status": m.item.status,
                    "text": m.item.text[:280],
                    "priority": m.decision.priority if m.decision else None,
                    "pause_reasons": list(m.decision.pause_reasons) if m.decision else [],
                    "has_screenshot": bool(m.item.screenshot),
                    "has_crop": bool(m.item.crop),
                }
                for m in self.members
            ],
        }


@dataclass
class CaseApproval:
    entries: list[OutboxEntry]
    skipped: list[int]  # paused (or already decided) members: a person decides each
    left_out: list[int]


def _latest_decisions(session: Session, ids: Sequence[int]) -> dict[int, Decision]:
    if not ids:
        return {}
    newest = (
        sa.select(func.max(col(Decision.id)))
        .where(col(Decision.item_id).in_(ids))
        .group_by(col(Decision.item_id))
    )
    rows = session.exec(select(Decision).where(col(Decision.id).in_(newest))).all()
    return {d.item_id: d for d in rows}


def summaries(session: Session, case_ids: Collection[int]) -> dict[int, CaseSummary]:
    """The case summary of each given first item that has members besides itself."""
    ids = sorted({i for i in case_ids if i})
    if not ids:
        return {}
    members = session.exec(
        select(Item).where(col(Item.case_id).in_(ids)).order_by(col(Item.seen_at), col(Item.id))
    ).all()
    by_case: dict[int, list[Item]] = {}
    for item in members:
        by_case.setdefault(item.case_id or 0, []).append(item)
    oldest = [items[0].id or 0 for items in by_case.values() if len(items) > 1]
    due = {k: d.sla_due_at for k, d in _latest_decisions(session, oldest).items()}
    out: dict[int, CaseSummary] = {}
    for case_id, items in by_case.items():
        if len(items) < 2:
            continue
        kinds: dict[str, int] = {}
        for item in items:
            kinds[item.kind] = kinds.get(item.kind, 0) + 1
        out[case_id] = CaseSummary(
            case_id=case_id,
            members=len(items),
            platforms=sorted({i.platform for i in items}),
            threads=len({(i.workspace, i.thread) for i in items}),
            kinds=kinds,
            paused=sum(1 for i in items if i.status == ItemStatus.PAUSED.value),
            oldest_due=due.get(items[0].id or 0),
        )
    return out


def case_of(session: Session, item_id: int, visible: set[str] | None) -> int | None:
    """The case a visible item is a member of (None: none, or not visible)."""
    item = session.get(Item, item_id)
    if item is None or (visible is not None and item.workspace not in visible):
        return None
    return item.case_id


def case_hash(members: Sequence[Member]) -> str:
    """What the approval form saw: every member and its status."""
    parts = [f"{m.item.id}:{m.item.status}" for m in members]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def load(session: Session, case_id: int, visible: set[str] | None) -> Case:
    """The case whose first item is ``case_id`` (NotFound: no such case, or ungranted)."""
    first = session.get(Item, case_id)
    if (
        first is None
        or first.case_id != first.id
        or (visible is not None and first.workspace not in visible)
    ):
        raise NotFound(f"no case {case_id}")
    items = session.exec(
        select(Item).where(Item.case_id == case_id).order_by(col(Item.seen_at), col(Item.id))
    ).all()
    decisions = _latest_decisions(session, [i.id or 0 for i in items])
    members = [Member(i, decisions.get(i.id or 0), i.id == case_id) for i in items]
    members.sort(key=lambda m: not m.first)  # the first item first, then by time
    drafts: dict[str, str] = {}
    for m in members:
        if m.decision is not None and m.decision.draft and m.item.kind not in drafts:
            drafts[m.item.kind] = m.decision.draft
    for m in members:
        drafts.setdefault(m.item.kind, "")
    now = utcnow()
    seen_first = min(members, key=lambda m: (m.item.seen_at, m.item.id or 0))
    due = seen_first.decision.sla_due_at if seen_first.decision else None
    return Case(
        case_id, members, case_hash(members), sla_state(due, now), format_left(due, now), drafts
    )


def _lock_case(session: Session, user: User, case_id: int) -> Case:
    first = _lock_item(session, user, case_id)
    if first.case_id != first.id:
        raise NotFound(f"no case {case_id}")
    session.execute(sa.update(Item).where(col(Item.case_id) == case_id).values(status=Item.status))
    return load(session, case_id, None)


def approve(
    target: Session | Store,
    case_id: int,
    user: User,
    texts: Mapping[str, str],
    *,
    seen_case_hash: str,
    catalog: Catalog,
    leave_out: Collection[int] = (),
    log: ActivityLog | None = None,
) -> CaseApproval:
    """Approve the case's reply: one outbox entry per member it answers.

    ``texts`` maps a kind (``comment``, ``dm``) to its approved reply; every kind among
    the members answered needs one. Paused members (and any a person already decided)
    are skipped; ``leave_out`` members go back to the queue on their own.
    """
    with _unit(target, user, log) as unit:
        s = unit.session
        user = _fresh_user(s, user)
        _require(user, Role.REVIEWER, "approving a case")
        case = _lock_case(s, user, case_id)
        if seen_case_hash.strip() != case.hash:
            raise StaleDraft(
                f"case {case_id} changed since you opened it (a member joined, left or was "
                "decided); reload it and check the members again"
            )
        ids = {m.item.id for m in case.members}
        strangers = sorted(set(leave_out) - ids)
        if strangers:
            raise ReviewError(f"not members of case {case_id}: {', '.join(map(str, strangers))}")
        answer = [m for m in case.members if m.item.id not in leave_out]
        skipped = [m.item.id or 0 for m in answer if not answerable(m.first, m.item.status)]
        answer = [m for m in answer if answerable(m.first, m.item.status)]
        if not answer:
            raise InvalidState(f"case {case_id} has no member waiting for a reply")
        if len(answer) > MAX_MEMBERS:
            raise ReviewError(f"case {case_id} answers {len(answer):,} (at most {MAX_MEMBERS:,})")
        if any(
            m.decision is not None
            and (m.decision.action in ("escalate", "pause") or m.decision.priority == "P1")
            for m in answer
        ):
            _require(user, Role.APPROVER, "approving an escalated or P1 case")
        cleaned: dict[str, str] = {}
        for kind in sorted({m.item.kind for m in answer}):
            if not (texts.get(kind) or "").strip():
                raise ReviewError(f"the reply to the case's {kind}s is empty")
            cleaned[kind] = _clean(texts[kind], MAX_REPLY_CHARS, f"reply to {kind}s")
        unsendable = [
            f"item {m.item.id}: {why}"
            for m in answer
            if (why := catalog.why_no_reply(m.item.workspace, m.item.kind)) is not None
        ]
        if unsendable:
            raise InvalidState(
                "the case cannot be approved (leave these members out, or split them): "
                + "; ".join(unsendable)
                + "; nothing was queued"
            )
        entries = [_queue(unit, user, case, m, cleaned[m.item.kind]) for m in answer]
        left = [m for m in case.members if m.item.id in leave_out]
        for m in left:
            if m.item.status == ItemStatus.IN_CASE.value:
                m.item.status = ItemStatus.TRIAGED.value  # back in the queue on its own
                s.add(m.item)
            _review(unit, m.item, user, ReviewAction.LEAVE_OUT, note=f"left out of case {case_id}")
            unit.event(m.item.workspace, "review", action="leave_out", item=m.item.id, case=case_id)
        s.flush()
        return CaseApproval(entries, skipped, [m.item.id or 0 for m in left])


def _queue(unit: Any, user: User, case: Case, m: Member, text: str) -> OutboxEntry:
    s: Session = unit.session
    item = m.item
    digest = text_hash(text)
    entry = queue_reply(s, item, text, digest, user)
    note = f"case {case.case_id}: one approval for {len(case.members)} members"
    _review(unit, item, user, ReviewAction.APPROVE, note=note, draft_hash_seen=case.hash)
    s.flush()
    unit.event(
        item.workspace,
        "approval",
        item=item.id,
        outbox=entry.id,
        thread=item.thread,
        text_hash=digest,
        case=case.case_id,
        edited=m.decision is None or text != (m.decision.draft or "").strip(),
    )
    return entry


def resolve(
    target: Session | Store,
    case_id: int,
    user: User,
    *,
    note: str | None = None,
    log: ActivityLog | None = None,
) -> list[Item]:
    """Resolve every open member of the case without a reply, each with the one note."""
    with _unit(target, user, log) as unit:
        s = unit.session
        user = _fresh_user(s, user)
        _require(user, Role.REVIEWER, "resolving a case")
        case = _lock_case(s, user, case_id)
        text = _clean(note or "", MAX_NOTE_CHARS, "note", required=False) or None
        done = [m.item for m in case.members if m.item.status in OPEN]
        if not done:
            raise InvalidState(f"case {case_id} has no open member")
        for item in done:
            item.status = ItemStatus.RESOLVED.value
            s.add(item)
            _review(unit, item, user, ReviewAction.RESOLVE, note=text)
            unit.event(
                item.workspace, "review", action="resolve", item=item.id, note=text, case=case_id
            )
        s.flush()
        return done


def split(
    target: Session | Store, item_id: int, user: User, *, log: ActivityLog | None = None
) -> Item:
    """Take a member out of its case: an item of its own in the queue."""
    with _unit(target, user, log) as unit:
        s = unit.session
        user = _fresh_user(s, user)
        _require(user, Role.REVIEWER, "splitting a case")
        item = _lock_item(s, user, item_id)
        case_id = item.case_id
        if case_id is None or case_id == item.id:
            what = "is a case's first item" if case_id == item.id else "is in no case"
            raise InvalidState(f"item {item_id} {what}: there is nothing to split out")
        item.case_id = None
        if item.status == ItemStatus.IN_CASE.value:
            item.status = ItemStatus.TRIAGED.value
        s.add(item)
        _review(unit, item, user, ReviewAction.SPLIT, note=f"split out of case {case_id}")
        s.flush()
        unit.event(item.workspace, "review", action="split", item=item_id, case=case_id)
        return item


def move(
    target: Session | Store,
    item_id: int,
    into: int,
    user: User,
    *,
    log: ActivityLog | None = None,
) -> Item:
    """Move an open item into the case of ``into`` (a case's first item, or an open item
    of the same workspace, which then starts a case)."""
    with _unit(target, user, log) as unit:
        s = unit.session
        user = _fresh_user(s, user)
        _require(user, Role.REVIEWER, "moving an item between cases")
        if item_id == into:
            raise ReviewError("an item cannot be moved into its own case")
        first_id, second_id = sorted((item_id, into))  # lock in id order: no deadlock
        locked = {
            first_id: _lock_item(s, user, first_id),
            second_id: _lock_item(s, user, second_id),
        }
        item, target_item = locked[item_id], locked[into]
        if target_item.workspace != item.workspace:
            raise InvalidState(
                f"item {item_id} is in {item.workspace}, case {into} in {target_item.workspace}: "
                "a case holds one workspace's items"
            )
        if item.status not in OPEN:
            raise InvalidState(f"item {item_id} is {item.status}: only an open item can move")
        if (
            item.case_id == item.id
            and s.exec(
                select(func.count())
                .select_from(Item)
                .where(Item.case_id == item.id, Item.id != item.id)
            ).one()
        ):
            raise InvalidState(
                f"item {item_id} is the first item of a case with members: split them first"
            )
        if target_item.case_id not in (None, target_item.id):
            raise InvalidState(
                f"item {into} is a member of case {target_item.case_id}: move it there instead"
            )
        if target_item.status not in OPEN:
            raise InvalidState(f"item {into} is {target_item.status}: it takes no members")
        was = item.case_id
        target_item.case_id = into
        item.case_id = into
        if item.status in (ItemStatus.TRIAGED.value, ItemStatus.IN_REVIEW.value):
            item.status = ItemStatus.IN_CASE.value
        s.add(target_item)
        s.add(item)
        _review(unit, item, user, ReviewAction.MOVE, note=f"moved into case {into}")
        s.flush()
        unit.event(item.workspace, "review", action="move", item=item_id, case=into, was=was)
        return item
