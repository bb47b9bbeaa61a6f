"""Review fixtures: a world (home, store, users with grants), the web app, signed-in clients.

The world's store runs on each backend (``db_url``): SQLite in the home, and a fresh
PostgreSQL database named by ``INBOX_AGENT_DB``, as a team would run it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from review_browser import browser, server  # noqa: F401 (fixtures of the Chromium tests)
from review_world import ACME, GLOBEX, World, login

from agent.config import Catalog
from agent.review import create_app
from agent.review.auth import LoginLimiter
from agent.runtime import Runtime
from agent.store import open_store
from runlogs import ActivityLog
from workspaces.paths import DB_ENV, Home


@pytest.fixture
def world(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    home = Home(tmp_path / "home").ensure()
    if not db_url.startswith("sqlite"):
        monkeypatch.setenv(DB_ENV, db_url)  # the CLI commands in a test open the same store
    store = open_store(home.db_url)
    runtime = Runtime(home, Catalog(), store, ActivityLog(home.logs_dir))
    w = World(runtime, home)
    for workspace in (ACME, GLOBEX):  # sandbox workspaces whose reply flow answers both kinds
        w.configure(workspace)
    assert w.runtime.catalog.problems == []
    w.user("alice", "reviewer", ACME)
    w.user("bob", "reviewer", ACME)
    w.user("eve", "reviewer", GLOBEX)
    w.user("root", "admin")
    yield w
    store.close()


@pytest.fixture
def app(world: World) -> FastAPI:
    return create_app(world.runtime, limiter=LoginLimiter(max_failures=5, lock_seconds=60))


@pytest.fixture
def client_for(app: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    """A signed-in client per user name (https, so the Secure cookies are sent)."""
    clients: list[TestClient] = []

    def make(name: str) -> TestClient:
        client = TestClient(app, base_url="https://testserver")
        clients.append(client)
        return login(client, name)

    yield make
    for c in clients:
        c.close()
