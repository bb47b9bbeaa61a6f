"""Report fixtures: the scripted pilot day (``report_world``) on each backend.

``day`` is made once per test module (the tests that only read it share it; making it
costs a second or two); ``script`` is made for each test (for the tests that change it).
Both run on SQLite and on PostgreSQL; a module may narrow ``day_backend`` to SQLite.
For PostgreSQL, ``INBOX_AGENT_DB`` names the database, so the CLI commands a test runs
open the same one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from report_world import Script, scripted_day
from sqlalchemy.engine import make_url

from agent.store import open_store
from workspaces.paths import DB_ENV, Home

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=BACKENDS)
def day_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _made_day(home: Home, url: str | None) -> Iterator[Script]:
    patch = pytest.MonkeyPatch()
    if url is not None:
        patch.setenv(DB_ENV, url)
    store = open_store(home.db_url)
    try:
        yield scripted_day(home, store)
    finally:
        store.close()
        patch.undo()


@pytest.fixture(scope="module")
def day(
    day_backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Script]:
    """The scripted day, shared by the tests of one module (they must not change it)."""
    home = Home(tmp_path_factory.mktemp("report-home")).ensure()
    if day_backend == "sqlite":
        yield from _made_day(home, None)
        return
    base = make_url(request.getfixturevalue("postgres_url"))
    dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"r_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield from _made_day(home, base.set(database=name).render_as_string(hide_password=False))
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path / "home").ensure()


@pytest.fixture
def script(home: Home, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Script]:
    """A scripted day of the test's own (for tests that change it)."""
    if not db_url.startswith("sqlite"):
        monkeypatch.setenv(DB_ENV, db_url)
    store = open_store(home.db_url)
    yield scripted_day(home, store)
    store.close()
