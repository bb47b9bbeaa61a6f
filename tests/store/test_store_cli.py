"""``inbox-agent db status|upgrade`` on the home's database."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from agent.commands.context import CliState
from agent.commands.db import app
from agent.store import head_revision, open_store
from workspaces.paths import DB_ENV, Home

runner = CliRunner()


@pytest.fixture
def home(tmp_path, monkeypatch) -> Home:
    monkeypatch.delenv(DB_ENV, raising=False)
    return Home(tmp_path / "home")


def _run(home: Home, *args: str):
    result = runner.invoke(app, list(args), obj=CliState(home=home))
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_status_of_a_missing_database_creates_nothing(home: Home) -> None:
    out = _run(home, "status").output
    assert "not created yet" in out and str(home.db_path) in out
    assert not home.db_path.exists() and not home.root.exists()
    info = json.loads(_run(home, "status", "--json").output)
    assert info == {
        "url": f"sqlite:///{home.db_path}",
        "exists": False,
        "current": None,
        "head": head_revision(),
        "up_to_date": False,
    }


def test_upgrade_creates_then_reports_up_to_date(home: Home) -> None:
    out = _run(home, "upgrade").output
    assert f"empty -> {head_revision()}" in out
    assert home.db_path.exists()
    assert "already at" in _run(home, "upgrade").output
    info = json.loads(_run(home, "status", "--json").output)
    assert info["exists"] and info["up_to_date"] and info["current"] == head_revision()
    assert "up to date" in _run(home, "status").output


def test_status_reports_an_old_schema_and_upgrade_fixes_it(home: Home) -> None:
    home.root.mkdir(parents=True)
    with open_store(home.db_url, migrate=False) as store:
        store.upgrade("0001")
    assert "needs `inbox-agent db upgrade`" in _run(home, "status").output
    info = json.loads(_run(home, "upgrade", "--json").output)
    assert info["from"] == "0001" and info["to"] == head_revision() and info["changed"]


@pytest.mark.postgres
def test_db_url_from_the_environment_is_honoured(home: Home, fresh_postgres, monkeypatch) -> None:
    url = fresh_postgres()
    monkeypatch.setenv(DB_ENV, url.replace("postgresql+psycopg://", "postgresql://"))
    assert not json.loads(_run(home, "status", "--json").output)["up_to_date"]
    info = json.loads(_run(home, "upgrade", "--json").output)
    assert info["url"].startswith("postgresql+psycopg://") and info["to"] == head_revision()
    assert json.loads(_run(home, "status", "--json").output)["up_to_date"]
    assert not home.db_path.exists()  # the SQLite default was not touched


def test_unreachable_database_is_a_clear_error(home: Home, monkeypatch) -> None:
    monkeypatch.setenv(DB_ENV, "postgresql://nobody@127.0.0.1:1/none")
    result = runner.invoke(app, ["status"], obj=CliState(home=home))
    assert result.exit_code != 0
    assert "cannot read" in str(result.exception)
