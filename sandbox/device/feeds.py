"""The rows of the app's lists: conversations, chat bubbles, posts, comments and replies.

Each function turns state objects into ``Row``\\ s (a height and a builder) for
``lists.virtual_list``; the builders place every view at the row's screen position. No view
carries a message id: rows are told apart by what they show, as in a real app.
"""

from __future__ import annotations

from functools import partial

from sandbox.device import text as tx
from sandbox.device.lists import Row
from sandbox.device.nodes import (
    BUTTON,
    TEXT_VIEW,
    VIEW,
    VIEW_GROUP,
    Act,
    Action,
    Decor,
    Ink,
    Node,
    OcrTruth,
    Rect,
    app_id,
)
from sandbox.device.ocr import is_ocr_only
from sandbox.device.widgets import (
    ACCENT,
    BADGE,
    BUBBLE_IN,
    BUBBLE_OUT,
    MARGIN,
    MUTED,
    SURFACE,
    WIDTH,
    avatar,
    centered_ink,
    label,
    picture,
)
from sandbox.state import Message, Post, Thread
from sandbox.views import safe_image

BODY = 28  # message and comment text size (legible to OCR)
META = 20  # times
THREAD_ROW = 132
BUBBLE_TEXT = 456
IMAGE_W, IMAGE_H = 240, 180
RIGHT = WIDTH - MARGIN
DIVIDER = "#e4e6eb"


def _divider(bottom: int) -> Decor:
    return Decor(Rect(0, bottom - 1, WIDTH, bottom), DIVIDER)


def body_text(name: str, msg: Message, kind: str, x: int, y: int, max_width: int) -> Node:
    """A message's text: a TextView, or for an OCR-only row a custom view whose text is
    only in the image (see ``ocr.is_ocr_only``)."""
    lines = tx.wrap(msg.text, BODY, max_width)
    lh = tx.line_height(BODY)
    wide = max([tx.width(line, BODY) for line in lines] + [2])
    box = Rect(x, y, x + wide, y + lh * len(lines))
    ink = Ink(lines, x, y, BODY, lh)
    if is_ocr_only(msg):
        return Node(VIEW, box, rid=app_id(name), ink=ink, ocr=OcrTruth(kind, msg.id, msg.text))
    return Node(TEXT_VIEW, box, rid=app_id(name), text=msg.text, ink=ink)


# -- the inbox -------------------------------------------------------------------------------


def thread_rows(threads: list[tuple[Thread, Message | None, int]]) -> list[Row]:
    return [Row(THREAD_ROW, partial(_thread_row, t, last, unread)) for t, last, unread in threads]


def _thread_row(thread: Thread, last: Message | None, unread: int, top: int) -> Node:
    desc = f"Conversation with {thread.participant}" + (f", {unread} unread" if unread else "")
    row = Node(
        VIEW_GROUP,
        Rect(0, top, WIDTH, top + THREAD_ROW),
        rid=app_id("thread_row"),
        desc=desc,
        clickable=True,
        long_clickable=True,
        focusable=True,
        action=Action(Act.OPEN_THREAD, thread.id),
        decor=(Decor(Rect(128, top + THREAD_ROW - 1, WIDTH, top + THREAD_ROW), DIVIDER),),
    )
    row.add(avatar("thread_avatar", thread.participant, MARGIN, top + 26, 80))
    x = 128
    when = (
        label(
            "thread_time", tx.clock(last.time), RIGHT, top + 30, META, 260, color=MUTED, right=True
        )
        if last
        else None
    )
    name_room = RIGHT - x - (when.frame.width + 16 if when else 0)
    row.add(label("thread_name", thread.participant, x, top + 24, 28, name_room, bold=True), when)
    preview = (("You: " if last.from_brand else "") + last.text[:90]) if last else ""
    badge = _badge(unread, top + 72) if unread else None
    room = RIGHT - x - (badge.frame.width + 16 if badge else 0)
    row.add(
        label(
            "thread_preview", preview, x, top + 76, 24, room, color="#1c1e21" if unread else MUTED
        )
    )
    return row.add(badge)


def _badge(unread: int, y: int) -> Node:
    count = str(unread)
    wide = max(40, tx.width(count, 20, True) + 24)
    box = Rect(RIGHT - wide, y, RIGHT, y + 40)
    return Node(
        TEXT_VIEW,
        box,
        rid=app_id("unread_badge"),
        text=count,
        desc=f"{unread} unread",
        fill=BADGE,
        radius=20,
        ink=centered_ink(count, box, 20, color=SURFACE),
    )


# -- a DM thread -----------------------------------------------------------------------------


def message_rows(messages: list[Message]) -> list[Row]:
    """Chat order: ``messages`` oldest first, top to bottom."""
    return [Row(_message_height(m), partial(_message_row, m)) for m in messages]


def _bubble_inner(m: Message) -> tuple[int, int, str | None]:
    """(width, height) of a bubble's content, and its picture."""
    image = safe_image(m.image)
    lines = tx.wrap(m.text, BODY, BUBBLE_TEXT)
    show_text = bool(m.text) or image is None
    text_w = max(tx.width(line, BODY) for line in lines) if show_text else 0
    text_h = tx.line_height(BODY) * len(lines) if show_text else 0
    wide = max(text_w, IMAGE_W if image else 0, 2)
    tall = text_h + ((12 if text_h else 0) + IMAGE_H if image else 0)
    return wide, tall, image


def _message_height(m: Message) -> int:
    _, tall, _ = _bubble_inner(m)
    return 12 + tall + 28 + 6 + tx.line_height(META) + 10


def _message_row(m: Message, top: int) -> Node:
    wide, tall, image = _bubble_inner(m)
    out = m.from_brand
    bw, bh = wide + 48, tall + 28
    bx, by = (RIGHT - bw if out else MARGIN), top + 12
    row = Node(
        VIEW_GROUP,
        Rect(0, top, WIDTH, top + _message_height(m)),
        rid=app_id("message_row"),
        desc=f"Message from {m.author}",
    )
    bubble = Node(
        VIEW_GROUP,
        Rect(bx, by, bx + bw, by + bh),
        rid=app_id("message_bubble_out" if out else "message_bubble_in"),
        long_clickable=True,
        fill=BUBBLE_OUT if out else BUBBLE_IN,
        radius=28,
    )
    y = by + 14
    if m.text or image is None:
        text = body_text("message_text", m, "dm", bx + 24, y, BUBBLE_TEXT)
        bubble.add(text)
        y = text.frame.bottom + 12
    if image is not None:
        box = Rect(bx + 24, y, bx + 24 + IMAGE_W, y + IMAGE_H)
        bubble.add(picture("message_image", box, f"Image from {m.author}", image))
    stamp_x = bx + bw if out else bx
    when = label(
        "message_time", tx.clock(m.time), stamp_x, by + bh + 6, META, 400, color=MUTED, right=out
    )
    return row.add(bubble, when)


# -- posts -----------------------------------------------------------------------------------


def post_rows(posts: list[tuple[Post, int]]) -> list[Row]:
    return [Row(_post_height(p), partial(_post_row, p, count)) for p, count in posts]


POST_IMAGE_H = 320
TEXT_W = WIDTH - 2 * MARGIN


def _post_height(p: Post) -> int:
    image = POST_IMAGE_H + 16 if safe_image(p.image) else 0
    caption = tx.line_height(BODY) * len(tx.wrap(p.caption, BODY, TEXT_W))
    return 16 + image + caption + 8 + tx.line_height(META) + 8 + 64 + 24


def _post_row(p: Post, count: int, top: int) -> Node:
    row = Node(
        VIEW_GROUP,
        Rect(0, top, WIDTH, top + _post_height(p)),
        rid=app_id("post_row"),
        decor=(_divider(top + _post_height(p)),),
    )
    y = top + 16
    image = safe_image(p.image)
    if image:
        pic = picture("post_image", Rect(MARGIN, y, RIGHT, y + POST_IMAGE_H), "Post image", image)
        pic.clickable = True
        pic.action = Action(Act.OPEN_COMMENTS, p.id)
        row.add(pic)
        y += POST_IMAGE_H + 16
    caption = label("post_caption", p.caption, MARGIN, y, BODY, TEXT_W, wrapped=True)
    when = label(
        "post_time", tx.clock(p.time), MARGIN, caption.frame.bottom + 8, META, TEXT_W, color=MUTED
    )
    words = f"{count} comments"
    box = Rect(
        MARGIN,
        when.frame.bottom + 8,
        MARGIN + tx.width(words, 24, True) + 48,
        when.frame.bottom + 72,
    )
    more = Node(
        BUTTON,
        box,
        rid=app_id("post_comments_button"),
        text=words,
        clickable=True,
        focusable=True,
        action=Action(Act.OPEN_COMMENTS, p.id),
        fill="#e7f0fd",
        radius=32,
        ink=centered_ink(words, box, 24, color=ACCENT),
    )
    return row.add(caption, when, more)


# -- a post's comment sheet -------------------------------------------------------------------


def post_header_row(p: Post, total: int) -> Row:
    return Row(_header_height(p), partial(_post_header, p, total))


def _header_height(p: Post) -> int:
    caption = tx.line_height(BODY) * len(tx.wrap(p.caption, BODY, TEXT_W))
    return 16 + caption + 8 + tx.line_height(META) + 8 + tx.line_height(22) + 16


def _post_header(p: Post, total: int, top: int) -> Node:
    head = Node(
        VIEW_GROUP,
        Rect(0, top, WIDTH, top + _header_height(p)),
        rid=app_id("post_header"),
        decor=(_divider(top + _header_height(p)),),
    )
    caption = label("post_caption", p.caption, MARGIN, top + 16, BODY, TEXT_W, wrapped=True)
    when = label(
        "post_time", tx.clock(p.time), MARGIN, caption.frame.bottom + 8, META, TEXT_W, color=MUTED
    )
    count = label(
        "comment_count", f"{total} comments", MARGIN, when.frame.bottom + 8, 22, TEXT_W, color=MUTED
    )
    return head.add(caption, when, count)


def comment_rows(
    threads: list[tuple[Message, list[Message], Message]],
    authors: dict[str, str],
    target: str | None,
) -> list[Row]:
    """Each comment thread as the web shows it: the top-level comment, then its replies
    (newest first) indented below it. ``authors`` maps a parent comment to its author."""
    rows = []
    for root, kids, _ in threads:
        for c in (root, *kids):
            nested = c is not root
            parent = authors.get(c.parent_id or "", "") if nested else ""
            rows.append(
                Row(
                    _comment_height(c, nested),
                    partial(_comment_row, c, nested, parent, c.id == target),
                )
            )
    return rows


def _comment_x(nested: bool) -> int:
    return (104 if nested else MARGIN) + 56 + 16


def _comment_height(c: Message, nested: bool) -> int:
    lines = tx.wrap(c.text, BODY, RIGHT - _comment_x(nested))
    image = 12 + IMAGE_H if safe_image(c.image) else 0
    return 14 + tx.line_height(24) + 4 + tx.line_height(BODY) * len(lines) + image + 8 + 48 + 8


def _comment_row(c: Message, nested: bool, parent: str, target: bool, top: int) -> Node:
    x = _comment_x(nested)
    desc = f"Reply by {c.author} to {parent}" if nested else f"Comment by {c.author}"
    row = Node(
        VIEW_GROUP,
        Rect(0, top, WIDTH, top + _comment_height(c, nested)),
        rid=app_id("reply_row" if nested else "comment_row"),
        desc=desc,
        fill="#eef4ff" if target else None,
    )
    row.add(avatar("comment_avatar", c.author, x - 72, top + 14, 56))
    author = label("comment_author", c.author, x, top + 14, 24, RIGHT - x - 120, bold=True)
    row.add(author, _brand_badge(author.frame.right + 12, top + 16) if c.from_brand else None)
    text = body_text("comment_text", c, "comment", x, author.frame.bottom + 4, RIGHT - x)
    row.add(text)
    y = text.frame.bottom
    image = safe_image(c.image)
    if image:
        box = Rect(x, y + 12, x + IMAGE_W, y + 12 + IMAGE_H)
        row.add(picture("comment_image", box, f"Image from {c.author}", image))
        y += 12 + IMAGE_H
    when = label("comment_time", tx.clock(c.time), x, y + 18, META, 300, color=MUTED)
    return row.add(when, _reply_button(c, when.frame.right + 16, y + 8))


def _brand_badge(x: int, y: int) -> Node:
    box = Rect(x, y, x + 88, y + 30)
    ink = centered_ink("Brand", box, 18, color=SURFACE)
    return Node(
        TEXT_VIEW, box, rid=app_id("brand_badge"), text="Brand", fill=ACCENT, radius=15, ink=ink
    )


def _reply_button(c: Message, x: int, y: int) -> Node:
    box = Rect(x, y, x + tx.width("Reply", 22, True) + 32, y + 48)
    return Node(
        BUTTON,
        box,
        rid=app_id("reply_button"),
        text="Reply",
        desc=f"Reply to {c.author}",
        clickable=True,
        focusable=True,
        action=Action(Act.REPLY_TO, c.id),
        ink=centered_ink("Reply", box, 22, color=MUTED),
    )


def empty_row(words: str) -> Row:
    return Row(120, partial(_empty, words))


def _empty(words: str, top: int) -> Node:
    return label("empty_state", words, MARGIN, top + 40, 26, TEXT_W, color=MUTED)
