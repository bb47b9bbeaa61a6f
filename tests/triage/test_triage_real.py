"""The team's real-text labels: well formed, split once, the outside rows and the test part
never reach training, and no must-pause message of any evaluation set gets a draft."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.triage import Pipeline, TriageInput
from triage_dev import realtext
from triage_dev.labels import (
    LABELS_DIR,
    REAL_LABELS,
    LabelError,
    labelled,
    read_labels,
    split_of,
)

needs_data = pytest.mark.skipif(not realtext.available(), reason="needs ../shared/data")


def test_a_bad_labels_file_names_file_line_and_field(tmp_path: Path) -> None:
    header = "id,language,intent,priority,must_pause,pause_family,pause_reason,drop_reason\n"
    bad = tmp_path / "labels.csv"
    bad.write_text(header + "tw:1,en,praise,P3,0,,,\ntw:2,en,refunds,P2,1,refund,x,\n")
    with pytest.raises(LabelError, match=r"labels.csv:3: intent: unknown intent 'refunds'"):
        read_labels(bad)
    bad.write_text(header + "tw:1,en,praise,P3,1,,,\n")
    with pytest.raises(LabelError, match=r":2: pause_family: is given exactly when"):
        read_labels(bad)
    bad.write_text("id,intent\ntw:1,praise\n")
    with pytest.raises(LabelError, match=r"labels.csv:1: header must be"):
        read_labels(bad)


def test_the_split_is_fixed_by_the_id_alone() -> None:
    ids = [f"tw:{n}" for n in range(2000)]
    parts = [split_of(i) for i in ids]
    assert parts == [split_of(i) for i in ids]
    assert 0.35 < parts.count("test") / len(ids) < 0.45


@needs_data
def test_the_labels_cover_the_team_rows_and_never_the_outside_ones() -> None:
    labels = read_labels(REAL_LABELS)
    ids = {lab.id for lab in labels}
    assert len(ids) == len(labels) == 1975
    assert ids == {m.id for m in realtext.messages()}
    assert not ids & {m.id for m in realtext.outside_tweets()}


@needs_data
def test_training_reads_the_development_part_only() -> None:
    from triage_dev.training import read_real, read_real_pauses

    test_texts = {r.message.text for r in labelled("test")}
    dev_texts = {e.text for e in read_real("dev")} | {e.text for e in read_real_pauses("dev")}
    assert dev_texts and not dev_texts & test_texts
    assert all(r.label.part == "dev" for r in labelled("dev"))


@needs_data
def test_no_must_pause_message_of_any_set_carries_a_draft() -> None:
    pipe = Pipeline()
    drafted = []
    for row in labelled():
        if row.label.must_pause:
            pipe.reset()
            m = row.message
            d = pipe.triage(TriageInput(m.id, m.text, m.source, "comment", m.author))
            if d.draft is not None:
                drafted.append(m.id)
    relabel = {lab.id: lab for lab in read_labels(LABELS_DIR / "heldout-relabel.csv")}
    heldout = Path(__file__).resolve().parents[2] / "triage_dev" / "data" / "heldout.jsonl"
    for line in heldout.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if relabel[row["id"]].must_pause:
            pipe.reset()
            d = pipe.triage(TriageInput(row["id"], row["text"], row["platform"], row["kind"]))
            if d.draft is not None:
                drafted.append(row["id"])
    assert drafted == []


def test_training_asks_for_the_development_part_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``build`` reads the real labels through ``labelled``: record every part it asks for
    (labels stand in for the shared data, so this runs anywhere)."""
    from triage_dev import labels as labels_module
    from triage_dev import training
    from triage_dev.labels import Label, Labelled

    texts = {
        "tw:1": ("you charged me twice, i want my money back", "billing_refund", ("refund",)),
        "tw:2": ("thanks, all sorted now", "praise", ()),
        "tw:3": ("my card was billed again for nothing", "billing_refund", ("refund",)),
        "tw:4": ("where is my parcel", "order_issue", ()),
        "tw:5": ("love the new app", "praise", ()),
        "tw:6": ("refund please, it broke", "billing_refund", ("refund",)),
    }
    rows = [
        Labelled(
            realtext.RealMessage(i, "tweets", "a", text),
            Label(i, "en", intent, "P2", bool(fam), fam, "", ""),
        )
        for i, (text, intent, fam) in texts.items()
    ]
    asked: list[str | None] = []

    def fake_labelled(part: str | None = None, *args: object, **kwargs: object) -> list[Labelled]:
        asked.append(part)
        return rows

    monkeypatch.setattr(labels_module, "labelled", fake_labelled)
    monkeypatch.setattr(realtext, "available", lambda data=None: True)
    data = tmp_path / "data"
    (data / "open").mkdir(parents=True)
    own = [("praise", "love it"), ("praise", "amazing thanks"), ("spam", "free money click"),
           ("spam", "sub4sub"), ("order_issue", "where is my order"),
           ("order_issue", "package never came")]  # fmt: skip
    (data / "examples.tsv").write_text("".join(f"{i}\ten\t{t}\n" for i, t in own))
    (data / "open" / "Youtube01-Test.csv").write_text(
        "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n1,a,d,check my channel,1\n2,b,d,great song,0\n"
    )
    (data / "open" / "bitext_customer_support_train_4514.csv").write_text(
        "id,instruction,intent\n1,track my order,track_order\n2,I want a refund,get_refund\n"
    )
    training.build(data, tmp_path / "m.npz")
    assert asked and set(asked) == {"dev"}
    import numpy as np

    with np.load(tmp_path / "m.npz") as npz:
        assert "real_dev=6" in str(npz["meta"][0])
