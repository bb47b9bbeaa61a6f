"""Items keep what the screen showed (handle, shown time, truncation, capped evidence); runs
count drift.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("author_handle", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("posted_text", sa.String(length=255), nullable=True))
        batch.add_column(
            sa.Column("truncated", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("evidence_capped", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("unreadable", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("missed", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("missed")
        batch.drop_column("unreadable")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("evidence_capped")
        batch.drop_column("truncated")
        batch.drop_column("posted_text")
        batch.drop_column("author_handle")
