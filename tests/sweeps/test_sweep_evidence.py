"""Evidence shows what it claims: each crop is the item, each screen is the screen around it.

Read back with real tesseract OCR, so a crop taken at the wrong place fails.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pytesseract
from PIL import Image
from sqlmodel import select

from agent.runtime import Runtime
from agent.store import Item
from agent.sweep import open_workspace_driver
from sandbox.testing import RunningSandbox
from tests.sweeps.conftest import ACME, stored_items

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # tesseract is ~3x faster single-threaded here


def _ocr(path: str | None) -> str:
    assert path and Path(path).is_file()
    with Image.open(path) as img:
        big = img.convert("L").resize((img.width * 2, img.height * 2))
        return " ".join(pytesseract.image_to_string(big).split()).lower()


def test_crops_show_their_item_and_screens_show_the_account(
    rt: Runtime, sb: RunningSandbox
) -> None:
    c = sb.client
    post = c.add_post("acme", "Kettles are back")
    c.post_message(
        account="acme",
        kind="comment",
        author="nora",
        text="Where is the blue kettle sold",
        thread=post["id"],
    )
    c.post_message(
        account="acme", kind="dm", author="otto", text="Parcel number seven arrived broken"
    )
    assert rt.sweeper(triage=False).sweep(ACME).new_items == 2
    with rt.store.session() as s:
        items = {i.author: i for i in s.exec(select(Item)).all()}
    comment, dm = items["nora"], items["otto"]
    assert "blue kettle" in _ocr(comment.crop)
    assert "parcel number seven" in _ocr(dm.crop)
    assert "parcel" not in _ocr(comment.crop) and "kettle" not in _ocr(dm.crop)
    for item in (comment, dm):
        screen = _ocr(item.screenshot)
        assert "acme" in screen  # the logged-in account in the page header
        with Image.open(item.screenshot) as img, Image.open(item.crop) as crop:
            assert img.size == (1280, 900) and crop.width < img.width
            # The stored box is where the crop was cut: the screen's pixels there are the
            # crop's pixels (crops are lossless), which is what the review UI outlines.
            assert item.evidence_box is not None
            x, y, w, h = item.evidence_box
            assert (w, h) == crop.size
            cut = img.convert("RGB").crop((x, y, x + w, y + h))
            assert cut.tobytes() == crop.convert("RGB").tobytes()


class CountingScreens:
    """The workspace's real browser driver, counting the screens the sweep captures and
    keeping, before it closes, where the comments stood on the page."""

    _BOXES = """() => [...document.querySelectorAll('[data-testid=comment-item]')].map((e) => {
        const r = e.getBoundingClientRect();
        return [r.top + window.scrollY, r.height]; })"""

    def __init__(self, driver: Any) -> None:
        self._driver = driver
        self.tops: list[float] = []
        self.other_captures = 0
        self.boxes: list[tuple[float, float]] = []

    def screen_at(self, y: float) -> tuple[bytes, float]:
        png, top = self._driver.screen_at(y)
        self.tops.append(top)
        return png, top

    def screenshot(self, **kwargs: Any) -> bytes:
        self.other_captures += 1
        return bytes(self._driver.screenshot(**kwargs))

    def close(self) -> None:
        self.boxes = [tuple(b) for b in self._driver.page.evaluate(self._BOXES)]
        self._driver.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._driver, name)


def test_one_screenshot_per_screen_of_new_comments(rt: Runtime, sb: RunningSandbox) -> None:
    post = sb.client.add_post("acme", "A busy post")["id"]
    sb.client.bulk("acme", "comment", 150, seed=3, thread=post)
    drivers: list[CountingScreens] = []

    def counting(ws: Any) -> CountingScreens:
        drivers.append(CountingScreens(open_workspace_driver(rt.home, rt.catalog, ws)))
        return drivers[0]

    result = rt.sweeper(triage=False, driver_factory=counting).sweep(ACME)

    assert result.status == "ok" and result.new_items == 150
    assert result.screens == len(drivers[0].tops)
    screens = drivers[0]
    assert screens.other_captures == 0 and len(screens.boxes) == 150
    height = 900.0  # the viewport: one screen
    top = min(y for y, _ in screens.boxes)
    span = max(y + h for y, h in screens.boxes) - top
    tallest = max(h for _, h in screens.boxes)
    # Each capture shows the screen from the first item no earlier capture showed whole
    # (40 px above it for context): so no more than one per (screen - one item - 40 px).
    assert math.ceil(span / height) <= len(screens.tops)
    assert len(screens.tops) <= math.ceil(span / (height - tallest - 40))
    assert screens.tops == sorted(set(screens.tops))  # no window captured twice
    items = stored_items(rt)
    shown_on = {item.screenshot for item in items}
    assert len(shown_on) == len(screens.tops)  # every capture is some item's evidence
    assert all(item.crop and Path(item.crop).is_file() for item in items)
    assert all(item.crop and item.crop.endswith(".webp") for item in items)
