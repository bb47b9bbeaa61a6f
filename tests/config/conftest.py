"""Configuration tests: a fresh example home per test, and the CLI run on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli import app
from agent.scaffold import init_home
from workspaces.paths import Home

runner = CliRunner()


@pytest.fixture()
def home(tmp_path: Path) -> Home:
    h = Home(tmp_path / "home")
    init_home(h)
    return h


def run(home: Home, *args: str) -> tuple[int, str]:
    """``inbox-agent --home HOME ARGS…``: its exit code and everything it printed."""
    result = runner.invoke(app, ["--home", str(home.root), *args])
    return result.exit_code, result.output
