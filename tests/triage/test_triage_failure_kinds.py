"""The failure kinds of issue 11, as cases written from the label guide alone
(``cases/failure_kinds.yaml``: at least ten per stop family, in five languages).

Hard rules, every case: no must-pause case gets a draft; a scam is never dropped and is
moderated at P1 with its reason; an annoyed customer is never spam. The share of
must-pause cases held back is a floor (docs/triage-eval.md has the numbers per kind):
the stop rules were not written from these cases, the scam rules were (see there)."""

from __future__ import annotations

from collections import Counter
from functools import cache
from typing import Any

import pytest

from agent.triage import Decision, Pipeline
from triage_dev.real_eval import case_input, held_back, load_cases

SCAMS = ("recovery_scam", "fake_giveaway", "impersonation")
STOP_FAMILIES = ("private_data", "refund", "legal", "safety", "account_compromise", "press")
HELD_FLOOR = 0.70  # must-pause cases held back (pause, or escalate without a draft); 0.71 measured


@cache
def cases() -> list[dict[str, Any]]:
    return load_cases()


@cache
def decisions() -> list[Decision]:
    pipe = Pipeline()
    out = []
    for i, case in enumerate(cases()):
        pipe.reset()
        out.append(pipe.triage(case_input(i, case)))
    return out


def test_the_cases_cover_every_stop_family_and_kind_in_five_languages() -> None:
    kinds = Counter(c["kind"] for c in cases())
    for kind in (*STOP_FAMILIES, *SCAMS, "annoyed_customer", "ordinary"):
        assert kinds[kind] >= 10, kind
    assert {c["lang"] for c in cases()} == {"en", "es", "pt", "fr", "de"}


def test_no_must_pause_case_carries_a_draft() -> None:
    drafted = [c["text"] for c, d in zip(cases(), decisions(), strict=True)
               if c["must_pause"] and d.draft is not None]  # fmt: skip
    assert drafted == []


@pytest.mark.parametrize("kind", SCAMS)
def test_scams_are_never_dropped_and_say_why(kind: str) -> None:
    for case, d in zip(cases(), decisions(), strict=True):
        if case["kind"] != kind:
            continue
        assert d.action != "drop", case["text"]
        assert d.priority == "P1" and d.queue == "moderation", (case["text"], d.why)
        assert any(w.startswith("scam.") for w in d.why), case["text"]


def test_annoyed_customers_are_not_spam() -> None:
    spam = [c["text"] for c, d in zip(cases(), decisions(), strict=True)
            if c["kind"] == "annoyed_customer" and (d.intent == "spam" or d.action == "drop")]  # fmt: skip
    assert spam == []


def test_must_pause_cases_are_held_back() -> None:
    pairs = [(c, d) for c, d in zip(cases(), decisions(), strict=True) if c["must_pause"]]
    held = sum(held_back(d) for _, d in pairs)
    assert held / len(pairs) >= HELD_FLOOR, [c["text"] for c, d in pairs if not held_back(d)]
