"""Index items by (workspace, status, seen_at) for the review queue's queries.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_items_queue", "items", ["workspace", "status", "seen_at"])


def downgrade() -> None:
    op.drop_index("ix_items_queue", table_name="items")
