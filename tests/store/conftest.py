"""Store fixtures: every store test runs on SQLite and on PostgreSQL (``db_url``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.store import Store, open_store


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated store on each backend."""
    with open_store(db_url) as opened:
        yield opened
