"""The report's detail tables: escalations by owner, pauses by reason, SLA attainment by
priority and intent, reviewer load by queue, rework by category, sweeps and stops by
workspace, failed replies, and the time distributions.

Each table is a list of rows of plain values (``agent.report.compute.Value``) with its
columns' units, so the text, HTML and CSV writers render every table the same way.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent.report.compute import (
    NONE_LABEL,
    STOPPED,
    TIMES,
    Ratio,
    Value,
    nearest_rank,
    rework_count,
    run_values,
    sla_outcome,
    spans,
)
from agent.report.facts import EDITED_NOTE, ItemFacts, RunFact, TakeoverFact
from agent.report.measures import MISSING_CONTEXT, Unit


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    unit: Unit


@dataclass
class Table:
    key: str
    title: str
    definition: str
    columns: list[Column]
    rows: list[dict[str, Value]]
    keys: tuple[str, ...] = ()  # the columns that name a row (default: the first)

    def row_id(self, row: dict[str, Value]) -> str:
        """The row's name: its naming columns' values, joined by ``|``."""
        keys = self.keys or (self.columns[0].key,)
        return "|".join("" if row[k] is None else str(row[k]) for k in keys)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "definition": self.definition,
            "columns": [c.key for c in self.columns],
            "rows": self.rows,
        }


def _cols(*spec: tuple[str, str, Unit]) -> list[Column]:
    return [Column(*s) for s in spec]


NAME, COUNT, RATIO, MINUTES = Unit.TEXT, Unit.COUNT, Unit.RATIO, Unit.MINUTES


def escalations(items: list[ItemFacts]) -> Table:
    groups: dict[tuple[str, str], list[ItemFacts]] = defaultdict(list)
    for i in items:
        if i.action == "escalate":
            groups[(i.owner or NONE_LABEL, i.queue or NONE_LABEL)].append(i)
    rows: list[dict[str, Value]] = [
        {
            "owner": owner,
            "queue": queue,
            "escalated": len(group),
            "by_reviewer": sum(1 for i in group if i.did("escalate")),
            "by_triage": sum(1 for i in group if not i.did("escalate")),
        }
        for (owner, queue), group in sorted(groups.items())
    ]
    columns = _cols(
        ("owner", "Owner", NAME), ("queue", "Queue", NAME), ("escalated", "Escalated", COUNT),
        ("by_triage", "By triage", COUNT), ("by_reviewer", "By a reviewer", COUNT),
    )  # fmt: skip
    return Table(
        "escalations", "Escalated, by owner",
        "Escalated items by the owner and queue they have now.", columns, rows,
        ("owner", "queue"),
    )  # fmt: skip


def pauses(items: list[ItemFacts]) -> Table:
    counts: Counter[str] = Counter(r for i in items for r in set(i.pause_reasons))
    rows: list[dict[str, Value]] = [
        {
            "reason": reason,
            "items": n,
            "missing_context": "yes" if reason in MISSING_CONTEXT else "",
        }
        for reason, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    columns = _cols(
        ("reason", "Stop rule", NAME), ("items", "Items", COUNT),
        ("missing_context", "Missing context", NAME),
    )  # fmt: skip
    return Table(
        "pauses", "Paused, by reason",
        "Paused items by the stop rule that fired (an item with two counts under both).",
        columns, rows,
    )  # fmt: skip


def sla_table(items: list[ItemFacts], now: datetime, by: str) -> Table:
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    for i in items:
        outcome = sla_outcome(i, now)
        if outcome is not None:
            groups[getattr(i, by) or NONE_LABEL][outcome] += 1
    rows: list[dict[str, Value]] = []
    for name, c in sorted(groups.items()):
        rows.append({
            by: name, "met": c["met"], "breached": c["breached"], "open": c["open"],
            "attainment": Ratio(c["met"], c["met"] + c["breached"]),
        })  # fmt: skip
    columns = _cols(
        (by, by.capitalize(), NAME), ("met", "Met", COUNT), ("breached", "Breached", COUNT),
        ("open", "Not due yet", COUNT), ("attainment", "Attainment", RATIO),
    )  # fmt: skip
    return Table(
        f"sla_{by}", f"SLA attainment by {by}",
        f"Items with an SLA by {by} (as reviewers left it): approved or resolved by the "
        "deadline (met), after it or still waiting past it (breached), or not due yet.",
        columns, rows,
    )  # fmt: skip


def load_by_queue(items: list[ItemFacts]) -> Table:
    groups: dict[str, list[ItemFacts]] = defaultdict(list)
    for i in items:
        if i.reviews:
            groups[i.queue or NONE_LABEL].append(i)
    rows: list[dict[str, Value]] = [
        {
            "queue": queue,
            "items": len(group),
            "actions": sum(len(i.reviews) for i in group),
            "reviewers": len({r.reviewer for i in group for r in i.reviews}),
        }
        for queue, group in sorted(groups.items())
    ]
    columns = _cols(
        ("queue", "Queue", NAME), ("items", "Items acted on", COUNT),
        ("actions", "Actions", COUNT), ("reviewers", "Reviewers", COUNT),
    )  # fmt: skip
    return Table(
        "load", "Reviewer load, by queue",
        "What people did to the items of each queue, and how many people did it.",
        columns, rows,
    )  # fmt: skip


def _count(value: Value) -> int:
    return value if isinstance(value, int) else 0


def rework_by_intent(items: list[ItemFacts]) -> Table:
    groups: dict[str, list[ItemFacts]] = defaultdict(list)
    for i in items:
        if rework_count(i):
            groups[i.intent or NONE_LABEL].append(i)

    def n(group: list[ItemFacts], *actions: str) -> int:
        return sum(1 for i in group for r in i.reviews if r.action in actions)

    rows: list[dict[str, Value]] = []
    for intent, group in groups.items():
        rows.append({
            "intent": intent, "items": len(group),
            "rework": sum(rework_count(i) for i in group),
            "edits": n(group, "edit") + sum(
                1 for i in group for r in i.reviews
                if r.action == "approve" and r.note == EDITED_NOTE
            ),
            "rejections": n(group, "reject"), "corrections": n(group, "correct"),
            "reassignments": n(group, "assign"),
        })  # fmt: skip
    rows.sort(key=lambda r: (-_count(r["rework"]), str(r["intent"])))
    columns = _cols(
        ("intent", "Intent", NAME), ("items", "Items", COUNT), ("rework", "Rework", COUNT),
        ("edits", "Edits", COUNT), ("rejections", "Rejections", COUNT),
        ("corrections", "Corrections", COUNT), ("reassignments", "Reassignments", COUNT),
    )  # fmt: skip
    return Table(
        "rework", "Rework, by category",
        "Items that needed rework, by intent as reviewers left it; most rework first.",
        columns, rows,
    )  # fmt: skip


def sweeps_by_workspace(runs: list[RunFact], takeovers: list[TakeoverFact]) -> Table:
    names = sorted({r.workspace for r in runs} | {t.workspace for t in takeovers})
    rows: list[dict[str, Value]] = []
    for ws in names:
        values = run_values(
            [r for r in runs if r.workspace == ws], [t for t in takeovers if t.workspace == ws]
        )
        rows.append({"workspace": ws, **values})
    columns = _cols(
        ("workspace", "Workspace", NAME), ("sweeps", "Sweeps", COUNT), ("sweeps_ok", "Ok", COUNT),
        ("sweeps_drift", "Drift", COUNT), ("sweeps_stopped", "Stopped", COUNT),
        ("sweeps_failed", "Failed", COUNT), ("missed", "Missed", COUNT),
        ("takeovers", "Takeovers", COUNT),
    )  # fmt: skip
    return Table(
        "sweeps", "Sweeps, stops and drift, by workspace",
        "How each workspace's sweeps ended, items they missed, and takeovers.", columns, rows,
    )  # fmt: skip


def stops(runs: list[RunFact]) -> Table:
    counts: Counter[tuple[str, str, str]] = Counter(
        (r.workspace, r.kind, r.stop_reason or r.status) for r in runs if r.status in STOPPED
    )
    rows: list[dict[str, Value]] = [
        {"workspace": ws, "kind": kind, "reason": reason, "runs": n}
        for (ws, kind, reason), n in sorted(counts.items())
    ]
    columns = _cols(
        ("workspace", "Workspace", NAME), ("kind", "Run", NAME), ("reason", "Stop reason", NAME),
        ("runs", "Runs", COUNT),
    )  # fmt: skip
    return Table(
        "stops", "Stop conditions, by workspace",
        "Sweeps and reply runs that stopped, failed or crashed, by their named reason.",
        columns, rows, ("workspace", "kind", "reason"),
    )  # fmt: skip


MAX_REASON = 160


def outbox_failures(items: list[ItemFacts]) -> Table:
    counts: Counter[tuple[str, str]] = Counter()
    for i in items:
        for o in i.outbox:
            if o.state == "failed":
                reason = " ".join((o.last_error or "no reason recorded").split())
                counts[(i.workspace, reason[:MAX_REASON])] += 1
    rows: list[dict[str, Value]] = [
        {"workspace": ws, "reason": reason, "replies": n}
        for (ws, reason), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    columns = _cols(
        ("workspace", "Workspace", NAME), ("reason", "Why", NAME), ("replies", "Replies", COUNT)
    )
    return Table(
        "outbox_failures", "Replies that failed, and why",
        "Failed replies by the reason the outbox recorded.", columns, rows,
        ("workspace", "reason"),
    )  # fmt: skip


def times(items: list[ItemFacts]) -> Table:
    rows: list[dict[str, Value]] = []
    labels = {
        "first_action_seen": ("First action", "seen"),
        "first_action_posted": ("First action", "posted"),
        "resolution_seen": ("Resolution", "seen"),
        "resolution_posted": ("Resolution", "posted"),
    }
    for name, (start, end) in TIMES.items():
        found = spans(items, start, end)
        what, since = labels[name]
        rows.append({
            "time": what, "from": since, "items": len(found),
            "p50": nearest_rank(found, 0.5), "p90": nearest_rank(found, 0.9),
        })  # fmt: skip
    columns = _cols(
        ("time", "Time to", NAME), ("from", "From", NAME), ("items", "Items", COUNT),
        ("p50", "Median", MINUTES), ("p90", "p90", MINUTES),
    )  # fmt: skip
    return Table(
        "times", "Time to first action and to resolution",
        "From when a sweep stored the item (seen) or the time the platform showed (posted); "
        "items counts those the time is known for.",
        columns, rows, ("time", "from"),
    )  # fmt: skip
