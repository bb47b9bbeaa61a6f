"""Reviewer corrections of triage (intent, priority, queue, a rejected draft) are kept as labels.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "corrections",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("workspace", sa.String(length=200), nullable=False),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("old_value", sa.String(length=200), nullable=True),
        sa.Column("new_value", sa.String(length=200), nullable=True),
        sa.Column("reviewer", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_corrections_item_id_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrections")),
    )
    op.create_index(op.f("ix_corrections_item_id"), "corrections", ["item_id"])
    op.create_index(op.f("ix_corrections_workspace"), "corrections", ["workspace"])


def downgrade() -> None:
    op.drop_index(op.f("ix_corrections_workspace"), table_name="corrections")
    op.drop_index(op.f("ix_corrections_item_id"), table_name="corrections")
    op.drop_table("corrections")
