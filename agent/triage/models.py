"""The values triage works with: the input item, the working state, and the Decision.

``TriageInput`` is what a sweep or the CLI hands in; ``Decision`` is what comes
out (``to_dict()`` is the stable, JSON-ready form). ``Work`` is the per-item
scratch state the stages share; it never leaves the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from agent.triage.errors import TriageInputError

if TYPE_CHECKING:
    from agent.triage.corrections import Match

Kind = Literal["comment", "dm"]
KINDS = ("comment", "dm")
MAX_TEXT_CHARS = 20_000


@dataclass(slots=True)
class TriageInput:
    """One comment or DM. Text is untrusted: it is classified, never obeyed."""

    id: str
    text: str
    platform: str
    kind: str = "comment"
    author: str = ""
    account: str | None = None
    workspace: str | None = None
    posted_at: datetime | str | None = None
    # the conversation it belongs to (a post's comments, a DM): a near-duplicate by the
    # same author in the same thread is a repeat, merged into the earlier item
    thread: str | None = None

    def validate(self) -> None:
        """Raise TriageInputError (field: message) for an unusable item."""
        if not isinstance(self.id, str) or not self.id.strip():
            raise TriageInputError("id", "must be a non-empty string")
        if not isinstance(self.text, str):
            raise TriageInputError("text", "must be a string")
        if not self.text.strip():
            raise TriageInputError("text", "is empty")
        if len(self.text) > MAX_TEXT_CHARS:
            raise TriageInputError(
                "text", f"is {len(self.text)} characters; the limit is {MAX_TEXT_CHARS}"
            )
        if "\x00" in self.text:
            raise TriageInputError("text", "contains NUL bytes (binary data?)")
        if not isinstance(self.platform, str) or not self.platform.strip():
            raise TriageInputError("platform", "must be a non-empty string")
        if self.kind not in KINDS:
            raise TriageInputError("kind", f"must be one of {', '.join(KINDS)}, not {self.kind!r}")

    @classmethod
    def from_dict(cls, obj: Any) -> TriageInput:
        """Build from a decoded JSON object; raise TriageInputError on a bad shape."""
        if not isinstance(obj, dict):
            raise TriageInputError("line", f"must be a JSON object, not {type(obj).__name__}")
        for name in ("id", "text", "platform", "kind"):
            if name not in obj:
                raise TriageInputError(name, "is missing")
        item_id = obj["id"]
        if isinstance(item_id, int) and not isinstance(item_id, bool):
            item_id = str(item_id)
        for name in ("author", "account", "workspace", "posted_at", "thread"):
            value = obj.get(name)
            if value is not None and not isinstance(value, str):
                raise TriageInputError(name, "must be a string")
        item = cls(
            id=item_id,
            text=obj["text"],
            platform=obj["platform"],
            kind=obj["kind"],
            author=obj.get("author") or "",
            account=obj.get("account"),
            workspace=obj.get("workspace"),
            posted_at=obj.get("posted_at"),
            thread=obj.get("thread"),
        )
        item.validate()
        return item


@dataclass(slots=True)
class RuleHit:
    """One stop rule that fired: ``family.rule`` id and the matched evidence (masked)."""

    rule_id: str
    family: str
    evidence: str = ""


@dataclass(slots=True)
class Decision:
    """What triage concluded about one item, and why."""

    id: str
    intent: str = "general"
    priority: str = "P3"
    action: str = "review"
    pause_reasons: list[str] = field(default_factory=list)
    queue: str | None = None
    owner: str | None = None
    sla_minutes: int | None = None
    escalation: list[str] = field(default_factory=list)
    confidence: float = 0.0
    spam_score: float = 0.0
    lang: str = "und"
    draft: str | None = None
    draft_source: str | None = None
    duplicate_of: str | None = None
    cluster_id: str | None = None
    cluster_size: int = 1
    # a near-duplicate from another author or thread: a member of this item's case
    case_of: str | None = None
    # the same author's repeat in the same thread: merged into this earlier item
    merged_into: str | None = None
    why: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "intent": self.intent,
            "priority": self.priority,
            "action": self.action,
            "pause_reasons": list(self.pause_reasons),
            "queue": self.queue,
            "owner": self.owner,
            "sla_minutes": self.sla_minutes,
            "escalation": list(self.escalation),
            "confidence": round(self.confidence, 4),
            "spam_score": round(self.spam_score, 4),
            "lang": self.lang,
            "draft": self.draft,
            "draft_source": self.draft_source,
            "duplicate_of": self.duplicate_of,
            "cluster_id": self.cluster_id,
            "cluster_size": self.cluster_size,
            "case_of": self.case_of,
            "merged_into": self.merged_into,
            "why": list(self.why),
        }


@dataclass(slots=True)
class Work:
    """Per-item state shared by the stages of one pipeline run."""

    item: TriageInput
    decision: Decision
    text: str = ""  # normalized (NFKC, whitespace collapsed), original case
    folded: str = ""  # casefolded, accents stripped: what rules and features read
    feat_idx: np.ndarray | None = None
    feat_val: np.ndarray | None = None
    word_hashes: list[int] | None = None
    # (intent, spam, needs-a-person heads) probabilities
    scores: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    hits: list[RuleHit] = field(default_factory=list)  # stop rules: each pauses the item
    scam_hits: list[RuleHit] = field(default_factory=list)  # scams: kept, moderated at P1
    needs_person: float = 0.0  # the learned "needs a person" score (0-1)
    correction: Match | None = None  # a corrected item this one is like
    dropped: bool = False

    @property
    def flags(self) -> list[RuleHit]:
        """Every rule that fired: the stop rules' hits, then the scams'."""
        return [*self.hits, *self.scam_hits]
