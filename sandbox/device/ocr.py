"""Which rows the app draws as a custom view: text in the image, not in the screen tree.

The rule (deterministic, so tests can predict it): a DM or comment is drawn OCR-only when the
number in its id is divisible by 4 (``m4``, ``m8``, ``c12`` ...) and its text is plain Latin
text a custom view can draw: 1 to 200 characters, every one printable ASCII or Latin-1
(U+0020-U+007E, U+00A0-U+00FF). Its text view is then an ``android.view.View`` with
``text=""`` and the bounds of the drawn lines. Messages with emoji, right-to-left or invisible
characters, control characters or very long texts always carry their text in the tree, and
so do the brand's own replies: a reply flow confirms a send by reading the brand's messages,
and a confirmation read by OCR could miss a sent reply and send it again.

``ocr_rows(frame)`` lists the OCR-only views a rendered screen holds, with their true text
(the admin API serves it at ``GET /admin/devices/{serial}/ocr``).
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.device.nodes import Frame
from sandbox.state import Message

MAX_OCR_CHARS = 200
_DIGITS = re.compile(r"(\d+)$")


def _plain(ch: str) -> bool:
    code = ord(ch)
    return 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xFF


def is_ocr_only(message: Message) -> bool:
    """Whether ``message`` is drawn without text in the screen tree (see the module doc)."""
    if message.from_brand:  # the brand's own replies keep their text (see the module doc)
        return False
    found = _DIGITS.search(message.id)
    if found is None or int(found.group(1)) % 4 != 0:
        return False
    text = message.text
    return 0 < len(text) <= MAX_OCR_CHARS and all(_plain(ch) for ch in text)


def ocr_rows(frame: Frame) -> list[dict[str, Any]]:
    """Every OCR-only view on screen: its message, true text, drawn lines, visible
    ``bounds`` and full ``frame`` (``clipped`` when part of it is scrolled out of view), and
    whether a dialog window covers it."""
    rows = []
    for depth, window in enumerate(frame.windows):
        covered = depth < len(frame.windows) - 1
        for node in window.root.walk():
            box = node.bounds
            if node.ocr is None or box is None:
                continue
            rows.append(
                {
                    "kind": node.ocr.kind,
                    "message_id": node.ocr.message_id,
                    "text": node.ocr.text,
                    "lines": list(node.ink.lines) if node.ink else [],
                    "resource_id": node.rid,
                    "bounds": list(box),
                    "frame": list(node.frame),
                    "clipped": box != node.frame,
                    "covered": covered,
                }
            )
    return rows
