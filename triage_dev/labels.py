"""The team's labels for real messages (``labels/real.csv``) and its one split.

Rows carry only an id and labels (``id,language,intent,priority,must_pause,pause_family,
pause_reason,drop_reason``); the text comes from ``../shared/data`` through
``triage_dev.realtext``. A row with a ``drop_reason`` needs its thread to be understood
(the label guide's rule) and is in neither part.

The split is made once, by a hash of the id: ``test`` (two in five) is never read by
training or tuning; ``dev`` may be. ``real-pass1.csv`` keeps the first pass, so the
second pass's changes can be counted.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from triage_dev.realtext import RealMessage, by_id

LABELS_DIR = Path(__file__).parent / "labels"
REAL_LABELS = LABELS_DIR / "real.csv"
PASS1_LABELS = LABELS_DIR / "real-pass1.csv"
FIELDS = (
    "id", "language", "intent", "priority", "must_pause", "pause_family", "pause_reason",
    "drop_reason",
)  # fmt: skip
FAMILIES = ("private_data", "refund", "legal", "safety", "account_compromise", "press")
PRIORITIES = ("P1", "P2", "P3", "none")


class LabelError(ValueError):
    """A labels file that breaks the format: names file, line and field."""


@dataclass(frozen=True)
class Label:
    id: str
    language: str
    intent: str
    priority: str
    must_pause: bool
    families: tuple[str, ...]
    pause_reason: str
    drop_reason: str

    @property
    def part(self) -> str:
        return split_of(self.id)


@dataclass(frozen=True)
class Labelled:
    message: RealMessage
    label: Label


def split_of(message_id: str) -> str:
    """``test`` or ``dev``, fixed by the id alone (sha256, two in five are test)."""
    digest = hashlib.sha256(message_id.encode()).digest()
    return "test" if digest[0] % 5 < 2 else "dev"


def read_labels(path: Path = REAL_LABELS, intents: tuple[str, ...] | None = None) -> list[Label]:
    from triage_dev.training import INTENTS

    known = intents or INTENTS
    out: list[Label] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != FIELDS:
            raise LabelError(f"{path}:1: header must be {','.join(FIELDS)}")
        for row in reader:
            line = reader.line_num

            def bad(field: str, why: str, line: int = line) -> LabelError:
                return LabelError(f"{path}:{line}: {field}: {why}")

            if row["id"] in seen:
                raise bad("id", f"{row['id']!r} appears twice")
            seen.add(row["id"])
            if row["intent"] not in known:
                raise bad("intent", f"unknown intent {row['intent']!r}")
            if row["priority"] not in PRIORITIES:
                raise bad("priority", f"must be one of {', '.join(PRIORITIES)}")
            if row["must_pause"] not in ("0", "1"):
                raise bad("must_pause", "must be 0 or 1")
            families = tuple(f for f in row["pause_family"].split("+") if f)
            for fam in families:
                if fam not in FAMILIES:
                    raise bad("pause_family", f"unknown family {fam!r}")
            if (row["must_pause"] == "1") != bool(families):
                raise bad("pause_family", "is given exactly when must_pause is 1")
            out.append(
                Label(
                    row["id"],
                    row["language"],
                    row["intent"],
                    row["priority"],
                    row["must_pause"] == "1",
                    families,
                    row["pause_reason"],
                    row["drop_reason"],
                )  # fmt: skip
            )
    return out


def labelled(
    part: str | None = None, path: Path = REAL_LABELS, data: Path | None = None
) -> list[Labelled]:
    """Labelled real messages of one part (``dev`` or ``test``; None: both), drops left out."""
    texts = by_id(data)
    out = []
    for label in read_labels(path):
        if label.drop_reason or (part is not None and label.part != part):
            continue
        message = texts.get(label.id)
        if message is None:
            raise LabelError(f"{path}: id {label.id!r} names no message in the shared data")
        out.append(Labelled(message, label))
    return out
