"""Configuration errors, each pointing at the file, line and field to fix.

Hierarchy::

    ConfigError                one or more ConfigProblems found in configuration files
    ConfigProblem (value)      path:line:column: field: message

Loading never stops at the first problem: every problem in every file is
collected so one ``inbox-agent validate`` run lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class ConfigProblem:
    path: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.column}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )

    @classmethod
    def at_file(cls, path: Path | str, message: str, field: str = "") -> ConfigProblem:
        return cls(str(path), 1, 1, field, message)


class ConfigError(Exception):
    """Configuration failed validation; ``problems`` lists every one found."""

    def __init__(self, problems: list[ConfigProblem]):
        self.problems = sorted(problems)
        first = str(self.problems[0]) if self.problems else "invalid configuration"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(first + more)
