"""The built-in X and Facebook packs and flows on real saved pages, replayed in Chromium.

What the flows store is compared with ``truth.py``, an independent reading of the
same HTML with lxml: counts, ids, authors, texts, times and threads come from the
page, never from what the flow produced.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlmodel import select

from agent.runtime import Runtime, open_runtime
from agent.selector_check import check_selectors
from agent.store import Item
from agent.sweep import SweepResult
from flows.templates import handle
from workspaces.paths import Home

from . import truth
from .replay import ReplayServer

# The Facebook page was recorded in June 2021 ("12 mths", "1 yr", "on Fri" relative to then).
RECORDED = datetime(2021, 6, 5, 12, 0, tzinfo=UTC)


def _home(root: Path, replay: ReplayServer) -> Runtime:
    home = Home(root)
    (root / "workspaces").mkdir(parents=True)
    owner = truth.x_owner_handle()
    spaces = {
        "acme-x-dm": ("x", "x-web", "x-dm-inbox", replay.url, owner),
        "acme-x-post": ("x", "x-web", "x-post-replies", replay.x_thread_url, owner),
        "nintendo-fb": (
            "facebook",
            "facebook-mobile-web",
            "facebook-post-comments",
            replay.facebook_url,
            "@nintendo",
        ),
    }
    for ws_id, (platform, pack, flow, start, account) in spaces.items():
        doc = {
            "id": ws_id,
            "client": "Acme",
            "platform": platform,
            "surface": "web",
            "environment": {
                "kind": "browser_profile",
                "start_url": start,
                "expected_account": f"@{account.lstrip('@')}",
            },
            "flows": {"inbox": flow},
            "selectors": pack,
            "timezone": "America/Los_Angeles",
        }
        (root / "workspaces" / f"{ws_id}.yaml").write_text(yaml.safe_dump(doc))
    return open_runtime(home)


@pytest.fixture(scope="module")
def swept(
    tmp_path_factory: pytest.TempPathFactory, replay: ReplayServer
) -> tuple[Runtime, dict[str, SweepResult]]:
    rt = _home(tmp_path_factory.mktemp("realpages"), replay)
    sweeper = rt.sweeper(triage=False)
    sweeper.clock = lambda: RECORDED
    results = {ws: sweeper.sweep(ws) for ws in ("acme-x-dm", "acme-x-post", "nintendo-fb")}
    return rt, results


def _items(rt: Runtime, ws: str) -> list[Item]:
    with rt.store.session() as s:
        return list(s.exec(select(Item).where(Item.workspace == ws)).all())


def test_facebook_every_comment_with_author_text_time_and_its_own_post(
    swept: tuple[Runtime, dict[str, SweepResult]],
) -> None:
    rt, results = swept
    result = results["nintendo-fb"]
    assert result.status == "ok", (result.message, result.unreadable, result.unreadable_times)
    expected = truth.facebook_comments()
    assert len(expected) == 108
    stored = _items(rt, "nintendo-fb")
    got = {
        (i.thread.rsplit("#ufi_", 1)[-1], i.message_id, i.author, i.text, i.posted_text)
        for i in stored
    }
    want = {(c.post_id, c.comment_id, c.author, c.text, c.time_text) for c in expected}
    assert got == want  # 108 comments: right post, id, author, text (no mojibake) and time
    assert len({i.thread for i in stored}) == 4
    assert all(i.posted_at is not None for i in stored)  # "1 yr", "on Fri", "12 mths" all read
    assert all(i.posted_at <= RECORDED for i in stored if i.posted_at)


def test_x_inbox_every_conversation_its_own_thread_and_own_previews_are_the_accounts(
    swept: tuple[Runtime, dict[str, SweepResult]],
) -> None:
    rt, results = swept
    assert results["acme-x-dm"].status == "ok", results["acme-x-dm"].message
    expected = {c.partner_handle: c for c in truth.x_conversations()}
    assert len(expected) == 31
    stored = _items(rt, "acme-x-dm")
    assert len(stored) == 31
    by_partner = {i.thread.rsplit("#@", 1)[-1]: i for i in stored}
    assert set(by_partner) == set(expected)  # 31 threads, one per partner
    owner = f"@{truth.x_owner_handle()}"
    for partner, conv in expected.items():
        item = by_partner[partner]
        assert item.text == conv.preview
        if conv.own_preview:
            assert (item.author, item.status) == (owner, "resolved"), partner
        else:
            assert (item.author, item.author_handle) == (conv.partner_name, partner), partner
        if conv.time:
            assert item.posted_at == datetime.fromisoformat(conv.time.replace("Z", "+00:00"))


def test_x_thread_clean_texts_own_times_truncation_and_parents(
    swept: tuple[Runtime, dict[str, SweepResult]],
) -> None:
    rt, results = swept
    assert results["acme-x-post"].status == "ok", results["acme-x-post"].message
    expected = {t.status_id: t for t in truth.x_thread_tweets()}
    stored = {i.message_id.rsplit("/", 1)[-1]: i for i in _items(rt, "acme-x-post")}
    assert set(stored) == set(expected) and len(stored) == 4
    by_key = {i.key: i for i in stored.values()}
    for status_id, tweet in expected.items():
        item = stored[status_id]
        assert item.text == tweet.text
        assert item.truncated == tweet.truncated
        assert (item.author, item.author_handle) == (tweet.author_name, handle(tweet.author_handle))
        assert tweet.posted_at is not None
        assert item.posted_at == datetime.fromisoformat(tweet.posted_at.replace("Z", "+00:00"))
        parent = by_key.get(item.parent_key) if item.parent_key else None
        got_parent = parent.message_id.rsplit("/", 1)[-1] if parent else None
        assert got_parent == tweet.parent_status_id
    assert Counter(i.truncated for i in stored.values()) == Counter(
        t.truncated for t in expected.values()
    )


@pytest.mark.parametrize("ws", ["acme-x-dm", "acme-x-post", "nintendo-fb"])
def test_selectors_check_is_healthy_on_the_real_pages(
    swept: tuple[Runtime, dict[str, SweepResult]], ws: str
) -> None:
    rt, _ = swept
    report = check_selectors(rt, ws)
    assert report.ok, (report.stop_reason, report.message, report.rows)
    assert not [r.selector for r in report.rows if r.status == "fallback"]
