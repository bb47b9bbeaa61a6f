"""Sandbox tests: one seeded sandbox per test module, re-seeded (faults cleared) per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.testing import RunningSandbox, running_sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox(seed=1) as sb:
        yield sb


@pytest.fixture
def sb(sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> RunningSandbox:
    """The module's sandbox with fresh content and every fault cleared; the CLI reaches it
    through ``INBOX_AGENT_SANDBOX_URL``."""
    sandbox.client.seed(1)
    monkeypatch.setenv("INBOX_AGENT_SANDBOX_URL", sandbox.url)
    monkeypatch.delenv("INBOX_AGENT_SANDBOX_TOKEN", raising=False)
    return sandbox
