"""What a flow collects: items with a stable key, independent of their place on screen.

The key is the platform's message id when the screen exposes one, else a hash
of author, text, thread and posted time. Never of the position on screen: the
same comment scrolled to another place is the same item.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field


def _h(*parts: str) -> str:
    joined = "\x1f".join(parts)
    return hashlib.sha256(joined.encode("utf-8", "surrogatepass")).hexdigest()


def content_id(author: str, text: str, thread: str, posted_at: str | None) -> str:
    """An id for items whose screen shows no message id (NFC so renderings agree)."""
    norm = [unicodedata.normalize("NFC", p) for p in (author, text, thread, posted_at or "")]
    return "h:" + _h(*norm)[:32]


def stable_key(platform: str, account: str, thread: str, message_id: str) -> str:
    """The item's unique key in the store: one per platform + account + thread + message.

    Parts are trimmed and the platform lowercased, so the same message read
    twice (or typed by hand into a test) always gets the same key.
    """
    return _h(platform.strip().lower(), account.strip(), thread.strip(), message_id.strip())[:40]


@dataclass
class CollectedItem:
    platform: str
    account: str
    thread: str
    kind: str
    message_id: str
    author: str
    text: str
    key: str
    posted_at: str | None = None
    parent_id: str | None = None
    parent_key: str | None = None
    screenshot: str | None = None
    crop: str | None = None
    own: bool = False  # written by the workspace's own account (a reply we sent)
    author_handle: str | None = None  # the @handle beside the display name, without the @
    posted_text: str | None = None  # the time as the screen showed it ("3h", "on Fri")
    posted_how: str | None = None  # iso | shown | unreadable (flows.times)
    truncated: bool = False  # the screen showed only the start of the text ("Show more")
    ocr_confidence: float | None = None  # lowest confidence of the fields read by OCR (0-1)
    ocr_fields: list[str] = field(default_factory=list)  # fields read from pixels, not the tree
    extra: dict[str, str] = field(default_factory=dict)
