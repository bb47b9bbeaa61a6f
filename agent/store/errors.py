"""Errors the store raises.

Hierarchy::

    InboxAgentError                  (agent.errors)
    └── StoreError                   the database cannot be opened, read or migrated
        └── MigrationError           upgrading the schema failed; carries the URL

Driver errors (sqlite3, psycopg) are translated at ``open_store`` with
``raise … from exc``; errors raised inside a caller's session are the caller's.
"""

from __future__ import annotations

from agent.errors import InboxAgentError


class StoreError(InboxAgentError):
    """The database cannot be opened, read or migrated."""


class MigrationError(StoreError):
    """Upgrading the schema failed."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot migrate {url}: {reason}")
        self.url = url
        self.reason = reason
