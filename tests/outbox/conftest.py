"""Outbox tests: a real sandbox, a real signed-in Chromium profile, real subprocesses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.runtime import Runtime, open_runtime
from agent.scaffold import init_home
from sandbox.testing import RunningSandbox, running_sandbox
from workspaces.paths import Home

ACME = "sandbox-acme-web"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox(empty=True) as sb, pytest.MonkeyPatch.context() as mp:
        mp.setenv("INBOX_AGENT_SANDBOX_URL", sb.url)
        mp.setenv("SANDBOX_PASSWORD", "sandbox")
        yield sb


@pytest.fixture
def rt(tmp_path: Path, sandbox: RunningSandbox) -> Runtime:
    sandbox.client.reset()
    home = Home(tmp_path / "home")
    init_home(home)
    runtime = open_runtime(home)
    assert runtime.sweeper().login(ACME).status == "ok"
    return runtime
