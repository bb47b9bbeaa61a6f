"""Errors the orchestration core raises.

Hierarchy::

    InboxAgentError            anything inbox-agent reports to a person as one line
    ├── UserError              bad input or a request that cannot be met (exit 1)
    └── ConfigError            configuration files failed validation; carries every problem

The CLI prints these as one clear line (or one line per problem) and exits 1;
a traceback is shown only with ``--debug``.
"""

from __future__ import annotations


class InboxAgentError(Exception):
    """Base class: the message is meant for a person."""


class UserError(InboxAgentError):
    """Bad input or an impossible request."""
