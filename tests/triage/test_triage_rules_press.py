"""Stop-rule family: press and journalist requests."""

import pytest

from agent.triage.normalize import fold, normalize
from agent.triage.rules import press


def ids(text: str) -> set[str]:
    return {h.rule_id for h in press.check(fold(normalize(text)))}


@pytest.mark.parametrize(
    "text",
    [
        "I'm a reporter at the Herald, could you comment?",
        "media inquiry: any statement on the outage?",
        "soy periodista de El Diario",
        "sou jornalista da Folha",
        "je suis journaliste au Parisien",
        "Ich bin Journalistin und recherchiere",
    ],
)
def test_detects(text: str) -> None:
    assert ids(text)


@pytest.mark.parametrize("text", ["press the button", "love this story!"])
def test_ignores(text: str) -> None:
    assert not ids(text)
