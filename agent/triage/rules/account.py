"""Account compromise: hacked accounts, takeovers and logins that were not the owner."""

from __future__ import annotations

from agent.triage.models import RuleHit
from agent.triage.rules._patterns import Family

FAMILY = "account_compromise"

RULES = Family(
    FAMILY,
    {
        "hacked": [
            r"\bhack(?:ed|ers?)\b",
            r"\bgot hacked\b",
            r"\bhacke(?:aron|ou|aram|o)\b",
            r"\binvad(?:iram|iu|ida)\b",
            r"\bpirat(?:e|ee|er)\b",
            r"\bgehackt\b",
            r"\bcompromised\b",
        ],
        "takeover": [
            r"\b(?:someone|somebody|a stranger) (?:logged|got|broke|has been logging) in(?:to)?\b",
            r"\blog ?in from (?:another|a different|an unknown)\b",
            r"\b(?:wasn'?t|was not|not) me\b",
            r"\bpassword (?:was|got|has been) changed\b",
            # "someone changed my password", not "how do I reset my password?"
            r"\b(?:someone|somebody|they|hackers?|a stranger|scammers?) (?:has |have )?"
            r"(?:changed|reset) my (?:password|email|e-mail)\b",
            r"\bi (?:didn'?t|did not|never) (?:change|changed|reset) "
            r"my (?:password|email|e-mail)\b",
            r"\bposting (?:spam|things|stuff) i didn'?t\b",
            r"\bunauthori[sz]ed (?:access|login|log-in)\b",
            r"\b(?:alguien|alguem) (?:entro|entrou|cambio|mudou) (?:a |en |na )?(?:mi |minha )?(?:cuenta|conta|contrasena|senha|correo)",  # noqa: E501
            r"\bacceso no autorizado\b",
            r"\bacesso nao autorizado\b",
            r"\bquelqu'un (?:s'est connecte|a change|a pirate|utilise) ",
            r"\bjemand hat (?:sich )?(?:in )?mein(?:en)? (?:konto|account|passwort)",
            r"\bunbefugte?r? zugriff\b",
            r"\b(?:someone|somebody) (?:created|made|opened|is using) (?:an )?account with my (?:email|e-mail|number|name|card)",  # noqa: E501
            r"\b(?:someone|somebody) (?:is )?(?:using|used) my (?:account|card|email|e-mail|number)\b",  # noqa: E501
            r"\b(?:ported|moved|transferred) (?:my (?:number|line)|out) without (?:my )?(?:consent|permission|authori[sz]ation)",  # noqa: E501
            r"\bjemand hat sich (?:in |bei )?(?:mein(?:em|en)?|meinem) (?:konto|account) (?:eingeloggt|angemeldet)",  # noqa: E501
            r"\bquelqu'un (?:a acces|s'est connecte) a mon compte\b",
        ],
    },
)


def check(folded: str) -> list[RuleHit]:
    return RULES.check(folded)
