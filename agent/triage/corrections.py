"""A workspace's reviewer corrections, as an adjustment on top of the shipped model.

A reviewer who changes an item's intent, priority or queue, or rejects its draft, leaves
a label (``agent.store.corrections``). ``inbox-agent triage train --workspace W`` turns
W's labels into a *correction memory*: the corrected items' feature vectors (the same
hashed features the models read) and, per item, the last value a reviewer gave each
field. The pipeline's ``corrections`` stage then decides a new message like a corrected
one (cosine similarity at or above the memory's ``similarity``) as the reviewer did:

- intent: the reviewer's intent (the model's reading stays in ``why``);
- priority: the reviewer's priority, never below what a stop rule raised it to;
- queue: the reviewer's queue (its owner from the routing rules that use it);
- a rejected draft: no draft for messages like it.

Stop rules are never overruled: a corrected look-alike that trips one still pauses.
``similarity`` is chosen by leave-one-out over the corrections outside a held-out slice
(one in five, by item id), so ``eval triage --workspace`` can measure on that slice what
the memory changed. The file holds only
numbers and label strings (``np.savez``, no pickles) and no message text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from agent.triage.errors import ModelError
from agent.triage.features import featurize_text

if TYPE_CHECKING:
    from agent.triage.models import Decision

FIELDS = ("intent", "priority", "queue", "draft")
SIMILARITY_GRID = (0.35, 0.45, 0.55, 0.65, 0.75, 0.85)
DEFAULT_SIMILARITY = 0.55


@dataclass(frozen=True)
class Label:
    """What reviewers said about one item: the last value given to each field."""

    item_id: int
    text: str
    values: dict[str, str] = field(default_factory=dict)  # field -> value ("rejected": draft)
    reviewer: str = ""


@dataclass(frozen=True)
class Match:
    item_id: int
    similarity: float
    values: dict[str, str]
    reviewer: str


class CorrectionLike(Protocol):
    """What the memory reads of a correction (``agent.store.corrections.CorrectionRow``)."""

    @property
    def item_id(self) -> int: ...
    @property
    def field(self) -> str: ...
    @property
    def new_value(self) -> str | None: ...
    @property
    def text(self) -> str: ...
    @property
    def reviewer(self) -> str: ...


def labels_from(rows: Iterable[CorrectionLike]) -> list[Label]:
    """Fold correction rows (oldest first) into one Label per item: the last value of each
    field, and the last reviewer."""
    by_item: dict[int, tuple[str, dict[str, str], str]] = {}
    for row in rows:
        text, values, _ = by_item.get(row.item_id, (row.text, {}, ""))
        if row.field in FIELDS and row.new_value:
            values[row.field] = row.new_value
        by_item[row.item_id] = (text, values, row.reviewer)
    return [Label(i, t, v, r) for i, (t, v, r) in by_item.items() if v]


class CorrectionMemory:
    """Corrected items' feature vectors, scored against a new item by cosine similarity."""

    def __init__(
        self,
        item_ids: np.ndarray,
        indptr: np.ndarray,
        cols: np.ndarray,
        vals: np.ndarray,
        values: list[dict[str, str]],
        reviewers: list[str],
        similarity: float = DEFAULT_SIMILARITY,
    ) -> None:
        self.item_ids = item_ids.astype(np.int64)
        self.values = values
        self.reviewers = reviewers
        self.similarity = float(similarity)
        self._indptr, self._cols, self._vals = indptr, cols, vals.astype(np.float32)
        # dense over the columns the memory uses: one gather and one product per item
        self._used = np.unique(cols)
        self._dense = np.zeros((len(item_ids), len(self._used)), dtype=np.float32)
        for row in range(len(item_ids)):
            a, b = indptr[row], indptr[row + 1]
            self._dense[row, np.searchsorted(self._used, cols[a:b])] = vals[a:b]

    @classmethod
    def build(
        cls, labels: Sequence[Label], similarity: float = DEFAULT_SIMILARITY
    ) -> CorrectionMemory:
        vectors = [featurize_text(label.text) for label in labels]
        indptr = np.zeros(len(vectors) + 1, dtype=np.int64)
        np.cumsum([len(v[0]) for v in vectors], out=indptr[1:])
        cols = np.concatenate([v[0] for v in vectors]) if vectors else np.zeros(0, np.int64)
        vals = np.concatenate([v[1] for v in vectors]) if vectors else np.zeros(0, np.float32)
        return cls(
            np.array([label.item_id for label in labels], dtype=np.int64),
            indptr,
            cols.astype(np.int64),
            vals,
            [dict(label.values) for label in labels],
            [label.reviewer for label in labels],
            similarity,
        )

    def __len__(self) -> int:
        return len(self.item_ids)

    def nearest(self, idx: np.ndarray, vals: np.ndarray) -> Match | None:
        """The most similar corrected item at or above ``similarity``, or None."""
        if not len(self) or not len(self._used):
            return None
        pos = np.searchsorted(self._used, idx)
        pos[pos >= len(self._used)] = 0
        hit = self._used[pos] == idx
        if not hit.any():
            return None
        sims = self._dense[:, pos[hit]] @ vals[hit]
        best = int(sims.argmax())
        if sims[best] < self.similarity:
            return None
        return Match(
            int(self.item_ids[best]), float(sims[best]), self.values[best], self.reviewers[best]
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fields = np.array([[v.get(f, "") for f in FIELDS] for v in self.values], dtype=str)
        with path.open("wb") as fh:
            np.savez_compressed(
                fh,
                item_ids=self.item_ids,
                indptr=self._indptr,
                cols=self._cols,
                vals=self._vals,
                fields=fields.reshape(len(self), len(FIELDS)),
                reviewers=np.array(self.reviewers, dtype=str),
                similarity=np.array([self.similarity]),
            )

    @classmethod
    def load(cls, path: Path) -> CorrectionMemory:
        try:
            with np.load(path, allow_pickle=False) as npz:
                data = {k: npz[k] for k in npz.files}
            values = [
                {f: str(v) for f, v in zip(FIELDS, row, strict=True) if str(v)}
                for row in data["fields"]
            ]
            return cls(
                data["item_ids"],
                data["indptr"],
                data["cols"],
                data["vals"],
                values,
                [str(r) for r in data["reviewers"]],
                float(data["similarity"][0]),
            )
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"{path}: cannot read correction memory: {exc}") from exc


def held_out(item_id: int) -> bool:
    """One in five corrected items (by a hash of the id) is kept out to measure the memory."""
    return hashlib.sha256(str(item_id).encode()).digest()[0] % 5 == 0


@dataclass(frozen=True)
class Agreement:
    """How often a decision agreed with the reviewers on held-out corrected items."""

    fields: int  # corrected (item, field) pairs held out
    shipped: int  # the shipped model alone gave the reviewer's value
    adjusted: int  # the shipped model plus the memory did


def choose_similarity(train: Sequence[Label]) -> float:
    """The grid value at which each corrected item, matched against the others (leave one
    out), agrees with its reviewers most (a match giving another value counts against);
    ties go to the stricter value. Fewer than two labels: the default."""
    if len(train) < 2:
        return DEFAULT_SIMILARITY
    memory = CorrectionMemory.build(train, 0.0)
    sims = memory._dense @ memory._dense.T  # unit vectors: cosine similarity
    np.fill_diagonal(sims, -1.0)
    nearest = sims.argmax(axis=1)
    best, best_score = DEFAULT_SIMILARITY, None
    for threshold in SIMILARITY_GRID:
        score = 0
        for i, label in enumerate(train):
            j = int(nearest[i])
            if sims[i, j] < threshold:
                continue
            other = train[j].values
            score += sum(
                1 if other.get(f) == v else -1 for f, v in label.values.items() if f in other
            )
        if best_score is None or score >= best_score:
            best, best_score = threshold, score
    return best


def train_memory(labels: Sequence[Label]) -> CorrectionMemory:
    """The workspace's memory: every corrected item, at the similarity chosen on the
    items not held out (so the held-out slice stays a fair check)."""
    similarity = choose_similarity([label for label in labels if not held_out(label.item_id)])
    return CorrectionMemory.build(labels, similarity)


def agreement(
    decide_shipped: Callable[[str], Decision],
    decide_adjusted: Callable[[str], Decision],
    labels: Sequence[Label],
) -> Agreement:
    """Agreement with the reviewers on ``labels``: ``decide_*`` map a text to a Decision."""
    fields = shipped = adjusted = 0
    for label in labels:
        before = decide_shipped(label.text)
        after = decide_adjusted(label.text)
        for name, value in label.values.items():
            fields += 1
            shipped += _agrees(before, name, value)
            adjusted += _agrees(after, name, value)
    return Agreement(fields, shipped, adjusted)


def _agrees(decision: Decision, name: str, value: str) -> bool:
    if name == "draft":  # the reviewer rejected the draft: agreeing is making none
        return decision.draft is None
    return bool(getattr(decision, name) == value)
