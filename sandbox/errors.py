"""Errors of the sandbox platform.

Hierarchy::

    SandboxError                 the state cannot meet a request (bad value, duplicate id);
    └── NotFound                 unknown account, post, thread or comment (admin API: 404)
    agent.errors.UserError
    ├── SandboxUnavailable       the client cannot reach the sandbox at its URL
    └── SandboxRequestError      the admin API refused a request; carries its status code

The first two stay inside the server (the admin API turns them into JSON errors); the client
raises the last two, which the CLI prints as one line.
"""

from __future__ import annotations

from agent.errors import UserError


class SandboxError(Exception):
    """A request the state cannot meet (bad value, duplicate id)."""


class NotFound(SandboxError):
    """An unknown account, post, thread or comment."""


class SandboxUnavailable(UserError):
    """Nothing answers at the sandbox URL."""


class SandboxRequestError(UserError):
    """The admin API answered with an error."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status
