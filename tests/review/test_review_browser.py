"""In real Chromium: a reviewer signs in, sees only granted workspaces, opens an item with its
screenshot, edits and approves the draft (one outbox entry); hostile text runs nothing.

With ``INBOX_AGENT_DOCS_SCREENSHOTS=1`` the screenshot test writes ``docs/screenshots/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from review_browser import DOCS, outlined_screen, sign_in
from review_world import ACME, GLOBEX, SECRET, World
from sqlmodel import select

from agent.store import OutboxEntry

pytestmark = pytest.mark.browser


@pytest.fixture
def db_url() -> str:
    """Browser tests run on SQLite only (the queries behind them run on both elsewhere)."""
    return "sqlite"


def test_reviewer_edits_and_approves_in_chromium(world: World, server: str, browser) -> None:  # type: ignore[no-untyped-def]
    item_id = world.item(
        ACME, "Hi! My order #4471 still says processing. Can you check?", screenshot=True,
        author="@dana.k",
    )  # fmt: skip
    world.item(GLOBEX, SECRET)
    hostile = world.item(ACME, '<script>alert(1)</script><img src=x onerror="alert(2)"> \u202eevil')
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, server, "alice")

    queue = page.content()
    assert "order #4471" in queue
    assert SECRET not in queue and GLOBEX not in queue

    page.click(f"a[href='/items/{item_id}']")
    page.wait_for_url(f"{server}/items/{item_id}")
    width = page.eval_on_selector("img.crop", "img => img.complete && img.naturalWidth")
    assert width and width > 100
    screen = outlined_screen(page)  # the whole screen is drawn, the message outlined on it
    assert screen["colours"] > 200
    svg, box = screen["svg"], screen["outline"]
    # review_world's screen is 480 x 320, its crop cut at (16, 60), 448 x 80; the SVG
    # fits the screen in its box (as tall as 88% of the window at most).
    scale = min(svg["width"] / 480, svg["height"] / 320)
    assert abs(box["x"] - (svg["x"] + 16 * scale)) < 3 and abs(box["width"] - 448 * scale) < 3
    assert abs(box["y"] - (svg["y"] + 60 * scale)) < 3 and abs(box["height"] - 80 * scale) < 3
    page.fill("textarea[name=text]", "Hi Dana, it ships today; tracking follows by email.")
    page.click("text=Approve reply")
    page.wait_for_selector("text=Approved: the reply is in the outbox")

    with world.store.session() as s:
        entries = s.exec(select(OutboxEntry)).all()
    assert [(e.item_id, e.text, e.approved_by) for e in entries] == [
        (item_id, "Hi Dana, it ships today; tracking follows by email.", "alice")
    ]
    assert world.get_item(item_id).status == "approved"

    page.goto(f"{server}/items/{hostile}")
    page.wait_for_timeout(300)
    assert dialogs == []
    assert page.eval_on_selector_all("script:not([src^='/static/'])", "s => s.length") == 0
    assert page.eval_on_selector_all("main img", "s => s.length") == 0
    page.goto(f"{server}/items/999999")
    assert "Not found" in page.content()
    context.close()


SAMPLES = [
    ("acme-instagram", "@dana.k", "Hi! My order #4471 still says processing after 6 days. Can you check?", "order_issue", "P2", -12, "Hi Dana, sorry for the wait! Your order #4471 ships today; tracking follows by email."),
    ("acme-instagram", "@mo_fit", "Do the trail runners come in half sizes? 10.5 specifically", "product_question", "P3", 25, "Yes! The trail runners come in half sizes from 6 to 13, including 10.5."),
    ("acme-web", "@lina", "I was charged twice for the same subscription this month", "billing_refund", "P2", 50, None),
    ("acme-web", "@jt", "Your checkout page has been down for an hour, nothing loads", "outage", "P1", 8, None),
    ("acme-instagram", "@sunny.days", "Love the new colours, the green one is perfect", "praise", "P3", 180, "Thank you so much! We love the green too."),
    ("acme-web", "@p.rivera", "Can't log in, password reset email never arrives", "account_access", "P2", 95, None),
    ("acme-instagram", "@buyer22", "Is there a discount for orders of 50+ units for our gym?", "sales_lead", "P3", 300, None),
]  # fmt: skip


def test_docs_screenshots(world: World, server: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = DOCS if os.environ.get("INBOX_AGENT_DOCS_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    world.user("sam", "approver", "acme-instagram", "acme-web")
    first = None
    for ws, author, text, intent, prio, sla, draft in SAMPLES:
        item_id = world.item(
            ws, text, author=author, intent=intent, priority=prio, sla_minutes=sla,
            draft=draft, thread=f"dm-{author}", screenshot=True,
        )  # fmt: skip
        first = first or item_id
    world.item("acme-instagram", "Hey, quick question about my order", author="@dana.k",
               thread="dm-@dana.k", status="replied", draft=None)  # fmt: skip
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    other = browser.new_context(viewport={"width": 1280, "height": 860})
    page, page2 = context.new_page(), other.new_page()
    sign_in(page2, server, "alice")  # alice has acme-web only: she never sees acme-instagram
    sign_in(page, server, "sam")
    page.screenshot(path=str(out / "queue.png"), full_page=True)
    page2.goto(f"{server}/items/{first}")
    assert page2.url.endswith(f"/items/{first}") and "Not found" in page2.content()
    world.user("priya", "reviewer", "acme-instagram")
    page3 = browser.new_context().new_page()
    sign_in(page3, server, "priya")
    page3.goto(f"{server}/items/{first}")
    page.goto(f"{server}/items/{first}")
    assert "Also viewing: priya" in page.inner_text("#also-viewing")
    page.screenshot(path=str(out / "item.png"), full_page=True)
    assert (out / "queue.png").stat().st_size > 10_000
    context.close()
    other.close()
