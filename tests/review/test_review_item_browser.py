"""In real Chromium: a reviewer works through a filtered queue on the item page by keyboard
alone (a: approve and next, r: reject with a reason, x: escalate, n: next), and the item
page and its conversation fit a desktop (1280 px) and a phone (390 px) screen.

With ``INBOX_AGENT_DOCS_SCREENSHOTS=1`` the layout test writes ``docs/screenshots/``
(item-1280.png, item-390.png, conversation-1280.png, conversation-390.png).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image
from review_browser import DOCS, outlined_screen, sign_in
from review_world import ACME, GLOBEX, World
from sqlmodel import select

from agent.review.queries import latest_decision
from agent.store import Item, Review

pytestmark = pytest.mark.browser

WIDTHS = {1280: 900, 390: 844}


@pytest.fixture
def db_url() -> str:
    """Browser tests run on SQLite only (the queries behind them run on both elsewhere)."""
    return "sqlite"


def _current_id(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.url.split("/items/")[1].split("?")[0])


REASON = "promises a refund we do not give"
WHY_UP = "needs the billing team"


def test_a_reviewer_works_through_twenty_items_by_keyboard(
    world: World, server: str, browser
) -> None:  # type: ignore[no-untyped-def]
    world.user("rita", "reviewer", ACME, GLOBEX)
    plan: dict[int, str] = {}
    theirs = []
    for n in range(20):
        key = "r" if n % 5 == 2 else "x" if n % 5 == 4 else "a"
        draft = None if key == "x" else "We refund you twice!" if key == "r" else f"Reply {n}"
        item = world.item(ACME, f"customer message {n}", draft=draft, sla_minutes=10 + 3 * n)
        plan[item] = key
        if n % 4 == 1:  # another workspace's items sit between them in the queue
            theirs.append(world.item(GLOBEX, f"globex message {n}", sla_minutes=11 + 3 * n))
    order = list(plan)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, server, "rita")
    page.goto(f"{server}/items/{order[0]}?from={quote(f'workspace={ACME}')}")
    page.wait_for_selector("#keys-button:not([hidden])")  # the script runs
    page.keyboard.press("?")
    assert page.is_visible("#keys")
    page.keyboard.press("Escape")
    assert not page.is_visible("#keys")

    visited = []
    for step in range(20):
        item = _current_id(page)
        visited.append(item)
        key = plan[item]
        if key == "a":
            with page.expect_navigation():
                page.keyboard.press("a")
            continue
        page.keyboard.press(key)
        field = "#reject-reason" if key == "r" else "#escalate-reason"
        assert page.evaluate("document.activeElement.id") == field[1:]
        page.keyboard.type(REASON if key == "r" else WHY_UP)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert _current_id(page) == item and "done=" in page.url
        if step < 19:
            with page.expect_navigation():
                page.keyboard.press("n")
    assert visited == order  # the ACME queue in its order, nothing of GLOBEX's
    assert "No next item" not in page.content()
    page.keyboard.press("Escape")  # the last one was escalated: Esc goes back to the queue
    page.wait_for_url(re.compile(re.escape(f"{server}/?workspace={ACME}")))

    with world.store.session() as s:
        for item, key in plan.items():
            row = s.get(Item, item)
            decision = latest_decision(s, item)
            assert row is not None and decision is not None
            actions = [
                (r.action, r.note, r.reviewer)
                for r in s.exec(select(Review).where(Review.item_id == item)).all()
            ]
            if key == "a":
                assert row.status == "approved" and actions == [("approve", None, "rita")]
            elif key == "r":
                assert row.status == "in_review" and decision.draft is None
                assert actions == [("reject", REASON, "rita")]
            else:
                assert row.status == "in_review" and decision.action == "escalate"
                assert actions == [("escalate", WHY_UP, "rita")]
        for item in theirs:
            assert s.get(Item, item).status == "in_review"  # type: ignore[union-attr]
            assert s.exec(select(Review).where(Review.item_id == item)).all() == []
    approved = {e.item_id: e.text for e in world.outbox()}
    assert sorted(approved) == sorted(i for i, k in plan.items() if k == "a")
    assert errors == []  # the script threw nothing on any page
    context.close()


def test_a_without_a_reply_does_not_approve(world: World, server: str, browser) -> None:  # type: ignore[no-untyped-def]
    item = world.item(ACME, "no draft here", draft=None)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, server, "alice")
    page.goto(f"{server}/items/{item}")
    page.wait_for_selector("#keys-button:not([hidden])", state="attached")
    page.keyboard.press("a")
    page.wait_for_selector("#key-status:not([hidden])")
    assert "The reply is empty" in page.inner_text("#key-status")
    assert page.evaluate("document.activeElement.id") == "reply-text"
    page.keyboard.type("a")  # typing in the box: the key is a letter, not an action
    assert page.input_value("#reply-text") == "a"
    page.wait_for_timeout(200)
    assert world.outbox() == [] and page.url == f"{server}/items/{item}"
    context.close()


OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > width + 0.5 || r.left < -0.5) {
      out.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className} ${r.left}-${r.right}`);
    }
  }
  if (document.documentElement.scrollWidth > width) out.push('page ' + document.documentElement.scrollWidth);
  return out;
}"""

# Text that wraps one letter per line is narrower than two letters: a value squeezed so.
SQUEEZED = """() => {
  const out = [];
  const sel = '.item-page dd, .item-page dt, .item-page button, .item-page .pill, .item-page .badge, '
    + '.item-page .sla, .item-page .chip, .item-page label, .item-page h1, .item-page h2, .itemnav a, '
    + '.turn-head b, .turn-head a';
  for (const el of document.querySelectorAll(sel)) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const words = el.textContent.trim().split(/\\s+/).filter(w => w.length >= 4);
    if (words.length && r.width < 30) out.push(`${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 30)}" ${r.width}`);
  }
  return out;
}"""


FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _dm_screen(path: Path, turns: list[tuple[bool, str]]) -> tuple[int, int, int, int]:
    """A 1280x720 PNG of a web inbox showing a DM thread (``(ours, text)`` per message);
    returns the box of the last message, which is the item's crop."""
    from PIL import ImageDraw, ImageFont

    def font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
        return ImageFont.truetype(FONT, size) if Path(FONT).exists() else ImageFont.load_default()

    img = Image.new("RGB", (1280, 720), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 1280, 52), fill=(29, 35, 48))
    draw.text((20, 15), "Acme Outdoor · Messages", fill=(255, 255, 255), font=font(18))
    draw.rectangle((0, 52, 330, 720), fill=(245, 247, 250))
    for n, (who, last) in enumerate(
        [("@dana.k", "Great, ordered a 10.5…"), ("@mo_fit", "half sizes?"),
         ("@sunny.days", "Love the green one"), ("@buyer22", "discount for 50+?")]
    ):  # fmt: skip
        y = 64 + 72 * n
        if n == 0:
            draw.rectangle((0, y - 8, 330, y + 60), fill=(225, 233, 250))
        draw.ellipse((16, y, 60, y + 44), fill=(120 + 30 * n, 144, 200))
        draw.text((72, y + 2), who, fill=(20, 20, 20), font=font(16))
        draw.text((72, y + 24), last, fill=(95, 107, 122), font=font(14))
    draw.text((360, 70), "@dana.k", fill=(20, 20, 20), font=font(18))
    draw.line((330, 104, 1280, 104), fill=(217, 222, 230))
    y, box = 124, (0, 0, 0, 0)
    for ours, text in turns:
        lines, line = [], ""
        for word in text.split():
            if len(line) + len(word) > 58:
                lines.append(line)
                line = ""
            line = f"{line} {word}".strip()
        lines.append(line)
        height = 22 + 24 * len(lines)
        left = 740 if ours else 360
        right = left + 500
        fill = (47, 91, 211) if ours else (236, 239, 244)
        draw.rounded_rectangle((left, y, right, y + height), radius=16, fill=fill)
        for n, chunk in enumerate(lines):
            colour = (255, 255, 255) if ours else (20, 20, 20)
            draw.text((left + 16, y + 11 + 24 * n), chunk, fill=colour, font=font(16))
        box = (left - 8, y - 8, right + 8, y + height + 8)
        y += height + 18
    draw.rounded_rectangle((360, 650, 1250, 700), radius=24, outline=(200, 205, 214), width=2)
    draw.text((384, 664), "Write a message…", fill=(150, 156, 166), font=font(16))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format="PNG")
    return box


def _conversation(world: World) -> int:
    """A DM thread: the customer, the brand's reply, the customer again (the item)."""
    asked = "Hi! Do the trail runners come in half sizes?"
    answered = "Hi Dana! Yes, from 6 to 13, halves included."
    text = (
        "Great, ordered a 10.5 yesterday (order #4471) but it still says processing after "
        "6 days. Can you check? My email is dana.k.longaddress.for.testing@example-mail.com"
    )
    world.item(
        "acme-instagram", asked, author="@dana.k", thread="dm-@dana.k", status="replied",
        intent="product_question", draft=None,
    )  # fmt: skip
    ours = world.item(
        "acme-instagram", answered, author="@brand", thread="dm-@dana.k", status="resolved",
        draft=None,
    )  # fmt: skip
    item = world.item(
        "acme-instagram", text, author="@dana.k", thread="dm-@dana.k", intent="order_issue",
        priority="P2", sla_minutes=-12, screenshot=True,
        draft="Hi Dana, sorry for the wait! Your order #4471 ships today; tracking follows "
        "by email.",
    )  # fmt: skip
    with world.store.session() as s:
        own = latest_decision(s, ours)  # a sweep never triages the brand's own replies
        if own is not None:
            s.delete(own)
        row = s.get(Item, item)
        assert row is not None and row.screenshot and row.crop
        screen, crop = Path(row.screenshot), Path(row.crop)
    box = _dm_screen(screen, [(False, asked), (True, answered), (False, text)])
    with Image.open(screen) as full:
        full.crop(box).save(crop, format="WEBP", lossless=True)
    with world.store.session() as s:  # where the crop was cut, as a sweep records it
        row = s.get(Item, item)
        assert row is not None
        row.evidence_box = [box[0], box[1], box[2] - box[0], box[3] - box[1]]
        s.add(row)
    return item


def test_the_item_page_fits_desktop_and_phone(
    world: World, server: str, browser, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    out = DOCS if os.environ.get("INBOX_AGENT_DOCS_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    world.user("sam", "approver", "acme-instagram", ACME)
    item = _conversation(world)
    world.item("acme-instagram", "Love the green ones", intent="praise", sla_minutes=40)
    long = world.item(
        ACME, "x" * 300 + " https://example.com/" + "a/b" * 80, author="@" + "averylonghandle" * 6,
        thread="t-" + "9" * 120, draft="y" * 400,
    )  # fmt: skip
    carried = quote("workspace=acme-instagram&intent=order_issue")
    for width, height in WIDTHS.items():
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        sign_in(page, server, "sam")
        page.goto(f"{server}/items/{item}?from={carried}")
        page.wait_for_selector("#keys-button:not([hidden])", state="attached")
        assert page.eval_on_selector("img.crop", "i => i.complete && i.naturalWidth") > 100
        drawn = outlined_screen(page)
        assert drawn["colours"] > 200, width
        screen = drawn["svg"]["width"]
        content = page.eval_on_selector("main", "m => m.clientWidth")
        assert screen >= content - 80, (width, screen, content)  # the width of the page
        assert page.evaluate(OVERFLOW) == [], width
        assert page.evaluate(SQUEEZED) == [], width
        page.screenshot(path=str(out / f"item-{width}.png"), full_page=True)
        page.locator("#context").screenshot(path=str(out / f"conversation-{width}.png"))
        page.keyboard.press("?")  # the keys panel fits too
        assert page.is_visible("#keys") and page.evaluate(OVERFLOW) == [], width
        page.screenshot(path=str(tmp_path / f"keys-{width}.png"))
        # a refused action on the page, and the most awkward values there are
        page.goto(f"{server}/items/{long}")
        page.fill("#reply-text", "   ")
        with page.expect_navigation():
            page.click("#approve-next")
        assert "the reply is empty" in page.inner_text("#refused")
        page.screenshot(path=str(tmp_path / f"refused-{width}.png"))
        assert page.evaluate(OVERFLOW) == [], width
        assert page.evaluate(SQUEEZED) == [], width
        context.close()
    for name in ("item-1280", "item-390", "conversation-1280", "conversation-390"):
        assert (out / f"{name}.png").stat().st_size > 10_000
