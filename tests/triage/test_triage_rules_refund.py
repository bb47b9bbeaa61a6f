"""Stop-rule family: refund, cancellation, chargeback and dispute."""

import pytest

from agent.triage.normalize import fold, normalize
from agent.triage.rules import refund


def ids(text: str) -> set[str]:
    return {h.rule_id for h in refund.check(fold(normalize(text)))}


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("I want a refund", "refund.refund"),
        ("just give me my money back", "refund.refund"),
        ("quiero el reembolso", "refund.refund"),
        ("cadê o estorno?", "refund.refund"),
        ("je veux être remboursé", "refund.refund"),
        ("ich will eine Rückerstattung", "refund.refund"),
        ("please cancel my subscription", "refund.cancellation"),
        ("quiero cancelar el plan", "refund.cancellation"),
        ("je souhaite résilier mon abonnement", "refund.cancellation"),
        ("ich kündige meinen Vertrag", "refund.cancellation"),
        ("I'm filing a chargeback", "refund.chargeback"),
        ("abri uma contestação no banco", "refund.chargeback"),
        ("I will dispute this charge", "refund.dispute"),
    ],
)
def test_detects(text: str, rule: str) -> None:
    assert rule in ids(text)


@pytest.mark.parametrize(
    "text", ["love it", "does it come in blue?", "te devuelvo el follow", "what's the fee?"]
)
def test_ignores(text: str) -> None:
    assert not ids(text)
