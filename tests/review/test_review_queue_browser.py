"""In real Chromium, at a desktop's 1280×900 and a phone's 390×844: the queue by keyboard
(j/k/Enter open an item, x selects rows that are then resolved in bulk, / searches, ?
lists the keys), a word found through the search box, the filters folded on the phone,
and no element wider than the viewport. Without JavaScript the page still works.

With ``INBOX_AGENT_DOCS_SCREENSHOTS=1`` the screenshots go to ``docs/screenshots/``
(``queue-1280.png``, ``queue-390.png``), else to the test's own folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from review_browser import DOCS, sign_in
from review_world import ACME, GLOBEX, SECRET, World
from sqlmodel import select

from agent.store import Review

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

SIZES = [(1280, 900), (390, 844)]

MESSAGES = [
    ("@dana.k", "Hi! My order #4471 still says processing after 6 days. Can you check?", "order_issue", "P2", -12),
    ("@jt", "Your checkout page has been down for an hour, nothing loads", "outage", "P1", 8),
    ("@mo_fit", "Do the trail runners come in half sizes? 10.5 specifically", "product_question", "P3", 25),
    ("@lina", "I was charged twice for the same subscription this month", "billing_refund", "P2", 50),
    ("@p.rivera", "Can't log in, the password reset email never arrives", "account_access", "P2", 95),
    ("@hikerjo", "Is the Zeppelin backpack waterproof or just water resistant?", "product_question", "P3", 120),
    ("@sunny.days", "Love the new colours, the green one is perfect", "praise", "P3", 180),
    ("@buyer22", "Is there a discount for orders of 50+ units for our gym?", "sales_lead", "P3", 300),
    ("@marta_b", "The zipper on my jacket broke after two weeks, can I get it replaced?", "order_issue", "P2", 35),
    ("@kev.o", "Where can I find the size chart for kids' shoes?", "product_question", "P3", 240),
    ("@ana.g", "Parcel tracking has not updated since Monday, is it lost?", "order_issue", "P2", 70),
    ("@tomasz", "Do you ship to Norway? Checkout does not list it", "product_question", "P3", 400),
    ("@rae", "Wrong colour delivered: ordered navy, got black", "order_issue", "P2", 15),
    ("@li.wei", "Any plans for a vegan leather version of the tote?", "product_question", "P3", 600),
]  # fmt: skip

# Every element whose right edge is past the viewport, unless a scrolling ancestor
# (overflow auto/scroll, scrolled by the person on purpose) holds it.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if ((o === "auto" || o === "scroll") && p !== document.documentElement && p !== document.body) return true;
    }
    return false;
  };
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > width + 0.5 && !scrolls(el)) {
      out.push(`${el.tagName.toLowerCase()}.${el.className} right=${Math.round(r.right)}`);
    }
  }
  if (document.documentElement.scrollWidth > width) out.push(`page scrollWidth=${document.documentElement.scrollWidth}`);
  return {width, out};
}"""


@pytest.fixture
def db_url() -> str:
    """Browser tests run on SQLite only (the queries behind them run on both elsewhere)."""
    return "sqlite"


def _fill_queue(world: World) -> list[int]:
    ids = [
        world.item(
            ACME,
            text,
            author=author,
            intent=intent,
            priority=prio,
            sla_minutes=sla,
            thread=f"dm-{author}",
        )  # fmt: skip
        for author, text, intent, prio, sla in MESSAGES
    ]
    world.item(GLOBEX, SECRET)
    return ids


def _row_ids(page: Page) -> list[int]:
    return [
        int(v)
        for v in page.eval_on_selector_all("tr[data-item]", "rs => rs.map(r => r.dataset.item)")
    ]


def _focused_row(page: Page) -> int | None:
    value = page.eval_on_selector_all(
        "tr[aria-current=true].kbd-focus", "rs => rs.map(r => r.dataset.item)"
    )
    assert len(value) <= 1
    return int(value[0]) if value else None


def _no_overflow(page: Page, where: str) -> None:
    found = page.evaluate(OVERFLOWING)
    assert found["out"] == [], f"{where} at {found['width']}px: {found['out'][:10]}"


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}px" for w, _ in SIZES])
def test_queue_by_keyboard_search_and_bulk_resolve(
    world: World, server: str, browser: Browser, tmp_path: Path, width: int, height: int
) -> None:
    ids = _fill_queue(world)
    out = DOCS if os.environ.get("INBOX_AGENT_DOCS_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    phone = width < 700
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    sign_in(page, server, "alice")
    rows = _row_ids(page)
    assert sorted(rows) == sorted(ids) and SECRET not in page.content()

    # the filters: open on a desktop, folded on a phone (the search box always there)
    assert page.is_visible("#q")
    assert page.is_visible("details.fold .chips") is not phone
    assert page.is_visible("details.fold > summary") is phone
    _no_overflow(page, "the queue")
    if phone:
        page.click("details.fold > summary")
        assert page.is_visible("details.fold .chips") and page.is_visible("form.save")
        _no_overflow(page, "the queue with its filters open")
        page.screenshot(path=str(tmp_path / f"queue-{width}-filters.png"), full_page=True)
        page.click("details.fold > summary")
        first_card = page.eval_on_selector(
            "tr[data-item] td.text", "td => td.getBoundingClientRect().top"
        )
        assert first_card < height, "the first item is below the phone's first screen"
        assert page.is_visible(f"tr[data-item='{rows[0]}'] td.text a")  # the message text shows

    # j/k move the focus ring, Enter opens the focused item
    page.keyboard.press("j")
    assert _focused_row(page) == rows[0]
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert _focused_row(page) == rows[1]
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server}/items/{rows[1]}*")
    assert page.url.split("?")[0] == f"{server}/items/{rows[1]}"
    page.go_back()
    page.wait_for_selector("tr[data-item]")

    # ? lists every key, the item page's too; Escape closes it
    assert not page.is_visible("#keys-help")
    page.keyboard.press("?")
    assert page.is_visible("#keys-help")
    keys = set(page.eval_on_selector_all("#keys-help kbd", "ks => ks.map(k => k.textContent)"))
    assert keys >= {"j", "k", "Enter", "x", "/", "?", "Esc", "a", "e", "r"}, keys
    _no_overflow(page, "the keys panel")
    page.screenshot(path=str(tmp_path / f"queue-{width}-keys.png"))
    page.keyboard.press("Escape")
    assert not page.is_visible("#keys-help")

    # / goes to the search box; keys typed there are text, not shortcuts
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("zeppelin jx")
    assert _focused_row(page) is None or _focused_row(page) == rows[1]
    assert page.input_value("#q") == "zeppelin jx"
    page.fill("#q", "zeppelin")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?q=zeppelin*")
    found = _row_ids(page)
    assert found == [ids[5]], found
    assert "Zeppelin backpack" in page.inner_text("table.queue")

    # x selects rows: ten of them, then resolve them in bulk
    page.goto(f"{server}/")
    for n in range(10):
        page.keyboard.press("j")
        page.keyboard.press("x")
        if n == 2:
            count = page.inner_text("#bulk-count")
            assert count == "3 selected"
            page.screenshot(path=str(out / f"queue-{width}.png"), full_page=True)
            _no_overflow(page, "the queue with rows selected")
    picked = page.eval_on_selector_all("input.pick:checked", "bs => bs.map(b => Number(b.value))")
    assert picked == rows[:10]
    assert page.inner_text("#bulk-count") == "10 selected"
    page.keyboard.press("x")  # x again: the focused row is unselected, and again selected
    assert page.inner_text("#bulk-count") == "9 selected"
    page.keyboard.press("x")
    page.select_option("select[name=action]", "resolve")
    page.fill("input[name=note]", "answered by phone")
    page.click("text=Apply to selected")
    page.wait_for_selector("text=10 items resolved without a reply.")
    assert sorted(_row_ids(page)) == sorted(set(ids) - set(rows[:10]))
    assert [world.get_item(i).status for i in rows[:10]] == ["resolved"] * 10
    with world.store.session() as s:
        reviews = s.exec(select(Review)).all()
    assert sorted((r.item_id, r.action, r.note) for r in reviews) == sorted(
        (i, "resolve", "answered by phone") for i in rows[:10]
    )
    _no_overflow(page, "the queue after the bulk action")
    assert (out / f"queue-{width}.png").stat().st_size > 10_000
    missing = [u for u in missing if not u.endswith("/favicon.ico")]
    assert missing == []  # the script and every page it opens are there
    errors = [e for e in errors if "status of 404" not in e]  # the favicon's, above
    assert errors == []  # no script error, no CSP violation
    context.close()


def test_the_queue_works_without_javascript(world: World, server: str, browser: Browser) -> None:
    ids = _fill_queue(world)
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    page = context.new_page()
    sign_in(page, server, "alice")
    assert page.is_visible("details.fold .chips")  # open on a desktop by the stylesheet alone
    assert not page.is_visible("#keys-help") and not page.is_visible("#keys-hint")
    page.fill("#q", "parcel")
    page.click("form.search button[type=submit]")
    page.wait_for_url("**/?q=parcel*")
    assert _row_ids(page) == [ids[10]]
    page.goto(f"{server}/")
    rows = _row_ids(page)
    for item_id in rows[:2]:
        page.check(f"input.pick[value='{item_id}']")
    page.select_option("select[name=action]", "escalate")
    page.click("text=Apply to selected")
    page.wait_for_selector("text=2 items escalated.")
    page.select_option("select[name=page_size]", "25")
    page.fill("input[name=author]", "@rae")
    page.click("form.refine button[type=submit]")
    page.wait_for_url("**author=%40rae*")
    assert _row_ids(page) == [ids[12]]
    context.close()
