"""What the end-to-end tests share: an empty sandbox platform the example home points at."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from sandbox.testing import RunningSandbox, running_sandbox


@contextmanager
def sandbox_for_homes() -> Iterator[RunningSandbox]:
    """An empty sandbox that example homes (``init_home``) reach and sign in to."""
    with running_sandbox(empty=True) as sb, pytest.MonkeyPatch.context() as mp:
        mp.setenv("INBOX_AGENT_SANDBOX_URL", sb.url)
        mp.setenv("SANDBOX_PASSWORD", "sandbox")
        yield sb


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with sandbox_for_homes() as sb:
        yield sb
