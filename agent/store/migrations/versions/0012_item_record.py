"""The escalation record's follow-up date: ``items.follow_up_on``, the day a person should
look at the item again (set by a reviewer, ``agent.review.followups``), indexed for the
queue's "follow-ups due". Null: no follow-up.

The record's other new field, the recovery note, has no column: it is read at read time
from the runs that stopped on the item's workspace (``agent.report.records``).

A plain ``ADD COLUMN`` on both backends (no batch rebuild on SQLite, so the search
triggers of 0009 stay as they are).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-16
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("items", sa.Column("follow_up_on", sa.Date(), nullable=True))
    op.create_index(op.f("ix_items_follow_up_on"), "items", ["follow_up_on"])


def downgrade() -> None:
    op.drop_index(op.f("ix_items_follow_up_on"), table_name="items")
    # SQLite 3.35+ drops a column in place (a batch rebuild would drop 0009's triggers).
    op.drop_column("items", "follow_up_on")
