"""Evidence shows what it claims: each crop is the item, each screen is the screen around it.

Read back with real tesseract OCR, so a crop taken at the wrong place fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytesseract
from PIL import Image
from sqlmodel import select

from agent.runtime import Runtime
from agent.store import Item
from sandbox.testing import RunningSandbox
from tests.sweeps.conftest import ACME

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
