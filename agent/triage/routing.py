"""Routing: the first rule whose conditions all match gives queue, owner, SLA, escalation.

Conditions are Chatwoot-automation style (attribute, operator, values). List
attributes (``rule_family``, ``rule_id``) match when any of their values is listed.
``Router`` compiles the rules once (value sets) so routing an item is a few lookups.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from agent.triage.config import RouteRule

Attrs = Mapping[str, str | Sequence[str] | None]


class Router:
    def __init__(self, rules: Sequence[RouteRule]) -> None:
        self._rules = [
            (
                rule,
                [
                    (c.attribute, c.operator == "not_equal_to", frozenset(c.values))
                    for c in rule.conditions
                ],
            )
            for rule in rules
        ]

    def route(self, attrs: Attrs) -> RouteRule | None:
        for rule, conditions in self._rules:
            for attribute, negate, values in conditions:
                value = attrs.get(attribute)
                if value is None:
                    hit = False
                elif isinstance(value, str):
                    hit = value in values
                else:
                    hit = not values.isdisjoint(value)
                if hit == negate:
                    break
            else:
                return rule
        return None


def route(rules: Sequence[RouteRule], attrs: Attrs) -> RouteRule | None:
    """Route once without keeping a compiled Router."""
    return Router(rules).route(attrs)
