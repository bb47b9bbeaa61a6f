"""Building blocks of the app's screens: labels, buttons, inputs, images, toolbar, tabs.

Each returns a ``Node`` whose frame is measured with the drawing font, so what the tree
reports is where the image shows it. A single-line label keeps its full text in the tree
and draws it ellipsized, as a TextView with ``ellipsize="end"`` does.
"""

from __future__ import annotations

import zlib

from sandbox.device import text as tx
from sandbox.device.nodes import (
    BUTTON,
    EDIT_TEXT,
    IMAGE_BUTTON,
    IMAGE_VIEW,
    LINEAR_LAYOUT,
    TEXT_VIEW,
    VIEW_GROUP,
    Act,
    Action,
    Decor,
    Ink,
    Node,
    Rect,
    app_id,
)

WIDTH, HEIGHT = 720, 1280
STATUS_BAR = 48
NAV_BAR = 48
CONTENT = Rect(0, STATUS_BAR, WIDTH, HEIGHT - NAV_BAR)
TOOLBAR = Rect(0, STATUS_BAR, WIDTH, 160)
TABS = Rect(0, 160, WIDTH, 240)
MARGIN = 24

INK = "#1c1e21"
MUTED = "#5f6368"
ACCENT = "#1565c0"
SURFACE = "#ffffff"
SUNKEN = "#f0f2f5"
BUBBLE_IN = "#eceff3"
BUBBLE_OUT = "#d6e7ff"
NOTICE = "#fff3e0"
ALERT = "#fde8e8"
BADGE = "#d93025"


def label(
    name: str,
    text: str,
    x: int,
    y: int,
    size: int,
    max_width: int,
    *,
    bold: bool = False,
    color: str = INK,
    wrapped: bool = False,
    right: bool = False,
    desc: str = "",
    package_id: str | None = None,
) -> Node:
    """A TextView at (x, y) (or ending at x when ``right``); ``wrapped`` breaks it into lines,
    otherwise it is one ellipsized line."""
    lines = (
        tx.wrap(text, size, max_width, bold)
        if wrapped
        else (tx.ellipsize(text, size, max_width, bold),)
    )
    wide = max([tx.width(line, size, bold) for line in lines] + [2])
    left = x - wide if right else x
    lh = tx.line_height(size)
    return Node(
        TEXT_VIEW,
        Rect(left, y, left + wide, y + lh * len(lines)),
        rid=package_id or app_id(name),
        text=text,
        desc=desc,
        ink=Ink(lines, left, y, size, lh, color, bold),
    )


def centered_ink(text: str, box: Rect, size: int, *, bold: bool = True, color: str = INK) -> Ink:
    drawn = tx.ellipsize(text, size, box.width - 16, bold)
    lh = tx.line_height(size)
    x = box.left + (box.width - tx.width(drawn, size, bold)) // 2
    return Ink((drawn,), x, box.top + (box.height - lh) // 2, size, lh, color, bold)


def button(
    name: str,
    text: str,
    box: Rect,
    action: Action,
    *,
    size: int = 26,
    fill: str | None = ACCENT,
    color: str = SURFACE,
    desc: str = "",
    rid: str | None = None,
) -> Node:
    return Node(
        BUTTON,
        box,
        rid=rid or app_id(name),
        text=text,
        desc=desc,
        clickable=True,
        focusable=True,
        action=action,
        fill=fill,
        radius=box.height // 2 if fill else 0,
        ink=centered_ink(text, box, size, color=color),
    )


def icon_button(
    name: str, glyph: str, box: Rect, action: Action, desc: str, *, fill: str | None = None
) -> Node:
    color = SURFACE if fill else INK
    return Node(
        IMAGE_BUTTON,
        box,
        rid=app_id(name),
        desc=desc,
        clickable=True,
        focusable=True,
        action=action,
        fill=fill,
        radius=box.height // 2,
        ink=centered_ink(glyph, box, 34, bold=False, color=color),
    )


def edit_text(
    name: str,
    field: str,
    value: str,
    hint: str,
    box: Rect,
    *,
    focused: bool,
    password: bool = False,
) -> Node:
    """An EditText; like a real one it reports its hint as text while empty."""
    shown = "\u2022" * len(value) if password else value
    size = 28
    drawn = (
        _tail(shown, size, box.width - 48) if shown else tx.ellipsize(hint, size, box.width - 48)
    )
    lh = tx.line_height(size)
    ink = Ink(
        (drawn,), box.left + 24, box.top + (box.height - lh) // 2, size, lh, INK if shown else MUTED
    )
    return Node(
        EDIT_TEXT,
        box,
        rid=app_id(name),
        text=shown or hint,
        clickable=True,
        long_clickable=True,
        focusable=True,
        focused=focused,
        password=password,
        action=Action(Act.FOCUS, field),
        fill=SURFACE,
        outline=ACCENT if focused else "#c4c8cf",
        radius=min(box.height // 2, 28),
        ink=ink,
    )


def _tail(text: str, size: int, max_width: int) -> str:
    """The end of a long single-line input, where the cursor is."""
    flat = text.replace("\n", " ")
    if tx.width(flat, size) <= max_width:
        return flat
    lo, hi = 0, len(flat)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if tx.width(tx.ELLIPSIS + flat[len(flat) - mid :], size) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return tx.ELLIPSIS + flat[len(flat) - lo :]


def shade(name: str) -> str:
    """A stable colour for a picture or an avatar (the same name, the same colour)."""
    crc = zlib.crc32(name.encode("utf-8", "replace"))
    r, g, b = 90 + crc % 120, 90 + (crc >> 8) % 120, 90 + (crc >> 16) % 120
    return f"#{r:02x}{g:02x}{b:02x}"


def picture(name: str, box: Rect, desc: str, source: str) -> Node:
    return Node(IMAGE_VIEW, box, rid=app_id(name), desc=desc, fill=shade(source), radius=16)


def avatar(name: str, person: str, x: int, y: int, size: int) -> Node:
    box = Rect(x, y, x + size, y + size)
    initial = (person[:1] or "?").upper()
    return Node(
        IMAGE_VIEW,
        box,
        rid=app_id(name),
        fill=shade(person),
        radius=size // 2,
        ink=centered_ink(initial, box, size // 2, color=SURFACE),
    )


def toolbar(title: str, handle: str | None, *, up: bool) -> Node:
    """The app bar: an up arrow on inner pages, the page title, the signed-in handle."""
    bar = Node(VIEW_GROUP, TOOLBAR, rid=app_id("toolbar"), fill=SURFACE)
    x = MARGIN
    if up:
        bar.add(
            icon_button(
                "toolbar_up", "\u2190", Rect(8, 64, 88, 144), Action(Act.NAV_UP), "Navigate up"
            )
        )
        x = 100
    handle_width = tx.width(handle, 24) if handle else 0
    room = WIDTH - x - MARGIN - handle_width - 24
    bar.add(label("toolbar_title", title, x, 80, 34 if not up else 32, room, bold=True))
    if handle:
        bar.add(
            label("account_handle", handle, WIDTH - MARGIN, 90, 24, 300, color=MUTED, right=True)
        )
    return bar


def tab_bar(selected: str) -> Node:
    bar = Node(LINEAR_LAYOUT, TABS, rid=app_id("tab_bar"), fill=SURFACE)
    for i, (name, title, act) in enumerate(
        (("tab_inbox", "Inbox", Act.TAB_INBOX), ("tab_posts", "Posts", Act.TAB_POSTS))
    ):
        box = Rect(i * WIDTH // 2, TABS.top, (i + 1) * WIDTH // 2, TABS.bottom)
        on = name == selected
        tab = Node(
            TEXT_VIEW,
            box,
            rid=app_id(name),
            text=title,
            desc=title,
            clickable=True,
            focusable=True,
            selected=on,
            action=Action(act),
            decor=(Decor(Rect(box.left, box.bottom - 5, box.right, box.bottom), ACCENT),)
            if on
            else (),
            ink=centered_ink(title, box, 26, color=ACCENT if on else MUTED),
        )
        bar.add(tab)
    return bar
