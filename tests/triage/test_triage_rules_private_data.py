"""Stop-rule family: private data present or requested (en, es, pt, fr, de)."""

import pytest

from agent.triage.normalize import fold, normalize
from agent.triage.rules import private_data


def ids(text: str) -> set[str]:
    return {h.rule_id for h in private_data.check(fold(normalize(text)))}


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("write me at jane.doe+shop@example.co.uk", "private_data.email"),
        ("mi correo es PEDRO_88@Gmail.com", "private_data.email"),
        ("call me at +1 415 555 0134", "private_data.phone_number"),
        ("meu telefone é (11) 98765-4321", "private_data.phone_number"),
        ("ruf mich an: 0171 2345678", "private_data.phone_number"),
        ("my card 4111 1111 1111 1111 was charged", "private_data.card_number"),
        ("tarjeta 5500-0000-0000-0004", "private_data.card_number"),
        ("IBAN DE89 3704 0044 0532 0130 00 bitte", "private_data.iban"),
        ("virement sur FR14 2004 1010 0505 0001 3M02 606", "private_data.iban"),
        ("I live at 42 Maple Street, Springfield", "private_data.street_address"),
        ("ich wohne in der Hauptstraße 12, 10115 Berlin", "private_data.street_address"),
        ("envoyez au 12 rue de la Paix", "private_data.street_address"),
        ("mande para Rua das Flores, 123", "private_data.street_address"),
        ("order 88231, my name is Carla Mendes", "private_data.order_with_personal_details"),
        (
            "can you give me the email address of the girl who won?",
            "private_data.third_party_request",
        ),
        ("me pasan el número de teléfono del repartidor?", "private_data.third_party_request"),
        (
            "Können Sie mir die Adresse von Ihrem Mitarbeiter geben?",
            "private_data.third_party_request",
        ),
        ("winner! send us your card number and cvv", "private_data.solicitation"),
    ],
)
def test_detects(text: str, rule: str) -> None:
    assert rule in ids(text)


@pytest.mark.parametrize(
    "text",
    [
        "my card 4111 1111 1111 1112 was charged",  # fails Luhn: not a card (nor a phone)
        "order #48213 is late",
        "pedido 3321 sigue sin salir",
        "love the new colors!",
        "it costs 29,99 € and arrived on 12.03.2024",
    ],
)
def test_ignores(text: str) -> None:
    found = ids(text)
    assert "private_data.card_number" not in found
    assert "private_data.iban" not in found
    if "4111" not in text:
        assert not found


def test_bad_iban_checksum_is_not_an_iban() -> None:
    assert "private_data.iban" not in ids("DE89 3704 0044 0532 0130 01")


def test_checksums() -> None:
    assert private_data.luhn_ok("4111111111111111")
    assert not private_data.luhn_ok("4111111111111112")
    assert private_data.iban_ok("GB82 WEST 1234 5698 7654 32")
    assert not private_data.iban_ok("GB82 WEST 1234 5698 7654 33")


def test_evidence_is_masked() -> None:
    hits = private_data.check(fold("card 4111 1111 1111 1111"))
    assert hits and "1111 1111" not in hits[0].evidence
