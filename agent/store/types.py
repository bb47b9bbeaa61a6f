"""Column types shared by the store's tables.

Every time in the store is a timezone-aware UTC ``datetime``. PostgreSQL keeps
the offset (``timestamptz``); SQLite has no time type, so the value is stored as
naive UTC text and the UTC zone is put back on load. A naive ``datetime`` is
refused on the way in: it would be ambiguous, and such bugs are silent otherwise.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


def utcnow() -> datetime:
    """Now, timezone-aware, in UTC (the store's only kind of time)."""
    return datetime.now(UTC)


HOST_ENV = "INBOX_AGENT_HOST"


def this_host() -> str:
    """The name this process's host goes by in the store (runs, leases, the scheduler's
    queues): ``INBOX_AGENT_HOST`` when set, else the machine's host name."""
    return os.environ.get(HOST_ENV) or socket.gethostname()


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A ``DateTime(timezone=True)`` that only accepts and only returns aware UTC times."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: the store needs aware UTC")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # Naive text in one format keeps SQLite's string comparisons correct.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQL inserts into SQLite may leave text behind
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
