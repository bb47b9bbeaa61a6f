"""Counting: the value of every measure for one group of facts, and the detail tables.

Each function takes facts (``agent.report.facts``) and returns plain values: counts,
``Ratio`` (a share with its numerator and denominator, so "83%" always comes with the
"5 of 6" it stands for), minutes, or a text. Nothing here touches the store.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from agent.report.facts import EDITED_NOTE, ItemFacts, RunFact, TakeoverFact
from agent.report.measures import MISSING_CONTEXT, REWORK_ACTIONS

NONE_LABEL = "(none)"
FAILED = ("failed", "crashed")
STOPPED = ("stopped", *FAILED)
WAITING = ("approved", "sending")
# What a person did that judges triage's tags (a follow-up date judges nothing).
JUDGING = ("approve", "edit", "reject", "escalate", "assign", "resolve", "restore", "correct")


@dataclass(frozen=True)
class Ratio:
    num: int
    den: int

    @property
    def share(self) -> float | None:
        return self.num / self.den if self.den else None


Value = int | float | Ratio | str | None


def nearest_rank(values: list[float], p: float) -> float | None:
    """The value at position ceil(p * n) of the sorted values (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p * len(ordered))) - 1]


def minutes(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60


def spans(
    items: Iterable[ItemFacts],
    start: Callable[[ItemFacts], datetime | None],
    end: Callable[[ItemFacts], datetime | None],
) -> list[float]:
    out = []
    for item in items:
        a, b = start(item), end(item)
        if a is not None and b is not None:
            out.append(minutes(a, b))
    return out


def _seen(i: ItemFacts) -> datetime | None:
    return i.seen_at


def _posted(i: ItemFacts) -> datetime | None:
    return i.posted_at


def _first(i: ItemFacts) -> datetime | None:
    return i.first()


def _resolved(i: ItemFacts) -> datetime | None:
    return i.resolved_at


TIMES: dict[str, tuple[Callable[[ItemFacts], datetime | None], ...]] = {
    "first_action_seen": (_seen, _first),
    "first_action_posted": (_posted, _first),
    "resolution_seen": (_seen, _resolved),
    "resolution_posted": (_posted, _resolved),
}


def judged(item: ItemFacts) -> bool:
    return any(r.action in JUDGING for r in item.reviews)


def rework_count(item: ItemFacts) -> int:
    redo = sum(1 for r in item.reviews if r.action in REWORK_ACTIONS)
    return redo + sum(1 for r in item.reviews if r.action == "approve" and r.note == EDITED_NOTE)


def sla_outcome(item: ItemFacts, now: datetime) -> str | None:
    """``met``, ``breached``, ``open`` (not due yet, not done), or None without an SLA."""
    due = item.sla_due_at
    if due is None:
        return None
    done = item.handled_at
    if done is not None:
        return "met" if done <= due else "breached"
    return "breached" if due <= now else "open"


def _ratio(items: list[ItemFacts], ok: Callable[[ItemFacts], bool]) -> Ratio:
    return Ratio(sum(1 for i in items if ok(i)), len(items))


def item_values(items: list[ItemFacts], now: datetime) -> dict[str, Value]:
    """Every item measure (``agent.report.measures``) of ``items``."""
    values = _volume(items)
    for name, (start, end) in TIMES.items():
        found = spans(items, start, end)
        values[f"{name}_p50"] = nearest_rank(found, 0.5)
        values[f"{name}_p90"] = nearest_rank(found, 0.9)
    values.update(_quality(items, now))
    values["replies_sent"] = sum(1 for i in items for o in i.outbox if o.state == "sent")
    values["replies_failed"] = sum(1 for i in items for o in i.outbox if o.state == "failed")
    values["replies_waiting"] = sum(1 for i in items for o in i.outbox if o.state in WAITING)
    return values


def _volume(items: list[ItemFacts]) -> dict[str, Value]:
    drafted = [i for i in items if i.triage_drafted]
    return {
        "collected": len(items),
        "classified": sum(1 for i in items if i.decided and i.triage_intent and i.triage_priority),
        "noise": sum(1 for i in items if i.first_action == "drop"),
        **_cases(items),
        "restored": sum(1 for i in items if i.did("restore")),
        "drafts": len(drafted),
        "approved_unedited": sum(1 for i in drafted if i.did("approve") and not i.approved_edited),
        "edited": sum(1 for i in drafted if i.approved_edited),
        "rejected": sum(1 for i in drafted if i.did("reject")),
        "written": sum(1 for i in items if i.did("approve") and not i.triage_drafted),
        "escalated": sum(1 for i in items if i.action == "escalate"),
        "paused": sum(1 for i in items if i.pause_reasons),
        "paused_context": sum(
            1 for i in items if any(r in MISSING_CONTEXT for r in i.pause_reasons)
        ),
    }


def _cases(items: list[ItemFacts]) -> dict[str, Value]:
    """Cases and their members apart: a case of 20 customers is 1 case and 20 members
    (a case counts where its members were seen; a first item left alone is no case)."""
    sizes: dict[int, int] = {}
    for i in items:
        if i.case_id is not None:
            sizes[i.case_id] = sizes.get(i.case_id, 0) + 1
    real = {case for case, n in sizes.items() if n > 1}
    return {"cases": len(real), "case_members": sum(sizes[c] for c in real)}


def _quality(items: list[ItemFacts], now: datetime) -> dict[str, Value]:
    reviewed = [i for i in items if i.decided and judged(i)]
    sla = Counter(sla_outcome(i, now) for i in items)
    values: dict[str, Value] = {}
    values["intent_agreement"] = _ratio(
        [i for i in reviewed if i.triage_intent], lambda i: "intent" not in i.corrected
    )
    values["priority_agreement"] = _ratio(
        [i for i in reviewed if i.triage_priority], lambda i: "priority" not in i.corrected
    )
    values["routing_accuracy"] = _ratio(
        [i for i in reviewed if i.triage_queue],
        lambda i: "queue" not in i.corrected and not i.did("assign"),
    )
    values["sla_attainment"] = Ratio(sla["met"], sla["met"] + sla["breached"])
    values["review_actions"] = sum(len(i.reviews) for i in items)
    values["rework"] = sum(rework_count(i) for i in items)
    values["most_rework"] = most_rework(items)
    return values


def most_rework(items: list[ItemFacts]) -> str | None:
    by_intent: Counter[str] = Counter()
    for item in items:
        by_intent[item.intent or NONE_LABEL] += rework_count(item)
    ranked = sorted(((-n, intent) for intent, n in by_intent.items() if n > 0))
    return f"{ranked[0][1]} ({-ranked[0][0]})" if ranked else None


def run_values(runs: list[RunFact], takeovers: list[TakeoverFact]) -> dict[str, Value]:
    sweeps = [r for r in runs if r.kind == "sweep"]
    status = Counter(r.status for r in sweeps)
    rate = round(100 * len(takeovers) / len(sweeps), 1) if sweeps else None
    return {
        "sweeps": len(sweeps),
        "sweeps_ok": status["ok"],
        "sweeps_drift": status["drift"],
        "sweeps_stopped": status["stopped"],
        "sweeps_failed": sum(status[s] for s in FAILED),
        "missed": sum(r.missed for r in sweeps),
        "takeovers": len(takeovers),
        "takeover_rate": rate,
    }
