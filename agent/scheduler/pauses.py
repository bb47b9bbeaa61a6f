"""Pausing a workspace: the scheduler plans nothing for it (``sweep_skipped``) until resumed.

A pause is a row in the store (``workspace_pauses``), so every host's scheduler sees
it; pausing and resuming are written to the workspace's activity log.
"""

from __future__ import annotations

from agent.store import Store, WorkspacePause, utcnow
from runlogs import ActivityLog


def pause_workspace(
    store: Store, log: ActivityLog, workspace: str, *, by: str, reason: str | None = None
) -> None:
    with store.session() as s:
        row = s.get(WorkspacePause, workspace) or WorkspacePause(workspace=workspace, paused_by=by)
        row.paused_by, row.reason, row.paused_at = by, reason, utcnow()
        s.add(row)
    log.append(workspace, "workspace_paused", by=by, reason=reason)


def resume_workspace(store: Store, log: ActivityLog, workspace: str, *, by: str) -> bool:
    with store.session() as s:
        row = s.get(WorkspacePause, workspace)
        if row is None:
            return False
        s.delete(row)
    log.append(workspace, "workspace_resumed", by=by)
    return True
