"""Rendering for the sandbox pages: the Jinja environment, the DOM-contract names, safe text.

Templates never write a ``data-testid`` or a class name literally: they call ``tid(name)`` and
``cls(name)``, so the ``changed_dom`` fault can rename every one of them (and the templates move
elements around when ``v2`` is true) while the visible text, ARIA roles and labels stay the same.
Autoescape is on; message text goes through ``linkify``, which escapes everything and turns only
``http(s)://`` URLs into links, so ``javascript:`` never becomes clickable.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

TEMPLATES = Path(__file__).parent / "templates"

# changed_dom renames: explicit for the names flows lean on most, a prefix for the rest.
RENAMED = {
    "account-handle": "nav-user-name",
    "comment-item": "cmt-entry",
    "comment-author": "cmt-by",
    "comment-text": "cmt-body",
    "comment-time": "cmt-when",
    "comment-list": "cmts",
    "message-item": "msg-row",
    "message-text": "msg-body",
    "message-author": "msg-from",
    "message-time": "msg-when",
    "dm-thread-item": "conv-row",
    "unread-marker": "conv-badge",
    "composer-input": "msg-field",
    "send-button": "msg-submit",
    "load-more": "more-cmts",
    "reply-button": "cmt-reply-open",
}

_URL = re.compile(r"https?://[^\s<>\"']+")


def testid(name: str, v2: bool) -> str:
    if not v2:
        return name
    return RENAMED.get(name, "x2-" + name.replace("-", "_"))


def classname(name: str, v2: bool) -> str:
    if not v2:
        return name
    return "_" + hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:6]


def linkify(text: str) -> Markup:
    """Escape ``text``; wrap only http(s) URLs in links (no other scheme is ever a link)."""
    out: list[str] = []
    pos = 0
    for m in _URL.finditer(text):
        out.append(str(escape(text[pos : m.start()])))
        url = escape(m.group(0))
        out.append(f'<a href="{url}" rel="nofollow noopener noreferrer" target="_blank">{url}</a>')
        pos = m.end()
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))  # noqa: S704 - every piece above is escaped


def ago(when: datetime) -> str:
    delta = datetime.now(UTC) - when
    secs = int(delta.total_seconds())
    if secs < 60:
        return "just now"
    if secs < 3600:
        return f"{secs // 60}m"
    if secs < 86400:
        return f"{secs // 3600}h"
    if secs < 86400 * 30:
        return f"{secs // 86400}d"
    return when.strftime("%b %d, %Y")


def safe_image(url: str | None) -> str | None:
    """Only our own media paths and http(s) URLs are ever put in an ``src``."""
    if url and (url.startswith("/media/") or url.startswith(("http://", "https://"))):
        return url
    return None


def make_env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["linkify"] = linkify
    env.filters["ago"] = ago
    env.filters["iso"] = lambda d: d.isoformat()
    env.filters["safe_image"] = safe_image
    return env


class Renderer:
    """Renders a template with the contract helpers bound to the right DOM version."""

    def __init__(self) -> None:
        self.env = make_env()

    def render(self, name: str, *, v2: bool = False, **ctx: Any) -> str:
        ctx.setdefault("account", None)
        ctx.setdefault("notice", None)
        return self.env.get_template(name).render(
            v2=v2,
            tid=lambda n: testid(n, v2),
            cls=lambda n: classname(n, v2),
            **ctx,
        )


def media_svg(name: str) -> str:
    """A small deterministic picture for ``/media/<name>.svg`` (posts and message images)."""
    digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()
    hue = int(digest[:4], 16) % 360
    label = escape(name)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="480" height="320" viewBox="0 0 480 320">'
        f'<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
        f'<stop offset="0" stop-color="hsl({hue},70%,62%)"/>'
        f'<stop offset="1" stop-color="hsl({(hue + 60) % 360},70%,45%)"/></linearGradient></defs>'
        '<rect width="480" height="320" fill="url(#g)"/>'
        '<circle cx="380" cy="80" r="40" fill="rgba(255,255,255,.35)"/>'
        '<path d="M0 320 L150 170 L260 260 L340 200 L480 320 Z" fill="rgba(0,0,0,.18)"/>'
        f'<text x="24" y="300" font-family="sans-serif" font-size="20" fill="#fff">{label}</text>'
        "</svg>"
    )
