"""Errors the triage core raises.

Hierarchy::

    InboxAgentError                      (agent.errors)
    ├── UserError                        (agent.errors)
    │   └── TriageInputError             one input line/item is unusable; carries field + message
    └── TriageError                      anything else triage reports to a person
        ├── TriageConfigError            a triage config file failed validation (path: problem)
        ├── ModelError                   the shipped model file is missing or unreadable
        └── DropItem                     control flow: a stage drops the item (spam, duplicate)

``DropItem`` works like Scrapy's exception of the same name: a stage raises it
with a rule id and a reason; the pipeline turns it into ``action="drop"`` and
still runs the stop-rule guard, so a drop never hides a stop rule.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.errors import InboxAgentError, UserError
from workspaces.errors import ConfigProblem


class TriageError(InboxAgentError):
    """Base class for triage errors meant for a person."""


class TriageConfigError(TriageError):
    """A triage configuration file or object failed validation.

    ``problems`` name file, line, column and field when the configuration came
    from files; the message is all of them, one per line.
    """

    def __init__(self, message: str, problems: Sequence[ConfigProblem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)

    @classmethod
    def from_problems(cls, problems: Sequence[ConfigProblem]) -> TriageConfigError:
        return cls("\n".join(str(p) for p in problems), problems)


class ModelError(TriageError):
    """The intent/spam model file is missing, corrupt or from another feature layout."""


class TriageInputError(UserError):
    """An input item is unusable: names the field and what is wrong with it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class DropItem(TriageError):
    """Raised by a stage to drop the item; ``rule`` is the rule id recorded in ``why``."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(f"{rule}: {reason}")
        self.rule = rule
        self.reason = reason
