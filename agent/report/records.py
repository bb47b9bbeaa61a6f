"""The escalation record: one row per item with what a team keeps for it (platform,
account, message type, handle, owner, draft status, review status, final action,
follow-up date, recovery note), for ``inbox-agent export items`` and the item page.

The recovery note is worked out when the record is read, not stored with the item.
The runs table already holds every stop of every sweep and send, by whichever path
ended it (the sweep, the outbox, the closer of crashed runs), and the activity log
holds each stop's evidence (its ``stop`` event: message, screenshot, screen tree,
URL). Read together they give the note for any item, stored before this record
existed or after, without the stop paths writing into every open item of the
workspace, and the note stays true: once a later run of the workspace ends ok, it says
the workspace recovered instead of still asking a person to fix it.

An item's note is about the newest sweep or reply run of its workspace that stopped,
failed or crashed while the item was open: ending at or after the item was stored, and
starting before the item was closed (its reply sent, resolved; a dropped item is
closed when stored). A reply of the item that ended failed is named first.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from agent.report.facts import EDITED_BY, EDITED_NOTE, REJECTED_BY, triage_drafted
from agent.store import Decision, Item, OutboxEntry, Review, Run

CHUNK = 500  # items read per round (the export never holds the whole store)
STOPPED = ("stopped", "failed", "crashed")
RAN = ("ok", "drift")
UNCONFIGURED = "(not configured)"

# What a person should do after each stop condition (flows.models.STOP_REASONS).
WHAT_TO_DO = {
    "login_required": "sign the profile in again: inbox-agent login {ws}",
    "challenge": "take the session over, solve the challenge by hand, then hand it back",
    "rate_limited": "wait for the platform's limit to lift; sweep this workspace less often",
    "wrong_account": "take over and sign in as the workspace's expected account",
    "selector_missing": "the screen changed: inbox-agent selectors check {ws}, then fix the pack",
    "timeout": "check the device or network; the next sweep tries again",
    "crashed": "the browser or device died; the next run starts it again (see the log)",
    "limit_reached": "sweep again: the run stopped at its item or time limit",
    "platform_error": "the platform showed an error page: the next sweep tries again",
    "update_required": "update the app on the device, then inbox-agent devices doctor",
    "unexpected_dialog": "take over and close the dialog (or add it to the selector pack)",
    "wrong_app": "take over and bring the workspace's app back to the front",
}
DEFAULT_TO_DO = "read the run in the activity log: inbox-agent log {ws} --run {run}"


class DraftStatus(StrEnum):
    NONE = "none"  # no draft (a person may still write the reply)
    PROPOSED = "proposed"  # triage's draft, as triage wrote it
    EDITED = "edited"  # a reviewer changed it (saved a new text, or approved a changed one)
    REJECTED = "rejected"  # a reviewer threw it away (and may have written one since)
    WRITTEN = "written"  # triage made none: a person wrote the reply


class FinalAction(StrEnum):
    REPLIED = "replied"
    REPLY_FAILED = "reply_failed"
    REPLY_QUEUED = "reply_queued"  # approved, the outbox has not sent it yet
    RESOLVED = "resolved"  # without a reply
    DROPPED = "dropped"
    ESCALATED = "escalated"
    PAUSED = "paused"
    AWAITING_REVIEW = "awaiting_review"
    AWAITING_TRIAGE = "awaiting_triage"


@dataclass(frozen=True)
class ItemRecord:
    id: int
    workspace: str
    client: str
    platform: str
    account: str
    message_type: str  # comment | dm
    handle: str
    thread: str
    seen_at: datetime
    intent: str | None
    priority: str | None
    owner: str | None
    draft_status: str
    review_status: str  # the item's status: triaged, in_review, approved, replied, …
    final_action: str
    follow_up: date | None
    recovery_note: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


RECORD_FIELDS: tuple[str, ...] = tuple(ItemRecord.__dataclass_fields__)


class StopLog(Protocol):
    """What the notes read from the activity log (``runlogs.ActivityLog`` is one)."""

    def events(
        self, workspace: str, *, run_id: str | None = None, since_date: date | None = None
    ) -> Iterator[Any]: ...


@dataclass(frozen=True)
class Stop:
    run_id: str
    workspace: str
    kind: str
    status: str
    reason: str | None
    started_at: datetime
    ended_at: datetime
    recovered_at: datetime | None  # the first later run of the workspace that ran


def stops(session: Session, workspaces: Collection[str] | None) -> dict[str, list[Stop]]:
    """Every stopped, failed or crashed sweep and reply run, by workspace, newest first,
    with the first later run that ran (one query: the later run is a subquery)."""
    later = aliased(Run)
    recovered = (
        select(func.min(later.started_at))
        .where(
            later.workspace == Run.workspace,
            col(later.status).in_(RAN),
            col(later.kind).in_(("sweep", "reply")),
            later.started_at > Run.started_at,
        )
        .scalar_subquery()
    )
    stmt = sa.select(Run, recovered).where(
        col(Run.status).in_(STOPPED), col(Run.kind).in_(("sweep", "reply"))
    )
    if workspaces is not None:
        stmt = stmt.where(col(Run.workspace).in_(sorted(workspaces)))
    out: dict[str, list[Stop]] = {}
    for run, recovered_at in session.execute(stmt.order_by(col(Run.started_at).desc())):
        end = run.finished_at or run.started_at
        found = Stop(
            run.id, run.workspace, run.kind, run.status, run.stop_reason, run.started_at, end,
            _aware(recovered_at),
        )  # fmt: skip
        out.setdefault(run.workspace, []).append(found)
    return out


def _aware(value: datetime | str | None) -> datetime | None:
    """A time from the subquery, as the store's columns give it: aware UTC."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass
class _Evidence:
    log: StopLog | None
    found: dict[str, dict[str, Any]]

    def of(self, stop: Stop) -> dict[str, Any]:
        """The stop event's data for the run (empty when the log has none)."""
        if stop.run_id not in self.found:
            data: dict[str, Any] = {}
            if self.log is not None:
                events = self.log.events(
                    stop.workspace, run_id=stop.run_id, since_date=stop.started_at.date()
                )
                data = next((dict(e.data) for e in events if e.type == "stop"), {})
            self.found[stop.run_id] = data
        return self.found[stop.run_id]


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def stop_note(stop: Stop, evidence: Mapping[str, Any]) -> str:
    """The stop reason, its evidence and what a person should do, in one paragraph."""
    reason = stop.reason or stop.status
    what = "sweep" if stop.kind == "sweep" else "send"
    parts = [f"{what} {stop.status} at {_when(stop.started_at)}: {reason}"]
    message = " ".join(str(evidence.get("message") or "").split())
    if message:
        parts[0] += f" ({message[:300]})"
    shown = [f"{k} {evidence[k]}" for k in ("screenshot", "screen_tree", "url") if evidence.get(k)]
    run = f"run {stop.run_id} (inbox-agent log {stop.workspace} --run {stop.run_id})"
    parts.append("evidence: " + "; ".join([*shown, run]))
    todo = WHAT_TO_DO.get(reason, DEFAULT_TO_DO)
    parts.append("do: " + todo.format(ws=stop.workspace, run=stop.run_id))
    if stop.recovered_at is not None:
        parts.append(f"recovered: a run at {_when(stop.recovered_at)} ran")
    else:
        parts.append("not recovered yet: no run of the workspace has ended ok since")
    return ". ".join(parts) + "."


@dataclass
class _Chunk:
    decisions: dict[int, Decision]
    outbox: dict[int, list[OutboxEntry]]
    reviews: dict[int, list[tuple[str, str | None, datetime]]]


def _read_chunk(session: Session, ids: list[int]) -> _Chunk:
    chunk = _Chunk({}, {}, {})
    newest = (
        select(func.max(Decision.id))
        .where(col(Decision.item_id).in_(ids))
        .group_by(col(Decision.item_id))
    )
    for d in session.exec(select(Decision).where(col(Decision.id).in_(newest))):
        chunk.decisions[d.item_id] = d
    entries = select(OutboxEntry).where(col(OutboxEntry.item_id).in_(ids))
    for e in session.exec(entries.order_by(col(OutboxEntry.id))):
        chunk.outbox.setdefault(e.item_id, []).append(e)
    note = sa.case((col(Review.action) == "approve", col(Review.note)), else_=None)
    rows = sa.select(col(Review.item_id), col(Review.action), note, col(Review.created_at))
    for item_id, action, approve_note, at in session.execute(
        rows.where(col(Review.item_id).in_(ids)).order_by(col(Review.id))
    ):
        chunk.reviews.setdefault(item_id, []).append((action, approve_note, at))
    return chunk


def draft_status(decision: Decision | None, reviews: list[tuple[str, str | None, Any]]) -> str:
    """Where the item's draft stands (``DraftStatus``): triage's, changed, thrown away,
    or a reply a person wrote where triage made none."""
    if decision is None:
        return DraftStatus.NONE.value
    source = decision.draft_source or ""
    edited = source.startswith(EDITED_BY) or any(
        a == "approve" and n == EDITED_NOTE for a, n, _ in reviews
    )
    if not triage_drafted(decision.draft_source, decision.why or []):
        wrote = edited or any(a in ("edit", "approve") for a, _, _ in reviews)
        return DraftStatus.WRITTEN.value if wrote else DraftStatus.NONE.value
    if source.startswith(REJECTED_BY):
        return DraftStatus.REJECTED.value
    return DraftStatus.EDITED.value if edited else DraftStatus.PROPOSED.value


def final_action(item: Item, decision: Decision | None, entries: list[OutboxEntry]) -> str:
    states = {e.state for e in entries}
    if "sent" in states:
        return FinalAction.REPLIED.value
    if states & {"approved", "sending"}:
        return FinalAction.REPLY_QUEUED.value
    if item.status == "resolved":  # a person closed it (after a failed reply, too)
        return FinalAction.RESOLVED.value
    if "failed" in states:
        return FinalAction.REPLY_FAILED.value
    if item.status == "dropped":
        return FinalAction.DROPPED.value
    if decision is None:
        return FinalAction.AWAITING_TRIAGE.value
    if decision.action == "escalate":
        return FinalAction.ESCALATED.value
    if decision.action == "pause":
        return FinalAction.PAUSED.value
    return FinalAction.AWAITING_REVIEW.value


def _closed_at(
    item: Item, entries: list[OutboxEntry], reviews: list[tuple[str, str | None, datetime]]
) -> datetime | None:
    if item.status == "dropped":
        return item.seen_at
    times = [e.sent_at for e in entries if e.sent_at is not None]
    if item.status == "resolved":
        times += [at for action, _, at in reviews if action == "resolve"]
    return min(times) if times else None


def recovery_note(
    item: Item,
    entries: list[OutboxEntry],
    reviews: list[tuple[str, str | None, datetime]],
    workspace_stops: list[Stop],
    evidence: _Evidence,
) -> str | None:
    closed = _closed_at(item, entries, reviews)
    stop = next(
        (
            s for s in workspace_stops  # newest first
            if s.ended_at >= item.seen_at and (closed is None or s.started_at <= closed)
        ),
        None,
    )  # fmt: skip
    failed = [e for e in entries if e.state == "failed"]
    parts = []
    if failed:
        reason = " ".join((failed[-1].last_error or "no reason recorded").split())[:300]
        parts.append(f"Reply not sent: {reason}.")
        if stop is None:
            parts.append("Do: check the reply, approve it again or resolve the item.")
    if stop is not None:
        parts.append(stop_note(stop, evidence.of(stop)))
    return " ".join(parts) or None


def item_records(
    session: Session,
    clients: Mapping[str, str],
    *,
    workspaces: Collection[str] | None = None,
    log: StopLog | None = None,
) -> Iterator[ItemRecord]:
    """Every item (of ``workspaces``, or all) once, in id order, as its record."""
    all_stops = stops(session, workspaces)
    evidence = _Evidence(log, {})
    after = 0
    while True:
        query = select(Item).where(col(Item.id) > after)
        if workspaces is not None:
            query = query.where(col(Item.workspace).in_(sorted(workspaces)))
        items = list(session.exec(query.order_by(col(Item.id)).limit(CHUNK)))
        if not items:
            return
        chunk = _read_chunk(session, [i.id for i in items if i.id is not None])
        for item in items:
            assert item.id is not None
            yield _record(item, chunk, clients, all_stops.get(item.workspace, []), evidence)
        after = items[-1].id or after


def _record(
    item: Item,
    chunk: _Chunk,
    clients: Mapping[str, str],
    workspace_stops: list[Stop],
    evidence: _Evidence,
) -> ItemRecord:
    assert item.id is not None
    decision = chunk.decisions.get(item.id)
    entries = chunk.outbox.get(item.id, [])
    reviews = chunk.reviews.get(item.id, [])
    return ItemRecord(
        id=item.id,
        workspace=item.workspace,
        client=clients.get(item.workspace, UNCONFIGURED),
        platform=item.platform,
        account=item.account,
        message_type=item.kind,
        handle=item.author_handle or item.author,
        thread=item.thread,
        seen_at=item.seen_at,
        intent=decision.intent if decision else None,
        priority=decision.priority if decision else None,
        owner=decision.owner if decision else None,
        draft_status=draft_status(decision, reviews),
        review_status=item.status,
        final_action=final_action(item, decision, entries),
        follow_up=item.follow_up_on,
        recovery_note=recovery_note(item, entries, reviews, workspace_stops, evidence),
    )


def item_record(
    session: Session, item: Item, clients: Mapping[str, str], log: StopLog | None = None
) -> ItemRecord:
    """One item's record (for its page): the caller has checked the person may see it."""
    assert item.id is not None
    chunk = _read_chunk(session, [item.id])
    ws_stops = stops(session, [item.workspace]).get(item.workspace, [])
    return _record(item, chunk, clients, ws_stops, _Evidence(log, {}))
