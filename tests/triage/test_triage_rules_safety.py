"""Stop-rule family: medical, financial advice and safety."""

import pytest

from agent.triage.normalize import fold, normalize
from agent.triage.rules import safety


def ids(text: str) -> set[str]:
    return {h.rule_id for h in safety.check(fold(normalize(text)))}


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("i had an allergic reaction", "safety.allergic_reaction"),
        ("me dio una reacción alérgica", "safety.allergic_reaction"),
        ("nach der Creme habe ich Ausschlag", "safety.allergic_reaction"),
        ("the charger exploded", "safety.injury"),
        ("l'appareil a pris feu", "safety.injury"),
        ("mein Kind hat ein Teil verschluckt", "safety.injury"),
        ("i don't want to live anymore", "safety.self_harm"),
        ("ya no quiero seguir viviendo", "safety.self_harm"),
        ("não aguento mais, quero sumir", "safety.self_harm"),
        ("j'ai envie de mourir", "safety.self_harm"),
        ("ich will nicht mehr leben", "safety.self_harm"),
        ("i know where your office is. watch your back", "safety.threat"),
        ("te voy a matar", "safety.threat"),
        ("ich bring dich um", "safety.threat"),
        ("this guy keeps harassing me", "safety.harassment"),
        ("ele fica me ameaçando", "safety.harassment"),
        ("can i use this while pregnant?", "safety.medical_advice"),
        ("should i invest in your token?", "safety.financial_advice"),
    ],
)
def test_detects(text: str, rule: str) -> None:
    assert rule in ids(text)


@pytest.mark.parametrize("text", ["this is fire 🔥", "love it", "killing it!! great drop"])
def test_ignores(text: str) -> None:
    assert not ids(text)
