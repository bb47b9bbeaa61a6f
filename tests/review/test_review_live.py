"""Live updates (``agent.review.live``): the change feed reads each change once, on both
backends; streams carry only what their viewer may see; over a real server the event
stream takes a bearer token, ends when the token is revoked, and refuses an item the
viewer may not see; presence comes and goes with the open item pages."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import FastAPI
from review_world import ACME, GLOBEX, World

from agent.review import create_app
from agent.review.auth import new_api_token, require_user, revoke_api_token
from agent.review.live import SENT_LOOKBACK, Change, ChangeFeed, LiveHub
from agent.review.sessions import Presence
from agent.store import OutboxEntry, Review
from agent.store.types import utcnow


def _read(feed: ChangeFeed) -> list[tuple[int, str, str, str | None]]:
    return [(c.item, c.what, c.status, c.by) for c in feed.read()]


def test_the_feed_reads_each_change_once_from_where_it_started(world: World) -> None:
    before = world.item(ACME, "stored before the feed started")
    feed = ChangeFeed(world.store)
    feed.start()
    assert _read(feed) == []  # what was there is no change
    item = world.item(ACME, "Where is my parcel?", status="in_review")
    assert _read(feed) == [
        (item, "collected", "in_review", None),
        (item, "triaged", "in_review", None),
    ]
    assert _read(feed) == []
    with world.store.session() as s:
        s.add(Review(item_id=before, reviewer="bob", action="resolve"))
        s.add(
            OutboxEntry(
                item_id=item, workspace=ACME, thread="t1", text="On its way", text_hash="h1",
                approved_by="alice", state="sent", sent_at=utcnow(),
            )
        )  # fmt: skip
    assert _read(feed) == [
        (before, "resolve", "in_review", "bob"),
        (item, "sent", "in_review", "alice"),
    ]
    # A reply another host marked sent with a clock a few seconds behind is still read,
    # once; one sent before the look-back was already read then.
    with world.store.session() as s:
        s.add(
            OutboxEntry(
                item_id=before, workspace=ACME, thread="t1", text="Late clock", text_hash="h2",
                approved_by="bob", state="sent", sent_at=utcnow() - SENT_LOOKBACK / 2,
            )
        )  # fmt: skip
    assert _read(feed) == [(before, "sent", "in_review", "bob")]
    assert _read(feed) == []


def test_the_feed_reads_a_burst_in_parts_and_loses_none(world: World) -> None:
    feed = ChangeFeed(world.store, limit=3)
    feed.start()
    ids = [world.item(ACME, f"burst {n}", draft=None) for n in range(7)]
    seen: list[int] = []
    for _ in range(4):
        seen += [c.item for c in feed.read() if c.what == "collected"]
    assert seen == ids


def _hub(world: World) -> LiveHub:
    return LiveHub(ChangeFeed(world.store), Presence(), poll_seconds=3600)


def test_a_stream_carries_only_the_workspaces_its_viewer_may_see(world: World) -> None:
    async def run() -> dict[str, list[int]]:
        hub = _hub(world)
        alice = await hub.open("alice", {ACME}, None)
        eve = await hub.open("eve", {GLOBEX}, None)
        root = await hub.open("root", None, None)
        hub.publish(
            [Change(1, ACME, "triaged", "triaged"), Change(2, GLOBEX, "triaged", "triaged")]
        )
        got = {}
        for name, stream in (("alice", alice), ("eve", eve), ("root", root)):
            got[name] = [stream.queue.get_nowait()[1]["item"] for _ in range(stream.queue.qsize())]
            hub.close(stream)
        return got

    assert asyncio.run(run()) == {"alice": [1], "eve": [2], "root": [1, 2]}


def test_a_stream_that_falls_behind_is_told_to_reload(world: World) -> None:
    async def run() -> list[str]:
        hub = _hub(world)
        events = hub.events("alice", {ACME}, None, lambda: True)
        kinds = [await anext(events), await anext(events)]  # retry, hello
        (stream,) = hub.streams
        hub.publish(
            [Change(n, ACME, "triaged", "triaged") for n in range(stream.queue.maxsize + 1)]
        )
        kinds.append(await anext(events))
        with pytest.raises(StopAsyncIteration):
            await anext(events)
        assert hub.streams == set()  # closed with its end
        return [k.decode().split("\n")[0] for k in kinds]

    assert asyncio.run(run()) == ["retry: 3000", "event: hello", "event: reset"]


def test_presence_follows_open_item_pages(world: World) -> None:
    async def run() -> list[object]:
        hub = _hub(world)
        alice = await hub.open("alice", {ACME}, 7)
        bob = await hub.open("bob", {ACME}, 7)
        told = [alice.queue.get_nowait(), alice.queue.get_nowait()]  # her own, then bob's
        hub.close(bob)
        told.append(alice.queue.get_nowait())
        return [data["viewing"] for _, data in told]

    assert asyncio.run(run()) == [[], ["bob"], []]


# -- over a real server ------------------------------------------------------------------


@pytest.fixture
def db_url() -> str:
    return "sqlite"  # the feed runs on both backends above; the stream's HTTP on one


@pytest.fixture
def app(world: World) -> FastAPI:
    app = create_app(world.runtime, secure_cookies=False, live_poll_seconds=0.05)
    app.state.review.live.recheck_seconds = 0.2
    return app


def _token(world: World, name: str) -> tuple[int, str]:
    with world.store.session() as s:
        row, token = new_api_token(s, require_user(s, name), "live")
        assert row.id is not None
        return row.id, token


class Events:
    """Reads a live stream's events one at a time (with a deadline, never a sleep)."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines

    def next(self) -> tuple[str, dict[str, object]]:
        kind, data = "", ""
        for line in self.lines:
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
            elif line == "" and kind:
                return kind, json.loads(data)
        raise AssertionError("the stream ended")

    def until(
        self, wanted: Callable[[str, dict[str, object]], bool]
    ) -> list[tuple[str, dict[str, object]]]:
        seen = []
        while True:
            kind, data = self.next()
            seen.append((kind, data))
            if wanted(kind, data):
                return seen


def test_the_stream_takes_a_token_sees_only_grants_and_ends_when_revoked(
    world: World, server: str
) -> None:
    token_id, token = _token(world, "alice")
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server, headers=headers, timeout=10) as http:
        hidden = world.item(GLOBEX, "not alice's")
        assert http.get(f"/api/events?item={hidden}").status_code == 404
        assert http.get("/api/events", headers={"Authorization": "Bearer nope"}).status_code == 401
        with http.stream("GET", "/api/events") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = Events(response.iter_lines())
            assert events.next()[0] == "hello"
            theirs = world.item(GLOBEX, "still not alice's")
            first = world.item(ACME, "first")
            second = world.item(ACME, "second")
            seen = events.until(lambda k, d: d.get("item") == second and d.get("what") == "triaged")
            items = {d.get("item") for k, d in seen if k == "item"}
            assert items == {first, second} and theirs not in items
            with world.store.session() as s:
                assert revoke_api_token(s, token_id)
            assert events.until(lambda k, d: k == "bye")[-1] == ("bye", {"why": "signed out"})


def test_an_item_stream_counts_as_viewing_until_it_closes(world: World, server: str) -> None:
    item = world.item(ACME, "shared")
    _, alice = _token(world, "alice")
    _, bob = _token(world, "bob")
    with httpx.Client(base_url=server, timeout=10) as http:
        auth = {"Authorization": f"Bearer {alice}"}
        with http.stream("GET", f"/api/events?item={item}", headers=auth) as response:
            events = Events(response.iter_lines())
            assert events.next()[0] == "hello"
            # bob's own stream on the item: alice hears of him, he of her
            with http.stream(
                "GET", f"/api/events?item={item}", headers={"Authorization": f"Bearer {bob}"}
            ) as theirs:
                bobs = Events(theirs.iter_lines())
                assert bobs.until(lambda k, d: k == "presence")[-1][1]["viewing"] == ["alice"]
                joined = events.until(lambda k, d: k == "presence" and d["viewing"] == ["bob"])
                assert joined[-1][1] == {"item": item, "viewing": ["bob"]}
                assert http.get(f"/api/items/{item}", headers=auth).json()["also_viewing"] == [
                    "bob"
                ]
            # bob's page closed: alice hears at once that he left, and the item's API
            # no longer names him (an open page counts, not a window after it)
            left = events.until(lambda k, d: k == "presence")
            assert left[-1][1] == {"item": item, "viewing": []}
            assert http.get(f"/api/items/{item}", headers=auth).json()["also_viewing"] == []


def test_a_stopping_server_ends_every_stream_with_a_goodbye(world: World) -> None:
    async def run() -> list[str]:
        hub = _hub(world)
        events = hub.events("alice", {ACME}, None, lambda: True)
        kinds = [await anext(events), await anext(events)]  # retry, hello
        hub.stopping()  # as ``serve``'s signal handler calls it
        kinds.append(await anext(events))
        with pytest.raises(StopAsyncIteration):
            await anext(events)
        return [k.decode().split("\n")[0] for k in kinds]

    assert asyncio.run(run())[-1] == "event: bye"


def test_the_page_script_counts_down_with_the_queue_s_due_soon() -> None:
    from pathlib import Path

    from agent.review.queries import DUE_SOON

    script = (Path(__file__).parents[2] / "agent/review/static/live.js").read_text()
    assert f"var DUE_SOON_MS = {int(DUE_SOON.total_seconds() // 60)} * 60 * 1000;" in script
