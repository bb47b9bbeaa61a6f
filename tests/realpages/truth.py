"""What a person counts on the saved real pages, read independently of the project.

This module parses the saved HTML with lxml only: never through Playwright, a selector
pack or a flow. Tests compare what a sweep collects against these lists, so the
reading here is deliberately plain and each rule is written down next to its function.

Text rule everywhere (:func:`norm`): Unicode NFC, every run of whitespace (including
no-break spaces and the saved pages' indentation) becomes one space, stripped. Element
text (:func:`text_of`) is what the markup says, in document order: text nodes, the
``alt`` of every ``<img>`` (emoji are images on both sites), a space for ``<br>``;
``<script>``, ``<style>``, ``<template>`` and ``<noscript>`` are skipped. Visually hidden
copy-and-paste helpers are kept, as ``textContent`` and ``innerText`` keep them: X's
``https://`` prefix of a shortened link (``font-size: 0.001px``) and Facebook's ``:)``
fallback next to an emoticon image whose ``alt`` is empty.

Every file is decoded as UTF-8 explicitly. The Facebook file declares no charset, so a
browser given it as bare ``text/html`` shows "Theyâ€™re"; here it reads "They’re".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import lxml.html
from lxml.etree import _Element

from .replay import FACEBOOK_FILE, X_INBOX_FILE, X_THREAD_FILE, default_data_dir

_SKIP = {"script", "style", "template", "noscript"}
_WS = re.compile(r"\s+")


def norm(text: str) -> str:
    """NFC, every run of whitespace -> one space, stripped."""
    return _WS.sub(" ", unicodedata.normalize("NFC", text)).strip()


def text_of(el: _Element, *, img_alt: bool = True) -> str:
    """The normalised text of ``el``: text nodes, ``<img alt>``, ``<br>`` as a space.

    ``img_alt=False`` leaves images out (for labels beside a profile picture, whose alt
    is "<Name>, profile picture")."""
    parts: list[str] = []

    def walk(node: _Element) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""  # comments, PIs: no text
        if tag.lower() in _SKIP:
            return
        if tag:
            if tag == "img" and img_alt:
                parts.append(node.get("alt") or "")
            elif tag == "br":
                parts.append(" ")
            parts.append(node.text or "")
            for child in node:
                walk(child)
                parts.append(child.tail or "")

    walk(el)
    return norm("".join(parts))


def data_dir() -> Path:
    return default_data_dir()


@cache
def _document(name: str) -> _Element:
    raw = (data_dir() / name).read_bytes()
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
    return lxml.html.document_fromstring(raw, parser=parser)


def _one(el: _Element, xpath: str) -> _Element:
    found = el.xpath(xpath)
    if len(found) != 1:
        raise AssertionError(f"expected one match for {xpath!r}, got {len(found)}")
    return found[0]


def _first(el: _Element, xpath: str) -> _Element | None:
    found = el.xpath(xpath)
    return found[0] if found else None


def _has_class(name: str) -> str:
    return f'contains(concat(" ", normalize-space(@class), " "), " {name} ")'


# -- Facebook (m.facebook.com story page, logged out) -----------------------------------


@dataclass(frozen=True)
class FbComment:
    """One comment shown on the Facebook page.

    ``comment_id`` is the comment element's ``id`` attribute (the bare comment fbid on
    ``<div data-sigil="comment" id="3154024434681988">``). The page also carries the
    composite token ``data-commentid="<post_id>_<comment_id>"`` on the comment body (and
    in ``data-store``); :attr:`token` rebuilds it. ``post_id`` is the post the comment
    belongs to: the ``<id>`` of the enclosing ``<div id="ufi_<id>">`` feedback container,
    which equals the story's ``top_level_post_id`` (for the cover-photo story this differs
    from ``mf_story_key``: 4194934713924283 vs 4194935043924250).
    """

    post_id: str
    comment_id: str
    author: str
    text: str
    time_text: str
    parent_comment_id: str | None

    @property
    def token(self) -> str:
        return f"{self.post_id}_{self.comment_id}"


@dataclass(frozen=True)
class FbCollapsedReplies:
    """A "<name> replied · N replies" control (``data-sigil="replies-see-more"``).

    The replies themselves are not on the page: the control sits inside its parent
    comment and loads them on demand. ``data-reply-to`` is the parent's token.
    """

    post_id: str
    parent_comment_id: str
    reply_count: int
    label: str


@dataclass(frozen=True)
class FbPost:
    """A post (story) with its comments block; ``more_comments`` is the "View more
    comments…" link (``#see_next_<post_id>``) that loads older comments."""

    post_id: str
    story_key: str
    comment_count: int
    more_comments: bool


def _fb() -> _Element:
    return _document(FACEBOOK_FILE)


def facebook_comments() -> list[FbComment]:
    """Every ``data-sigil="comment"`` element, in page order.

    Nesting: no comment element sits inside another one, so every comment shown is
    top-level (``parent_comment_id`` None). Replies exist but are collapsed behind the
    29 ``replies-see-more`` controls (:func:`facebook_collapsed_replies`); none is shown.
    Had a reply been expanded inline, its parent would be the enclosing comment element;
    the code follows that rule, so it stays right if a page shows one.
    """
    out = []
    for c in _fb().xpath('//*[@data-sigil="comment"]'):
        ufi = _one(c, 'ancestor::*[starts-with(@id, "ufi_")][1]')
        post_id = ufi.get("id").removeprefix("ufi_")
        parent = _first(c, 'ancestor::*[@data-sigil="comment"][1]')
        body = _one(c, './/*[@data-sigil="comment-body"]')
        out.append(
            FbComment(
                post_id=post_id,
                comment_id=c.get("id"),
                author=text_of(_one(c, f".//*[{_has_class('_2b05')}]")),
                text=text_of(body),
                time_text=text_of(_one(c, './/*[@data-sigil="ufi-inline-comment-actions"]//abbr')),
                parent_comment_id=parent.get("id") if parent is not None else None,
            )
        )
    return out


def facebook_collapsed_replies() -> list[FbCollapsedReplies]:
    out = []
    for r in _fb().xpath('//*[@data-sigil="replies-see-more"]'):
        post_id, _, parent_id = r.get("data-reply-to").partition("_")
        label = text_of(r, img_alt=False)
        m = re.search(r"(\d+) repl(?:y|ies)\b", label)
        out.append(FbCollapsedReplies(post_id, parent_id, int(m.group(1)) if m else 0, label))
    return out


def facebook_posts() -> list[FbPost]:
    out = []
    for ufi in _fb().xpath('//*[starts-with(@id, "ufi_")]'):
        post_id = ufi.get("id").removeprefix("ufi_")
        story = _one(ufi, 'ancestor::*[@data-sigil="m-story-view"][1]')
        ft = _one(story, './/*[@data-ft][contains(@data-sigil, "story-div")]').get("data-ft")
        m = re.search(r'"mf_story_key":"(\d+)"', ft)
        out.append(
            FbPost(
                post_id=post_id,
                story_key=m.group(1) if m else "",
                comment_count=len(ufi.xpath('.//*[@data-sigil="comment"]')),
                more_comments=bool(ufi.xpath(f'.//*[@id="see_next_{post_id}"]//a')),
            )
        )
    return out


# -- X direct-message inbox --------------------------------------------------------------

#: The preview phrases X writes for the signed-in owner's own last message or action. X's
#: web client has a pair for each kind: "You sent a photo" (owner) vs "Sent a photo"
#: (the partner, in a one-to-one conversation) or "<Name> sent a photo" (a group member);
#: "You reacted with 👍: …" vs "Contact 05 reacted with 🔥: …"; and "You followed this
#: account" / "You accepted the request" are the owner's own actions. "You: …" is
#: included for a group's "<Name>: text" form written by the owner.
OWN_PREVIEW = re.compile(
    r"^You(?::\s| sent\b| shared\b| reacted\b| replied\b| liked\b| followed\b| accepted\b"
    r"| forwarded\b| unsent\b| changed\b| added\b| removed\b| left\b| created\b)"
)


@dataclass(frozen=True)
class XConversation:
    """One row (``data-testid="conversation"``) of the X inbox.

    ``own_preview`` is True when the preview text itself says the owner wrote or did it
    (:data:`OWN_PREVIEW`: "You sent a photo", "You reacted with 👍: …", "You followed
    this account", "You: …"). "Sent a link" and "Shared a post" are the partner's: the page
    shows "You sent a photo" next to them, and X's client renders the owner's link as "You
    sent a link". A plain text preview carries no author mark at all, so an owner's own
    text (user02, user16 and user28 quote the owner's own e-mail/phone) counts as False:
    the page does not say who wrote it.
    """

    partner_handle: str
    partner_name: str
    preview: str
    own_preview: bool
    time: str | None


def x_conversations() -> list[XConversation]:
    """Rows in page order. The handle is the avatar link's ``href`` (``/user01``), checked
    against the row's ``@user01``; the name is the row's first text block; the preview is
    the first text block after the one holding ``<time>``."""
    doc = _document(X_INBOX_FILE)
    out = []
    for row in doc.xpath('//*[@data-testid="conversation"]'):
        href = _one(row, './/a[@data-testid="DM_Conversation_Avatar"]').get("href")
        handle = href.strip("/")
        blocks = [b for b in row.xpath('.//div[@dir="ltr"]') if not b.xpath("ancestor::button")]
        texts = [text_of(b) for b in blocks]
        if f"@{handle}" not in texts:
            raise AssertionError(f"row for {href} does not show @{handle}: {texts}")
        time_el = _first(row, ".//time")
        at = next(i for i, b in enumerate(blocks) if b.xpath(".//time"))
        preview = next(t for t in texts[at + 1 :] if t)
        out.append(
            XConversation(
                partner_handle=handle,
                partner_name=texts[0],
                preview=preview,
                own_preview=bool(OWN_PREVIEW.match(preview)),
                time=time_el.get("datetime") if time_el is not None else None,
            )
        )
    return out


def x_owner_handle() -> str:
    """The signed-in account, from the side navigation's profile link (``/0thernet``)."""
    doc = _document(X_INBOX_FILE)
    return _one(doc, '//a[@data-testid="AppTabBar_Profile_Link"]').get("href").strip("/")


# -- X tweet detail (a thread) -----------------------------------------------------------

_STATUS = re.compile(r"^/([^/]+)/status/(\d+)$")


@dataclass(frozen=True)
class XTweet:
    """One ``article[data-testid="tweet"]`` of the conversation timeline.

    Everything comes from the tweet's own parts, never its quoted tweet (the quote is a
    ``div[role="link"]`` inside the article with its own User-Name, tweetText and
    ``<time>``): ``status_id``/``author_handle`` from the ``/<handle>/status/<id>`` link
    that wraps the tweet's own ``<time>``; ``posted_at`` that ``<time datetime>``;
    ``author_name``/``author_handle`` from the own ``User-Name`` block; ``text`` from the
    own ``tweetText`` (the "Show more" button is outside it); ``truncated`` when the own
    ``tweet-text-show-more-link`` is shown.

    ``parent_status_id``: the first article is the focused tweet (the page's canonical
    URL, ``tabindex=-1``, the large layout) and nothing is shown above it, so None. Every
    later article is a reply to the article before it: X lists a focused tweet's
    self-thread in reply order, the first reply under the focused tweet and each further
    one joined to the previous by the thread line drawn between avatars (articles 3 and 4
    have the line above their avatar, articles 2 and 3 the line below). The page has no
    "Replying to" text; the ids and times (00:03:10-11, ascending) agree.
    """

    status_id: str
    author_handle: str
    author_name: str
    text: str
    truncated: bool
    posted_at: str | None
    parent_status_id: str | None


def _own(article: _Element, xpath: str) -> list[_Element]:
    """Matches of ``xpath`` in ``article`` that are not inside its quoted tweet."""
    return [
        e
        for e in article.xpath(xpath)
        if not any(a.tag == "div" and a.get("role") == "link" for a in _between(e, article))
    ]


def _between(el: _Element, top: _Element) -> list[_Element]:
    out = []
    node = el.getparent()
    while node is not None and node is not top:
        out.append(node)
        node = node.getparent()
    return out


def x_thread_tweets() -> list[XTweet]:
    doc = _document(X_THREAD_FILE)
    out: list[XTweet] = []
    for art in doc.xpath('//article[@data-testid="tweet"]'):
        own_times = [
            t for t in _own(art, ".//time") if t.xpath('ancestor::a[contains(@href, "/status/")]')
        ]
        if len(own_times) != 1:
            raise AssertionError(f"expected one own status time, got {len(own_times)}")
        time_el = own_times[0]
        link = _one(time_el, 'ancestor::a[contains(@href, "/status/")][1]')
        m = _STATUS.match(link.get("href"))
        if m is None:
            raise AssertionError(f"unexpected status link {link.get('href')!r}")
        handle, status_id = m.groups()
        (user_name,) = _own(art, './/*[@data-testid="User-Name"]')
        name_block, *rest = [text_of(b) for b in user_name.xpath('.//div[@dir="ltr"]')]
        if f"@{handle}" not in rest:
            raise AssertionError(f"User-Name of {status_id} does not show @{handle}: {rest}")
        texts = _own(art, './/*[@data-testid="tweetText"]')
        out.append(
            XTweet(
                status_id=status_id,
                author_handle=handle,
                author_name=name_block,
                text=text_of(texts[0]) if texts else "",
                truncated=bool(_own(art, './/*[@data-testid="tweet-text-show-more-link"]')),
                posted_at=time_el.get("datetime"),
                parent_status_id=out[-1].status_id if out else None,
            )
        )
    return out


def x_quoted_tweet_times() -> list[str]:
    """``<time datetime>`` of quoted tweets (the times a tweet's own must not be)."""
    doc = _document(X_THREAD_FILE)
    return [
        t.get("datetime")
        for t in doc.xpath('//article[@data-testid="tweet"]//div[@role="link"]//time')
    ]
