"""The report's numbers counted again, independently: raw SQL over the store's tables
plus what the script knows triage concluded, never the report's own code.

``expected(script)`` gives every number the report shows, keyed as the HTML keys them
(table, row, column: the ``data-t``, ``data-r`` and ``data-c`` of each ``<data>``), as
the text of its ``value`` attribute.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from report_world import CLIENTS, Script, as_utc

Key = tuple[str, str, str]
FAILED = ("failed", "crashed")


@dataclass
class Row:
    id: int
    workspace: str
    seen: datetime
    posted: datetime | None
    status: str
    action: str = ""
    intent: str | None = None
    priority: str | None = None
    queue: str | None = None
    owner: str | None = None
    pauses: list[str] = field(default_factory=list)
    due: datetime | None = None
    reviews: list[tuple[str, str, str | None, datetime]] = field(default_factory=list)
    corrected: set[str] = field(default_factory=set)
    outbox: list[tuple[str, str | None, datetime | None]] = field(default_factory=list)
    case: int | None = None  # items.case_id (0013)


def _sql(script: Script, query: str) -> list[tuple]:
    with script.store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(query))]


def read(script: Script) -> tuple[list[Row], list[tuple], list[tuple]]:
    rows = {
        i: Row(i, ws, as_utc(seen), as_utc(posted), st)  # type: ignore[arg-type]
        for i, ws, seen, posted, st in _sql(
            script, "SELECT id, workspace, seen_at, posted_at, status FROM items"
        )
    }
    for item, action, intent, prio, queue, owner, pauses, due in _sql(
        script,
        "SELECT item_id, action, intent, priority, queue, owner, pause_reasons, sla_due_at "
        "FROM decisions ORDER BY id",
    ):  # the last row per item wins: the latest decision
        r = rows[item]
        r.action, r.intent, r.priority, r.queue, r.owner = action, intent, prio, queue, owner
        r.pauses = json.loads(pauses) if isinstance(pauses, str) else list(pauses or [])
        r.due = as_utc(due)
    for item, case in _sql(script, "SELECT id, case_id FROM items"):
        rows[item].case = case
    for item, action, who, note, at in _sql(
        script, "SELECT item_id, action, reviewer, note, created_at FROM reviews ORDER BY id"
    ):
        rows[item].reviews.append((action, who, note, as_utc(at)))  # type: ignore[arg-type]
    for item, name in _sql(script, "SELECT item_id, field FROM corrections"):
        rows[item].corrected.add(name)
    for item, state, error, sent in _sql(
        script, "SELECT item_id, state, last_error, sent_at FROM outbox ORDER BY id"
    ):
        rows[item].outbox.append((state, error, as_utc(sent)))
    runs = _sql(script, "SELECT workspace, kind, status, stop_reason, started_at, missed FROM runs")
    runs = [(ws, k, st, why, as_utc(at), m) for ws, k, st, why, at, m in runs]
    takeovers = [
        (ws, as_utc(at)) for ws, at in _sql(script, "SELECT workspace, started_at FROM takeovers")
    ]
    return list(rows.values()), runs, takeovers


def week(moment: datetime) -> str:
    y, w, _ = moment.isocalendar()
    return f"{y}-W{w:02d}"


def rank(values: list[float], p: float) -> float | None:
    if not values:
        return None
    return sorted(values)[math.ceil(p * len(values)) - 1]


def mins(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 60


def did(r: Row, *actions: str) -> bool:
    return any(a in actions for a, *_ in r.reviews)


def when(r: Row, *actions: str) -> datetime | None:
    times = [at for a, _, _, at in r.reviews if not actions or a in actions]
    return min(times) if times else None


def resolved(r: Row) -> datetime | None:
    times = [sent for _, _, sent in r.outbox if sent] + [
        at for a, _, _, at in r.reviews if a == "resolve"
    ]
    return min(times) if times else None


def edited_approval(r: Row) -> bool:
    return any(a == "approve" and note == "edited draft" for a, _, note, _ in r.reviews)


def rework(r: Row) -> int:
    redo = sum(1 for a, *_ in r.reviews if a in ("edit", "reject", "correct", "assign"))
    return redo + sum(1 for a, _, note, _ in r.reviews if a == "approve" and note == "edited draft")


def sla(r: Row, now: datetime) -> str | None:
    if r.due is None:
        return None
    done = when(r, "approve", "resolve")
    if done is not None:
        return "met" if done <= r.due else "breached"
    return "breached" if r.due <= now else "open"


def ratio(num: int, den: int) -> str:
    return f"{num}/{den}"


def minutes(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def values(script: Script, rows: list[Row], runs: list[tuple], taken: list) -> dict[str, str]:
    t = script.triage
    now = script.now
    drafted = [r for r in rows if t[r.id].drafted]
    judged = [r for r in rows if any(a != "follow_up" for a, *_ in r.reviews)]
    outcome = Counter(sla(r, now) for r in rows)
    sizes = {c: n for c, n in Counter(r.case for r in rows if r.case).items() if n > 1}
    out = {
        "collected": len(rows),
        "classified": len(rows),  # the script decided every item as triage does
        "noise": sum(1 for r in rows if t[r.id].action == "drop"),
        # a case (a first item with another member among these rows) counts once, its
        # members each
        "cases": len(sizes),
        "case_members": sum(sizes.values()),
        "restored": sum(1 for r in rows if did(r, "restore")),
        "drafts": len(drafted),
        "approved_unedited": sum(
            1
            for r in drafted
            if did(r, "approve") and not did(r, "edit") and not edited_approval(r)
        ),
        "edited": sum(1 for r in drafted if did(r, "edit") or edited_approval(r)),
        "rejected": sum(1 for r in drafted if did(r, "reject")),
        "written": sum(1 for r in rows if did(r, "approve") and not t[r.id].drafted),
        "escalated": sum(1 for r in rows if r.action == "escalate"),
        "paused": sum(1 for r in rows if r.pauses),
        "paused_context": sum(1 for r in rows if "routing.unknown_owner" in r.pauses),
    }
    spans = {
        "first_action_seen": [mins(r.seen, when(r)) for r in rows if when(r)],
        "first_action_posted": [mins(r.posted, when(r)) for r in rows if when(r) and r.posted],
        "resolution_seen": [mins(r.seen, resolved(r)) for r in rows if resolved(r)],
        "resolution_posted": [
            mins(r.posted, resolved(r)) for r in rows if resolved(r) and r.posted
        ],
    }
    text = {k: str(v) for k, v in out.items()}
    for name, found in spans.items():
        text[f"{name}_p50"] = minutes(rank(found, 0.5))
        text[f"{name}_p90"] = minutes(rank(found, 0.9))
    text["intent_agreement"] = ratio(
        sum(1 for r in judged if "intent" not in r.corrected), len(judged)
    )
    text["priority_agreement"] = ratio(
        sum(1 for r in judged if "priority" not in r.corrected), len(judged)
    )
    routed = [r for r in judged if t[r.id].queue]
    text["routing_accuracy"] = ratio(
        sum(1 for r in routed if "queue" not in r.corrected and not did(r, "assign")), len(routed)
    )
    text["sla_attainment"] = ratio(outcome["met"], outcome["met"] + outcome["breached"])
    text["review_actions"] = str(sum(len(r.reviews) for r in rows))
    text["rework"] = str(sum(rework(r) for r in rows))
    by_intent: Counter[str] = Counter()
    for r in rows:
        by_intent[r.intent or "(none)"] += rework(r)
    top = sorted((-n, i) for i, n in by_intent.items() if n)
    text["most_rework"] = f"{top[0][1]} ({-top[0][0]})" if top else ""
    sweeps = [r for r in runs if r[1] == "sweep"]
    status = Counter(r[2] for r in sweeps)
    text.update({
        "sweeps": str(len(sweeps)), "sweeps_ok": str(status["ok"]),
        "sweeps_drift": str(status["drift"]), "sweeps_stopped": str(status["stopped"]),
        "sweeps_failed": str(status["failed"] + status["crashed"]),
        "missed": str(sum(r[5] for r in sweeps)), "takeovers": str(len(taken)),
        "takeover_rate": f"{100 * len(taken) / len(sweeps):.1f}" if sweeps else "",
    })  # fmt: skip
    states = Counter(s for r in rows for s, _, _ in r.outbox)
    text["replies_sent"] = str(states["sent"])
    text["replies_failed"] = str(states["failed"])
    text["replies_waiting"] = str(states["approved"] + states["sending"])
    return text


KEY_MEASURES = (
    "collected", "noise", "drafts", "approved_unedited", "edited", "escalated", "paused",
    "sla_attainment", "first_action_seen_p50", "sweeps_stopped", "replies_failed",
)  # fmt: skip


def expected(script: Script) -> dict[Key, str]:
    rows, runs, taken = read(script)
    out: dict[Key, str] = {}
    total = values(script, rows, runs, taken)
    out.update({("measures", k, "total"): v for k, v in total.items()})
    weeks = sorted(
        {week(r.seen) for r in rows} | {week(r[4]) for r in runs} | {week(t[1]) for t in taken}
    )
    for w in weeks:
        part = values(
            script, [r for r in rows if week(r.seen) == w], [r for r in runs if week(r[4]) == w],
            [t for t in taken if week(t[1]) == w],
        )  # fmt: skip
        out.update({("measures", k, w): v for k, v in part.items()})
    for kind, name_of in (("client", CLIENTS.get), ("workspace", lambda ws: ws)):
        names = {name_of(r.workspace) for r in rows} | {name_of(r[0]) for r in runs}
        for name in names:
            part = values(
                script, [r for r in rows if name_of(r.workspace) == name],
                [r for r in runs if name_of(r[0]) == name],
                [t for t in taken if name_of(t[0]) == name],
            )  # fmt: skip
            out.update({(kind, name, k): part[k] for k in KEY_MEASURES})
    out.update(tables(script, rows, runs, taken))
    return out


def tables(script: Script, rows: list[Row], runs: list[tuple], taken: list) -> dict[Key, str]:
    out: dict[Key, str] = {}
    now = script.now
    spans = {
        ("First action", "seen"): [mins(r.seen, when(r)) for r in rows if when(r)],
        ("First action", "posted"): [mins(r.posted, when(r)) for r in rows if when(r) and r.posted],
        ("Resolution", "seen"): [mins(r.seen, resolved(r)) for r in rows if resolved(r)],
        ("Resolution", "posted"): [
            mins(r.posted, resolved(r)) for r in rows if resolved(r) and r.posted
        ],
    }
    for (what, since), found in spans.items():
        rid = f"{what}|{since}"
        out[("times", rid, "items")] = str(len(found))
        out[("times", rid, "p50")] = minutes(rank(found, 0.5))
        out[("times", rid, "p90")] = minutes(rank(found, 0.9))
    esc: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        if r.action == "escalate":
            esc[f"{r.owner or '(none)'}|{r.queue or '(none)'}"].append(r)
    for rid, group in esc.items():
        out[("escalations", rid, "escalated")] = str(len(group))
        out[("escalations", rid, "by_reviewer")] = str(sum(1 for r in group if did(r, "escalate")))
        out[("escalations", rid, "by_triage")] = str(
            sum(1 for r in group if not did(r, "escalate"))
        )
    for reason, n in Counter(p for r in rows for p in set(r.pauses)).items():
        out[("pauses", reason, "items")] = str(n)
    for by in ("priority", "intent"):
        groups: dict[str, Counter[str]] = defaultdict(Counter)
        for r in rows:
            if (o := sla(r, now)) is not None:
                groups[getattr(r, by) or "(none)"][o] += 1
        for name, c in groups.items():
            for col in ("met", "breached", "open"):
                out[(f"sla_{by}", name, col)] = str(c[col])
            out[(f"sla_{by}", name, "attainment")] = ratio(c["met"], c["met"] + c["breached"])
    load: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        if r.reviews:
            load[r.queue or "(none)"].append(r)
    for queue, group in load.items():
        out[("load", queue, "items")] = str(len(group))
        out[("load", queue, "actions")] = str(sum(len(r.reviews) for r in group))
        out[("load", queue, "reviewers")] = str(len({w for r in group for _, w, _, _ in r.reviews}))
    redo: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        if rework(r):
            redo[r.intent or "(none)"].append(r)

    def n(group: list[Row], *actions: str) -> int:
        return sum(1 for r in group for a, *_ in r.reviews if a in actions)

    for intent, group in redo.items():
        out[("rework", intent, "items")] = str(len(group))
        out[("rework", intent, "rework")] = str(sum(rework(r) for r in group))
        out[("rework", intent, "edits")] = str(
            n(group, "edit") + sum(edited_approval(r) for r in group)
        )
        out[("rework", intent, "rejections")] = str(n(group, "reject"))
        out[("rework", intent, "corrections")] = str(n(group, "correct"))
        out[("rework", intent, "reassignments")] = str(n(group, "assign"))
    for ws in {r[0] for r in runs} | {t[0] for t in taken}:
        v = values(script, [], [r for r in runs if r[0] == ws], [t for t in taken if t[0] == ws])
        for col in ("sweeps", "sweeps_ok", "sweeps_drift", "sweeps_stopped", "sweeps_failed",
                    "missed", "takeovers"):  # fmt: skip
            out[("sweeps", ws, col)] = v[col]
    for (ws, kind, why), n in Counter(
        (r[0], r[1], r[3] or r[2]) for r in runs if r[2] in ("stopped", *FAILED)
    ).items():
        out[("stops", f"{ws}|{kind}|{why}", "runs")] = str(n)
    fails = Counter(
        (r.workspace, " ".join((e or "").split())[:160])
        for r in rows
        for s, e, _ in r.outbox
        if s == "failed"
    )
    for (ws, why), n in fails.items():
        out[("outbox_failures", f"{ws}|{why}", "replies")] = str(n)
    return out
