"""In real Chromium at 1280 px and 390 px: the queue shows a case once with its count, the
case page lists every member and fits the phone, and its approval queues one reply per
member (issue 18). With ``INBOX_AGENT_DOCS_SCREENSHOTS=1`` the case page's screenshots go
to ``docs/screenshots/`` (``case-1280.png``, ``case-390.png``), else to the test's folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from review_browser import DOCS, sign_in
from review_world import ACME, World
from test_review_cases import OUTAGE, _store
from test_review_queue_browser import OVERFLOWING

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser
SIZES = [(1280, 900), (390, 844)]


@pytest.fixture
def db_url() -> str:
    return "sqlite"


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}px" for w, _ in SIZES])
def test_a_case_in_the_queue_and_on_its_page(
    world: World, server: str, browser: Browser, width: int, height: int, tmp_path: Path
) -> None:
    out = DOCS if os.environ.get("INBOX_AGENT_DOCS_SCREENSHOTS") == "1" else tmp_path
    world.user("pat", "approver", ACME)
    rows = [(f"dm{n}", "dm", f"/inbox/dm{n}", OUTAGE) for n in range(3)]
    rows += [(f"c{n}", "comment", f"/posts/p{n % 2}", OUTAGE) for n in range(5)]
    ids = _store(world, rows)
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        sign_in(page, server, "pat")
        page.goto(f"{server}/")
        assert page.locator("tr[data-item]").count() == 1
        link = page.locator(f'a.case[data-case="{ids[0]}"]')
        assert "8 customers" in link.inner_text()
        found = page.evaluate(OVERFLOWING)
        assert found["out"] == [], found["out"][:10]
        link.click()
        page.wait_for_url(f"**/cases/{ids[0]}")
        assert page.locator("tr[data-member]").count() == 8
        found = page.evaluate(OVERFLOWING)
        assert found["out"] == [], found["out"][:10]
        page.fill("#reply-dm", "We are on it, sorry!")
        page.fill("#reply-comment", "We are on it, everyone: status page has updates.")
        page.screenshot(path=str(out / f"case-{width}.png"), full_page=True)
        assert (out / f"case-{width}.png").stat().st_size > 10_000
        page.click("#case-approve button[type=submit]")
        page.wait_for_url("**done=approve")
        assert page.locator("#case-done").is_visible()
    finally:
        context.close()
    entries = world.outbox()
    assert sorted(e.item_id for e in entries) == sorted(ids)
    texts = {world.get_item(e.item_id).kind: e.text for e in entries}
    assert texts == {
        "dm": "We are on it, sorry!",
        "comment": "We are on it, everyone: status page has updates.",
    }
