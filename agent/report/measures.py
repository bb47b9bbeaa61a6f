"""The report's measures: each one's key, label, unit and the one-line definition the
report prints beside it (in the text, the HTML page and the CSV's definitions file).

Item measures count the items first seen in the period (in the ISO week they were seen)
and everything done to them since; sweep, takeover measures count the runs and
takeovers that started in the period. Times are medians and 90th percentiles by nearest
rank (the value at position ceil(p * n) of the sorted times).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Unit(StrEnum):
    COUNT = "count"
    RATIO = "ratio"  # a share: numerator / denominator
    MINUTES = "minutes"
    RATE = "rate"  # per 100 of something
    TEXT = "text"


@dataclass(frozen=True)
class Measure:
    key: str
    section: str
    label: str
    unit: Unit
    definition: str


def _m(section: str, key: str, label: str, unit: Unit, definition: str) -> Measure:
    return Measure(key, section, label, unit, definition)


C, R, M, T = Unit.COUNT, Unit.RATIO, Unit.MINUTES, Unit.TEXT
VOLUME, REVIEW, SPEED, QUALITY, SWEEPS, OUTBOX = (
    "Volume", "Drafts and review", "Speed", "Quality", "Sweeps", "Outbox",
)  # fmt: skip

MEASURES: tuple[Measure, ...] = (
    _m(VOLUME, "collected", "New items collected", C,
       "Comments and DMs a sweep stored for the first time (each item once)."),
    _m(VOLUME, "classified", "Classified automatically", C,
       "Items triage gave an action, intent and priority to without a person."),
    _m(VOLUME, "noise", "Noise filtered", C,
       "Items triage dropped as spam, or merged as the same author's repeat in a thread."),
    _m(VOLUME, "cases", "Cases", C,
       "Cases: a first item other customers wrote the same as (counted once per case)."),
    _m(VOLUME, "case_members", "Customers in cases", C,
       "Items in a case, its first item included: each customer answered on their own."),
    _m(VOLUME, "restored", "Restored as not spam", C,
       "Dropped items a reviewer put back in the queue (the filter's mistakes)."),
    _m(REVIEW, "drafts", "Drafts sent to review", C,
       "Items triage drafted a reply for, from an approved saved reply."),
    _m(REVIEW, "approved_unedited", "Approved without edits", C,
       "Drafts a reviewer approved exactly as triage wrote them."),
    _m(REVIEW, "edited", "Drafts edited", C,
       "Drafts a reviewer changed: saved a new text, or approved a changed one."),
    _m(REVIEW, "rejected", "Drafts rejected", C,
       "Drafts a reviewer threw away (the item stays in review for a written reply)."),
    _m(REVIEW, "written", "Replies written by a person", C,
       "Approved replies to items triage had made no draft for."),
    _m(REVIEW, "escalated", "Escalated", C,
       "Items escalated to an owner (support, sales, campaigns), by triage or a reviewer."),
    _m(REVIEW, "paused", "Paused", C,
       "Items triage paused because a stop rule fired: a person must act."),
    _m(REVIEW, "paused_context", "Paused for missing context", C,
       "Paused items no routing rule knew the owner of (unknown_owner)."),
    _m(SPEED, "first_action_seen_p50", "First action, from seen: median", M,
       "From when a sweep stored the item to the first thing a person did to it."),
    _m(SPEED, "first_action_seen_p90", "First action, from seen: p90", M,
       "The same, 90th percentile: nine in ten items got their first action sooner."),
    _m(SPEED, "first_action_posted_p50", "First action, from posted: median", M,
       "From the time the platform showed for the message to the first action."),
    _m(SPEED, "first_action_posted_p90", "First action, from posted: p90", M,
       "The same, 90th percentile."),
    _m(SPEED, "resolution_seen_p50", "Resolution, from seen: median", M,
       "From stored to resolved: its reply was sent, or it was resolved without one."),
    _m(SPEED, "resolution_seen_p90", "Resolution, from seen: p90", M,
       "The same, 90th percentile."),
    _m(SPEED, "resolution_posted_p50", "Resolution, from posted: median", M,
       "From the time the platform showed for the message to its resolution."),
    _m(SPEED, "resolution_posted_p90", "Resolution, from posted: p90", M,
       "The same, 90th percentile."),
    _m(QUALITY, "intent_agreement", "Tag agreement: intent", R,
       "Of items a reviewer acted on, those whose intent from triage no one corrected."),
    _m(QUALITY, "priority_agreement", "Tag agreement: priority", R,
       "Of items a reviewer acted on, those whose priority from triage no one corrected."),
    _m(QUALITY, "routing_accuracy", "Routing accuracy, first assignment", R,
       "Of reviewed items triage routed, those no one re-routed (queue corrected, reassigned)."),
    _m(QUALITY, "sla_attainment", "SLA attainment", R,
       "Of items with an SLA that is due or done, those approved or resolved in time."),
    _m(QUALITY, "review_actions", "Reviewer actions", C,
       "Everything people did to the items: approve, edit, reject, escalate, assign, …"),
    _m(QUALITY, "rework", "Rework", C,
       "Actions that redid triage's work: edits, rejections, corrections, reassignments."),
    _m(QUALITY, "most_rework", "Category with most rework", T,
       "The intent (as reviewers left it) whose items took the most rework actions."),
    _m(SWEEPS, "sweeps", "Sweeps", C, "Sweeps that started in the period."),
    _m(SWEEPS, "sweeps_ok", "Sweeps ok", C,
       "Sweeps that finished and read every screen as the selector pack expects."),
    _m(SWEEPS, "sweeps_drift", "Sweeps with drift", C,
       "Sweeps that finished, but could not read part of a screen as the pack expects."),
    _m(SWEEPS, "sweeps_stopped", "Sweeps stopped", C,
       "Sweeps a stop condition halted: login wall, challenge, rate limit, wrong account…"),
    _m(SWEEPS, "sweeps_failed", "Sweeps failed", C,
       "Sweeps that failed or crashed: the browser or device could not be driven."),
    _m(SWEEPS, "missed", "Missed cases", C,
       "Items a periodic full pass found that the incremental sweeps had missed."),
    _m(SWEEPS, "takeovers", "Takeovers", C,
       "Times a person took a workspace's live session over."),
    _m(SWEEPS, "takeover_rate", "Takeover rate", Unit.RATE, "Takeovers per 100 sweeps."),
    _m(OUTBOX, "replies_sent", "Replies sent", C,
       "Approved replies the outbox sent and saw on the screen."),
    _m(OUTBOX, "replies_failed", "Replies failed", C,
       "Approved replies that ended failed, each with a reason (below)."),
    _m(OUTBOX, "replies_waiting", "Replies waiting", C,
       "Approved replies not sent yet: waiting for the outbox, or being retried."),
)  # fmt: skip
BY_KEY = {m.key: m for m in MEASURES}
# The measures each workspace's and client's row shows (all of them are in CSV and JSON).
KEY_MEASURES = (
    "collected", "noise", "drafts", "approved_unedited", "edited", "escalated", "paused",
    "sla_attainment", "first_action_seen_p50", "sweeps_stopped", "replies_failed",
)  # fmt: skip
# Short names of those, for narrow places (a phone's stacked rows, a terminal's columns).
SHORT_LABELS = {
    "collected": "new", "noise": "noise", "drafts": "drafts", "approved_unedited": "as drafted",
    "edited": "edited", "escalated": "escalated", "paused": "paused", "sla_attainment": "SLA met",
    "first_action_seen_p50": "1st action p50", "sweeps_stopped": "stopped",
    "replies_failed": "send failed",
}  # fmt: skip
# Pause reasons that mean the item's context was missing (agent.triage.pipeline).
MISSING_CONTEXT = ("routing.unknown_owner",)
# Review actions that redo triage's work (an approval of a changed text counts too).
REWORK_ACTIONS = ("edit", "reject", "correct", "assign")
