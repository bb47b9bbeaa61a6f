"""The correction memory: reviewer labels folded per item, matched by similarity, saved
without pickles, and applied by the pipeline without ever overruling a stop rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from agent.triage import Pipeline, TriageInput
from agent.triage.corrections import (
    SIMILARITY_GRID,
    CorrectionMemory,
    Label,
    choose_similarity,
    labels_from,
)
from agent.triage.errors import ModelError

SALE = "is the spring sale still on? want to grab two of the bundles"


@dataclass
class Row:  # the fields of agent.store.corrections.CorrectionRow the memory reads
    item_id: int
    field: str
    new_value: str | None
    text: str
    reviewer: str = "ann"
    created_at: datetime = datetime(2026, 12, 1, tzinfo=UTC)


def test_labels_keep_the_last_value_per_field() -> None:
    rows = [
        Row(1, "intent", "praise", SALE),
        Row(1, "intent", "sales_lead", SALE, reviewer="bob"),
        Row(1, "queue", "sales", SALE),
        Row(2, "draft", "rejected", "thanks!"),
        Row(3, "intent", None, "empty"),
    ]
    labels = labels_from(rows)
    assert [(lab.item_id, lab.values) for lab in labels] == [
        (1, {"intent": "sales_lead", "queue": "sales"}),
        (2, {"draft": "rejected"}),
    ]


def _memory(similarity: float = 0.5) -> CorrectionMemory:
    return CorrectionMemory.build(
        [
            Label(7, SALE, {"intent": "sales_lead", "priority": "P2", "queue": "sales"}, "ann"),
            Label(8, "love the new serum, thank you so much", {"draft": "rejected"}, "bob"),
        ],
        similarity,
    )


def test_nearest_matches_alike_texts_only(tmp_path: Path) -> None:
    from agent.triage.features import featurize
    from agent.triage.normalize import fold, normalize

    memory = _memory()
    same = memory.nearest(*featurize(fold(normalize(SALE))))
    assert same is not None and same.item_id == 7 and same.similarity > 0.99
    assert memory.nearest(*featurize(fold("where is my parcel, it is late"))) is None
    path = tmp_path / "m.npz"
    memory.save(path)
    with np.load(path, allow_pickle=False) as npz:  # plain arrays: no pickles
        assert "text" not in npz.files and not any(npz[k].dtype == object for k in npz.files)
    again = CorrectionMemory.load(path)
    assert again.values == memory.values and again.similarity == 0.5
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="bad.npz"):
        CorrectionMemory.load(tmp_path / "bad.npz")


def _decide(text: str, memory: CorrectionMemory | None) -> object:
    return Pipeline(memory=memory).triage(TriageInput("1", text, "instagram", "dm", "@kim"))


def test_the_pipeline_decides_like_the_reviewer() -> None:
    text = "is the spring sale still on? want to grab three of the bundles"
    before, after = _decide(text, None), _decide(text, _memory())
    assert (before.intent, before.queue) != ("sales_lead", "sales")  # type: ignore[attr-defined]
    assert (after.intent, after.priority, after.queue) == ("sales_lead", "P2", "sales")  # type: ignore[attr-defined]
    assert after.owner  # type: ignore[attr-defined]  # the owner of the sales queue
    assert any(w.startswith("correction.like:item 7 by ann") for w in after.why)  # type: ignore[attr-defined]


def test_a_rejected_draft_blocks_drafts_for_alike_messages() -> None:
    text = "love the new serum, thank you so much!!"
    assert _decide(text, None).draft is not None  # type: ignore[attr-defined]
    after = _decide(text, _memory())
    assert after.draft is None  # type: ignore[attr-defined]
    assert any(w.startswith("draft.blocked:rejected like item 8") for w in after.why)  # type: ignore[attr-defined]


def test_a_correction_never_overrules_a_stop_rule() -> None:
    text = "is the spring sale still on? my son got burned by the bundle heater, hospital now"
    memory = CorrectionMemory.build(
        [Label(9, text, {"intent": "sales_lead", "priority": "P3", "queue": "sales"}, "ann")]
    )
    d = _decide(text, memory)
    assert d.action == "pause" and d.priority == "P1"  # type: ignore[attr-defined]
    assert d.intent == "safety"  # type: ignore[attr-defined]


def test_similarity_is_chosen_from_the_grid_by_leave_one_out() -> None:
    labels = [
        Label(i, f"is the spring sale still on? want to grab {n} bundles", {"queue": "sales"})
        for i, n in enumerate(["two", "three", "four", "five"])
    ] + [Label(10, "my parcel never came", {"queue": "support"})]
    chosen = choose_similarity(labels)
    assert chosen in SIMILARITY_GRID
    assert choose_similarity(labels[:1]) == 0.55  # too few to choose: the default
