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
        # a charge the customer says is wrong: twice, extra, unexplained, taken, not returned
        "disputed_charge": [
            r"\b(?:charg|bill|debit)(?:ed|ing) (?:me |us |my \w+ )?(?:twice|2x|two times|again|double|extra|more|wrong(?:ly)?|incorrectly|for nothing|without)",  # noqa: E501
            r"\b(?:charg|bill|debit)(?:ed|ing) (?:me |us )?for (?:a|an|the|something|things|\d)\w* (?:i|we) (?:didn'?t|did not|never|don'?t)",  # noqa: E501
            r"\b(?:double|twice|over|wrongly|un(?:fairly|authori[sz]ed)) ?-?(?:charg|bill|debit)",
            r"\bover ?charg|\bover ?bill",
            r"\bunauthori[sz]ed (?:charge|transaction|payment|debit|purchase)",
            r"\bfraud(?:ulent)? (?:charges?|transactions?|payments?)|\bused for fraud\b",
            r"\b(?:went|gone|is) missing from my (?:account|card|wallet|balance)",
            r"\b(?:took|taken|take|stole|stealing|deduct(?:ed|ing)?) (?:my|our) (?:money|credit|cash|funds|airtime|balance)",  # noqa: E501
            r"\bdeduct(?:ed|ing|ion)\b",
            r"\b(?:want|need|give me|gimme) (?:my|our) (?:money|bread|cash|funds)\b(?! back)",
            r"\bwon'?t give (?:it|my money|the money) back\b",
            r"\b(?:reversal|reverse (?:the|this|my) (?:transaction|charge|payment))",
            r"\bfees? (?:i|we) (?:should not|shouldn'?t) (?:have )?(?:had to )?pa(?:y|id)\b",
            r"\bpay for (?:my|the) (?:repair|screen|damage|replacement)",
            r"\bcompensat",
            r"\bme (?:cobraron|han cobrado|cobran|cobro) (?:dos veces|de mas|doble|otra vez|sin)",
            r"\bcobro (?:doble|duplicado|indebido)|\bdoble cobro\b",
            r"\b(?:cobraram|cobrou|me cobraram) (?:duas vezes|a mais|em dobro|de novo|sem)",
            r"\bcobranca (?:indevida|duplicada|em dobro)",
            r"\b(?:debite|preleve|facture)s? (?:deux fois|a tort|en double|sans)",
            r"\bdouble (?:prelevement|facturation|debit)\b",
            r"\b(?:doppelt|zweimal) (?:abgebucht|berechnet|belastet|bezahlt)",
            r"\bfalsch (?:abgebucht|berechnet|abgerechnet)\b",
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
