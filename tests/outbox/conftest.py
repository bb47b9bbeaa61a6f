"""Outbox tests: a real sandbox, a real signed-in Chromium profile, real subprocesses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from agent.runtime import Runtime, open_runtime
from agent.scaffold import init_home
from agent.store import Item, OutboxEntry, text_hash
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


def approve(rt: Runtime, item: Item, text: str) -> OutboxEntry:
    """An approved reply to ``item`` in the outbox, as a reviewer's approval leaves it."""
    with rt.store.session() as s:
        entry = OutboxEntry(
            item_id=item.id or 0,
            workspace=item.workspace,
            thread=item.thread,
            text=text,
            text_hash=text_hash(text),
            approved_by="user:ann",
        )
        s.add(entry)
        s.flush()
        s.refresh(entry)
    return entry


def outbox_entries(rt: Runtime) -> list[OutboxEntry]:
    with rt.store.session() as s:
        return list(s.exec(select(OutboxEntry)).all())
