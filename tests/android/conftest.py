"""Android end to end: the example home's sandbox-acme-android workspace on the sandbox
phone, through AndroidDriver, SandboxDeviceBackend, real tesseract and a real store."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from agent.runtime import Runtime, open_runtime
from agent.scaffold import init_home
from agent.store import Item
from sandbox.state import SandboxState
from sandbox.testing import RunningSandbox, running_sandbox
from workspaces.paths import Home

WS = "sandbox-acme-android"
SERIAL = "sandbox-1"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox(seed=1) as sb, pytest.MonkeyPatch.context() as mp:
        mp.setenv("INBOX_AGENT_SANDBOX_URL", sb.url)
        mp.setenv("SANDBOX_PASSWORD", "sandbox")
        mp.setenv("OMP_THREAD_LIMIT", "1")
        yield sb


def fresh_home(
    tmp_path: Path, sandbox: RunningSandbox, *, seed: int | None = 1, **size: int
) -> Runtime:
    """A new home, the sandbox reseeded (``size``: the seed's sizes) and its phone wiped,
    the app signed in."""
    if seed is None:
        sandbox.client.reset()
    else:
        sandbox.client.seed(seed, **size)
    sandbox.client.add_device(SERIAL)  # an existing serial is wiped, like a fresh emulator
    home = Home(tmp_path / "home")
    init_home(home)
    rt = open_runtime(home)
    assert rt.sweeper().login(WS).status == "ok"
    return rt


@pytest.fixture
def rt(tmp_path: Path, sandbox: RunningSandbox) -> Runtime:
    return fresh_home(tmp_path, sandbox)


def stored(rt: Runtime) -> list[Item]:
    with rt.store.session() as s:
        return list(s.exec(select(Item).where(Item.workspace == WS).order_by(Item.id)).all())


def customer_messages(state: SandboxState, account: str = "acme") -> Counter[tuple[str, str, str]]:
    """What the sandbox holds from customers: (kind, author, text), counted."""
    out: Counter[tuple[str, str, str]] = Counter()
    for thread, _, _ in state.threads_of(account):
        for m in state.thread_messages(thread):
            if not m.from_brand:
                out[("dm", m.author, m.text)] += 1
    for post in state.posts_of(account):
        for top, replies, _ in state.comment_threads(post):
            for m in (top, *replies):
                if not m.from_brand:
                    out[("comment", m.author, m.text)] += 1
    return out
