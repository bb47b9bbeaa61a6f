"""Stop-rule family: account compromise."""

import pytest

from agent.triage.normalize import fold, normalize
from agent.triage.rules import account


def ids(text: str) -> set[str]:
    return {h.rule_id for h in account.check(fold(normalize(text)))}


@pytest.mark.parametrize(
    "text",
    [
        "my account got hacked",
        "someone logged into my account from russia",
        "password was changed but it wasnt me",
        "me hackearon la cuenta",
        "alguien entró a mi cuenta",
        "invadiram minha conta",
        "mon compte a été piraté",
        "jemand hat mein Passwort geändert",
        "mein Account wurde gehackt",
    ],
)
def test_detects(text: str) -> None:
    assert ids(text)


@pytest.mark.parametrize("text", ["i forgot my password", "how do i delete my account"])
def test_ignores(text: str) -> None:
    assert not ids(text)


def test_asking_how_to_reset_a_password_is_not_a_compromise() -> None:
    from agent.triage import Pipeline, TriageInput, load_config

    pipe = Pipeline(load_config(None))
    asked = pipe.triage(TriageInput(id="1", text="How do I reset my password?", platform="x"))
    assert not any(r.startswith("account_compromise") for r in asked.pause_reasons)
    hacked = pipe.triage(
        TriageInput(id="2", text="someone changed my password and I can't get in", platform="x")
    )
    assert any(r.startswith("account_compromise") for r in hacked.pause_reasons)
    denied = pipe.triage(
        TriageInput(id="3", text="I never changed my email, who did this??", platform="x")
    )
    assert any(r.startswith("account_compromise") for r in denied.pause_reasons)
