"""Incremental collection: exactly what was injected, nothing twice, stop at the watermark."""

from __future__ import annotations

from pathlib import Path

from agent.runtime import Runtime
from sandbox.testing import RunningSandbox
from tests.sweeps.conftest import (
    ACME,
    injected_rows,
    key_of,
    run_events,
    step_details,
    stored_items,
    stored_rows,
)


def test_sweep_collects_exactly_the_injected_comments_replies_and_dms(
    sb: RunningSandbox, rt: Runtime
) -> None:
    c = sb.client
    p1 = c.add_post("acme", "Spring launch")["id"]
    p2 = c.add_post("acme", "Behind the scenes")["id"]
    top = c.post_message("acme", "comment", "bob", "Love it! When in stores?", thread=p1)
    reply = c.post_message("acme", "comment", "carol", "Same question", thread=p1, parent=top["id"])
    deeper = c.post_message(
        "acme", "comment", "dave", "Replying to carol", thread=p1, parent=reply["id"]
    )
    c.post_message("acme", "comment", "erin", "Second thread on p1", thread=p1)
    c.post_message("acme", "comment", "frank", "Comment on the other post", thread=p2)
    gina = c.post_message("acme", "dm", "gina", "Hi, my order is late")["container_id"]
    c.post_message("acme", "dm", "gina", "Order #4411, shipped last week")
    hank = c.post_message("acme", "dm", "hank", "Do you sponsor events?")["container_id"]
    c.post_message("globex", "dm", "ivan", "This one belongs to globex")

    result = rt.sweeper().sweep(ACME)

    expected = injected_rows(sb, "acme")
    assert len(expected) == 8
    assert result.status == "ok", result.message
    assert result.new_items == 8 and result.seen_items == 0
    assert stored_rows(rt) == expected
    # Threads are the platform's: two DM threads, two posts; the nested replies keep
    # their real parent, not the top-level comment they are shown under.
    items = {i.message_id: i for i in stored_items(rt)}
    threads = {i.thread for i in items.values()}
    assert threads == {f"/posts/{p1}", f"/posts/{p2}", f"/inbox/{gina}", f"/inbox/{hank}"}
    assert items[deeper["id"]].parent_key == key_of("@acme", f"/posts/{p1}", reply["id"])
    assert items[reply["id"]].parent_key == key_of("@acme", f"/posts/{p1}", top["id"])
    assert items[top["id"]].parent_key is None
    # Every item has its evidence on disk: the screen and the crop of the item.
    for item in items.values():
        assert item.key == key_of("@acme", item.thread, item.message_id or "")
        assert item.screenshot and Path(item.screenshot).is_file()
        assert item.crop and Path(item.crop).is_file()
    collected = [e for e in run_events(rt, result) if e.type == "item_collected"]
    assert sorted(e.data["key"] for e in collected) == sorted(i.key for i in items.values())


def test_second_sweep_with_nothing_new_collects_nothing_and_stops_at_the_watermark(
    sb: RunningSandbox, rt: Runtime
) -> None:
    c = sb.client
    post = c.add_post("acme", "A busy post")["id"]
    c.bulk("acme", "comment", 30, seed=3, thread=post)  # two pages of comment threads
    first_dm = c.post_message("acme", "dm", "gina", "hello")
    c.bulk("acme", "dm", 29, seed=4, thread=first_dm["container_id"])  # two pages

    first = rt.sweeper().sweep(ACME)
    assert first.status == "ok", first.message
    assert first.new_items == 60
    assert stored_rows(rt) == injected_rows(sb, "acme")
    assert sum(d["loads"] for d in step_details(rt, first, "collect")) >= 2  # it had to load more

    second = rt.sweeper().sweep(ACME)

    assert second.status == "ok", second.message
    assert second.new_items == 0
    assert 0 < second.seen_items <= 2  # it read the newest thread, saw it stored, and stopped
    assert len(stored_items(rt)) == 60
    # The DM thread is skipped from the inbox row (its latest message is stored); the post
    # is opened, and its comment list stops at the first stored thread without scrolling.
    [dms] = [d for d in step_details(rt, second, "foreach") if d["skipped_unchanged"]]
    assert dms == {**dms, "entries": 1, "skipped_unchanged": 1}
    [comments] = step_details(rt, second, "collect")
    assert comments["thread"] == f"/posts/{post}"
    assert comments["stopped_at_seen"] is True
    assert comments["loads"] == 0 and comments["new"] == 0
    assert not [e for e in run_events(rt, second) if e.type == "item_collected"]


def test_three_new_items_on_top_of_500_are_found_without_rereading_the_500(
    sb: RunningSandbox, rt: Runtime
) -> None:
    c = sb.client
    post = c.add_post("acme", "Viral post")["id"]
    old = c.bulk("acme", "comment", 500, seed=5, thread=post)
    first = rt.sweeper().sweep(ACME)
    assert first.status == "ok" and first.new_items == 500, first.message

    new_top = c.post_message("acme", "comment", "new.one", "Fresh comment", thread=post)
    # A reply to the oldest comment lifts that thread from the bottom of page 25 to the top.
    new_reply = c.post_message(
        "acme", "comment", "new.two", "Late reply", thread=post, parent=old[0]
    )
    new_dm = c.post_message("acme", "dm", "new.three", "A new conversation")
    second = rt.sweeper().sweep(ACME)

    assert second.status == "ok", second.message
    assert second.new_items == 3
    assert second.seen_items <= 3
    [comments] = step_details(rt, second, "collect")[-1:]
    assert comments["new"] == 2 and comments["loads"] == 0 and comments["stopped_at_seen"]
    new_ids = {r.message_id for r in stored_rows(rt)} - set(old)
    assert new_ids == {new_top["id"], new_reply["id"], new_dm["id"]}
    assert stored_rows(rt) == injected_rows(sb, "acme")
