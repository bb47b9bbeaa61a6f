"""The scheduler's planned runs (one row per workspace, kind and due time) and paused workspaces.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sweep_ticks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("planned_by", sa.String(length=200), nullable=False),
        sa.Column("queue", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sweep_ticks")),
        sa.UniqueConstraint(
            "workspace", "kind", "due_at", name=op.f("uq_sweep_ticks_workspace_kind_due_at")
        ),
    )
    op.create_index("ix_sweep_ticks_open", "sweep_ticks", ["state", "workspace"])
    op.create_index("ix_sweep_ticks_anchor", "sweep_ticks", ["workspace", "kind", "planned_at"])
    op.create_index("ix_runs_last_sweep", "runs", ["workspace", "kind", "started_at"])
    op.create_table(
        "workspace_pauses",
        sa.Column("workspace", sa.String(length=200), nullable=False),
        sa.Column("paused_by", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workspace", name=op.f("pk_workspace_pauses")),
    )


def downgrade() -> None:
    op.drop_table("workspace_pauses")
    op.drop_index("ix_runs_last_sweep", table_name="runs")
    op.drop_index("ix_sweep_ticks_anchor", table_name="sweep_ticks")
    op.drop_index("ix_sweep_ticks_open", table_name="sweep_ticks")
    op.drop_table("sweep_ticks")
