"""What a person does in the review queue: approve, edit, reject, escalate, assign, resolve,
restore a dropped item ("not spam"), correct its triage (intent, priority, queue), take
over and hand back. The web UI, the JSON API and the CLI all call these functions.

Each action runs in one transaction that first *locks the item* (a no-op UPDATE
of its row: SQLite takes its write lock, PostgreSQL a row lock), then checks
that the person may see the workspace (else ``NotFound``: an ungranted item looks
absent), that their role allows the action (``NotAllowed``), and, where the
caller passes the draft hash the person saw, that nothing changed since
(``StaleDraft``). So two reviewers approving one item at once produce one outbox
entry and one clear refusal. An approval is also refused (``InvalidState``) when
the item's workspace has no reply flow, or one that does not answer the item's
kind (``handles``): nothing would ever send it, so nothing is queued. Every action
is recorded as a ``Review`` row and, after the commit, as an activity-log event with
the actor ``user:NAME``. What a person changes of triage's conclusions (``correct``, and
the draft ``reject`` throws away) is also kept as a label (``agent.store.corrections``),
in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlmodel import Session, col, select

from agent.review.auth import can_see, has_role
from agent.review.choices import check_correction
from agent.review.errors import InvalidState, NotAllowed, NotFound, ReviewError, StaleDraft
from agent.review.queries import PENDING, active_takeover, draft_hash, latest_decision, valid_id
from agent.store import (
    Decision,
    Item,
    ItemStatus,
    OutboxEntry,
    Review,
    ReviewAction,
    Role,
    Store,
    Takeover,
    User,
    status_after,
    text_hash,
    utcnow,
)
from agent.store.corrections import record
from agent.store.items import dialect_insert
from agent.store.models import CorrectionField
from agent.webhooks import events as webhook_events  # takeover events (issue 16)
from runlogs import ActivityLog, NewEvent

if TYPE_CHECKING:
    from agent.config import Catalog

MAX_REPLY_CHARS = 5000
MAX_NOTE_CHARS = 2000
EDITED_BY = "edited by "  # a draft_source a reviewer wrote, not a saved reply's id
REJECTED_BY = "draft rejected by "


@dataclass
class _Unit:
    session: Session
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def event(self, workspace: str, type_: str, **data: Any) -> None:
        self.events.append((workspace, type_, data))


@contextmanager
def _unit(target: Session | Store, user: User, log: ActivityLog | None) -> Iterator[_Unit]:
    """A transaction (or the caller's session); events are logged once it has committed."""
    if isinstance(target, Store):
        with target.session() as session:
            unit = _Unit(session)
            yield unit
    else:
        unit = _Unit(target)
        yield unit
        target.flush()
    if log is not None:
        for workspace, type_, data in unit.events:
            log.append(workspace, type_, actor=f"user:{user.name}", **data)


def _fresh_user(session: Session, user: User) -> User:
    """The user as stored now (a role change or a disable applies at once)."""
    current = session.get(User, user.id) if user.id is not None else None
    if current is None or current.disabled:
        raise NotAllowed(f"user {user.name!r} is unknown or disabled")
    return current


def _require(user: User, role: Role, what: str) -> None:
    if not has_role(user, role.value):
        raise NotAllowed(f"{what} needs the {role.value} role (you are {user.role})")


def _lock_item(session: Session, user: User, item_id: int) -> Item:
    if not valid_id(item_id):  # beyond what the database's integer holds: absent
        raise NotFound(f"no item {item_id}")
    locked: Any = session.execute(
        sa.update(Item).where(col(Item.id) == item_id).values(status=Item.status)
    )
    item = session.get(Item, item_id, populate_existing=True) if locked.rowcount else None
    if item is None or not can_see(session, user, item.workspace):
        raise NotFound(f"no item {item_id}")
    return item


def _check_fresh(item: Item, decision: Decision | None, seen: str | None) -> None:
    if seen is None:
        return
    if seen.strip() != draft_hash(item, decision):
        raise StaleDraft(
            f"item {item.id} changed since you opened it (it is now {item.status}); "
            "reload it and check the draft again"
        )


def _check_pending(item: Item) -> None:
    if item.status not in PENDING:
        raise InvalidState(f"item {item.id} is {item.status}: there is nothing to review")


def queue_reply(s: Session, item: Item, text: str, digest: str, user: User) -> OutboxEntry:
    """The item's outbox entry for ``text`` (its hash ``digest``), approved by ``user``: the
    one already there when the same text was approved before (the outbox's unique key),
    so a repeated approval never queues a second reply. The item becomes ``approved``."""
    s.execute(
        dialect_insert(s, OutboxEntry)
        .values(
            item_id=item.id,
            workspace=item.workspace,
            thread=item.thread,
            text=text,
            text_hash=digest,
            approved_by=user.name,
            approved_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["item_id", "text_hash"])
    )
    entry = s.exec(
        select(OutboxEntry).where(OutboxEntry.item_id == item.id, OutboxEntry.text_hash == digest)
    ).one()
    item.status = ItemStatus.APPROVED.value
    s.add(item)
    return entry


def _check_not_a_waiting_case(session: Session, item: Item) -> None:
    """A case's first item is answered or closed with its members, on the case's page: on
    its own, the members waiting for the case's reply would be left unanswered."""
    if item.case_id is None or item.case_id != item.id:
        return
    waiting = session.exec(
        select(sa.func.count())
        .select_from(Item)
        .where(Item.case_id == item.id, Item.id != item.id, Item.status == ItemStatus.IN_CASE.value)
    ).one()
    if waiting:
        raise InvalidState(
            f"item {item.id} is the first item of case {item.id}, with {waiting} more "
            f"customers waiting for its reply: approve or resolve the case (/cases/{item.id}), "
            "or split them out first"
        )


def _check_sendable(item: Item, catalog: Catalog) -> None:
    why = catalog.why_no_reply(item.workspace, item.kind)
    if why is not None:
        raise InvalidState(f"item {item.id} cannot be approved: {why}; nothing was queued")


def _check_dropped(item: Item) -> None:
    if item.status != ItemStatus.DROPPED.value:
        raise InvalidState(f"item {item.id} is {item.status}, not dropped")


def _clean(text: str, limit: int, what: str, *, required: bool = True) -> str:
    text = text.replace("\r\n", "\n").strip()
    if "\x00" in text:  # PostgreSQL cannot store it, and no platform would send it
        raise ReviewError(f"the {what} holds a NUL character (U+0000)")
    if required and not text:
        raise ReviewError(f"the {what} is empty")
    if len(text) > limit:
        raise ReviewError(f"the {what} is {len(text):,} characters (at most {limit:,})")
    return text


def _review(unit: _Unit, item: Item, user: User, action: ReviewAction, **extra: Any) -> None:
    assert item.id is not None
    unit.session.add(Review(item_id=item.id, reviewer=user.name, action=action.value, **extra))


def _decision_for(session: Session, item: Item) -> Decision:
    """The item's latest decision, or a new ``review`` one when triage left none."""
    assert item.id is not None
    decision = latest_decision(session, item.id)
    if decision is None:
        decision = Decision(item_id=item.id, action="review", why=["added by a reviewer"])
    return decision


def approve(
    target: Session | Store,
    item_id: int,
    user: User,
    text: str,
    *,
    seen_draft_hash: str,
    catalog: Catalog,
    log: ActivityLog | None = None,
) -> OutboxEntry:
    """Approve ``text`` as the reply to the item: one outbox entry, state ``approved``.

    ``catalog`` is the home's configuration: the item's workspace must have a reply
    flow that handles the item's kind.
    """
    with _unit(target, user, log) as unit:
        s = unit.session
        user = _fresh_user(s, user)
        _require(user, Role.REVIEWER, "approving")
        item = _lock_item(s, user, item_id)
        decision = latest_decision(s, item_id)
        _check_fresh(item, decision, seen_draft_hash)
        _check_pending(item)
        _check_not_a_waiting_case(s, item)
        _check_sendable(item, catalog)
        if decision is not None and (
            decision.action in ("escalate", "pause") or decision.priority == "P1"
        ):
            _require(
                user, Role.APPROVER, f"approving a {decision.action} / {decision.priority} item"
            )
        text = _clean(text, MAX_REPLY_CHARS, "reply")
        digest = text_hash(text)
        edited = decision is None or text != (decision.draft or "").strip()
        entry = queue_reply(s, item, text, digest, user)
        note = "edited draft" if edited else None
        _review(unit, item, user, ReviewAction.APPROVE, note=note, draft_hash_seen=seen_draft_hash)
        s.flush()
        unit.event(
            item.workspace,
            "approval",
            item=item_id,
            outbox=entry.id,
            thread=item.thread,
            text_hash=digest,
            edited=edited,
            draft_source=decision.draft_source if decision else None,
        )
        return entry


def save_draft(
    target: Session | Store,
    item_id: int,
    user: User,
    text: str,
    *,
    seen_draft_hash: str,
    log: ActivityLog | None = None,
) -> Decision:
    """Replace the item's draft with ``text`` (edit without approving)."""
    with _unit(target, user, log) as unit:
        s = unit.session
        user = _fresh_user(s, user)
        _require(user, Role.REVIEWER, "editing a draft")
        item = _lock_item(s, user, item_id)
        decision = latest_decision(s, item_id)
        _check_fresh(item, decision, seen_draft_hash)
        _check_pending(item)
        text = _clean(text, MAX_REPLY_CHARS, "draft")
        decision = decision or _decision_for(s, item)
        decision.draft = text
        decision.draft_source = f"{EDITED_BY}{user.name}"
        s.add(decision)
        item.status = ItemStatus.IN_REVIEW.value
        s.add(item)
        _review(unit, item, user, ReviewAction.EDIT, note=text, draft_hash_seen=seen_draft_hash)
        s.flush()
        unit.event(item.workspace, "review", action="edit", item=item_id, text_hash=text_hash(text))
        return decision


def _simple(
    target: Session | Store,
    item_id: int,
    user: User,
    action: ReviewAction,
    *,
    note: str | None,
    seen_draft_hash: str | None,
    log: ActivityLog | None,
    change: Callable[[Session, Item, User], dict[str, Any] | None],
    state_check: Callable[[Item], None] = _check_pending,
    **event: Any,
) -> Item:
    """The shape shared by reject, escalate, assign, resolve, restore and correct.

    ``change`` may return more fields for the activity-log event.
    """
    with _unit(target, user, log) as unit:
        s = unit.session
        user = _fresh_user(s, user)
        _require(user, Role.REVIEWER, f"{action.value} ")
        item = _lock_item(s, user, item_id)
        _check_fresh(item, latest_decision(s, item_id), seen_draft_hash)
        state_check(item)
        note = _clean(note or "", MAX_NOTE_CHARS, "note", required=False) or None
        event.update(change(s, item, user) or {})
        s.add(item)
        _review(unit, item, user, action, note=note, draft_hash_seen=seen_draft_hash)
        s.flush()
        unit.event(item.workspace, "review", action=action.value, item=item_id, note=note, **event)
        return item


def reject(
    target: Session | Store,
    item_id: int,
    user: User,
    *,
    reason: str | None = None,
    seen_draft_hash: str | None = None,
    log: ActivityLog | None = None,
) -> Item:
    """Reject the draft: it is discarded and the item stays in review for a written reply.

    A draft that was there is recorded as a ``draft`` correction (new value ``rejected``,
    old value the saved reply it came from, if it came from one).
    """

    def change(s: Session, item: Item, user: User) -> None:
        decision = _decision_for(s, item)
        if decision.draft:
            saved = _saved_reply(decision)
            record(s, item, CorrectionField.DRAFT, saved, "rejected", user.name)
        decision.draft = None
        decision.draft_source = f"{REJECTED_BY}{user.name}"
        s.add(decision)
        item.status = ItemStatus.IN_REVIEW.value

    return _simple(
        target, item_id, user, ReviewAction.REJECT, note=reason,
        seen_draft_hash=seen_draft_hash, log=log, change=change,
    )  # fmt: skip


def _saved_reply(decision: Decision) -> str | None:
    """The id of the saved reply the draft came from (triage names it in ``draft_source``;
    a reviewer's edit or rejection names the reviewer instead)."""
    source = decision.draft_source
    if not source or source.startswith((EDITED_BY, REJECTED_BY)):
        return None
    return source


def correct(
    target: Session | Store,
    item_id: int,
    user: User,
    *,
    intent: str | None = None,
    priority: str | None = None,
    queue: str | None = None,
    note: str | None = None,
    seen_draft_hash: str | None = None,
    intents: Collection[str] | None = None,
    log: ActivityLog | None = None,
) -> Item:
    """Correct what triage concluded: the latest decision's intent, priority or queue.

    None leaves a field as it is. ``intents`` are the ones triage can assign (default:
    the default taxonomy's; the web passes the home's); a priority is one of
    ``PRIORITIES``; a queue is any short name (the page offers the routing rules').
    Each field whose value really changes is recorded as a correction; a request that
    changes nothing is refused. The item stays where it is in the workflow (any status:
    a resolved item's label may be wrong too), and nothing is approved or sent.
    """
    wanted: dict[CorrectionField, str | None] = {
        CorrectionField.INTENT: intent,
        CorrectionField.PRIORITY: priority,
        CorrectionField.QUEUE: queue,
    }

    def change(s: Session, item: Item, user: User) -> dict[str, Any]:
        given = check_correction(wanted, intents)
        decision = _decision_for(s, item)
        changed: dict[str, dict[str, str | None]] = {}
        for name, new in given.items():
            old = getattr(decision, name.value)
            if record(s, item, name, old, new, user.name) is not None:
                setattr(decision, name.value, new)
                changed[name.value] = {"old": old, "new": new}
        if not changed:
            raise ReviewError(
                f"nothing to correct: item {item.id} already has that "
                f"{', '.join(n.value for n in given)}"
            )
        decision.why = [*decision.why, f"corrected by {user.name}: {', '.join(changed)}"]
        s.add(decision)
        if decision.priority == "P1" and "priority" in changed:  # a P1 a person found
            webhook_events.triage_recorded(s, [item], [decision])
        return {"changed": changed}

    return _simple(
        target, item_id, user, ReviewAction.CORRECT, note=note,
        seen_draft_hash=seen_draft_hash, log=log, change=change, state_check=_any_state,
    )  # fmt: skip


def _any_state(item: Item) -> None:
    """A correction is a label: it applies in every status and changes none."""


def escalate(
    target: Session | Store,
    item_id: int,
    user: User,
    *,
    reason: str | None = None,
    owner: str | None = None,
    seen_draft_hash: str | None = None,
    log: ActivityLog | None = None,
) -> Item:
    """Escalate: the decision becomes ``escalate`` (approving it then needs an approver)."""
    owner = _clean(owner or "", 200, "owner", required=False) or None

    def change(s: Session, item: Item, user: User) -> None:
        decision = _decision_for(s, item)
        decision.action = "escalate"
        if owner:
            decision.owner = owner
        decision.why = [*decision.why, f"escalated by {user.name}"]
        s.add(decision)
        item.status = ItemStatus.IN_REVIEW.value

    return _simple(
        target, item_id, user, ReviewAction.ESCALATE, note=reason,
        seen_draft_hash=seen_draft_hash, log=log, change=change, owner=owner,
    )  # fmt: skip


def assign(
    target: Session | Store,
    item_id: int,
    user: User,
    owner: str,
    *,
    seen_draft_hash: str | None = None,
    log: ActivityLog | None = None,
) -> Item:
    """Reassign the item to another owner (a person or a team)."""
    owner = _clean(owner, 200, "owner")

    def change(s: Session, item: Item, user: User) -> None:
        decision = _decision_for(s, item)
        decision.owner = owner
        s.add(decision)
        item.status = ItemStatus.IN_REVIEW.value

    return _simple(
        target, item_id, user, ReviewAction.ASSIGN, note=f"assigned to {owner}",
        seen_draft_hash=seen_draft_hash, log=log, change=change, owner=owner,
    )  # fmt: skip


def resolve(
    target: Session | Store,
    item_id: int,
    user: User,
    *,
    note: str | None = None,
    seen_draft_hash: str | None = None,
    log: ActivityLog | None = None,
) -> Item:
    """Resolve without a reply: the item leaves the queue and nothing is sent."""

    def change(s: Session, item: Item, user: User) -> None:
        _check_not_a_waiting_case(s, item)
        item.status = ItemStatus.RESOLVED.value

    return _simple(
        target, item_id, user, ReviewAction.RESOLVE, note=note,
        seen_draft_hash=seen_draft_hash, log=log, change=change,
    )  # fmt: skip


def restore(
    target: Session | Store,
    item_id: int,
    user: User,
    triage_again: Callable[[Item], Decision],
    *,
    note: str | None = None,
    log: ActivityLog | None = None,
) -> Item:
    """Not spam: a dropped item is triaged again and enters the queue.

    ``triage_again`` gives the new decision (``SweepTriage.not_spam``: the spam
    filter and the duplicate check are overruled, stop rules still apply). The
    decision, the item's new status and the review row are one transaction.
    """

    def change(s: Session, item: Item, user: User) -> dict[str, Any]:
        decision = triage_again(item)
        decision.why = [*decision.why, f"restored by {user.name}: not spam"]
        s.add(decision)
        item.status = status_after(decision.action).value
        return {"decision": decision.action, "intent": decision.intent, "owner": decision.owner}

    return _simple(
        target, item_id, user, ReviewAction.RESTORE, note=note, seen_draft_hash=None,
        log=log, change=change, state_check=_check_dropped,
    )  # fmt: skip


def take_over(
    target: Session | Store, workspace: str, user: User, *, log: ActivityLog | None = None
) -> Takeover:
    """Take the workspace's live session: sweeps and the outbox leave it alone until handback."""
    with _unit(target, user, log) as unit:
        s = unit.session
        user = _fresh_user(s, user)
        if not can_see(s, user, workspace):
            raise NotFound(f"no workspace {workspace!r}")
        _require(user, Role.REVIEWER, "taking over a workspace")
        held = active_takeover(s, workspace)
        if held is not None:
            raise InvalidState(f"{workspace} is taken over by {held.user} already")
        takeover = Takeover(workspace=workspace, user=user.name)
        s.add(takeover)
        s.flush()
        unit.event(workspace, "takeover", takeover=takeover.id)
        webhook_events.takeover_started(s, takeover)  # webhooks (issue 16), same transaction
        return takeover


def hand_back(
    target: Session | Store, workspace: str, user: User, *, log: ActivityLog | None = None
) -> Takeover:
    """End the takeover (its holder, or an approver for someone who left)."""
    with _unit(target, user, log) as unit:
        s = unit.session
        user = _fresh_user(s, user)
        if not can_see(s, user, workspace):
            raise NotFound(f"no workspace {workspace!r}")
        held = active_takeover(s, workspace)
        if held is None:
            raise InvalidState(f"{workspace} is not taken over")
        if held.user != user.name:
            _require(user, Role.APPROVER, f"handing back {held.user}'s takeover")
        held.ended_at = utcnow()
        s.add(held)
        s.flush()
        unit.event(workspace, "handback", takeover=held.id, held_by=held.user)
        webhook_events.takeover_ended(s, held, by=user.name)  # webhooks (issue 16)
        return held


# -- bulk actions (the queue page's selection) ---------------------------------------

# What a person may do to many items at once: never approve (nor edit) a draft in bulk,
# each reply is read and approved on its own.
BULK_ACTIONS = ("resolve", "reject", "assign", "escalate", "restore")
MAX_BULK = 200  # the largest queue page


@dataclass
class _HeldLog:
    """Stands in for the activity log inside a bulk action: holds each single action's
    events until the one transaction has committed, so a refused bulk logs nothing."""

    held: dict[str, list[NewEvent]] = field(default_factory=dict)

    def append(self, workspace: str, type: str, *, actor: str = "system", **data: Any) -> None:  # noqa: A002
        self.held.setdefault(workspace, []).append(NewEvent(type, actor=actor, data=data))


def bulk(
    store: Store,
    item_ids: Collection[int],
    user: User,
    action: str,
    *,
    owner: str | None = None,
    note: str | None = None,
    triage_again: Callable[[Item], Decision] | None = None,
    log: ActivityLog | None = None,
) -> list[Item]:
    """Do one action to many items, all or nothing, in one transaction.

    ``action`` is one of ``BULK_ACTIONS``: ``resolve`` (without a reply), ``reject``,
    ``assign`` (to ``owner``, required), ``escalate`` (to ``owner``, optional), or
    ``restore`` (not spam: ``triage_again`` as for ``restore``). Each item goes through
    the single action's own function, so each gets its own review row and its own
    activity-log event, exactly as when done one by one; ``note`` is each one's note
    (the reason of a reject or an escalation). The first item that the person may not
    see (``NotFound``), that their role may not act on (``NotAllowed``) or that is not in
    a state the action applies to (``InvalidState``) refuses the whole request: the
    transaction is rolled back and no event is logged. Items are locked in id order (two
    bulk actions at once cannot deadlock); the items are returned in that order.
    """
    if action not in BULK_ACTIONS:
        raise ReviewError(f"unknown bulk action {action!r} (known: {', '.join(BULK_ACTIONS)})")
    ids = sorted(set(item_ids))
    if not ids:
        raise ReviewError("no items selected")
    if len(ids) > MAX_BULK:
        raise ReviewError(f"{len(ids):,} items selected (at most {MAX_BULK} at once)")
    if action == "restore" and triage_again is None:
        raise TypeError("restoring needs triage_again")
    held = _HeldLog()
    inner = cast(ActivityLog, held) if log is not None else None
    done: list[Item] = []
    with store.session() as s:
        _require(_fresh_user(s, user), Role.REVIEWER, f"{action} in bulk")
        for item_id in ids:
            if action == "resolve":
                item = resolve(s, item_id, user, note=note, log=inner)
            elif action == "reject":
                item = reject(s, item_id, user, reason=note, log=inner)
            elif action == "assign":
                item = assign(s, item_id, user, owner or "", log=inner)
            elif action == "escalate":
                item = escalate(s, item_id, user, reason=note, owner=owner, log=inner)
            else:
                assert triage_again is not None
                item = restore(s, item_id, user, triage_again, note=note, log=inner)
            done.append(item)
    if log is not None:
        for workspace, entries in held.held.items():
            log.append_many(workspace, entries)
    return done
