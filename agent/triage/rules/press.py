"""Press and journalist requests: a spokesperson answers, never an automated draft."""

from __future__ import annotations

from agent.triage.models import RuleHit
from agent.triage.rules._patterns import Family

FAMILY = "press"

RULES = Family(
    FAMILY,
    {
        "journalist": [
            r"\b(?:journalist|reporter|editor at|correspondent)\b",
            r"\bperiodista\b",
            r"\bjornalista\b",
            r"\bjournaliste\b",
            r"\bjournalistin\b",
            r"\bredakteur(?:in)?\b",
        ],
        "media_request": [
            r"\b(?:press|media) (?:inquiry|enquiry|request)\b",
            r"\b(?:for|writing) (?:a|an|our) (?:story|article|piece|report)\b",
            r"\b(?:any|a) (?:statement|comment) (?:on|about|for)\b",
            r"\bcould you comment\b",
            r"\bpara (?:un|uma?) (?:articulo|reportaje|materia|reportagem)\b",
            r"\bpour un article\b",
            r"\brecherchiere\b",
            r"\bstellungnahme\b",
        ],
    },
)


def check(folded: str) -> list[RuleHit]:
    return RULES.check(folded)
