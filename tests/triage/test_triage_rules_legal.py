"""Stop-rule family: legal threats."""

import pytest

from agent.triage.normalize import fold, normalize
from agent.triage.rules import legal


def ids(text: str) -> set[str]:
    return {h.rule_id for h in legal.check(fold(normalize(text)))}


@pytest.mark.parametrize(
    "text",
    [
        "my lawyer will be in touch",
        "see you in small claims court",
        "I'm going to sue you",
        "voy a denunciarlos ante consumo",
        "vou abrir processo no procon",
        "je vais porter plainte, mon avocat vous contactera",
        "ich schalte meinen Anwalt ein",
        "wir werden Sie verklagen",
    ],
)
def test_detects(text: str) -> None:
    assert ids(text)


@pytest.mark.parametrize("text", ["the case is cute", "love the suede", "sueño con esto"])
def test_ignores(text: str) -> None:
    assert not ids(text)
