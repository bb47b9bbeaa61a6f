"""Workspaces on different profiles never see each other's cookies, storage or items."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.runtime import Runtime
from agent.sweep import browser_settings
from devices.playwright_driver import HEADLESS_SHELL_CANDIDATES, PlaywrightDriver, chromium_path
from devices.watchdog import browser_pids
from sandbox.testing import RunningSandbox
from tests.sweeps.conftest import ACME, GLOBEX, injected_rows, stored_rows


def profile(rt: Runtime, ws: str) -> PlaywrightDriver:
    return PlaywrightDriver(browser_settings(rt.home, rt.catalog.workspace(ws)))


def look(driver: PlaywrightDriver, url: str) -> tuple[list[str], str | None, str]:
    """The profile's sandbox session cookies, its localStorage mark and the page's handle."""
    driver.page.goto(url + "/inbox")
    cookies = [c["value"] for c in driver.cookies() if c["name"] == "sandbox_session"]
    mark = driver.page.evaluate("localStorage.getItem('who')")
    handle = driver.page.locator("[data-testid=account-handle]")
    return cookies, mark, handle.inner_text() if handle.count() else ""


def test_profiles_never_share_cookies_or_storage(sb: RunningSandbox, rt: Runtime) -> None:
    with profile(rt, ACME) as acme:
        acme.page.goto(sb.url + "/inbox")
        acme.page.evaluate("localStorage.setItem('who', 'acme')")
        acme_cookies, mark, handle = look(acme, sb.url)
    assert len(acme_cookies) == 1 and mark == "acme" and handle == "@acme"

    with profile(rt, GLOBEX) as globex:  # a profile that never signed in sees nothing of acme's
        assert globex.cookies() == []
        cookies, mark, handle = look(globex, sb.url)
    assert (cookies, mark, handle) == ([], None, "")

    assert rt.sweeper().login(GLOBEX).status == "ok"
    with profile(rt, GLOBEX) as globex:
        globex_cookies, globex_mark, globex_handle = look(globex, sb.url)
    with profile(rt, ACME) as acme:
        again = look(acme, sb.url)
    assert globex_handle == "@globex" and globex_mark is None
    assert len(globex_cookies) == 1 and globex_cookies != acme_cookies
    assert again == (acme_cookies, "acme", "@acme")  # signing globex in changed nothing of acme's


def test_each_sweep_collects_only_its_own_accounts_items(sb: RunningSandbox, rt: Runtime) -> None:
    c = sb.client
    for account in ("acme", "globex"):
        post = c.add_post(account, f"{account} launch")["id"]
        top = c.post_message(account, "comment", "bob", f"Question for {account}", thread=post)
        c.post_message(
            account, "comment", "carol", f"Me too, {account}", thread=post, parent=top["id"]
        )
        c.post_message(account, "dm", "dave", f"Hello {account}")
    assert rt.sweeper().login(GLOBEX).status == "ok"

    acme = rt.sweeper().sweep(ACME)
    globex = rt.sweeper().sweep(GLOBEX)

    assert (acme.status, globex.status) == ("ok", "ok"), (acme.message, globex.message)
    assert acme.new_items == globex.new_items == 3
    assert stored_rows(rt, ACME) == injected_rows(sb, "acme")
    assert stored_rows(rt, GLOBEX) == injected_rows(sb, "globex")
    assert not {r.message_id for r in stored_rows(rt, ACME)} & {
        r.message_id for r in stored_rows(rt, GLOBEX)
    }


def test_a_headless_profile_runs_debians_headless_shell(rt: Runtime) -> None:
    if not Path(HEADLESS_SHELL_CANDIDATES[0]).exists():
        pytest.skip("chromium-headless-shell is not installed (make setup installs it)")
    settings = browser_settings(rt.home, rt.catalog.workspace(ACME))
    with PlaywrightDriver(settings):
        mains = browser_pids(settings.profile_dir)
        exes = {os.readlink(f"/proc/{pid}/exe") for pid in mains}
    assert len(mains) == 1 and exes == {HEADLESS_SHELL_CANDIDATES[0]}
    assert chromium_path(headless=False) != HEADLESS_SHELL_CANDIDATES[0]  # a visible window
