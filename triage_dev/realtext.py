"""The real messages the team labelled, read from ``../shared/data`` (never copied here).

Each message gets a stable id (``tw:<tweet_id>``, ``fb:<comment id>``, ``x:<status id>``,
``yt:<comment id>``); the labels in ``triage_dev/labels`` carry only those ids. The texts
are not ours to redistribute, so the evaluation reads them from the shared data folder.

Rows 1,801 onward of the inbound tweets (``OUTSIDE_FROM``) are kept for a check outside
the team: :func:`messages` never yields them; only :func:`outside_tweets` does, and only
the drop-rate measure may read it.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import lxml.html

TWEETS_FILE = "tweets/twcs_inbound_random_2718.csv"
FACEBOOK_FILE = "web_html/facebook_mbasic_nintendo_post_comments.html"
X_REPLIES_FILE = "web_html/x_tweet_replies_graphql_twscrape.json"
YOUTUBE_FILES = (
    "web_html/youtube_comments_next_kurzgesagt_newpipe.json",
    "web_html/youtube_comment_replies_next_kurzgesagt_newpipe.json",
)
OUTSIDE_FROM = 1800  # data rows (header excluded) from here on stay outside the team

_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class RealMessage:
    id: str
    source: str  # tweets | facebook | x | youtube
    author: str
    text: str


def shared_data_dir() -> Path:
    """``INBOX_AGENT_SHARED_DATA`` or ``../shared/data`` beside the checkout."""
    env = os.environ.get("INBOX_AGENT_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def available(data: Path | None = None) -> bool:
    return ((data or shared_data_dir()) / TWEETS_FILE).is_file()


def _norm(text: str) -> str:
    return _WS.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _tweet_rows(data: Path) -> list[dict[str, str]]:
    with (data / TWEETS_FILE).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def tweets(data: Path | None = None) -> list[RealMessage]:
    """The first 1,800 inbound tweets, in file order."""
    rows = _tweet_rows(data or shared_data_dir())[:OUTSIDE_FROM]
    return [RealMessage(f"tw:{r['tweet_id']}", "tweets", r["author_id"], r["text"]) for r in rows]


def outside_tweets(data: Path | None = None) -> list[RealMessage]:
    """Rows 1,801 onward: for the drop-rate check only, never for training or tuning."""
    rows = _tweet_rows(data or shared_data_dir())[OUTSIDE_FROM:]
    return [RealMessage(f"tw:{r['tweet_id']}", "tweets", r["author_id"], r["text"]) for r in rows]


def _text_of(el: lxml.html.HtmlElement) -> str:
    parts: list[str] = []
    for node in el.iter():
        if node.tag == "img":
            parts.append(node.get("alt") or "")
        elif node.tag == "br":
            parts.append(" ")
        if node is not el and node.tail:
            parts.append(node.tail)
        if isinstance(node.tag, str) and node.text:
            parts.append(node.text)
    return _norm("".join(parts))


def facebook_comments(data: Path | None = None) -> list[RealMessage]:
    raw = ((data or shared_data_dir()) / FACEBOOK_FILE).read_bytes()
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
    doc = lxml.html.document_fromstring(raw, parser=parser)
    out = []
    for c in doc.xpath('//*[@data-sigil="comment"]'):
        body = c.xpath('.//*[@data-sigil="comment-body"]')[0]
        author = c.xpath('.//*[contains(concat(" ", normalize-space(@class), " "), " _2b05 ")]')
        name = _text_of(author[0]) if author else ""
        out.append(RealMessage(f"fb:{c.get('id')}", "facebook", name, _text_of(body)))
    return out


def _walk(node: object, key: str) -> Iterator[object]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield v
            yield from _walk(v, key)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v, key)


def x_replies(data: Path | None = None) -> list[RealMessage]:
    doc = json.loads(((data or shared_data_dir()) / X_REPLIES_FILE).read_text(encoding="utf-8"))
    out: dict[str, RealMessage] = {}
    for result in _walk(doc, "tweet_results"):
        tweet = result.get("result", {}) if isinstance(result, dict) else {}
        legacy = tweet.get("legacy") or tweet.get("tweet", {}).get("legacy")
        if not isinstance(legacy, dict) or "full_text" not in legacy:
            continue
        user = (tweet.get("core") or tweet.get("tweet", {}).get("core") or {}).get(
            "user_results", {}
        )
        handle = (user.get("result", {}).get("legacy", {}) or {}).get("screen_name", "")
        sid = legacy["id_str"]
        out.setdefault(sid, RealMessage(f"x:{sid}", "x", handle, _norm(legacy["full_text"])))
    return list(out.values())


def youtube_comments(data: Path | None = None) -> list[RealMessage]:
    out: dict[str, RealMessage] = {}
    for name in YOUTUBE_FILES:
        doc = json.loads(((data or shared_data_dir()) / name).read_text(encoding="utf-8"))
        for payload in _walk(doc, "commentEntityPayload"):
            if not isinstance(payload, dict):
                continue
            props = payload["properties"]
            cid = props["commentId"]
            author = payload.get("author", {}).get("displayName", "")
            text = _norm(props["content"]["content"])
            out.setdefault(cid, RealMessage(f"yt:{cid}", "youtube", author, text))
    return list(out.values())


def messages(data: Path | None = None) -> list[RealMessage]:
    """Every message the team labels: the first 1,800 tweets and the saved pages' comments."""
    return [
        *tweets(data),
        *facebook_comments(data),
        *x_replies(data),
        *youtube_comments(data),
    ]


def by_id(data: Path | None = None) -> dict[str, RealMessage]:
    """Every labelled message by id, read once per folder (callers only read it)."""
    return _by_id(data or shared_data_dir())


@functools.cache
def _by_id(folder: Path) -> dict[str, RealMessage]:
    return {m.id: m for m in messages(folder)}
