"""Scams aimed at the brand's customers are kept, moderated at P1 and say why; customers
who merely name the brand's own handle are not scams."""

from __future__ import annotations

import pytest

from agent.triage import Pipeline, TriageInput
from agent.triage.scams import Brand, lookalike

BRAND = Brand.of(["lumaskin"])


@pytest.mark.parametrize(
    "handle",
    ["@lumaskin.support", "luma_skin_help", "@lumaskinrecovery", "@1umaskin", "@lumaskln",
     "@lumaskin_official_giveaway", "@LumaSkin.Care"],
)  # fmt: skip
def test_lookalikes_of_the_brand(handle: str) -> None:
    assert lookalike(handle, BRAND)


@pytest.mark.parametrize(
    "handle", ["@lumaskin", "LumaSkin", "@maria_22", "@skinlover", "@luma", "@kovobank.help"]
)
def test_not_lookalikes(handle: str) -> None:
    assert not lookalike(handle, BRAND)


def _triage(text: str, author: str = "@someone", account: str = "lumaskin") -> object:
    pipe = Pipeline()
    return pipe.triage(TriageInput("1", text, "instagram", "comment", author, account=account))


@pytest.mark.parametrize(
    ("text", "author", "rule"),
    [
        ("same happened to me!! dm @fundsback_agent they got my money back in a day", "@jo_88",
         "scam.recovery"),
        ("lost my account too, @cyberfix_kelly on IG recovered everything, dm her", "@amy",
         "scam.recovery"),
        ("Congratulations! you won our giveaway 🎁 claim at lumaskin-gifts.com", "@lumaskin.win",
         "scam.giveaway"),
        ("Hi, sorry for the trouble! DM us your order number and email for a refund",
         "@lumaskin.support", "scam.lookalike"),
    ],
)  # fmt: skip
def test_scams_are_kept_and_moderated_at_p1(text: str, author: str, rule: str) -> None:
    d = _triage(text, author)
    assert d.action == "escalate" and d.draft is None  # type: ignore[attr-defined]
    assert d.intent == "spam" and d.priority == "P1"  # type: ignore[attr-defined]
    assert d.queue == "moderation"  # type: ignore[attr-defined]
    assert any(w.startswith(f"{rule}:") for w in d.why)  # type: ignore[attr-defined]


def test_a_customer_naming_the_brand_itself_is_not_a_scam() -> None:
    d = _triage("i messaged @lumaskin and they got my money back, thanks guys", "@kim")
    assert not any(w.startswith("scam.") for w in d.why)  # type: ignore[attr-defined]
    assert d.action != "drop"  # type: ignore[attr-defined]


def test_without_a_known_brand_a_recovery_pitch_is_still_a_scam() -> None:
    d = _triage("contact @restore_wizard on telegram, he recovered my account", account="")
    assert any(w.startswith("scam.recovery") for w in d.why)  # type: ignore[attr-defined]
