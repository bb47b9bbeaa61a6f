"""In real Chromium, pages that update without a reload: a queue row changes as another
reviewer approves it, items a sweep stores meanwhile are announced, "also viewing"
comes and goes as the other person opens and leaves the item, and SLA timers count
down on the page's own clock (Playwright's fake timers: no waiting on a real one)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from review_browser import sign_in
from review_world import ACME, GLOBEX, World

from agent.review import create_app
from agent.review.auth import LoginLimiter

pytestmark = pytest.mark.browser


@pytest.fixture
def db_url() -> str:
    """Browser tests run on SQLite only (the feed runs on both in test_review_live)."""
    return "sqlite"


@pytest.fixture
def app(world: World) -> FastAPI:
    limiter = LoginLimiter(max_failures=5, lock_seconds=60)
    return create_app(world.runtime, limiter=limiter, live_poll_seconds=0.05)


def test_the_queue_and_the_item_page_update_as_others_work(
    world: World, server: str, browser
) -> None:  # type: ignore[no-untyped-def]
    first = world.item(ACME, "Is the blue kettle back in stock?", sla_minutes=50)
    second = world.item(ACME, "Do you ship to Norway?", sla_minutes=70)
    alice = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    bob = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(alice, server, "alice")
    sign_in(bob, server, "bob")
    alice.wait_for_selector("#live-state:not([hidden])")
    assert alice.inner_text("#live-state") == "live"

    # bob opens the first item: alice opening it too sees him, and he sees her, live
    bob.goto(f"{server}/items/{first}")
    alice.goto(f"{server}/items/{first}")
    alice.wait_for_selector("#also-viewing:not([hidden])")
    assert alice.inner_text("#viewers") == "bob"
    bob.wait_for_function("document.getElementById('viewers').textContent === 'alice'")
    assert bob.is_visible("#also-viewing")
    alice.goto(f"{server}/")  # she leaves: bob's note goes at once, not minutes later
    bob.wait_for_selector("#also-viewing", state="hidden")

    # bob approves it: alice's queue row says so and is marked as gone from the queue
    alice.wait_for_selector("#live-state:not([hidden])")
    bob.click("#approve-next")
    row = f'tr[data-item="{first}"]'
    alice.wait_for_selector(f"{row}.live-gone")
    assert alice.inner_text(f"{row} .state-text") == "approved by bob"
    assert "live-changed" not in (alice.get_attribute(f'tr[data-item="{second}"]', "class") or "")
    # a sweep stores an item meanwhile: announced, not pushed in under the reader's eyes
    world.item(GLOBEX, "not alice's workspace")
    arrived = world.item(ACME, "A new question just came in")
    alice.wait_for_selector("#live-banner:not([hidden])")
    assert alice.inner_text("#live-text") == "1 item arrived or changed since this page loaded."
    assert alice.query_selector(f'tr[data-item="{arrived}"]') is None
    alice.click("#live-reload")
    alice.wait_for_selector(f'tr[data-item="{arrived}"]')
    assert alice.query_selector(row) is None  # approved: out of the pending queue


def test_sla_timers_count_down_on_the_page(world: World, server: str, browser) -> None:  # type: ignore[no-untyped-def]
    world.item(ACME, "due in 40 minutes", sla_minutes=40)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.clock.install(time=datetime.now(UTC))
    sign_in(page, server, "alice")
    timer = "td.sla-cell .sla"
    assert page.inner_text(timer) in ("39m left", "40m left")
    assert "ok" in (page.get_attribute(timer, "class") or "")
    page.clock.fast_forward(int(timedelta(minutes=15).total_seconds() * 1000))
    page.wait_for_function(
        "(t) => /^2[45]m left$/.test(document.querySelector(t).textContent)", arg=timer
    )
    assert "due_soon" in (page.get_attribute(timer, "class") or "")  # 30 minutes or less
    page.clock.fast_forward(int(timedelta(minutes=30).total_seconds() * 1000))
    page.wait_for_function(
        "(t) => /overdue$/.test(document.querySelector(t).textContent)", arg=timer
    )
    assert page.inner_text(timer) in ("5m overdue", "4m overdue")
    assert "breached" in (page.get_attribute(timer, "class") or "")
