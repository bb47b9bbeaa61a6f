"""Stop rules: deterministic, auditable checks that pause an item for a person.

One module per family; each exposes ``FAMILY``, its ``RULES`` and ``check(folded)``
over folded text (casefolded, accents stripped, see ``agent.triage.normalize``).
Patterns cover en, es, pt, fr and de. Rule ids are ``family.rule`` and are what a
paused Decision carries in ``pause_reasons``. ``run`` scans each family in turn.

Families: ``private_data``, ``refund``, ``legal``, ``safety``, ``account_compromise``,
``press``. ``unknown_owner`` is raised by routing, not here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from agent.triage.models import RuleHit
from agent.triage.rules import account, legal, press, private_data, refund, safety
from agent.triage.rules._patterns import Family

Checker = Callable[[str], list[RuleHit]]

MODULES = (private_data, refund, legal, safety, account, press)
FAMILIES: dict[str, Family] = {m.RULES.family: m.RULES for m in MODULES}


def run(folded: str, families: Sequence[str] | None = None) -> list[RuleHit]:
    """All hits of the given families (all when None), in family order.

    Each family's regex scans the text on its own: measured faster than one combined
    regex (Python's engine pays for every named group at every match attempt), and a
    match of one family can never hide an overlapping match of another.
    """
    names = tuple(families) if families is not None else tuple(FAMILIES)
    hits = [hit for name in names for hit in FAMILIES[name].check(folded)]
    if private_data.FAMILY in names:
        hits = private_data.check_values(folded) + hits
    return hits
