"""Sweeps in real Chromium against a real sandbox: shared fixtures and helpers.

One sandbox serves the whole directory (``reset`` between tests: no content, no
faults). Each test gets a fresh home written by ``init_home``, whose example
workspaces reach the sandbox through ``INBOX_AGENT_SANDBOX_URL``.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from agent.runtime import Runtime, open_runtime
from agent.scaffold import init_home
from agent.store import Item
from agent.sweep import SweepResult
from flows.items import stable_key
from runlogs import ActivityLog
from sandbox.testing import RunningSandbox, running_sandbox
from workspaces.paths import Home

ACME = "sandbox-acme-web"
GLOBEX = "sandbox-globex-web"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # No skip when Chromium is missing: `make test` installs it, so its absence must fail
    # (chromium_path() raises a clear DriverError).
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[RunningSandbox]:
    with running_sandbox(empty=True) as sb, pytest.MonkeyPatch.context() as mp:
        mp.setenv("INBOX_AGENT_SANDBOX_URL", sb.url)
        mp.setenv("SANDBOX_PASSWORD", "sandbox")  # the sandbox's documented practice password
        yield sb


@pytest.fixture
def sb(sandbox_server: RunningSandbox) -> RunningSandbox:
    """The shared sandbox, emptied and with every fault cleared."""
    sandbox_server.client.reset()
    return sandbox_server


def make_runtime(root: Path) -> Runtime:
    home = Home(root)
    init_home(home)
    return open_runtime(home)


@pytest.fixture(scope="session")
def acme_profile(tmp_path_factory: pytest.TempPathFactory, sandbox_server: RunningSandbox) -> Path:
    """A browser profile signed in to acme through the login flow (reset keeps sessions)."""
    runtime = make_runtime(tmp_path_factory.mktemp("signed-in"))
    assert runtime.sweeper().login(ACME).status == "ok"
    return runtime.home.profiles_dir / ACME


def signed_in_runtime(root: Path, acme_profile: Path) -> Runtime:
    """A fresh home (empty store and log) with a copy of the signed-in acme profile."""
    runtime = make_runtime(root)
    shutil.copytree(acme_profile, runtime.home.profiles_dir / ACME)
    return runtime


@pytest.fixture
def rt(tmp_path: Path, sb: RunningSandbox, acme_profile: Path) -> Runtime:
    return signed_in_runtime(tmp_path / "home", acme_profile)


# -- what a test compares ---------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """An item reduced to what a sweep must get right (comparable as a set)."""

    kind: str
    thread: str
    message_id: str
    author: str
    text: str
    parent_id: str | None


def key_of(account: str, thread: str, message_id: str) -> str:
    return stable_key("sandbox", account, thread, message_id)


def injected_rows(sb: RunningSandbox, account: str) -> set[Row]:
    """Every message the sandbox holds for ``account``, as a sweep should store it."""
    out = set()
    for m in sb.client.state()["messages"]:
        if m["account"] != account:
            continue
        where = "posts" if m["kind"] == "comment" else "inbox"
        thread = f"/{where}/{m['container_id']}"
        out.add(Row(m["kind"], thread, m["id"], m["author"], m["text"], m["parent_id"]))
    return out


def stored_items(rt: Runtime, workspace: str = ACME) -> list[Item]:
    with rt.store.session() as s:
        return list(s.exec(select(Item).where(Item.workspace == workspace)).all())


def stored_rows(rt: Runtime, workspace: str = ACME) -> set[Row]:
    """The store's items as Rows; parents are resolved through ``parent_key``."""
    items = stored_items(rt, workspace)
    by_key = {i.key: i for i in items}
    rows = set()
    for i in items:
        parent = by_key[i.parent_key].message_id if i.parent_key in by_key else i.parent_key
        rows.add(Row(i.kind, i.thread, i.message_id or "", i.author, i.text, parent))
    return rows


def run_events(rt: Runtime, result: SweepResult, workspace: str = ACME) -> list[Any]:
    return [e for e in ActivityLog(rt.home.logs_dir).events(workspace) if e.run_id == result.run_id]


def step_details(rt: Runtime, result: SweepResult, kind: str) -> list[dict[str, Any]]:
    return [
        dict(e.data)
        for e in run_events(rt, result)
        if e.type == "step_ok" and e.data.get("kind") == kind
    ]


def wait_for_profile_released(profile: Path, timeout_s: float = 15.0) -> None:
    """Wait until no process (a killed sweep's Chromium) still runs on ``profile``."""
    needle = str(profile).encode()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        busy = False
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                status = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1]
            except OSError:
                continue
            if needle in cmdline and status != "Z":
                busy = True
                break
        if not busy:
            return
        time.sleep(0.1)
    raise AssertionError(f"a browser still runs on {profile} after {timeout_s}s")
