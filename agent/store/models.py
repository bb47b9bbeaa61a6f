"""The store's tables, as SQLModel models.

Each table follows the same pattern: a ``…Base`` with the fields a caller
supplies, a ``table=True`` model adding the id and the fields the store owns,
and (where callers need one) a non-table ``…Create`` view for input. Status-like
columns hold plain strings; the ``StrEnum`` classes below name their values, so
the database needs no native enum types and a new value needs no migration.

The schema is owned by the Alembic migrations in ``agent/store/migrations``;
a test checks that these models and the migrations agree.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from agent.store.types import UTCDateTime, utcnow
from flows.items import stable_key

# Stable constraint names, so migrations can refer to them on every backend.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = SQLModel.metadata


class RunKind(StrEnum):
    SWEEP = "sweep"
    REPLY = "reply"
    CHECK = "check"


class RunStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    DRIFT = "drift"  # finished, but some of the screen could not be read as the pack expects
    STOPPED = "stopped"
    FAILED = "failed"
    CRASHED = "crashed"  # its process died before it could record its end (closed by another)


class ItemKind(StrEnum):
    COMMENT = "comment"
    DM = "dm"


class ItemStatus(StrEnum):
    NEW = "new"
    TRIAGED = "triaged"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REPLIED = "replied"
    RESOLVED = "resolved"
    DROPPED = "dropped"
    PAUSED = "paused"
    # a member of another item's case (``items.case_id``): answered by the case's approval
    IN_CASE = "in_case"
    # the same author's repeat in the same thread: merged into their earlier item, never
    # answered on its own (its decision's ``duplicate_of`` names the case's first item)
    MERGED = "merged"


def status_after(action: str) -> ItemStatus:
    """The item's status once a triage decision with ``action`` is stored."""
    if action == "drop":
        return ItemStatus.DROPPED
    return ItemStatus.PAUSED if action == "pause" else ItemStatus.TRIAGED


class ReviewAction(StrEnum):
    APPROVE = "approve"
    EDIT = "edit"
    REJECT = "reject"
    ESCALATE = "escalate"
    ASSIGN = "assign"
    RESOLVE = "resolve"
    RESTORE = "restore"
    TAKEOVER = "takeover"
    HANDBACK = "handback"
    CORRECT = "correct"
    FOLLOW_UP = "follow_up"  # a reviewer set (or cleared) the item's follow-up date (0012)
    # cases (0013, agent.review.cases): a member left out of its case's approval, split
    # out of its case, or moved into another
    LEAVE_OUT = "leave_out"
    SPLIT = "split"
    MOVE = "move"


class CorrectionField(StrEnum):
    """What a reviewer's correction of triage changed (a ``corrections`` row's ``field``)."""

    INTENT = "intent"
    PRIORITY = "priority"
    QUEUE = "queue"
    DRAFT = "draft"  # the draft was rejected: new_value "rejected", old_value its saved reply


class OutboxState(StrEnum):
    APPROVED = "approved"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Role(StrEnum):
    VIEWER = "viewer"
    REVIEWER = "reviewer"
    APPROVER = "approver"
    ADMIN = "admin"


def _time(*, nullable: bool = False, index: bool = False) -> Any:
    """A UTC time column (default now when not nullable)."""
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, index=index)
    return Field(default_factory=utcnow, sa_type=UTCDateTime, index=index)


def item_key(platform: str, account: str, thread: str, message: str) -> str:
    """The stable key of one item (see ``flows.items.stable_key``, the one definition).

    ``message`` is the platform's message id when the screen shows one, else a
    fingerprint of the message (see ``ItemCreate.message_ref``).
    """
    return stable_key(platform, account, thread, message)


def text_hash(text: str) -> str:
    """The hash of a reply text (the outbox's once-per-text guard)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- runs ---------------------------------------------------------------------


class RunBase(SQLModel):
    workspace: str = Field(max_length=200, index=True)
    kind: str = Field(default=RunKind.SWEEP.value, max_length=16)
    host: str = Field(default="", max_length=255)
    pid: int | None = None


class Run(RunBase, table=True):
    """One sweep (or reply or check run) of one workspace."""

    __tablename__ = "runs"
    # the scheduler's "last sweep of each workspace" reads this index, not the whole table
    __table_args__ = (sa.Index("ix_runs_last_sweep", "workspace", "kind", "started_at"),)

    id: str = Field(primary_key=True, max_length=64)
    started_at: datetime = _time()
    finished_at: datetime | None = _time(nullable=True)
    status: str = Field(default=RunStatus.RUNNING.value, max_length=16)
    stop_reason: str | None = Field(default=None, max_length=200)
    new_items: int = 0
    seen_items: int = 0
    screenshots: int = 0
    unreadable: int = 0  # elements seen on screen that did not become items
    missed: int = 0  # items a full pass found that incremental reads had missed


# -- items --------------------------------------------------------------------


class ItemBase(SQLModel):
    workspace: str = Field(max_length=200)
    platform: str = Field(max_length=64)
    account: str = Field(max_length=255)
    thread: str = Field(max_length=255)
    kind: str = Field(default=ItemKind.COMMENT.value, max_length=16)
    message_id: str | None = Field(default=None, max_length=255)
    author: str = Field(default="", max_length=255)
    text: str = Field(default="", sa_type=sa.Text)
    posted_at: datetime | None = _time(nullable=True)
    run_id: str | None = Field(default=None, foreign_key="runs.id", max_length=64, index=True)
    parent_key: str | None = Field(default=None, max_length=64)
    screenshot: str | None = Field(default=None, sa_type=sa.Text)
    crop: str | None = Field(default=None, sa_type=sa.Text)
    evidence_hash: str | None = Field(default=None, max_length=128)
    author_handle: str | None = Field(default=None, max_length=255)
    posted_text: str | None = Field(default=None, max_length=255)  # the time as shown
    truncated: bool = False  # the screen showed only the start of the text
    evidence_capped: bool = False  # a very tall item: its screenshot shows only its start
    ocr_confidence: float | None = None  # text read by OCR: the lowest field confidence (0-1)
    ocr_fields: str | None = Field(default=None, max_length=255)  # "text,author": read by OCR
    # The box the crop was cut from, [x, y, w, h] in the screenshot's pixels (migration 0010).
    evidence_box: list[int] | None = Field(default=None, sa_type=sa.JSON)


class ItemCreate(ItemBase):
    """What a flow collected, before it is stored."""

    def message_ref(self) -> str:
        """The message id when known, else a fingerprint of author and text."""
        if self.message_id:
            return self.message_id
        text = " ".join(self.text.split())
        digest = hashlib.sha256(f"{self.author}\x1f{text}".encode()).hexdigest()[:24]
        return f"fp:{digest}"

    def key(self) -> str:
        return item_key(self.platform, self.account, self.thread, self.message_ref())


class Item(ItemBase, table=True):
    """A comment or DM, stored once per stable key."""

    __tablename__ = "items"
    __table_args__ = (sa.Index("ix_items_queue", "workspace", "status", "seen_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True)
    seen_at: datetime = _time()
    status: str = Field(default=ItemStatus.NEW.value, max_length=16)
    # -- the escalation record (migration 0012, agent.review.followups) --
    # The day a person should look at the item again (a reviewer sets it; the queue shows
    # the ones due). The record's recovery note is not a column: it is read from the runs.
    follow_up_on: date | None = Field(default=None, sa_type=sa.Date, index=True)
    # -- cases (migration 0013, agent.review.cases) --
    # The first item of the case this item belongs to (the case's own first item holds
    # its own id); null: in no case. A plain integer, as 0013 adds it in place.
    case_id: int | None = Field(default=None, index=True)


class Watermark(SQLModel, table=True):
    """The newest item seen in one thread of one workspace (where a sweep may stop)."""

    __tablename__ = "watermarks"
    __table_args__ = (sa.UniqueConstraint("workspace", "thread"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(max_length=200)
    thread: str = Field(max_length=255)
    item_key: str = Field(max_length=64)
    seen_at: datetime = _time()


# -- triage and review --------------------------------------------------------


class DecisionBase(SQLModel):
    item_id: int = Field(foreign_key="items.id", index=True)
    action: str = Field(max_length=16)
    intent: str | None = Field(default=None, max_length=64)
    priority: str | None = Field(default=None, max_length=8)
    queue: str | None = Field(default=None, max_length=100)
    owner: str | None = Field(default=None, max_length=200)
    sla_minutes: int | None = None
    sla_due_at: datetime | None = _time(nullable=True)
    confidence: float | None = None
    pause_reasons: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    why: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    draft: str | None = Field(default=None, sa_type=sa.Text)
    draft_source: str | None = Field(default=None, max_length=200)
    duplicate_of: str | None = Field(default=None, max_length=64)
    cluster_id: str | None = Field(default=None, max_length=64)


class Decision(DecisionBase, table=True):
    """What triage concluded about an item, and why."""

    __tablename__ = "decisions"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = _time()


class ReviewBase(SQLModel):
    item_id: int = Field(foreign_key="items.id", index=True)
    reviewer: str = Field(max_length=200)
    action: str = Field(max_length=16)
    note: str | None = Field(default=None, sa_type=sa.Text)
    draft_hash_seen: str | None = Field(default=None, max_length=64)


class Review(ReviewBase, table=True):
    """One thing a person did to an item in the review queue."""

    __tablename__ = "reviews"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = _time()


class CorrectionBase(SQLModel):
    item_id: int = Field(foreign_key="items.id", index=True)
    workspace: str = Field(max_length=200, index=True)
    field: str = Field(max_length=16)  # a CorrectionField
    old_value: str | None = Field(default=None, max_length=200)
    new_value: str | None = Field(default=None, max_length=200)
    reviewer: str = Field(max_length=200)


class Correction(CorrectionBase, table=True):
    """A reviewer changed what triage concluded: a label, with who and when.

    The workspace is copied from the item so labels can be read per client without a join.
    """

    __tablename__ = "corrections"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = _time()


class OutboxBase(SQLModel):
    item_id: int = Field(foreign_key="items.id", index=True)
    workspace: str = Field(max_length=200)
    thread: str = Field(max_length=255)
    text: str = Field(sa_type=sa.Text)
    text_hash: str = Field(max_length=64)
    approved_by: str = Field(max_length=200)


class OutboxEntry(OutboxBase, table=True):
    """An approved reply: sent at most once, and never silently dropped."""

    __tablename__ = "outbox"
    __table_args__ = (sa.UniqueConstraint("item_id", "text_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(default=OutboxState.APPROVED.value, max_length=16, index=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    approved_at: datetime = _time()
    sent_at: datetime | None = _time(nullable=True)


# -- the activity log's chain heads -------------------------------------------


class LogHead(SQLModel, table=True):
    """A copy of one workspace's activity-log chain head, kept outside the logs folder.

    The last line the log's writers recorded: its day file, seq and hash, and the first
    seq they sealed with the log key (``runlogs.heads``). ``log verify`` compares the
    log with it, so lines cut off the end are named even when ``.chain`` was removed.
    """

    __tablename__ = "log_heads"

    workspace: str = Field(primary_key=True, max_length=200)
    day: str = Field(max_length=10)  # the day file's date, YYYY-MM-DD
    seq: int = Field(sa_type=sa.BigInteger)
    hash: str = Field(max_length=100)
    keyed_from: int | None = Field(default=None, sa_type=sa.BigInteger)
    updated_at: datetime = _time()


# -- coordination and people --------------------------------------------------


class Lease(SQLModel, table=True):
    """Who may act on a resource (a workspace, a profile, a device) until when."""

    __tablename__ = "leases"

    id: int | None = Field(default=None, primary_key=True)
    resource: str = Field(max_length=500, unique=True)
    holder: str = Field(max_length=200)
    host: str = Field(default="", max_length=255)
    pid: int | None = None
    acquired_at: datetime = _time()
    expires_at: datetime = _time()


class UserBase(SQLModel):
    name: str = Field(max_length=200, unique=True)
    role: str = Field(default=Role.VIEWER.value, max_length=16)
    disabled: bool = False


class User(UserBase, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=255)
    created_at: datetime = _time()


class Grant(SQLModel, table=True):
    """A user may see and act on one workspace."""

    __tablename__ = "grants"
    __table_args__ = (sa.UniqueConstraint("user_id", "workspace"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    workspace: str = Field(max_length=200)


class Takeover(SQLModel, table=True):
    """A person holds a workspace's live session; automation leaves it alone."""

    __tablename__ = "takeovers"

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(max_length=200, index=True)
    user: str = Field(max_length=200)
    started_at: datetime = _time()
    ended_at: datetime | None = _time(nullable=True)


# -- the scheduler ------------------------------------------------------------


class TickKind(StrEnum):
    SWEEP = "sweep"  # a scheduled sweep (then the workspace's approved replies go out)
    SEND = "send"  # approved replies drained between sweeps


class TickState(StrEnum):
    QUEUED = "queued"  # planned and handed to a worker (in-process, or a Celery queue)
    RUNNING = "running"  # a worker holds the tick's lease and runs it
    DONE = "done"  # it ran; ``result`` says how the sweep or send ended
    SKIPPED = "skipped"  # not run: the workspace was paused or taken over (``outcome`` says)
    LOST = "lost"  # queued or running far longer than it may last: planned again


class SweepTick(SQLModel, table=True):
    """One planned run of a workspace: the scheduler's record, unique per workspace, kind
    and due time, so two schedulers (or one restarted) never plan the same run twice."""

    __tablename__ = "sweep_ticks"
    __table_args__ = (
        sa.UniqueConstraint("workspace", "kind", "due_at"),
        sa.Index("ix_sweep_ticks_open", "state", "workspace"),
        sa.Index("ix_sweep_ticks_anchor", "workspace", "kind", "planned_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(max_length=200)
    kind: str = Field(default=TickKind.SWEEP.value, max_length=8)
    due_at: datetime = _time()
    planned_at: datetime = _time()  # when the scheduler handed it on (the next one's anchor)
    planned_by: str = Field(default="", max_length=200)
    queue: str = Field(default="", max_length=200)  # the host's queue, or "" in-process
    state: str = Field(default=TickState.QUEUED.value, max_length=16)
    attempts: int = 0
    started_at: datetime | None = _time(nullable=True)
    finished_at: datetime | None = _time(nullable=True)
    worker: str | None = Field(default=None, max_length=200)
    run_id: str | None = Field(default=None, max_length=64)
    result: str | None = Field(default=None, max_length=16)  # ok | drift | stopped | failed
    outcome: str | None = Field(default=None, sa_type=sa.Text)  # stop reason, skip reason


class WorkspacePause(SQLModel, table=True):
    """An operator paused a workspace: the scheduler plans nothing for it until resumed."""

    __tablename__ = "workspace_pauses"

    workspace: str = Field(primary_key=True, max_length=200)
    paused_by: str = Field(max_length=200)
    reason: str | None = Field(default=None, sa_type=sa.Text)
    paused_at: datetime = _time()


# -- web sessions and API tokens ----------------------------------------------


class WebSessionRow(SQLModel, table=True):
    """A signed-in browser: only the SHA-256 of its cookie's token is kept, never the token.

    ``expires_at`` is the absolute end (sign-in time plus the maximum age); the idle
    limit is checked against ``last_seen``. Signing out deletes the row.
    """

    __tablename__ = "web_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    created_at: datetime = _time()
    last_seen: datetime = _time()
    expires_at: datetime = _time()


class ApiToken(SQLModel, table=True):
    """A personal API token for scripts, sent as ``Authorization: Bearer …``.

    Only the SHA-256 of the token is kept (plus its first characters, ``prefix``, so a
    person can tell their tokens apart); the token itself is shown once, when created.
    A token acts as its user, with that user's role and grants, never more.
    """

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    name: str = Field(max_length=200)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    created_at: datetime = _time()
    last_used_at: datetime | None = _time(nullable=True)
    expires_at: datetime | None = _time(nullable=True)
    revoked_at: datetime | None = _time(nullable=True)


# -- saved views of the review queue ------------------------------------------


class SavedView(SQLModel, table=True):
    """A reviewer's named queue view: the queue page's query string parameters.

    Per user (by name, as reviews record who acted): a user only ever reads their own.
    ``params`` holds only known filter keys (``agent.review.views`` checks them).
    """

    __tablename__ = "saved_views"
    __table_args__ = (sa.UniqueConstraint("user", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    user: str = Field(max_length=200, index=True)
    name: str = Field(max_length=100)
    params: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = _time()
    updated_at: datetime = _time()


# The review queue reads its first pages by walking the decisions in deadline order, and
# asks of each whether it is its item's newest (``agent.review.queries``); declared here,
# after ``Decision``, created by migration 0009.
_decisions = sa.inspect(Decision).local_table
sa.Index("ix_decisions_due", _decisions.c.sla_due_at)
sa.Index("ix_decisions_newest", _decisions.c.item_id, _decisions.c.id)


# -- webhooks (issue 16): events and their deliveries, created by migration 0011 -----


class WebhookEventType(StrEnum):
    """What a webhook can be told about (``agent.webhooks.events`` says where each comes from)."""

    ITEM_P1 = "item.p1"
    SLA_WARNING = "sla.warning"  # an open item's SLA is about to pass
    SLA_BREACHED = "sla.breached"
    SWEEP_STOPPED = "sweep.stopped"  # a stop condition (login wall, challenge, wrong account…)
    SWEEP_DRIFT = "sweep.drift"  # finished, but the screen was not read as the pack expects
    TAKEOVER_STARTED = "takeover.started"
    TAKEOVER_ENDED = "takeover.ended"  # handed back
    REPLY_SENT = "reply.sent"
    REPLY_FAILED = "reply.failed"  # an approved reply ended failed (after its attempts)


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt at ``next_attempt_at``
    SENDING = "sending"  # claimed by a sender (``claimed_by``), the request under way
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # out of attempts (or its webhook is gone): ``last_error`` says why


class WebhookEvent(SQLModel, table=True):
    """Something a webhook may be told, recorded once per (type, subject) in the transaction
    of what it reports. ``event_id`` is what receivers dedupe by (``webhook-id``)."""

    __tablename__ = "webhook_events"
    __table_args__ = (sa.UniqueConstraint("type", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=40, unique=True)
    type: str = Field(max_length=32)  # a WebhookEventType
    subject: str = Field(max_length=100)  # what it is about: item:12, run:…, outbox:3
    workspace: str = Field(max_length=200)
    occurred_at: datetime = _time()
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    dispatched_at: datetime | None = _time(nullable=True, index=True)  # fanned out to webhooks


class WebhookDelivery(SQLModel, table=True):
    """One event for one webhook: an outbox of its own, sent with retries, never dropped."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("webhook", "event_id"),
        sa.Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    webhook: str = Field(max_length=100)
    event_id: str = Field(foreign_key="webhook_events.event_id", max_length=40, index=True)
    event_type: str = Field(max_length=32)
    workspace: str = Field(max_length=200)
    state: str = Field(default=DeliveryState.PENDING.value, max_length=16)
    attempts: int = 0
    created_at: datetime = _time()
    next_attempt_at: datetime = _time()
    claimed_at: datetime | None = _time(nullable=True)
    claimed_by: str | None = Field(default=None, max_length=200)
    last_status: int | None = None  # the receiver's last HTTP status (None: no answer)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    finished_at: datetime | None = _time(nullable=True)  # delivered or failed
