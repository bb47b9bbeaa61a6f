"""Webhook events, recorded where they happen, in the same transaction.

Why at the source, in the transaction, and not derived from the activity log: the log is a
file per workspace on the host that wrote it (workers on several hosts each have their own),
and a line is written after the store's commit, so a kill between the two leaves a fact the
log never tells. An event row inserted in the transaction that records the fact (a sweep's
end, a decision, a takeover, an outbox entry's final state) exists exactly when the fact
does, on every host of a shared store. Recording is one ``INSERT … ON CONFLICT DO NOTHING``
on a transaction already open: no configuration is read, no receiver is contacted, so a
sweep is never slowed or blocked by one; the background sender (``sender``) fans events out
to the webhooks that want them and delivers them. The insert runs in a savepoint: should it
fail, the error is logged and the fact it reports is still committed.

Each event is unique per (type, subject) — one P1 event per item, one stop event per run,
one breach per item — and carries a random ``event_id`` fixed at insert: the
``webhook-id`` receivers dedupe by, the same on every retry.

Where each comes from: ``item.p1`` from triage's ``record_many`` (``agent.decide``) and from
a reviewer's correction to P1 (``agent.review.actions.correct``);
``sweep.stopped`` / ``sweep.drift`` from ``Sweeper.run_flow`` (``agent.sweep``), for sweep
runs that end stopped (a stop condition: ``login_required``, ``challenge``, ``rate_limited``,
``wrong_account``, ``selector_missing``, …), failed (``crashed``) or drift, and for sweeps
whose process died, from whoever closes the run (``close_stale_runs`` with
``crashed_runs``: the next sweep of the workspace, ``inbox-agent log``, ``db status``);
``takeover.started`` / ``takeover.ended`` from ``agent.review.actions`` (the CLI, the review
UI and the JSON API all come through it); ``reply.sent`` / ``reply.failed`` from the
outbox's state changes (``agent.outbox``: failed is final, after its attempts);
``sla.warning`` / ``sla.breached`` from the time-based scan (``sla``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from agent.store import Decision, Item, OutboxEntry, Takeover, utcnow
from agent.store.items import dialect_insert
from agent.store.models import WebhookEvent, WebhookEventType

if TYPE_CHECKING:
    from workspaces.models import Workspace

logger = logging.getLogger(__name__)
TEXT_CHARS = 1000  # of a customer's message, a stop's message, a reply's error
WITHHELD = "private_data"  # a pause reason family whose text is never sent anywhere

# What a person should do about each stop reason (the README's stop conditions).
STOP_HINTS = {
    "login_required": "the platform asks to sign in again: run `inbox-agent login {ws}`",
    "challenge": "the platform shows a challenge or captcha: take the workspace over, pass "
    "it, hand it back",
    "rate_limited": "the platform limits the account: let it rest; check min_spacing_minutes",
    "wrong_account": "the session is signed in to another account than expected_account: "
    "sign in again with the right one",
    "platform_error": "the platform shows an error page: the next sweep tries again",
    "update_required": "the app asks to be updated: update it, then run `inbox-agent "
    "selectors check {ws}`",
    "unexpected_dialog": "a dialog the pack does not know is in front: take the workspace "
    "over and look",
    "wrong_app": "another app is in front on the device: take the workspace over and look",
    "selector_missing": "the screen no longer matches the selector pack: run `inbox-agent "
    "selectors check {ws}`",
    "timeout": "a step or the whole flow took too long: see `inbox-agent log {ws}`",
    "crashed": "the browser or device failed: see `inbox-agent log {ws}`",
    "limit_reached": "the sweep stopped at its item limit: the next sweep continues",
    "drift": "part of the screen could not be read as the pack expects: run `inbox-agent "
    "selectors check {ws}`",
}


CRASH_HINT = (
    "the sweep's process died before it finished (killed, out of memory, or its host went "
    "down): what it stored is kept and the next sweep catches up; see `inbox-agent log {ws}`"
)


def new_event_id() -> str:
    return "evt_" + uuid.uuid4().hex


def iso_time(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at is not None else None


def _cut(text: str | None, limit: int = TEXT_CHARS) -> str | None:
    if text is None:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


def record(
    session: Session,
    type_: WebhookEventType,
    subject: str,
    workspace: str,
    data: dict[str, Any],
    *,
    at: datetime | None = None,
) -> None:
    """Insert one event in ``session``'s transaction (nothing when it is recorded already)."""
    record_many(session, [(type_, subject, workspace, data)], at=at)


def record_many(
    session: Session,
    events: Iterable[tuple[WebhookEventType, str, str, dict[str, Any]]],
    *,
    at: datetime | None = None,
) -> int:
    """Insert events in a savepoint of ``session``'s transaction; how many were tried.

    A failure is logged and swallowed: the fact being committed matters more than its event.
    """
    rows = [
        {
            "event_id": new_event_id(),
            "type": type_.value,
            "subject": subject[:100],
            "workspace": workspace[:200],
            "occurred_at": at or utcnow(),
            "data": data,
        }
        for type_, subject, workspace, data in events
    ]
    if not rows:
        return 0
    try:
        with _savepoint(session):
            for row in rows:
                stmt = dialect_insert(session, WebhookEvent).values(**row)
                session.execute(stmt.on_conflict_do_nothing(index_elements=["type", "subject"]))
    except SQLAlchemyError:
        logger.exception("webhook events not recorded: %s", [r["subject"] for r in rows])
    return len(rows)


def _savepoint(session: Session) -> AbstractContextManager[Any]:
    """A savepoint in the caller's transaction. pysqlite opens its transaction only at the
    first INSERT/UPDATE/DELETE and would commit a SAVEPOINT issued before that on its own
    (outside the caller's transaction): then the insert runs unguarded, which on SQLite
    rolls back only the failing statement anyway."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        dbapi = connection.connection.dbapi_connection
        if not getattr(dbapi, "in_transaction", False):
            return nullcontext()
    return session.begin_nested()


def item_data(item: Item, decision: Decision | None) -> dict[str, Any]:
    """What an event says about an item and its decision (text withheld for private data)."""
    reasons = list(decision.pause_reasons) if decision is not None else []
    withheld = any(r.split(".")[0] == WITHHELD for r in reasons)
    out: dict[str, Any] = {
        "item": {
            "id": item.id,
            "workspace": item.workspace,
            "platform": item.platform,
            "account": item.account,
            "kind": item.kind,
            "thread": item.thread,
            "author": item.author,
            "text": None if withheld else _cut(item.text),
            "text_withheld": "private data" if withheld else None,
            "posted_at": iso_time(item.posted_at),
            "seen_at": iso_time(item.seen_at),
        }
    }
    if decision is not None:
        out["decision"] = {
            "action": decision.action,
            "intent": decision.intent,
            "priority": decision.priority,
            "queue": decision.queue,
            "owner": decision.owner,
            "sla_minutes": decision.sla_minutes,
            "sla_due_at": iso_time(decision.sla_due_at),
            "pause_reasons": reasons,
        }
    return out


# -- the sources (each called once, where the fact is committed) ------------------------


def triage_recorded(session: Session, items: list[Item], decisions: list[Decision]) -> None:
    """``item.p1`` for each item a decision gives priority P1 (once per item): triage's, and
    a reviewer's correction that raises an item to P1 (``agent.review.actions.correct``)."""
    record_many(
        session,
        [
            (WebhookEventType.ITEM_P1, f"item:{item.id}", item.workspace, item_data(item, d))
            for item, d in zip(items, decisions, strict=True)
            if d.priority == "P1"
        ],
    )


def sweep_finished(session: Session, ws: Workspace, run_id: str, result: Any) -> None:
    """``sweep.stopped`` (stopped or failed) or ``sweep.drift`` for a sweep run's end.

    ``result`` is the sweep's ``SweepResult`` (typed loosely: ``agent.sweep`` imports this).
    """
    if result.status in ("stopped", "failed"):
        type_, reason = WebhookEventType.SWEEP_STOPPED, result.stop_reason or result.status
    elif result.status == "drift":
        type_, reason = WebhookEventType.SWEEP_DRIFT, "drift"
    else:
        return
    hint = STOP_HINTS.get(reason, "see `inbox-agent log {ws}`").format(ws=ws.id)
    data = {
        "workspace": ws.id,
        "platform": ws.platform,
        "run": {
            "id": run_id,
            "status": result.status,
            "stop_reason": reason,
            "message": _cut(result.message),
            "new_items": result.new_items,
            "seen_items": result.seen_items,
        },
        "what_to_do": hint,
    }
    record(session, type_, f"run:{run_id}", ws.id, data)


def crashed_runs(platform_of: Callable[[str], str | None]) -> Callable[[Session, Any], None]:
    """The ``on_closed`` hook of ``close_stale_runs``: a sweep whose process died (killed, out
    of memory, the host gone) is a ``sweep.stopped`` with status and reason ``crashed``,
    recorded in the transaction that closes the run, so exactly one closer records it.

    ``platform_of`` names a workspace's platform (None for one the configuration lacks).
    """

    def record_crash(session: Session, run: Any) -> None:
        if run.kind != "sweep":
            return
        data = {
            "workspace": run.workspace,
            "platform": platform_of(run.workspace),
            "run": {
                "id": run.id,
                "status": "crashed",
                "stop_reason": "crashed",
                "message": _cut(f"the sweep's process ended without finishing: {run.reason}"),
                "new_items": None,
                "seen_items": None,
            },
            "what_to_do": CRASH_HINT.format(ws=run.workspace),
        }
        record(session, WebhookEventType.SWEEP_STOPPED, f"run:{run.id}", run.workspace, data)

    return record_crash


def _takeover_data(held: Takeover, by: str | None) -> dict[str, Any]:
    return {
        "workspace": held.workspace,
        "takeover": {
            "id": held.id,
            "user": held.user,
            "started_at": iso_time(held.started_at),
            "ended_at": iso_time(held.ended_at),
            "handed_back_by": by,
        },
    }


def takeover_started(session: Session, held: Takeover) -> None:
    data = _takeover_data(held, None)
    record(session, WebhookEventType.TAKEOVER_STARTED, f"takeover:{held.id}", held.workspace, data)


def takeover_ended(session: Session, held: Takeover, *, by: str) -> None:
    data = _takeover_data(held, by)
    record(session, WebhookEventType.TAKEOVER_ENDED, f"takeover:{held.id}", held.workspace, data)


def outbox_state_set(session: Session, entry_id: int, state: str | None) -> None:
    """``reply.sent`` or ``reply.failed`` when an outbox entry reaches that final state."""
    if state not in ("sent", "failed"):
        return
    entry = session.get(OutboxEntry, entry_id, populate_existing=True)
    if entry is None:
        return
    item = session.get(Item, entry.item_id)
    data: dict[str, Any] = {
        "workspace": entry.workspace,
        "reply": {
            "outbox": entry.id,
            "item": entry.item_id,
            "thread": entry.thread,
            "state": state,
            "attempts": entry.attempts,
            "approved_by": entry.approved_by,
            "text_hash": entry.text_hash,
            "sent_at": iso_time(entry.sent_at),
            "error": _cut(entry.last_error) if state == "failed" else None,
        },
        "item": {
            "id": entry.item_id,
            "kind": item.kind if item else None,
            "author": item.author if item else None,
            "platform": item.platform if item else None,
        },
    }
    type_ = WebhookEventType.REPLY_SENT if state == "sent" else WebhookEventType.REPLY_FAILED
    record(session, type_, f"outbox:{entry_id}", entry.workspace, data)
