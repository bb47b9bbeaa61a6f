"""What a person sees in the recorded screens, read independently of the project.

This module parses the real uiautomator dumps with lxml only: never through a
selector pack, the Android driver or a flow. Every attribute it looks at was
looked up by hand in the dumps (and, where one exists, checked against the
screenshot taken with them); the rule for each reading is written next to it.
Tests compare what the packs resolve, through ``AndroidDriver(RecordedScreen)``,
with these readings.

A box here is ``(x1, y1, x2, y2)`` as the dump's ``bounds`` says; the driver
reports ``(x, y, width, height)``: :func:`as_xywh` converts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

Bounds = tuple[int, int, int, int]

WHATSAPP_LIST = "whatsapp_chat_list.xml"
WHATSAPP_THREAD = "whatsapp_chat_thread.xml"
TIKTOK_FEED = "tiktok_foryou_feed.xml"
INSTAGRAM_FEED = "instagram_home_feed.xml"
INSTAGRAM_PROFILE = "instagram_profile_business.xml"
INSTAGRAM_CONTACT = "instagram_profile_contact_sheet.xml"
FACEBOOK_FEED = "facebook_home_feed.xml"
DUMPS = (
    WHATSAPP_LIST,
    WHATSAPP_THREAD,
    TIKTOK_FEED,
    INSTAGRAM_FEED,
    INSTAGRAM_PROFILE,
    INSTAGRAM_CONTACT,
    FACEBOOK_FEED,
)
SCREENSHOTS = ("whatsapp_chat_thread.png", "tiktok_foryou_feed.png")

# Read by eye from whatsapp_chat_thread.png, top to bottom: every bubble shown
# whole (the first one on screen is cut by the list's top edge and shows only
# "3,3 MB • JPG 23:48"), with its text (a document's file name) and its time.
WHATSAPP_THREAD_SEEN = (
    ("1000000000000", "23:48"),
    ("20191127_160350.jpg", "23:48"),
    ("1000000000000", "23:48"),
    ("20191127_160350.jpg", "23:48"),
    ("1000000000000", "23:48"),
    ("20191127_160350.jpg", "23:48"),
    ("1000000000000", "23:48"),
    ("20191127_160350.jpg", "23:48"),
    ("2023-08-14_191713.pdf", "23:53"),
    ("4000000000000", "20:39"),
    ("20191127_160350.jpg", "20:39"),
    ("4000000000000", "20:39"),
    ("20191127_160350.jpg", "20:40"),
    ("4000000000000", "20:40"),
    ("20191127_160350.jpg", "20:40"),
)


def data_dir() -> Path:
    """``<checkout>/../shared/data/android_ui``, next to the repository (never inside it)."""
    return Path(__file__).resolve().parents[2].parent / "shared" / "data" / "android_ui"


def missing_files(folder: Path) -> list[str]:
    return [name for name in (*DUMPS, *SCREENSHOTS) if not (folder / name).is_file()]


@cache
def root(name: str) -> etree._Element:
    return etree.parse(str(data_dir() / name)).getroot()


def bounds(node: etree._Element) -> Bounds:
    found = re.fullmatch(r"\[(-?\d+),(-?\d+)\]\[(-?\d+),(-?\d+)\]", node.get("bounds") or "")
    assert found is not None, node.attrib
    x1, y1, x2, y2 = (int(v) for v in found.groups())
    return x1, y1, x2, y2


def as_xywh(b: Bounds) -> tuple[float, float, float, float]:
    return float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])


def by_id(name: str, resource_id: str, scope: etree._Element | None = None) -> list[etree._Element]:
    """Nodes whose resource-id is exactly ``resource_id`` (in document order)."""
    where = scope if scope is not None else root(name)
    return [n for n in where.iter("node") if n.get("resource-id") == resource_id]


def by_desc(name: str, desc: str) -> list[etree._Element]:
    return [n for n in root(name).iter("node") if n.get("content-desc") == desc]


def window_bottom(name: str) -> int:
    """The lowest edge of the dump's top-level windows."""
    return max(bounds(n)[3] for n in root(name) if n.tag == "node")


def window_width(name: str) -> int:
    return max(bounds(n)[2] for n in root(name) if n.tag == "node")


def app_package(name: str) -> str:
    """The package of the largest top-level window (the status bar and launcher are not it)."""
    windows = [n for n in root(name) if n.tag == "node"]

    def area(n: etree._Element) -> int:
        x1, y1, x2, y2 = bounds(n)
        return (x2 - x1) * (y2 - y1)

    return str(max(windows, key=area).get("package"))


# -- WhatsApp ------------------------------------------------------------------------


@dataclass(frozen=True)
class Chat:
    name: str
    time: str
    preview: str
    row: Bounds


def whatsapp_chats() -> list[Chat]:
    """Rows of the chat list: each clickable ``contact_row_container`` with its name
    (``conversations_row_contact_name``), time (``…_row_date``) and last message
    (``single_msg_tv``)."""
    out = []
    for row in by_id(WHATSAPP_LIST, "com.whatsapp:id/contact_row_container"):
        (name,) = by_id(WHATSAPP_LIST, "com.whatsapp:id/conversations_row_contact_name", row)
        (time,) = by_id(WHATSAPP_LIST, "com.whatsapp:id/conversations_row_date", row)
        (preview,) = by_id(WHATSAPP_LIST, "com.whatsapp:id/single_msg_tv", row)
        out.append(
            Chat(name.get("text", ""), time.get("text", ""), preview.get("text", ""), bounds(row))
        )
    return out


@dataclass(frozen=True)
class Bubble:
    text: str | None  # message_text, or a document's title; None when neither is shown
    is_text: bool  # a text message (message_text), not a document
    time: str
    box: Bounds  # the bubble (main_layout)
    text_box: Bounds | None
    outgoing: bool  # it carries delivery ticks (com.whatsapp:id/status)
    whole: bool  # strictly inside the chat list's box, not touching its top or bottom edge


def whatsapp_bubbles() -> list[Bubble]:
    """Every bubble of the open chat: each ``main_layout`` in a row of the chat's
    ListView (``android:id/list``), in screen order."""
    (listing,) = [
        n
        for n in by_id(WHATSAPP_THREAD, "android:id/list")
        if n.get("class") == "android.widget.ListView"
    ]
    lx1, ly1, lx2, ly2 = bounds(listing)
    out = []
    for row in listing:
        for bubble in by_id(WHATSAPP_THREAD, "com.whatsapp:id/main_layout", row):
            typed = by_id(WHATSAPP_THREAD, "com.whatsapp:id/message_text", bubble)
            texts = typed or by_id(WHATSAPP_THREAD, "com.whatsapp:id/title", bubble)
            (time,) = by_id(WHATSAPP_THREAD, "com.whatsapp:id/date", bubble)
            b = bounds(bubble)
            out.append(
                Bubble(
                    text=texts[0].get("text") if texts else None,
                    is_text=bool(typed),
                    time=time.get("text", ""),
                    box=b,
                    text_box=bounds(texts[0]) if texts else None,
                    outgoing=bool(by_id(WHATSAPP_THREAD, "com.whatsapp:id/status", bubble)),
                    whole=b[1] > ly1 and b[3] < ly2,
                )
            )
    return out


def whatsapp_composer() -> tuple[str, Bounds]:
    (entry,) = by_id(WHATSAPP_THREAD, "com.whatsapp:id/entry")
    return entry.get("text", ""), bounds(entry)


# -- TikTok -----------------------------------------------------------------------------


def tiktok_inbox_tab() -> tuple[etree._Element, etree._Element]:
    """The "Caixa de entrada" label and its parent (the tab a finger hits)."""
    (label,) = [n for n in root(TIKTOK_FEED).iter("node") if n.get("text") == "Caixa de entrada"]
    parent = label.getparent()
    assert parent is not None
    return label, parent


def tiktok_comments() -> tuple[int, etree._Element]:
    """The count the comment button states in words ("… 329 comentários"), and the
    number label inside that button."""
    (button,) = [
        n
        for n in root(TIKTOK_FEED).iter("node")
        if (n.get("content-desc") or "").startswith("Leia ou adicione comentários")
    ]
    said = re.search(r"(\d+) comentários$", button.get("content-desc") or "")
    assert said is not None
    (label,) = [n for n in button.iter("node") if n is not button and n.get("text")]
    return int(said.group(1)), label


def tiktok_author() -> etree._Element:
    (author,) = by_id(TIKTOK_FEED, "com.zhiliaoapp.musically:id/title")
    return author


# -- Instagram ------------------------------------------------------------------------


def instagram_inbox_button() -> etree._Element:
    (button,) = by_id(INSTAGRAM_FEED, "com.instagram.android:id/action_bar_inbox_button")
    return button


def instagram_comment_button() -> etree._Element:
    (icon,) = by_id(INSTAGRAM_FEED, "com.instagram.android:id/row_feed_button_comment")
    return icon


def instagram_comment_count() -> tuple[int, etree._Element]:
    """The count the post's media states in words ("…, 57 comentários"), and the
    number Button that follows the comment button's clickable parent."""
    (media,) = by_id(INSTAGRAM_FEED, "com.instagram.android:id/carousel_image")
    said = re.search(r"(\d+) comentários", media.get("content-desc") or "")
    assert said is not None
    parent = instagram_comment_button().getparent()
    assert parent is not None
    label = parent.getnext()
    assert label is not None and label.get("class") == "android.widget.Button"
    return int(said.group(1)), label


def instagram_own_story() -> tuple[str, etree._Element]:
    """The handle in the content-desc of the story labelled "Seu story" (the account's own)."""
    (label,) = [
        n
        for n in by_id(INSTAGRAM_FEED, "com.instagram.android:id/username")
        if n.get("text") == "Seu story"
    ]
    container = next(
        a
        for a in label.iterancestors()
        if a.get("resource-id") == "com.instagram.android:id/outer_container"
    )
    (avatar,) = by_id(INSTAGRAM_FEED, "com.instagram.android:id/avatar_image_view", container)
    found = re.match(r"Story de ([^,]+),", avatar.get("content-desc") or "")
    assert found is not None
    return found.group(1), avatar


def instagram_contact_options() -> list[tuple[str, str, Bounds]]:
    """(kind, value, row box) of each row of the Contact sheet's list."""
    (listing,) = by_id(INSTAGRAM_CONTACT, "com.instagram.android:id/contact_options_rv")
    out = []
    for row in listing:
        (kind,) = by_id(INSTAGRAM_CONTACT, "com.instagram.android:id/contact_option_header", row)
        (value,) = by_id(INSTAGRAM_CONTACT, "com.instagram.android:id/contact_option_sub_text", row)
        out.append((kind.get("text", ""), value.get("text", ""), bounds(row)))
    return out


# -- Facebook --------------------------------------------------------------------------


def facebook_app_ids() -> list[str]:
    """The resource-ids the app itself set (android:id/… ones are the platform's)."""
    return [
        n.get("resource-id", "")
        for n in root(FACEBOOK_FEED).iter("node")
        if (n.get("resource-id") or "").startswith("com.facebook.katana:")
    ]


def facebook_mentions_comments() -> bool:
    """Whether anything on the screen says "coment…"/"comment" (the post's action bar)."""
    return any(
        "oment" in (n.get("content-desc") or "") + (n.get("text") or "")
        for n in root(FACEBOOK_FEED).iter("node")
    )
