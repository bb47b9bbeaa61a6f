"""`isolation: context`: workspaces share one Chromium per agent process, each in its own
browser context, and still never see each other's cookies, storage or items; a context's
session is kept in its profile folder (owner-only) between sweeps."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from agent.runtime import Runtime, open_runtime
from agent.sweep import browser_settings
from devices.errors import DriverError
from devices.playwright_driver import PlaywrightDriver, chromium_path, launch_args
from devices.shared_browser import STATE_FILE, shared_chromium, stop_shared
from devices.watchdog import marked_pids
from sandbox.testing import RunningSandbox
from tests.sweeps.conftest import GLOBEX, injected_rows, make_runtime, stored_rows

INITECH = "sandbox-initech-web"
CONTEXT_WORKSPACES = (GLOBEX, INITECH)
_IDB_OPEN = """new Promise((ok, no) => { const r = indexedDB.open('inbox', 1);
  r.onupgradeneeded = () => r.result.createObjectStore('kv');
  r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); })"""
IDB_PUT = f"""async () => {{ const db = await {_IDB_OPEN};
  await new Promise((ok) => {{ const t = db.transaction('kv', 'readwrite');
    t.objectStore('kv').put('kept', 'mark'); t.oncomplete = ok; }}); }}"""
IDB_GET = f"""async () => {{ const db = await {_IDB_OPEN};
  return await new Promise((ok) => {{ const r = db.transaction('kv').objectStore('kv').get('mark');
    r.onsuccess = () => ok(r.result ?? null); }}); }}"""


def context_runtime(root: Path) -> Runtime:
    """A fresh home whose globex and initech workspaces run in context isolation."""
    home = make_runtime(root).home
    for ws in CONTEXT_WORKSPACES:
        path = home.root / "workspaces" / f"{ws}.yaml"
        text = path.read_text(encoding="utf-8")
        marker = "  expected_account:"
        assert marker in text
        path.write_text(text.replace(marker, "  isolation: context\n" + marker, 1), "utf-8")
    return open_runtime(home)


@pytest.fixture
def crt(tmp_path: Path, sb: RunningSandbox) -> Runtime:
    yield context_runtime(tmp_path / "home")
    stop_shared()


def driver(rt: Runtime, ws: str) -> PlaywrightDriver:
    return PlaywrightDriver(browser_settings(rt.home, rt.catalog.workspace(ws)))


def shared_of(d: PlaywrightDriver):  # noqa: ANN201 - the driver's shared browser
    assert d._shared is not None, "the workspace did not run in context isolation"
    return d._shared


def test_context_workspaces_share_one_browser_and_nothing_else(
    crt: Runtime, sb: RunningSandbox
) -> None:
    for ws in CONTEXT_WORKSPACES:
        assert crt.sweeper().login(ws).status == "ok"
    for ws, account in zip(CONTEXT_WORKSPACES, ("globex", "initech"), strict=True):
        state = crt.home.profiles_dir / ws / STATE_FILE
        assert state.is_file() and stat.S_IMODE(state.stat().st_mode) == 0o600
        assert not list(state.parent.glob("Default*"))  # no Chromium profile of its own
        assert sb.client.session(account)  # the account exists on the platform

    with driver(crt, GLOBEX) as globex, driver(crt, INITECH) as initech:
        shared = shared_of(globex)
        assert shared_of(initech) is shared and shared.contexts() == 2
        assert len(marked_pids(shared.marker)) == 1  # one Chromium for both
        globex.page.goto(sb.url + "/inbox")
        globex.page.evaluate("localStorage.setItem('who', 'globex')")
        globex.page.evaluate(IDB_PUT)
        initech.page.goto(sb.url + "/inbox")
        handle = "[data-testid=account-handle]"
        assert globex.page.locator(handle).inner_text() == "@globex"
        assert initech.page.locator(handle).inner_text() == "@initech"
        assert initech.page.evaluate("localStorage.getItem('who')") is None
        sessions = [
            {c["value"] for c in d.cookies() if c["name"] == "sandbox_session"}
            for d in (globex, initech)
        ]
        assert all(len(s) == 1 for s in sessions) and not sessions[0] & sessions[1]
        assert (globex.page.evaluate("navigator.language"), globex.page.evaluate(
            "Intl.DateTimeFormat().resolvedOptions().timeZone"
        )) == ("en-US", "Europe/Berlin")  # fmt: skip

    with driver(crt, GLOBEX) as again:  # the storage it set was kept with its session
        again.page.goto(sb.url + "/inbox")
        assert again.page.evaluate("localStorage.getItem('who')") == "globex"
        assert again.page.evaluate(IDB_GET) == "kept"
        assert shared_of(again).starts == 1  # still the first shared browser


def test_context_sweeps_collect_only_their_own_accounts_items(
    crt: Runtime, sb: RunningSandbox
) -> None:
    c = sb.client
    for account in ("globex", "initech"):
        post = c.add_post(account, f"{account} launch")["id"]
        c.post_message(account, "comment", "bob", f"Question for {account}", thread=post)
        c.post_message(account, "dm", "dave", f"Hello {account}")
    for ws in CONTEXT_WORKSPACES:
        assert crt.sweeper().login(ws).status == "ok"

    results = [crt.sweeper().sweep(ws) for ws in CONTEXT_WORKSPACES]
    again = crt.sweeper().sweep(GLOBEX)

    assert [r.status for r in results] == ["ok", "ok"], [r.message for r in results]
    assert [r.new_items for r in results] == [2, 2] and again.new_items == 0
    assert stored_rows(crt, GLOBEX) == injected_rows(sb, "globex")
    assert stored_rows(crt, INITECH) == injected_rows(sb, "initech")
    args = browser_settings(crt.home, crt.catalog.workspace(GLOBEX))
    assert args.isolation == "context"


def test_a_damaged_saved_session_is_named_with_its_file_and_line(crt: Runtime) -> None:
    state = crt.home.profiles_dir / GLOBEX / STATE_FILE
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text('{"cookies": [\n  {"name": "x",,}\n]}', encoding="utf-8")
    with pytest.raises(DriverError, match=rf"{STATE_FILE}:2: the saved session is not JSON"):
        driver(crt, GLOBEX).start()
    state.write_text('["not", "a", "state"]', encoding="utf-8")
    with pytest.raises(DriverError, match="not a browser storage state"):
        driver(crt, GLOBEX).start()


def test_a_shared_browser_that_died_starts_again(crt: Runtime, sb: RunningSandbox) -> None:
    with driver(crt, GLOBEX) as first:
        shared = shared_of(first)
    assert shared is shared_chromium(launch_args(), chromium_path(), True)  # one per settings
    shared._browser.close()  # as if it crashed or a stalled call killed it
    with driver(crt, GLOBEX) as second:
        second.page.goto(sb.url + "/login")
        assert shared_of(second) is shared and shared.starts == 2
