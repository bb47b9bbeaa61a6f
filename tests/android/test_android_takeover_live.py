"""A takeover's live view of the sandbox phone, in real Chromium: the wiped phone's sweep
stops ``login_required``; a reviewer taps and types the credentials and the challenge code
on the streamed screen (taps and typing through the device's backend), hands back, and the
next sweep succeeds on the same phone."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from playwright.sync_api import Page

from agent.review import create_app
from agent.review.auth import add_user, grant
from devices.android.sandbox_backend import SandboxDeviceBackend
from sandbox.state import CHALLENGE_CODE
from sandbox.testing import RunningSandbox
from tests.android.conftest import SERIAL, WS
from tests.review.review_world import PASSWORD
from tests.serving import chromium, serving

pytestmark = pytest.mark.browser
BOUNDS = re.compile(r"\[(\d+),(\d+)\]\[(\d+),(\d+)\]")


def node(sb: RunningSandbox, name: str) -> dict[str, Any] | None:
    """The phone's element ``name`` (its resource-id's last part): its box and text."""
    phone = SandboxDeviceBackend(sb.url, SERIAL)
    try:
        tree = etree.fromstring(phone.dump().encode())
    finally:
        phone.close()
    for el in tree.iter("node"):
        if el.get("resource-id", "").endswith(f"/{name}"):
            m = BOUNDS.fullmatch(el.get("bounds", ""))
            assert m is not None
            left, top, right, bottom = (int(v) for v in m.groups())
            return {
                "x": left,
                "y": top,
                "w": right - left,
                "h": bottom - top,
                "text": el.get("text"),
            }
    return None


def until(condition: Any, what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"never: {what}")


def tap_remote(page: Page, box: dict[str, Any], size: tuple[int, int]) -> None:
    shown = page.locator("#live-screen").bounding_box()
    assert shown is not None
    x = shown["x"] + (box["x"] + box["w"] / 2) * shown["width"] / size[0]
    y = shown["y"] + (box["y"] + box["h"] / 2) * shown["height"] / size[1]
    page.mouse.click(x, y)


def test_a_reviewer_signs_the_phone_in_through_the_live_view(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    from agent.runtime import open_runtime
    from agent.scaffold import init_home
    from workspaces.paths import Home

    sandbox.client.reset()
    sandbox.client.add_device(SERIAL)  # wiped: the app is signed out
    home = Home(tmp_path / "home")
    init_home(home)
    rt = open_runtime(home)
    with rt.store.session() as s:
        grant(s, add_user(s, "ann", "reviewer", PASSWORD), WS)
    first = rt.sweeper().sweep(WS)
    assert (first.status, first.stop_reason) == ("stopped", "login_required"), first.message
    sandbox.client.fault("acme", "challenge")
    size = (720, 1280)

    app = create_app(rt, secure_cookies=False)
    with serving(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.goto(f"{base}/login")
        page.fill("#username", "ann")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/workspaces/{WS}")
        assert "login_required" in page.locator("#needs-a-person").inner_text()
        page.get_by_role("button", name="Take over").click()
        page.wait_for_url(f"{base}/workspaces/{WS}/live")
        page.wait_for_function("() => Number(document.getElementById('live').dataset.frames) >= 1")

        for name, text, shown in (
            ("login_username", "acme", "acme"),
            ("login_password", "sandbox", "\u2022" * 7),  # the phone shows a password as dots
        ):
            box = until(lambda name=name: node(sandbox, name), f"the phone shows {name}")
            tap_remote(page, box, size)
            page.keyboard.type(text)  # each key becomes the backend's typing
            until(lambda n=name, t=shown: node(sandbox, n)["text"] == t, f"{name} shows {shown}")
        tap_remote(page, node(sandbox, "login_button") or {}, size)
        code = until(lambda: node(sandbox, "challenge_input"), "the phone asks for the code")
        tap_remote(page, code, size)
        page.keyboard.type(CHALLENGE_CODE)
        until(
            lambda: node(sandbox, "challenge_input")["text"] == CHALLENGE_CODE, "the code was typed"
        )
        tap_remote(page, node(sandbox, "challenge_submit") or {}, size)
        until(lambda: sandbox.state.accounts["acme"].fault == "none", "the code was accepted")

        page.get_by_role("button", name="Hand back").click()
        page.wait_for_url(f"{base}/workspaces/{WS}?done=handback")
        page.get_by_role("button", name="Sweep now").click()
        page.locator("#sweep-result").wait_for()
        assert page.locator("#sweep-status").inner_text() in ("ok", "drift")

    events = list(rt.log.events(WS))
    [ended] = [e for e in events if e.type == "live_view_ended"]
    assert ended.data["why"] == "handed back" and ended.data["input_events"] >= 8
    assert "device_released" in [e.type for e in events]
