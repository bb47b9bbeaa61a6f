"""Cases: ``items.case_id``, the first item of the case an item belongs to (a case's own
first item holds its own id; null: in no case), indexed for a case's members.

Until now a near-duplicate was dropped (``drop:duplicate.near`` in its decision's
``why``, ``duplicate_of`` naming the first item), whoever wrote it. The upgrade joins
those of a real customer's item (the first item is neither dropped, merged nor read
as spam) to its case, as triage now does: the same author again in the same thread is
``merged``; anyone else becomes a member, ``in_case``, with a decision of its own that
copies the case's (intent, priority, queue, owner, the SLA counted from the member's
own time) and the deterministic stop rules run on its own text, so a member with
private data is ``paused`` on its own. Duplicates of a spam item stay dropped.

Plain ``ADD COLUMN`` on both backends (no batch rebuild on SQLite, so the search
triggers of 0009 stay as they are). The downgrade puts members and merged items back
to ``dropped`` (the upgrade's decisions removed) and drops the column.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-20
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

from agent.store.types import UTCDateTime, utcnow

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

MARK = "migration 0013: joined the case of item"
NEAR = "drop:duplicate.near"
SOURCE = "migration 0013"  # the draft_source of the decisions the upgrade adds

items = sa.table(
    "items",
    sa.column("id", sa.Integer),
    sa.column("thread", sa.String),
    sa.column("author", sa.String),
    sa.column("text", sa.Text),
    sa.column("status", sa.String),
    sa.column("seen_at", UTCDateTime),
    sa.column("case_id", sa.Integer),
)
decisions = sa.table(
    "decisions",
    sa.column("id", sa.Integer),
    sa.column("item_id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("intent", sa.String),
    sa.column("priority", sa.String),
    sa.column("queue", sa.String),
    sa.column("owner", sa.String),
    sa.column("sla_minutes", sa.Integer),
    sa.column("sla_due_at", UTCDateTime),
    sa.column("confidence", sa.Float),
    sa.column("pause_reasons", sa.JSON),
    sa.column("why", sa.JSON),
    sa.column("draft", sa.Text),
    sa.column("draft_source", sa.String),
    sa.column("duplicate_of", sa.String),
    sa.column("cluster_id", sa.String),
    sa.column("created_at", UTCDateTime),
)


def upgrade() -> None:
    op.add_column("items", sa.Column("case_id", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_items_case_id"), "items", ["case_id"])
    join_dropped_duplicates(op.get_bind())


def downgrade() -> None:
    bind = op.get_bind()
    # the schema before 0013 knows no case: members and repeats are dropped again
    bind.execute(sa.delete(decisions).where(decisions.c.draft_source == SOURCE))
    bind.execute(
        sa.update(items).where(items.c.status.in_(("in_case", "merged"))).values(status="dropped")
    )
    op.drop_index(op.f("ix_items_case_id"), table_name="items")
    op.drop_column("items", "case_id")


def _latest(bind: Any, item_id: int) -> Any:
    return bind.execute(
        sa.select(decisions)
        .where(decisions.c.item_id == item_id)
        .order_by(decisions.c.id.desc())
        .limit(1)
    ).first()


def _key(author: str | None, thread: str | None) -> tuple[str, str]:
    return (author or "").strip().casefold(), thread or ""


def join_dropped_duplicates(bind: Any) -> int:
    """Join the stored near-duplicates of real customers to their cases; how many."""
    from agent.triage import rules
    from agent.triage.config import load_config
    from agent.triage.normalize import fold, normalize

    families = list(load_config(None).taxonomy.pause_families)
    dropped = bind.execute(
        sa.select(items).where(items.c.status == "dropped").order_by(items.c.id)
    ).all()
    seen: dict[int, set[tuple[str, str]]] = {}
    joined = 0
    for item in dropped:
        decision = _latest(bind, item.id)
        if (
            decision is None
            or not decision.duplicate_of
            or not str(decision.duplicate_of).isdigit()
        ):
            continue
        if not any(str(w).startswith(NEAR) for w in (decision.why or [])):
            continue
        root_id = int(decision.duplicate_of)
        root = bind.execute(sa.select(items).where(items.c.id == root_id)).first()
        if root is None or root.status in ("dropped", "merged", "new"):
            continue
        case = _latest(bind, root_id)
        if case is None or case.intent == "spam" or case.action == "drop":
            continue
        authors = seen.setdefault(root_id, {_key(root.author, root.thread)})
        key = _key(item.author, item.thread)
        if key[0] and key in authors:
            bind.execute(sa.update(items).where(items.c.id == item.id).values(status="merged"))
            continue
        authors.add(key)
        hits = rules.run(fold(normalize(item.text or "")), families)
        reasons = [hit.rule_id for hit in hits]
        action = "pause" if hits else (case.action if case.action != "pause" else "review")
        due = (
            item.seen_at + timedelta(minutes=case.sla_minutes)
            if case.sla_minutes is not None and item.seen_at is not None
            else None
        )
        bind.execute(
            sa.insert(decisions).values(
                item_id=item.id,
                action=action,
                intent=case.intent,
                priority=case.priority,
                queue=case.queue,
                owner=case.owner,
                sla_minutes=case.sla_minutes,
                sla_due_at=due,
                confidence=case.confidence,
                pause_reasons=reasons,
                why=[
                    *(decision.why or []),
                    f"{MARK} {root_id} (was dropped as a near-duplicate)",
                    *(f"rule:{r}" for r in reasons),
                ],
                draft=None,
                draft_source=SOURCE,
                duplicate_of=str(root_id),
                cluster_id=case.cluster_id,
                created_at=utcnow(),
            )
        )
        status = "paused" if hits else "in_case"
        bind.execute(
            sa.update(items).where(items.c.id == item.id).values(status=status, case_id=root_id)
        )
        bind.execute(sa.update(items).where(items.c.id == root_id).values(case_id=root_id))
        joined += 1
    return joined
