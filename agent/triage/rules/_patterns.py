"""Helpers: compiled regexes with one named group per rule.

``Family`` holds one family's rules (and can check them alone); ``Combined``
compiles several families into a single regex so an item's text is scanned once.
``lastgroup`` tells which rule matched. Alternatives that start with ``\\b`` share
one leading word-boundary test, so the engine tries them only at word starts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agent.triage.models import RuleHit

_SEP = "__"
_UNBOUNDED = "__u"


def _split_top(pattern: str) -> list[str]:
    """Split a pattern on its top-level ``|`` (outside groups and character classes)."""
    parts, depth, start, i, in_class = [], 0, 0, 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyz0123456789'")


def _compile(groups: dict[str, list[str]]) -> re.Pattern[str]:
    # Word-start alternatives are grouped by their first letter, so at each word start
    # the engine only tries the few that can match: one named group per alternative
    # (``family__rule__n``), resolved back to the rule by ``_rule_of``.
    by_char: dict[str, list[str]] = {}
    bounded, unbounded = [], []
    for name, pats in groups.items():
        alts = [alt for pat in pats for alt in _split_top(pat)]
        for n, alt in enumerate(alts):
            gname = f"{name}{_SEP}{n}"
            if not alt.startswith(r"\b"):
                unbounded.append(f"(?P<{gname}{_UNBOUNDED}>{alt})")
                continue
            body = alt[2:]
            if len(body) > 1 and body[0] in _PLAIN and body[1] not in "*+?{":
                by_char.setdefault(body[0], []).append(f"(?P<{gname}>{body[1:]})")
            else:
                bounded.append(f"(?P<{gname}>{body})")
    for ch, alts in sorted(by_char.items()):
        bounded.append(re.escape(ch) + "(?:" + "|".join(alts) + ")")
    parts = [r"\b(?:" + "|".join(bounded) + ")"] if bounded else []
    parts.extend(unbounded)
    return re.compile("|".join(parts) if parts else r"(?!x)x")


def _rule_of(group: str) -> str:
    return group.removesuffix(_UNBOUNDED).rsplit(_SEP, 1)[0]


def _scan(regex: re.Pattern[str], folded: str) -> list[RuleHit]:
    hits: list[RuleHit] = []
    seen: set[str] = set()
    for match in regex.finditer(folded):
        name = _rule_of(match.lastgroup or "")
        if name and name not in seen:
            seen.add(name)
            family, rule = name.split(_SEP, 1)
            hits.append(RuleHit(f"{family}.{rule}", family, match.group(0)[:60]))
    return hits


class Family:
    def __init__(self, family: str, rules: dict[str, list[str]]) -> None:
        self.family = family
        self.rules = rules
        self.regex = _compile(self.groups())

    def groups(self) -> dict[str, list[str]]:
        return {f"{self.family}{_SEP}{name}": pats for name, pats in self.rules.items()}

    def check(self, folded: str) -> list[RuleHit]:
        return _scan(self.regex, folded)


class Combined:
    """Several families in one regex; hits come back in family order."""

    def __init__(self, families: Sequence[Family]) -> None:
        self.order = {f.family: i for i, f in enumerate(families)}
        groups: dict[str, list[str]] = {}
        for fam in families:
            groups.update(fam.groups())
        self.regex = _compile(groups)

    def check(self, folded: str) -> list[RuleHit]:
        hits = _scan(self.regex, folded)
        hits.sort(key=lambda h: self.order[h.family])
        return hits
