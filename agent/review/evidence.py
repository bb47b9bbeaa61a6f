"""An item's evidence files as the review UI shows them: which file a route may serve
(only the files the item row names, only under the home's ``screenshots/``), and where
the item sits on its whole screen (the outline drawn over it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from agent.store import Item

EVIDENCE_TYPES = {".png": "image/png", ".webp": "image/webp"}  # screens, crops (flows.evidence)
KINDS = ("screen", "crop")


def evidence_path(item: Item, kind: str, root: Path) -> Path | None:
    """The file of ``kind`` ("screen" or "crop") the item names, when it is a screenshot
    under ``root`` that exists; None otherwise (the route answers "not found")."""
    if kind not in KINDS:
        return None
    stored = item.screenshot if kind == "screen" else item.crop
    if not stored:
        return None
    root = root.resolve()
    path = Path(stored)
    path = (path if path.is_absolute() else root / path).resolve()
    if not path.is_relative_to(root) or path.suffix.lower() not in EVIDENCE_TYPES:
        return None
    return path if path.is_file() else None


@dataclass(frozen=True)
class Outline:
    """The item's box on its screen, in the screen's pixels, and the screen's size: the
    page draws the screen in an SVG whose viewBox is the screen, the box as a rect."""

    width: int
    height: int
    x: int
    y: int
    w: int
    h: int


def outline_of(item: Item, root: Path) -> Outline | None:
    """Where the item is on its whole screen; None when the place was not recorded (an
    item stored before it was, or one without a crop) or the screen cannot be read.

    Only the image's header is read (its size), not its pixels."""
    box = item.evidence_box
    if not box or len(box) != 4:
        return None
    path = evidence_path(item, "screen", root)
    if path is None:
        return None
    try:
        with Image.open(path) as image:
            width, height = image.size
    except (OSError, UnidentifiedImageError):
        return None
    try:
        x, y, w, h = (int(v) for v in box)
    except (TypeError, ValueError):
        return None
    x, y = min(max(0, x), width), min(max(0, y), height)
    w, h = min(w, width - x), min(h, height - y)
    if w <= 0 or h <= 0:
        return None
    return Outline(width, height, x, y, w, h)
