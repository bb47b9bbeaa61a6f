"""A takeover's live view end to end, in real Chromium both sides.

The sandbox workspace's profile is signed out, so its sweep stops ``login_required``; a
reviewer in a second Chromium (the review UI) sees "needs a person" with the stop's
screenshot, takes over, types the sandbox credentials and the challenge code entirely
through the live view (clicks and keys on its canvas, which become DevTools input in the
workspace's own browser), hands back and runs "Sweep now": the sweep succeeds on the same
profile. What was typed is then looked for everywhere the run could have written it.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from agent.review import create_app
from agent.review.auth import add_user, grant
from agent.runtime import Runtime, open_runtime
from agent.scaffold import init_home
from runlogs import ActivityLog
from sandbox.state import CHALLENGE_CODE
from sandbox.testing import RunningSandbox, running_sandbox
from tests.serving import chromium, serving
from workspaces.paths import Home

pytestmark = pytest.mark.browser

ACME = "sandbox-acme-web"
ACCOUNT_PASSWORD = "Pl4in-Zebra-Quartz-9183"  # typed through the view; must be found nowhere
REVIEWER_PASSWORD = "correct horse battery staple"
VIEWPORT = {"width": 1280, "height": 900}  # the workspace's (the example's viewport)


@pytest.fixture
def db_url() -> str:
    return "sqlite"  # unused: this test's home keeps its own SQLite store


@pytest.fixture
def sb(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningSandbox]:
    with running_sandbox(empty=True) as sandbox:
        monkeypatch.setenv("INBOX_AGENT_SANDBOX_URL", sandbox.url)
        sandbox.state.accounts["acme"].password = ACCOUNT_PASSWORD
        yield sandbox


@pytest.fixture
def rt(tmp_path: Path, sb: RunningSandbox) -> Iterator[Runtime]:
    home = Home(tmp_path / "home")
    init_home(home)
    runtime = open_runtime(home)
    with runtime.store.session() as s:
        grant(s, add_user(s, "ann", "reviewer", REVIEWER_PASSWORD), ACME)
    yield runtime
    runtime.store.close()


def sign_in(page: Page, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", name)
    page.fill("#password", REVIEWER_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def boxes(browser: Browser, sb: RunningSandbox, *, signed_in: bool) -> dict[str, Any]:
    """Where the sandbox's login and challenge fields are at the workspace's viewport, read
    in a browser of the test's own (the live view shows the same layout at the same size)."""
    ctx = browser.new_context(viewport=VIEWPORT, locale="en-US")
    page = ctx.new_page()
    try:
        if not signed_in:
            page.goto(f"{sb.url}/login")
            return {
                "username": page.get_by_label("Username").bounding_box(),
                "password": page.get_by_label("Password").bounding_box(),
            }
        ctx.add_cookies([sb.session_cookie("acme")])
        page.goto(f"{sb.url}/inbox")
        return {"code": page.get_by_label("Code").bounding_box()}
    finally:
        ctx.close()


def click_remote(page: Page, box: dict[str, float]) -> None:
    """Click the middle of ``box`` (the workspace's CSS pixels) on the live view's canvas."""
    canvas = page.locator("#live-screen")
    shown = canvas.bounding_box()
    assert shown is not None
    x = shown["x"] + (box["x"] + box["width"] / 2) * shown["width"] / VIEWPORT["width"]
    y = shown["y"] + (box["y"] + box["height"] / 2) * shown["height"] / VIEWPORT["height"]
    page.mouse.click(x, y)


def wait_live(page: Page, condition: str, timeout_ms: int = 30_000) -> None:
    """Wait until ``condition`` (JavaScript over the live view's ``dataset`` as ``d``) holds."""
    script = f"() => {{ const d = document.getElementById('live').dataset; return {condition}; }}"
    try:
        page.wait_for_function(script, timeout=timeout_ms)
    except PlaywrightTimeout:
        seen = page.evaluate("() => JSON.stringify(document.getElementById('live').dataset)")
        raise AssertionError(f"the live view never reached {condition}: {seen}") from None


def test_a_reviewer_clears_a_login_wall_and_a_challenge_through_the_live_view(
    sb: RunningSandbox, rt: Runtime
) -> None:
    first = rt.sweeper().sweep(ACME)
    assert (first.status, first.stop_reason) == ("stopped", "login_required"), first.message
    sb.client.fault("acme", "challenge")  # after the password, the platform asks for a code

    app = create_app(rt, secure_cookies=False)
    with serving(app) as base, chromium() as browser:
        where = boxes(browser, sb, signed_in=False)
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        sign_in(page, base, "ann")
        # The queue says so too, and links to the workspace.
        needing = page.locator(".needs-a-person")
        assert ACME in needing.inner_text() and "login_required" in needing.inner_text()

        # The workspace page says a person is needed, with the stop's screenshot.
        page.goto(f"{base}/workspaces/{ACME}")
        note = page.locator("#needs-a-person")
        assert "login_required" in note.inner_text()
        shot = page.request.get(f"{base}/workspaces/{ACME}/stop.png")
        assert shot.ok and shot.body()[:8] == b"\x89PNG\r\n\x1a\n"
        page.get_by_role("button", name="Take over").click()
        page.wait_for_url(f"{base}/workspaces/{ACME}/live")

        # The workspace's own browser on its sign-in page, streamed.
        wait_live(page, "Number(d.frames || 0) >= 1 && (d.url || '').includes('/login')")
        assert page.locator("#live").get_attribute("data-drives") == "yes"
        click_remote(page, where["username"])
        page.keyboard.type("acme")
        click_remote(page, where["password"])
        page.keyboard.type(ACCOUNT_PASSWORD)
        page.keyboard.press("Enter")
        wait_live(page, "(d.title || '').startsWith('Security check')")

        code = boxes(browser, sb, signed_in=True)["code"]
        click_remote(page, code)
        page.keyboard.type(CHALLENGE_CODE)
        page.keyboard.press("Enter")
        until(lambda: sb.state.accounts["acme"].fault == "none", "the code was accepted")
        wait_live(
            page, "(d.url || '').endsWith('/inbox') && (d.title || '').startsWith('Messages')"
        )

        page.get_by_role("button", name="Hand back").click()
        page.wait_for_url(f"{base}/workspaces/{ACME}?done=handback")
        page.get_by_role("button", name="Sweep now").click()
        page.locator("#sweep-result").wait_for()
        assert page.locator("#sweep-status").inner_text() == "ok"
        page.goto(f"{base}/workspaces/{ACME}")
        assert page.locator("#needs-a-person").count() == 0
        page.goto(f"{base}/")
        assert page.locator(".needs-a-person").count() == 0

    # The profile is the same one the first sweep used: it now holds the session.
    again = rt.sweeper().sweep(ACME)
    assert again.status == "ok", again.message

    events = list(ActivityLog(rt.home.logs_dir).events(ACME))
    kinds = [e.type for e in events]
    assert kinds.count("live_view_started") == 1 and kinds.count("live_view_ended") == 1
    [ended] = [e for e in events if e.type == "live_view_ended"]
    assert ended.actor == "user:ann" and ended.data["why"] == "handed back"
    # 3 clicks (down+up each) and the keys of "acme", the password, the code and 2 Enters
    typed = len("acme") + len(ACCOUNT_PASSWORD) + len(CHALLENGE_CODE) + 2
    assert ended.data["input_events"] >= 2 * 3 + 2 * typed
    navigated = [e for e in events if e.type == "live_view_navigated"]
    assert any(e.data["url"].endswith("/inbox") for e in navigated)
    shots = [Path(e.data["screenshot"]) for e in navigated if e.data["screenshot"]]
    assert shots and all(p.is_file() for p in shots)

    assert_nowhere(rt, ACCOUNT_PASSWORD, shots)


def until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll ``condition`` until it holds (a deadline, not a sleep to wait out)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never: {what}")
        time.sleep(0.05)


def assert_nowhere(rt: Runtime, secret: str, shots: list[Path]) -> None:
    """``secret`` is in no file of the home but the browser profile (the store, the logs,
    screenshots), nor in any screenshot's metadata, nor in any row of the store."""
    needle = secret.encode()
    profiles = rt.home.profiles_dir.resolve()
    checked = 0
    for folder, _dirs, files in os.walk(rt.home.root):
        if Path(folder).resolve().is_relative_to(profiles):
            continue  # Chromium's own files (it may keep form history, as for any person)
        for name in files:
            data = (Path(folder) / name).read_bytes()
            assert needle not in data, f"{secret!r} found in {folder}/{name}"
            checked += 1
    assert checked > 3  # the store, a log file, screenshots
    for path in shots:
        with Image.open(io.BytesIO(path.read_bytes())) as img:
            meta = json.dumps({k: str(v) for k, v in img.info.items()})
        assert secret not in meta
    with rt.store.engine.connect() as conn:
        import sqlalchemy as sa

        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):  # noqa: S608
                assert secret not in repr(tuple(row)), f"{secret!r} found in table {table}"
