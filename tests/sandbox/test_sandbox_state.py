"""The sandbox state and seeding, without a server: determinism, ordering, replies, escaping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox.errors import NotFound, SandboxError
from sandbox.seeding import SPECIALS, SeedSize, bulk_items, seed_state
from sandbox.state import SandboxState
from sandbox.views import linkify
from sandbox.views import testid as dom_testid


def seeded(seed: int) -> SandboxState:
    state = SandboxState()
    seed_state(state, seed)
    return state


def content(state: SandboxState) -> list[tuple]:
    return [
        (
            m["id"],
            m["account"],
            m["container_id"],
            m["author"],
            m["text"],
            m["time"],
            m["image"],
            m["parent_id"],
        )
        for m in state.snapshot()["messages"]
    ]


def test_same_seed_gives_identical_content() -> None:
    assert content(seeded(7)) == content(seeded(7))
    assert seeded(7).snapshot()["posts"] == seeded(7).snapshot()["posts"]


def test_different_seed_gives_different_content() -> None:
    a, b = content(seeded(7)), content(seeded(8))
    assert [x[3:5] for x in a] != [x[3:5] for x in b]


def test_every_account_gets_the_awkward_cases() -> None:
    state = seeded(3)
    for account in ("acme", "globex", "initech"):
        comments = {
            m.text for m in state.messages.values() if m.account == account and m.kind == "comment"
        }
        dms = {m.text for m in state.messages.values() if m.account == account and m.kind == "dm"}
        assert set(SPECIALS) <= comments
        assert len(set(SPECIALS) & dms) >= 7
        assert any(
            m.parent_id
            for m in state.messages.values()
            if m.account == account and m.kind == "comment"
        )
        assert any(m.image for m in state.messages.values() if m.account == account)


def test_seed_size_is_respected() -> None:
    state = SandboxState()
    seed_state(
        state,
        1,
        SeedSize(
            posts_per_account=1, comments_per_post=5, threads_per_account=2, messages_per_thread=3
        ),
    )
    snap = state.snapshot()
    assert len(snap["posts"]) == 3
    assert len(snap["threads"]) == 6
    assert len(snap["messages"]) == 3 * (5 + 2 * 3)


def test_new_reply_lifts_its_thread_to_the_top_and_replies_are_newest_first() -> None:
    state = SandboxState()
    post = state.add_post("acme", "hi")
    old = state.add_comment("acme", "ann", "old", post_id=post.id)
    state.add_comment("acme", "bob", "newer", post_id=post.id)
    r1 = state.add_comment("acme", "cat", "reply 1", post_id=post.id, parent_id=old.id)
    r2 = state.add_comment("acme", "dan", "reply to reply", post_id=post.id, parent_id=r1.id)
    threads = state.comment_threads(post)
    assert [t[0].text for t in threads] == ["old", "newer"]
    root, kids, latest = threads[0]
    assert [k.id for k in kids] == [r2.id, r1.id]
    assert latest.id == r2.id
    assert r2.parent_id == r1.id and r2.root_id == old.id


def test_inbox_is_newest_first_with_unread_counts() -> None:
    state = SandboxState()
    a = state.add_dm("acme", "ann", "first")
    state.add_dm("acme", "bob", "second")
    state.add_dm("acme", "ann", "third", thread_id=a.container_id)
    rows = state.threads_of("acme")
    assert [t.participant for t, _, _ in rows] == ["ann", "bob"]
    assert [u for _, _, u in rows] == [2, 1]
    state.mark_read(rows[0][0])
    assert state.threads_of("acme")[0][2] == 0


def test_record_reply_is_stored_and_shown_as_the_brand() -> None:
    state = SandboxState()
    dm = state.add_dm("globex", "ann", "help")
    reply = state.record_reply("globex", "dm", dm.container_id, "on it", None)
    assert (reply.seq, reply.account, reply.text) == (1, "globex", "on it")
    shown = state.thread_messages(state.threads[dm.container_id])[0]
    assert shown.id == reply.message_id and shown.author == "globex" and shown.from_brand


def test_accounts_never_share_content() -> None:
    state = SandboxState()
    post = state.add_post("acme", "mine")
    with pytest.raises(NotFound):
        state.add_comment("globex", "x", "y", post_id=post.id)
    assert state.post("globex", post.id) is None
    assert state.posts_of("globex") == []


def test_bad_requests_are_refused() -> None:
    state = SandboxState()
    with pytest.raises(NotFound):
        state.account("umbrella")
    with pytest.raises(SandboxError):
        state.set_fault("acme", "meltdown")
    m = state.add_dm("acme", "ann", "hi", message_id="fixed-1")
    with pytest.raises(SandboxError):
        state.add_dm("acme", "ann", "again", message_id=m.id)


def test_explicit_time_is_kept_and_default_time_is_monotonic() -> None:
    state = SandboxState()
    when = datetime(2024, 2, 3, 4, 5, tzinfo=UTC)
    assert state.add_dm("acme", "ann", "x", time=when).time == when
    times = [state.add_dm("acme", "ann", str(i)).time for i in range(50)]
    assert times == sorted(times) and len(set(times)) == 50


def test_bulk_items_is_deterministic() -> None:
    a, b = SandboxState(), SandboxState()
    bulk_items(a, "acme", "comment", 30, seed=5)
    bulk_items(b, "acme", "comment", 30, seed=5)
    assert [(m.author, m.text) for m in a.messages.values()] == [
        (m.author, m.text) for m in b.messages.values()
    ]


def test_linkify_escapes_everything_and_links_only_http() -> None:
    out = str(linkify("<script>x()</script> javascript:alert(1) https://ok.example/a?b=1&c=2"))
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert 'href="javascript' not in out
    assert '<a href="https://ok.example/a?b=1&amp;c=2"' in out


def test_changed_dom_renames_every_testid() -> None:
    for name in ("comment-item", "message-item", "account-handle", "login-form", "send-button"):
        assert dom_testid(name, True) != name
        assert dom_testid(name, False) == name
