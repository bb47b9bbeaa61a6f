"""Refund, cancellation, chargeback and dispute: money moves only with a person."""

from __future__ import annotations

from agent.triage.models import RuleHit
from agent.triage.rules._patterns import Family

FAMILY = "refund"

RULES = Family(
    FAMILY,
    {
        "chargeback": [
            r"\bcharge ?backs?\b",
            r"\bcontracargos?\b",
            r"\bcontesta(?:cao|r) (?:a |da |no )?(?:compra|cobranca|banco|cartao)",
            r"\bcontestacao\b",
            r"\bopposition (?:bancaire|sur (?:ma|la) carte)",
            r"\bruckbuchung",
            r"\blastschrift (?:zuruck|widerruf)",
        ],
        "dispute": [
            r"\bdisput(?:e|ing)\b",
            r"\bcontest(?:ing)? (?:this|the) charge",
            r"\bdisputa\b",
            r"\blitige\b",
            r"\breclamacion (?:al|con el) banco",
        ],
        "refund": [
            r"\brefund",
            r"\breimburs",
            r"\bmoney back\b",
            r"\breembols",
            r"\bdevuelv\w* (?:el|mi) (?:dinero|plata|pago)",
            r"\bdevuelv\w* lo que\b",
            r"\bdevolu(?:cion|cao) (?:del|do) dinero",
            r"\bdinheiro de volta\b",
            r"\bestorno\b",
            r"\brembours",
            r"erstatt(?:e|en|ung|et)",
            r"\bgeld zuruck\b",
        ],
        "cancellation": [
            r"\bcancel+(?:l?ing|l?ed|ation)?\b(?! fee)",
            r"\bunsubscribe me from (?:the|my) (?:plan|subscription)",
            r"\bend my (?:subscription|membership|plan)",
            r"\bcancelar\b",
            r"\bdar(?:me)? de baja\b",
            r"\bannul(?:er|ation)\b",
            r"\bresili(?:er|ation)\b",
            r"\bkundig",
            r"\bstornier",
            r"\bwiderruf",
        ],
    },
)


def check(folded: str) -> list[RuleHit]:
    return RULES.check(folded)
