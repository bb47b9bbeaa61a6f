"""Text metrics for the device screens: the font, line wrapping, ellipsizing, time labels.

Layout and drawing measure text with the same Pillow font (DejaVu Sans, Debian's
``fonts-dejavu-core``), so a view's bounds hold exactly the lines the image shows. Results are
memoised: a screen is laid out again on every verb, and its texts rarely change.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from PIL import ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
REGULAR = f"{FONT_DIR}/DejaVuSans.ttf"
BOLD = f"{FONT_DIR}/DejaVuSans-Bold.ttf"
ELLIPSIS = "\u2026"


@lru_cache(maxsize=64)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    # The basic layout engine: left to right, no shaping; fast and the same everywhere.
    return ImageFont.truetype(BOLD if bold else REGULAR, size, layout_engine=ImageFont.Layout.BASIC)


def line_height(size: int) -> int:
    return round(size * 1.36)


@lru_cache(maxsize=131072)
def width(text: str, size: int, bold: bool = False) -> int:
    return int(round(font(size, bold).getlength(text))) if text else 0


@lru_cache(maxsize=65536)
def wrap(text: str, size: int, max_width: int, bold: bool = False) -> tuple[str, ...]:
    """``text`` broken into lines no wider than ``max_width``: at spaces where possible,
    inside a word that is wider than a line, and at every newline."""
    lines: list[str] = []
    for para in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        lines.extend(_wrap_paragraph(para, size, max_width, bold))
    return tuple(lines)


def _wrap_paragraph(para: str, size: int, max_width: int, bold: bool) -> list[str]:
    out: list[str] = []
    line = ""
    for word in para.split(" "):
        candidate = f"{line} {word}" if line else word
        if width(candidate, size, bold) <= max_width:
            line = candidate
            continue
        if line:
            out.append(line)
        line = ""
        while width(word, size, bold) > max_width:
            cut = _fit(word, size, max_width, bold)
            out.append(word[:cut])
            word = word[cut:]
        line = word
    out.append(line)
    return out


def _fit(word: str, size: int, max_width: int, bold: bool) -> int:
    """How many leading characters of ``word`` fit in ``max_width`` (at least one)."""
    lo, hi = 1, len(word)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if width(word[:mid], size, bold) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return lo


@lru_cache(maxsize=16384)
def ellipsize(text: str, size: int, max_width: int, bold: bool = False) -> str:
    """The first line of ``text``, cut with an ellipsis to fit ``max_width`` (as a
    single-line TextView with ``ellipsize="end"`` draws it)."""
    first = text.replace("\r", "\n").split("\n", 1)[0]
    if width(first, size, bold) <= max_width and first == text:
        return first
    lo, hi = 0, len(first)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if width(first[:mid] + ELLIPSIS, size, bold) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return first[:lo].rstrip() + ELLIPSIS


def clock(when: datetime) -> str:
    """A message time as the app shows it: absolute, in UTC, to the minute (``Jan 5, 2025
    14:05``), so the same state always draws the same screen."""
    utc = when.astimezone(UTC)
    return f"{utc:%b} {utc.day}, {utc.year} {utc:%H:%M}"
