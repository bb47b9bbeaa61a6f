"""Where the item sits on its screenshot: ``items.evidence_box``, the box its crop was
cut from, as ``[x, y, w, h]`` in the screenshot's own pixels (JSON). The review UI
outlines it on the whole screen. Null for items stored before it, and for items with
no box (no crop): those pages say the place is not recorded.

A plain ``ADD COLUMN`` on both backends (no batch rebuild on SQLite, so the search
triggers of 0009 stay as they are).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("items", sa.Column("evidence_box", sa.JSON(), nullable=True))


def downgrade() -> None:
    # SQLite 3.35+ drops a column in place (a batch rebuild would drop 0009's triggers).
    op.drop_column("items", "evidence_box")
