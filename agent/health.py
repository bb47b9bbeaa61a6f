"""A workspace's health: how its sweeps went over the last week, and whether it is signed in.

Read from the store's runs (every sweep, with its status and stop reason), the open
takeover and the pause. Shown by ``inbox-agent workspaces show`` and on the review UI's
workspace page, next to the scheduler's status.

Login state is what the sweeps last found, not a guess: a sweep that stopped on
``login_required``, ``challenge`` or ``wrong_account`` means a person must sign the
profile in (or take over); a later sweep that ran means it is signed in again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from agent.store import Run, Store, Takeover, WorkspacePause, utcnow

NEEDS_A_PERSON = ("login_required", "challenge", "wrong_account")
RAN = ("ok", "drift")


@dataclass
class Health:
    workspace: str
    days: int
    sweeps: int = 0
    by_status: dict[str, int] = field(default_factory=dict)  # ok, drift, stopped, failed, …
    stop_reasons: dict[str, int] = field(default_factory=dict)
    drift: int = 0  # sweeps that finished but could not read part of the screen
    unreadable: int = 0  # elements those sweeps could not read
    missed: int = 0  # items full passes found that incremental sweeps had missed
    last_started: datetime | None = None
    last_status: str | None = None
    last_stop_reason: str | None = None
    last_ok: datetime | None = None
    login: str = "unknown"  # signed in | needs a person (REASON) | unknown
    taken_over_by: str | None = None
    paused_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        for key in ("last_started", "last_ok"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


def workspace_health(
    store: Store, workspace: str, *, days: int = 7, now: datetime | None = None
) -> Health:
    now = now or utcnow()
    health = Health(workspace, days)
    with store.session() as s:
        runs = list(
            s.exec(
                select(Run)
                .where(
                    Run.workspace == workspace,
                    Run.kind == "sweep",
                    col(Run.started_at) >= now - timedelta(days=days),
                )
                .order_by(col(Run.started_at))
            )
        )
        latest = s.exec(
            select(Run)
            .where(Run.workspace == workspace, Run.kind == "sweep")
            .order_by(col(Run.started_at).desc())
            .limit(20)
        ).all()
        held = s.exec(
            select(Takeover).where(
                Takeover.workspace == workspace, col(Takeover.ended_at).is_(None)
            )
        ).first()
        pause = s.get(WorkspacePause, workspace)
    statuses = Counter(r.status for r in runs)
    health.sweeps = len(runs)
    health.by_status = dict(statuses)
    health.stop_reasons = dict(Counter(r.stop_reason for r in runs if r.stop_reason))
    health.drift = statuses.get("drift", 0)
    health.unreadable = sum(r.unreadable for r in runs)
    health.missed = sum(r.missed for r in runs)
    if latest:
        last = latest[0]
        health.last_started, health.last_status = last.started_at, last.status
        health.last_stop_reason = last.stop_reason
    health.last_ok = next((r.started_at for r in latest if r.status in RAN), None)
    for run in latest:  # newest first: the first sweep that says anything about the session
        if run.stop_reason in NEEDS_A_PERSON:
            health.login = f"needs a person ({run.stop_reason})"
            break
        if run.status in RAN:
            health.login = "signed in"
            break
    health.taken_over_by = held.user if held else None
    health.paused_by = pause.paused_by if pause else None
    return health
