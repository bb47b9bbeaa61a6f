"""What the end-to-end tests share: an empty sandbox platform the example home points at."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.testing import RunningSandbox, running_sandbox


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox(empty=True) as sb, pytest.MonkeyPatch.context() as mp:
        mp.setenv("INBOX_AGENT_SANDBOX_URL", sb.url)
        mp.setenv("SANDBOX_PASSWORD", "sandbox")
        yield sb
