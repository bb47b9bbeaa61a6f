"""What ``inbox-agent status`` and the review UI show about every workspace's schedule.

Per workspace: its last sweep (when, result, stop reason), what is planned or
running now and on which queue, when the next sweep is due, and how far the oldest
item nobody has seen yet could be behind the workspace's tightest SLA: an item that
arrived just after the last sweep started has waited ``now - last start``; past the
SLA, that is how far behind it is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from agent.scheduler.planner import Planner
from agent.scheduler.ticks import read_facts
from agent.store import utcnow
from agent.store.types import this_host


@dataclass
class WorkspaceStatus:
    workspace: str
    client: str
    platform: str
    where: str  # the host whose workers run it, "any host", or this host (in-process runs)
    schedule: str  # how it is planned, in words
    state: str  # idle | queued | running | paused | taken_over | unscheduled
    state_detail: str | None
    last_started: datetime | None
    last_status: str | None
    last_stop_reason: str | None
    last_new_items: int | None
    next_due: datetime | None
    tightest_sla_min: float | None
    unseen_for_s: float | None  # how long an item posted just after the last sweep has waited
    behind_sla_s: float | None  # how far past the tightest SLA that item is (0: within it)
    open_p1: bool
    sla_cadence_holds: bool  # False: the platform's spacing is longer than the SLA cadence

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("last_started", "next_due"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


def schedule_words(planner: Planner, workspace: str) -> str:
    ws = planner.catalog.workspaces[workspace].model
    cadence = planner.cadences.get(workspace)
    if ws.schedule is None or cadence is None:
        return "manual (no schedule)"
    parts = [
        f"cron {ws.schedule.cron}"
        if ws.schedule.cron
        else f"every {ws.schedule.every_minutes:g} min"
    ]
    if cadence.sla is not None:
        parts.append(f"SLA cadence {cadence.sla.total_seconds() / 60:g} min")
    if cadence.spacing:
        parts.append(f"platform spacing {cadence.spacing.total_seconds() / 60:g} min")
    if ws.schedule.quiet_hours:
        q = ws.schedule.quiet_hours
        parts.append(f"quiet {q.start:%H:%M}-{q.end:%H:%M} {ws.timezone}")
    if ws.schedule.business_hours:
        b = ws.schedule.business_hours
        parts.append(f"business {'/'.join(b.days)} {b.start:%H:%M}-{b.end:%H:%M}")
    return ", ".join(parts)


def workspace_statuses(
    planner: Planner, *, now: datetime | None = None, workspaces: set[str] | None = None
) -> list[WorkspaceStatus]:
    now = now or utcnow()
    facts = read_facts(planner.store)
    out = []
    for ws_id, loaded in sorted(planner.catalog.workspaces.items()):
        if workspaces is not None and ws_id not in workspaces:
            continue
        ws = loaded.model
        cadence = planner.cadences.get(ws_id)
        place = planner.placements[ws_id]
        last = facts.last_sweeps.get(ws_id)
        open_ticks = facts.open_ticks.get(ws_id, [])
        state, detail = "idle" if cadence else "unscheduled", None
        if ws_id in facts.paused:
            pause = facts.paused[ws_id]
            state, detail = (
                "paused",
                f"by {pause.paused_by}" + (f": {pause.reason}" if pause.reason else ""),
            )
        elif ws_id in facts.taken_over:
            state, detail = "taken_over", f"by {facts.taken_over[ws_id]}"
        elif open_ticks:
            tick = open_ticks[0]
            state = tick.state
            detail = f"{tick.kind} run {tick.id}" + (f" on {tick.worker}" if tick.worker else "")
        where = f"{this_host()} (in-process)"
        if planner.distributed:
            where = place.host or "any host"
        # from the last sweep that really started: a skipped or still-queued run saw nothing
        unseen = (now - last.started_at).total_seconds() if last else None
        sla = cadence.tightest_sla if cadence else None
        behind = None
        if unseen is not None and sla is not None:
            behind = max(0.0, unseen - sla.total_seconds())
        out.append(
            WorkspaceStatus(
                workspace=ws_id,
                client=ws.client,
                platform=ws.platform,
                where=where,
                schedule=schedule_words(planner, ws_id),
                state=state,
                state_detail=detail,
                last_started=last.started_at if last else None,
                last_status=last.status if last else None,
                last_stop_reason=last.stop_reason if last else None,
                last_new_items=last.new_items if last else None,
                next_due=None if open_ticks else planner.next_due(ws_id, facts, now),
                tightest_sla_min=sla.total_seconds() / 60 if sla else None,
                unseen_for_s=unseen,
                behind_sla_s=behind,
                open_p1=ws_id in facts.open_p1,
                sla_cadence_holds=cadence.sla_met() if cadence else True,
            )
        )
    return out
