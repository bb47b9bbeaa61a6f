"""Reviewer corrections of triage, kept as labels: which field of which item, from what to
what, by whom and when.

A person who changes an item's intent, priority or queue, or rejects its draft, tells us
what triage got wrong; ``record`` keeps that as one ``corrections`` row per changed field
(in the caller's session, committed with the review action that made it), and
``corrections_for`` reads them back with the item's text, oldest first, for evaluation and
training; ``item_corrections`` lists one item's, for its page. Grants are the caller's
business: these helpers see every workspace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from agent.store.engine import Store
from agent.store.models import Correction, CorrectionField, Item

__all__ = ["CorrectionRow", "corrections_for", "item_corrections", "record"]


@dataclass(frozen=True)
class CorrectionRow:
    """One correction with the item it labels."""

    item_id: int
    workspace: str
    field: str
    old_value: str | None
    new_value: str | None
    reviewer: str
    created_at: datetime
    text: str
    platform: str
    kind: str
    author: str


def record(
    session: Session,
    item: Item,
    field: str,
    old: str | None,
    new: str | None,
    reviewer: str,
) -> Correction | None:
    """Record that ``reviewer`` changed ``field`` of ``item`` from ``old`` to ``new``.

    Nothing is recorded (None) when the values are equal: only a real change is a label.
    ``field`` must be a ``CorrectionField`` value (else ``ValueError``).
    """
    if old == new:
        return None
    assert item.id is not None
    row = Correction(
        item_id=item.id,
        workspace=item.workspace,
        field=CorrectionField(field).value,
        old_value=old,
        new_value=new,
        reviewer=reviewer,
    )
    session.add(row)
    session.flush()
    return row


def corrections_for(store: Store, workspace: str | None = None) -> list[CorrectionRow]:
    """Every correction (of one workspace, or all), oldest first, with its item's text."""
    stmt = select(Correction, Item).join(Item, col(Item.id) == col(Correction.item_id))
    if workspace is not None:
        stmt = stmt.where(Correction.workspace == workspace)
    stmt = stmt.order_by(col(Correction.created_at), col(Correction.id))
    with store.session() as session:
        rows = session.exec(stmt).all()
    return [
        CorrectionRow(
            item_id=c.item_id,
            workspace=c.workspace,
            field=c.field,
            old_value=c.old_value,
            new_value=c.new_value,
            reviewer=c.reviewer,
            created_at=c.created_at,
            text=item.text,
            platform=item.platform,
            kind=item.kind,
            author=item.author,
        )
        for c, item in rows
    ]


def item_corrections(session: Session, item_id: int) -> list[Correction]:
    """One item's corrections, oldest first."""
    stmt = select(Correction).where(Correction.item_id == item_id)
    return list(session.exec(stmt.order_by(col(Correction.created_at), col(Correction.id))).all())
