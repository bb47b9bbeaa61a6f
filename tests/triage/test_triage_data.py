"""Training data hygiene: the own examples never copy the held-out set."""

from __future__ import annotations

import json
import re

from agent.triage.normalize import fold, normalize
from triage_dev.training import DATA_DIR, INTENTS, read_own_examples

_WORD = re.compile(r"[^\W_]+")


def _words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(fold(normalize(text))))


def test_no_training_line_is_a_near_copy_of_a_heldout_message() -> None:
    lines = (DATA_DIR / "heldout.jsonl").read_text(encoding="utf-8").splitlines()
    held = [_words(json.loads(line)["text"]) for line in lines if line]
    copies = []
    for ex in read_own_examples():
        a = _words(ex.text)
        for b in held:
            union = len(a | b)
            if union and len(a & b) / union >= 0.5:
                copies.append(ex.text)
                break
    assert copies == []


def test_own_examples_cover_every_intent_in_five_languages() -> None:
    seen = {(ex.label, ex.group.split(":", 1)[1]) for ex in read_own_examples()}
    for intent in INTENTS:
        for lang in ("en", "es", "pt", "fr", "de"):
            assert (intent, lang) in seen
