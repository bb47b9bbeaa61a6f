"""Errors the activity log raises.

Hierarchy::

    RunLogError                  anything the activity log reports
    ├── InvalidEventError        an event cannot be written as given: bad workspace id,
    │                            unknown event type, bad actor, data that is not JSON
    └── LogIntegrityError        a log file cannot be read or continued: a line that is
                                 not an event, a cut-off last line; carries file and line

``runlogs`` imports nothing of the other packages, so these do not derive from
``agent.errors``; the CLI maps them to one clear line for a person.
"""

from __future__ import annotations

from pathlib import Path


class RunLogError(Exception):
    """Base class of the activity log's errors."""


class InvalidEventError(RunLogError, ValueError):
    """The event (or the workspace id it names) is not acceptable; nothing was written."""


class LogIntegrityError(RunLogError):
    """A log file is damaged where it is read: ``file`` and 1-based ``line`` say where."""

    def __init__(self, message: str, *, file: Path | None = None, line: int | None = None):
        self.file = file
        self.line = line
        where = ""
        if file is not None:
            where = f"{file.name}:{line}: " if line is not None else f"{file.name}: "
        super().__init__(where + message)
