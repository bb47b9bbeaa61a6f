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
            r"\b(?:for|writing for|write for) (?:a|an|our|my) (?:\w+ ){0,3}(?:newsletter|podcast|magazine|blog|newspaper|column|outlet)\b",  # noqa: E501
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
            r"\b(?:go|going|went|take this|taking this) (?:to|public to) (?:the )?(?:press|media|news)\b",  # noqa: E501
            r"\b(?:it|this) will be (?:in|on) (?:the )?news\b|\bgoing public\b",
            r"\b(?:contact|call|tell) (?:the )?(?:local )?(?:news|press|media|tv station)\b",
            r"\b(?:ir|irei|vou|voy|vamos) a (?:la )?(?:prensa|imprensa|los medios)\b|\bimprensa\b",
            r"\b(?:presse|medien) (?:informieren|einschalten|kontaktieren)\b",
            r"\b(?:contacter|alerter) (?:la presse|les medias)\b",
        ],
    },
)


def check(folded: str) -> list[RuleHit]:
    return RULES.check(folded)
