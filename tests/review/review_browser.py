"""What the review UI's real-Chromium tests share: the app served by uvicorn on a free
port, Debian's Chromium, signing in, and reading the outlined screenshot back.

The fixtures ``server`` and ``browser`` reach every review test through this folder's
conftest; a Chromium test module overrides ``db_url`` to run on SQLite only.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI
from PIL import Image
from review_world import PASSWORD

from tests.serving import chromium, serving

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def server(app: FastAPI) -> Iterator[str]:
    """The app served over plain http on localhost; its base URL."""
    with serving(app) as url:
        yield url


@pytest.fixture
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def sign_in(page: Page, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def outlined_screen(page: Page) -> dict[str, Any]:
    """The whole screen as the item page draws it (an SVG: the screenshot, the item's
    box outlined): the SVG's box and the outline's box, in CSS pixels, and how many
    colours the drawn SVG has (a real screenshot has hundreds: text is antialiased; the
    SVG with its image refused or missing has its background, the shade and the
    outline's two strokes, a few dozen at most)."""
    svg = page.locator("svg.screen")
    svg.wait_for()
    page.wait_for_load_state("load")  # the SVG's image is part of the page's load
    shown = svg.bounding_box()
    outline = page.locator("#item-outline").bounding_box()
    assert shown is not None and outline is not None
    with Image.open(io.BytesIO(svg.screenshot())) as shot:
        colours = shot.convert("RGB").getcolors(maxcolors=1_000_000) or []
    return {"svg": shown, "outline": outline, "colours": len(colours)}
