"""The independent reading of the saved pages sees what a person counts, and the replay
server serves each page as it was recorded."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from . import truth
from .replay import ROUTES, ReplayServer

# -- Facebook ----------------------------------------------------------------------------


def test_facebook_108_comments_over_4_posts() -> None:
    comments = truth.facebook_comments()
    assert len(comments) == 108
    per_post = Counter(c.post_id for c in comments)
    assert per_post == {
        "3065154550235644": 30,
        "4194934713924283": 30,
        "4193752747375813": 18,
        "4191173794300375": 30,
    }
    assert len({c.comment_id for c in comments}) == 108
    assert all(c.author and c.text and c.time_text for c in comments)


def test_facebook_posts_match_their_comments() -> None:
    posts = truth.facebook_posts()
    assert [p.post_id for p in posts] == list(
        dict.fromkeys(c.post_id for c in truth.facebook_comments())
    )
    assert sum(p.comment_count for p in posts) == 108
    assert all(p.more_comments for p in posts)  # each shows "View more comments…"
    # the cover-photo story: its story key is not the post the comments belong to
    assert {p.post_id: p.story_key for p in posts}["4194934713924283"] == "4194935043924250"


def test_facebook_ids_agree_with_the_composite_token(web_html: Path) -> None:
    raw = (web_html / "facebook_mbasic_nintendo_post_comments.html").read_bytes()
    for c in truth.facebook_comments():
        assert f'data-commentid="{c.token}"'.encode() in raw
        assert c.comment_id.isdigit()


def test_facebook_replies_are_collapsed_not_shown() -> None:
    comments = truth.facebook_comments()
    assert all(c.parent_comment_id is None for c in comments)
    collapsed = truth.facebook_collapsed_replies()
    assert len(collapsed) == 29
    assert sum(r.reply_count for r in collapsed) == 129
    by_id = {c.comment_id: c for c in comments}
    for r in collapsed:
        assert by_id[r.parent_comment_id].post_id == r.post_id
    assert collapsed[0].label == "Charlsea Capehart replied · 1 reply"


def test_facebook_text_is_utf8_and_normalised() -> None:
    comments = {c.comment_id: c for c in truth.facebook_comments()}
    texts = [c.text for c in comments.values()]
    assert not any("â€" in t or "Ã" in t for t in texts)
    assert any("They’re iconic" in t for t in texts)
    assert comments["4191342850950136"].author == "Spencer Hackett"
    # <wbr> inside a word joins it; <br> is a space; emoji kept
    assert comments["3154024434681988"].text.startswith("I think Sora,Spyro,Dixie Kong and")
    assert "been a dry lately. With E3" in next(t for t in texts if t.startswith("Man I’m thirsty"))
    assert comments["3066733970077702"].text == "Were can I buy a Nintendo switch🤔"
    assert all(t == " ".join(t.split()) for t in texts)
    # the page's own non-ASCII names
    assert any(c.author.startswith("Κων") for c in comments.values())


def test_facebook_time_texts_are_relative() -> None:
    times = Counter(c.time_text for c in truth.facebook_comments())
    assert times["1 yr"] == 29 and times["last Thu"] == 25 and times["12 mths"] == 1
    # "4 June at 15:11" is a post's time, not a comment's
    assert "4 June at 15:11" not in times


# -- X inbox -----------------------------------------------------------------------------


def test_x_inbox_31_conversations_each_with_a_distinct_partner() -> None:
    rows = truth.x_conversations()
    assert len(rows) == 31
    assert len({r.partner_handle for r in rows}) == 31
    handles = {f"user{n:02d}" for n in range(1, 34)}
    assert {r.partner_handle for r in rows} == handles - {"user20", "user25"}  # only @mentioned
    assert all(r.time and r.preview and r.partner_name for r in rows)
    times = [r.time for r in rows if r.time]
    assert times == sorted(times, reverse=True)  # newest first


def test_x_inbox_own_previews() -> None:
    rows = {r.partner_handle: r for r in truth.x_conversations()}
    own = {h for h, r in rows.items() if r.own_preview}
    assert own == {"user06", "user07", "user33"}
    assert rows["user07"].preview == "You sent a photo"
    assert rows["user06"].preview.startswith("You reacted with 👍: ")
    assert rows["user05"].preview.startswith("Contact 05 reacted with 🔥: ")  # the partner's
    assert (
        rows["user11"].preview == "Sent a link"
    )  # the partner's: the owner's reads "You sent a link"
    assert not rows["user15"].own_preview and rows["user15"].preview == "Shared a post"
    assert rows["user15"].partner_name == "Contact 15 🛠"
    assert rows["user23"].partner_name == "user23"


def test_x_inbox_owner() -> None:
    assert truth.x_owner_handle() == "0thernet"


def test_own_preview_rule() -> None:
    own = ["You sent a photo", "You: hi", "You reacted with 😂: ok", "You followed this account"]
    other = [
        "Sent a link",
        "Shared a post",
        "Your order shipped",
        "You guys rock",
        "Contact 05: hi",
    ]
    assert all(truth.OWN_PREVIEW.match(p) for p in own)
    assert not any(truth.OWN_PREVIEW.match(p) for p in other)


# -- X thread ----------------------------------------------------------------------------


def test_x_thread_4_tweets_in_reply_order() -> None:
    tweets = truth.x_thread_tweets()
    assert [t.status_id for t in tweets] == [
        "1908671786876850246",
        "1908671788630106366",
        "1908671791486427546",
        "1908671794233651339",
    ]
    assert [t.parent_status_id for t in tweets] == [None] + [t.status_id for t in tweets[:-1]]
    assert {(t.author_handle, t.author_name) for t in tweets} == {("eli_lifland", "Eli Lifland")}
    assert [t.truncated for t in tweets] == [False, True, True, True]


def test_x_thread_own_time_not_the_quoted_tweets() -> None:
    tweets = truth.x_thread_tweets()
    assert tweets[0].posted_at == "2025-04-06T00:03:10.000Z"
    assert truth.x_quoted_tweet_times() == ["2025-04-03T16:04:45.000Z"]
    assert all(t.posted_at not in truth.x_quoted_tweet_times() for t in tweets)


def test_x_thread_text_is_collapsed_without_show_more() -> None:
    tweets = truth.x_thread_tweets()
    assert tweets[0].text.startswith("I’ve been excited to see all the discussion of AI 2027,")
    assert tweets[0].text.endswith("(3) We’re pushing the doomer agenda 🧵")  # <img alt>
    assert "How, exactly" not in tweets[0].text  # the quoted tweet's text is not the tweet's
    assert tweets[1].text.endswith(
        "(see some supporting research in https://ai-2027.com/research), we"
    )
    assert tweets[3].text.endswith("We did not back-chain")
    for t in tweets:
        assert "Show more" not in t.text
        assert t.text == " ".join(t.text.split())


# -- the replay server -------------------------------------------------------------------


def _get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 (http on 127.0.0.1)
        return resp.status, resp.headers["Content-Type"], resp.read()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/facebook/story.php", "text/html"),
        ("/messages", "text/html; charset=utf-8"),
        ("/brocc/status/thread", "text/html; charset=utf-8"),
    ],
)
def test_replay_serves_each_page(
    replay: ReplayServer, web_html: Path, path: str, content_type: str
) -> None:
    status, ctype, body = _get(replay.url + path)
    assert status == 200
    assert ctype == content_type
    assert body == (web_html / ROUTES[path][0]).read_bytes()


def test_replay_facebook_has_no_charset_anywhere(replay: ReplayServer) -> None:
    _, ctype, body = _get(replay.facebook_url + "?story_fbid=3065154550235644&id=119240841493711")
    assert "charset" not in ctype
    assert b"charset" not in body[:4096].lower()  # nor a <meta charset> in the head
    assert "They’re".encode() in body  # UTF-8 bytes, which a default decoder mis-reads
    assert "They’re".encode().decode("cp1252") == "Theyâ€™re"


def test_replay_unknown_path_is_404(replay: ReplayServer) -> None:
    for path in ("/", "/facebook", "/messages/compose", "/x/../messages"):
        with pytest.raises(urllib.error.HTTPError) as err:
            _get(replay.url + path)
        assert err.value.code == 404
