"""Property tests: no text, however strange, makes triage raise (beyond input errors)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.triage import Pipeline, TriageInput, load_config
from agent.triage.errors import TriageInputError
from agent.triage.features import featurize
from agent.triage.normalize import fold, normalize
from agent.triage.rules import run

PIPE = Pipeline(load_config(None))
ACTIONS = {"drop", "review", "escalate", "pause"}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400), st.sampled_from(["comment", "dm"]))
def test_garbage_text_never_raises(text: str, kind: str) -> None:
    try:
        d = PIPE.triage(TriageInput(id="p", text=text, platform="x", kind=kind, author=text[:5]))
    except TriageInputError:
        assert not text.strip() or "\x00" in text
        return
    assert d.action in ACTIONS
    assert d.priority in {"P1", "P2", "P3", "none"}
    if d.action == "pause":
        assert d.pause_reasons and d.draft is None


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_binary_decoded_leniently_never_raises(raw: bytes) -> None:
    text = raw.decode("utf-8", errors="replace")
    folded = fold(normalize(text))
    idx, val = featurize(folded)
    assert len(idx) == len(val) >= 1
    run(folded)


@pytest.mark.parametrize(
    "text",
    [
        "\u200b\u200b",
        "🔥" * 5000,
        "a\u0301" * 300,
        "ß" * 50,
        "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    ],
)
def test_odd_texts(text: str) -> None:
    try:
        PIPE.triage(TriageInput(id="o", text=text, platform="x"))
    except TriageInputError as exc:
        assert exc.field == "text"
