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
