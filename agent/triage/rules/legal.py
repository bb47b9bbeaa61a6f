"""Legal threats: lawyers, lawsuits, courts, regulators and formal complaints."""

from __future__ import annotations

from agent.triage.models import RuleHit
from agent.triage.rules._patterns import Family

FAMILY = "legal"

RULES = Family(
    FAMILY,
    {
        "lawyer": [
            r"\b(?:my |our )?(?:lawyer|attorney|solicitor)s?\b",
            r"\babogad[oa]s?\b",
            r"\badvogad[oa]s?\b",
            r"\bavocat(?:e|s)?\b",
            r"\b(?:rechts)?anwalt|\banwaltin\b",
        ],
        "lawsuit": [
            r"\b(?:sue|suing|sued)\b",
            r"\blaw ?suit",
            r"\blegal action\b",
            r"\bclass action\b",
            r"\bsmall claims\b",
            r"\bcourt\b",
            r"\bcease and desist\b",
            r"\bdemandar(?:los|les|te)?\b",
            r"\bdenunci(?:a|ar|arlos|are)\b",
            r"\bprocess(?:ar|o judicial|o contra)\b",
            r"\babrir (?:um )?processo\b",
            r"\bprocon\b",
            r"\bporter plainte\b",
            r"\bpoursuites?\b",
            r"\bmise en demeure\b",
            r"\btribunal\b",
            r"\bverklag",
            r"\bgericht\b",
            r"\brechtliche schritte\b",
            r"\babmahnung\b",
            r"\banzeige (?:erstatten|gegen)\b",
        ],
        "regulator": [
            r"\b(?:consumer protection|attorney general|ftc|bbb|trading standards)\b",
            r"\bante consumo\b",
            r"\bverbraucherzentrale\b",
        ],
    },
)


def check(folded: str) -> list[RuleHit]:
    return RULES.check(folded)
