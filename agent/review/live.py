"""Live updates of the review UI: server-sent events at ``GET /api/events``.

What changed is read from the store, not from this process's memory, so a change made
anywhere reaches every page: a sweep on a worker host storing and triaging items, a
reviewer on another ``serve`` process approving, the sender marking a reply sent. A
:class:`ChangeFeed` reads it by cursors over ids that only grow (``items.id``,
``decisions.id``, ``reviews.id``) and over ``outbox.sent_at`` (read a few seconds back
and kept apart by id, since another host's clock may be a little behind); a first read
starts at the present. One :class:`LiveHub` per app polls the feed once every
``poll_seconds`` (one cheap indexed query per table, however many pages are open) while
at least one page listens, and hands each change only to the streams whose viewer may
see its workspace.

An event carries ids, the workspace, the new status, what happened and who did it;
never the message text. A page that wants more reloads or follows a link, through the
same grants as always. A stream re-checks its viewer every ``recheck_seconds``: signing
out, a disabled user or a revoked token ends it. A stream that falls behind by more
than its buffer is told to reload (``reset``) instead of being sent a partial story.

Presence ("also viewing") is this process's: an item page's open stream counts as
viewing the item for as long as it is open, and opening or closing one tells the other
viewers of that item at once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import anyio
import sqlalchemy as sa
from sqlmodel import col, select

from agent.review.sessions import Presence
from agent.store import Decision, Item, OutboxEntry, Review, Store

POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
RECHECK_SECONDS = 30.0
BUFFER = 2000  # events a stream may have waiting before it is told to reload
READ_LIMIT = 500  # rows per table per read; the rest on the next read
SENT_LOOKBACK = timedelta(seconds=10)  # another host's clock may be this far behind
RETRY_MS = 3000  # what the browser waits before reconnecting a dropped stream


@dataclass(frozen=True)
class Change:
    """Something happened to an item: ``what`` is ``collected`` (a sweep stored it),
    ``triaged`` (a decision), a review action (``approve``, ``reject``, ``resolve``,
    ``escalate``, ...) or ``sent`` (its reply went out); ``status`` is the item's status
    when the change was read."""

    item: int
    workspace: str
    status: str
    what: str
    by: str | None = None

    def data(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "workspace": self.workspace,
            "status": self.status,
            "what": self.what,
            "by": self.by,
        }


@dataclass
class _Cursor:
    item: int
    decision: int
    review: int
    sent_since: datetime | None
    sent_seen: set[int] = field(default_factory=set)


def _max_id(s: Any, column: Any) -> int:
    return int(s.exec(select(sa.func.coalesce(sa.func.max(column), 0))).one())


class ChangeFeed:
    """What changed in the store since the last :meth:`read` (the first read: since
    :meth:`start`, or since the feed was made)."""

    def __init__(self, store: Store, *, limit: int = READ_LIMIT) -> None:
        self.store = store
        self.limit = limit
        self._cursor: _Cursor | None = None

    def start(self) -> None:
        """From now on: what is in the store already is not a change."""
        with self.store.session() as s:
            sent = s.exec(select(sa.func.max(col(OutboxEntry.sent_at)))).one()
            self._cursor = _Cursor(
                _max_id(s, col(Item.id)),
                _max_id(s, col(Decision.id)),
                _max_id(s, col(Review.id)),
                sent,
            )

    def read(self) -> list[Change]:
        if self._cursor is None:
            self.start()
            return []
        c = self._cursor
        out: list[Change] = []
        n = self.limit
        with self.store.session() as s:
            items = s.execute(
                sa.select(col(Item.id), col(Item.workspace), col(Item.status))
                .where(col(Item.id) > c.item)
                .order_by(col(Item.id))
                .limit(n)
            ).all()
            for item_id, workspace, status in items:
                out.append(Change(int(item_id or 0), workspace, status, "collected"))
                c.item = int(item_id or c.item)
            decisions = s.execute(
                sa.select(
                    col(Decision.id), col(Decision.item_id), col(Item.workspace), col(Item.status)
                )
                .join(Item, col(Item.id) == col(Decision.item_id))
                .where(col(Decision.id) > c.decision)
                .order_by(col(Decision.id))
                .limit(n)
            ).all()
            for decision_id, item_id, workspace, status in decisions:
                out.append(Change(item_id, workspace, status, "triaged"))
                c.decision = int(decision_id or c.decision)
            reviews = s.execute(
                sa.select(
                    col(Review.id),
                    col(Review.item_id),
                    col(Item.workspace),
                    col(Item.status),
                    col(Review.action),
                    col(Review.reviewer),
                )
                .join(Item, col(Item.id) == col(Review.item_id))
                .where(col(Review.id) > c.review)
                .order_by(col(Review.id))
                .limit(n)
            ).all()
            for review_id, item_id, workspace, status, action, reviewer in reviews:
                out.append(Change(item_id, workspace, status, action, reviewer))
                c.review = int(review_id or c.review)
            out.extend(self._sent(s, c))
        return out

    def _sent(self, s: Any, c: _Cursor) -> list[Change]:
        stmt = (
            sa.select(
                col(OutboxEntry.id),
                col(OutboxEntry.item_id),
                col(Item.workspace),
                col(Item.status),
                col(OutboxEntry.sent_at),
                col(OutboxEntry.approved_by),
            )
            .join(Item, col(Item.id) == col(OutboxEntry.item_id))
            .where(col(OutboxEntry.state) == "sent", col(OutboxEntry.sent_at).is_not(None))
        )
        if c.sent_since is not None:
            stmt = stmt.where(col(OutboxEntry.sent_at) >= c.sent_since - SENT_LOOKBACK)
        out: list[Change] = []
        newest = c.sent_since
        for entry_id, item_id, workspace, status, sent_at, approved_by in s.execute(
            stmt.order_by(col(OutboxEntry.sent_at)).limit(self.limit)
        ).all():
            if newest is None or sent_at > newest:
                newest = sent_at
            if entry_id in c.sent_seen:
                continue
            c.sent_seen.add(int(entry_id or 0))
            out.append(Change(item_id, workspace, status, "sent", approved_by))
        if newest is not None and newest != c.sent_since:
            c.sent_since = newest
            # Only ids sent within the look-back can come again.
            keep = s.execute(
                sa.select(col(OutboxEntry.id)).where(
                    col(OutboxEntry.sent_at) >= newest - SENT_LOOKBACK,
                    col(OutboxEntry.state) == "sent",
                )
            ).all()
            c.sent_seen &= {int(i or 0) for (i,) in keep}
        return out


@dataclass(eq=False)
class Stream:
    """One open event stream: whose, which item page (None: a queue page), its events."""

    user: str
    visible: set[str] | None
    item: int | None
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = field(
        default_factory=lambda: asyncio.Queue(BUFFER)
    )
    behind: bool = False

    def sees(self, workspace: str) -> bool:
        return self.visible is None or workspace in self.visible

    def put(self, kind: str, data: dict[str, Any]) -> None:
        if self.behind:
            return
        try:
            self.queue.put_nowait((kind, data))
        except asyncio.QueueFull:
            self.behind = True  # the stream tells the page to reload


class LiveHub:
    """The app's open streams and the one poller feeding them."""

    def __init__(
        self,
        feed: ChangeFeed,
        presence: Presence,
        *,
        poll_seconds: float = POLL_SECONDS,
        keepalive_seconds: float = KEEPALIVE_SECONDS,
        recheck_seconds: float = RECHECK_SECONDS,
    ) -> None:
        self.feed = feed
        self.presence = presence
        self.poll_seconds = poll_seconds
        self.keepalive_seconds = keepalive_seconds
        self.recheck_seconds = recheck_seconds
        self.streams: set[Stream] = set()
        self._poller: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- streams ------------------------------------------------------------------

    async def open(self, user: str, visible: set[str] | None, item: int | None) -> Stream:
        if not self.streams and self._poller is None:
            await anyio.to_thread.run_sync(self.feed.start)
        self._loop = asyncio.get_running_loop()
        stream = Stream(user, visible, item)
        self.streams.add(stream)
        if item is not None:
            self.presence.opened(item, user)
            self._tell_presence(item)
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll_loop())
        return stream

    def close(self, stream: Stream) -> None:
        self.streams.discard(stream)
        if stream.item is not None:
            self.presence.closed(stream.item, stream.user)
            self._tell_presence(stream.item)

    def stopping(self) -> None:
        """The server is stopping: every stream says goodbye and ends, so the stop does
        not wait on them (the pages reconnect by themselves when a server is back).
        Safe to call from any thread, a signal handler included."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def tell() -> None:
            for stream in list(self.streams):
                stream.put("bye", {"why": "the server is stopping"})

        loop.call_soon_threadsafe(tell)

    def _tell_presence(self, item: int) -> None:
        for stream in self.streams:
            if stream.item == item:
                others = [name for name, _ in self.presence.others(item, stream.user)]
                stream.put("presence", {"item": item, "viewing": others})

    # -- changes ------------------------------------------------------------------

    def publish(self, changes: list[Change]) -> None:
        for change in changes:
            data = change.data()
            for stream in self.streams:
                if stream.sees(change.workspace):
                    stream.put("item", data)

    async def poll_once(self) -> None:
        self.publish(await anyio.to_thread.run_sync(self.feed.read))

    async def _poll_loop(self) -> None:
        try:
            while self.streams:
                await anyio.sleep(self.poll_seconds)
                if not self.streams:
                    break
                try:
                    await self.poll_once()
                except Exception as exc:  # a store hiccup: the streams hear of it, it retries
                    for stream in self.streams:
                        stream.put("error", {"error": f"live updates paused: {type(exc).__name__}"})
        finally:
            self._poller = None

    # -- one stream's bytes -------------------------------------------------------

    async def events(
        self,
        user: str,
        visible: set[str] | None,
        item: int | None,
        still_allowed: Callable[[], bool],
    ) -> AsyncIterator[bytes]:
        """A stream's bytes: its events as they come, a comment line when there are
        none for a while (so proxies keep it open), ``reset`` when it fell behind, and
        the end when ``still_allowed`` (called every ``recheck_seconds``, off the event
        loop) says the viewer may no longer see anything. The stream is opened here,
        when the response starts, and closed when it ends or the page goes away."""
        loop = asyncio.get_running_loop()
        recheck_at = loop.time() + self.recheck_seconds
        stream = await self.open(user, visible, item)
        try:
            yield f"retry: {RETRY_MS}\n\n".encode()
            yield _event("hello", {"item": stream.item, "poll_seconds": self.poll_seconds})
            while True:
                if stream.behind:
                    yield _event("reset", {"why": "too many changes at once: reload"})
                    return
                if loop.time() >= recheck_at:
                    if not await anyio.to_thread.run_sync(still_allowed):
                        yield _event("bye", {"why": "signed out"})
                        return
                    recheck_at = loop.time() + self.recheck_seconds
                wait = min(self.keepalive_seconds, max(0.0, recheck_at - loop.time()))
                try:
                    kind, data = await asyncio.wait_for(stream.queue.get(), timeout=wait)
                except TimeoutError:
                    yield b": keepalive\n\n"
                    continue
                yield _event(kind, data)
                if kind == "bye":
                    return
        finally:
            self.close(stream)


def _event(kind: str, data: dict[str, Any]) -> bytes:
    """One server-sent event; the JSON is on one line (``json.dumps`` escapes newlines)."""
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=True)}\n\n".encode()
