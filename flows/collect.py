"""The collect step: read items newest first, stop at what is stored, store oldest first.

Groups (a comment with its replies) are read newest activity first; reading
stops at the first group whose items are all stored, so a sweep's cost follows
what is new. New items are handed to the hooks in one batch, oldest first, each
with a screen-high screenshot and its box on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from devices.driver import ExtractedItem, Extraction, FieldQuery
from devices.errors import DriverTimeout, ElementNotFound
from flows.context import Evidenced
from flows.errors import FlowStop
from flows.items import CollectedItem, content_id, stable_key
from flows.models import CollectSpec
from flows.templates import handle, render

if TYPE_CHECKING:
    from flows.runner import FlowRunner

LAZY_LOAD_WAIT_S = 2.0  # how long the bottom of a list may take to append more


class Collector:
    """One collect step: read groups newest first, stop at the first fully seen group."""

    def __init__(self, runner: FlowRunner, spec: CollectSpec, timeout_s: float):
        self.r = runner
        self.spec = spec
        self.t = timeout_s
        self.item_sel = runner.selector(spec.list)
        self.group_sel = runner.selector(spec.group) if spec.group else None
        f = spec.fields
        self.queries = [
            FieldQuery(
                name,
                runner._field_selector(fs) if fs is not None else None,
                fs.attr if fs is not None else None,
            )
            for name, fs in (
                ("text", f.text),
                ("author", f.author),
                ("id", f.id),
                ("posted_at", f.posted_at),
                ("parent_id", f.parent_id),
            )
            if fs is not None
        ]
        url = runner.driver.current_url()
        variables = {**runner.ctx.variables, "page_path": urlsplit(url).path, "page_url": url}
        self.thread = render(spec.thread, variables)
        self.done: set[str] = set()
        self.pending: list[CollectedItem] = []
        self.roots_read = 0
        self.last_root_keys: list[str] = []
        self.new = 0
        self.seen = 0

    def run(self) -> dict[str, Any]:
        """Read until a fully seen group (or the end), then store everything new, oldest first.

        Storing oldest first is what makes a killed sweep safe: if any item of
        this step is stored, every older new item is too, so the next sweep's
        stop at the first fully seen group can never skip an unstored item.
        """
        scrolls = 0
        reached_seen = False
        limit = min(self.spec.max_items, self.r.ctx.max_items or self.spec.max_items)
        hit_limit = False
        while True:
            self.r._check_deadline()
            extraction = self._read_more()
            self.r._note_fields(extraction.field_matches, extraction.match)
            if self.r.ctx.probe:
                for name in (self.spec.load_more, self.spec.end_marker):
                    if name:
                        self.r._note(self.r.driver.count(self.r.selector(name)))
                return {"thread": self.thread, "probe": len(extraction.items)}
            reached_seen = self._take(self._ordered(extraction.groups))
            if len(self.pending) >= limit:
                del self.pending[limit:]
                hit_limit = True
                break
            if reached_seen and self.spec.stop_at_seen:
                break
            if not self._load_more(scrolls):
                break
            scrolls += 1
        self._emit()
        if hit_limit:
            raise FlowStop("limit_reached", f"collected the limit of {limit} items in one step")
        return {
            "thread": self.thread,
            "new": self.new,
            "seen": self.seen,
            "stopped_at_seen": reached_seen,
            "loads": scrolls,
        }

    def _read_more(self) -> Extraction:
        """Read the roots not read yet (lists grow at the end as more loads).

        The last root already read is read again: if it is not where it was, the
        list was re-rendered and everything is read from the top.
        """
        d = self.r.driver
        start = max(0, self.roots_read - 1)
        extraction = d.extract(self.item_sel, self.queries, group=self.group_sel, start=start)
        if start:
            first = extraction.groups[0] if extraction.groups else []
            keys = [c.key for c in (self._item(x) for x in first) if c is not None]
            if keys != self.last_root_keys:
                start = 0
                extraction = d.extract(self.item_sel, self.queries, group=self.group_sel)
        total = start + len(extraction.groups)
        if extraction.groups:
            last = extraction.groups[-1]
            self.last_root_keys = [c.key for c in (self._item(x) for x in last) if c is not None]
        self.roots_read = total
        return extraction

    def _ordered(self, groups: list[list[ExtractedItem]]) -> list[list[ExtractedItem]]:
        if self.spec.order == "oldest_first":
            return [list(reversed(g)) for g in reversed(groups)]
        return groups

    def _load_more(self, scrolls: int) -> bool:
        d = self.r.driver
        on_page = d.count(self.item_sel)
        before = on_page.count if on_page is not None else 0
        if scrolls >= self.spec.max_scrolls:
            return False
        if self.spec.load_more:
            button = self.r.selector(self.spec.load_more)
            m = d.is_visible(button)
            if m is not None:
                self.r._note(m)
                try:
                    d.tap(button, timeout_s=self.t)
                except (DriverTimeout, ElementNotFound):
                    # Lazy loading can race the button (it loads, re-renders or hides it
                    # while we click). Fine if the list grew or ended; else a real timeout.
                    if d.wait_for_count(self.item_sel, before, timeout_s=LAZY_LOAD_WAIT_S):
                        return True
                    if self._at_end():
                        return False
                    raise
                return d.wait_for_count(self.item_sel, before, timeout_s=self.t)
        if d.scroll():
            return True  # what the scroll revealed is read on the next pass
        if self._at_end():
            return False
        # At the bottom: a lazily loading page appends here, or this is the end.
        return d.wait_for_count(self.item_sel, before, timeout_s=min(self.t, LAZY_LOAD_WAIT_S))

    def _at_end(self) -> bool:
        marker = self.spec.end_marker
        if marker is None:
            return False
        return self.r.driver.is_visible(self.r.selector(marker)) is not None

    def _take(self, groups: list[list[ExtractedItem]]) -> bool:
        """Queue new items, newest group first; True once a whole group is already stored."""
        parsed = [[c for c in (self._item(x) for x in g) if c is not None] for g in groups]
        fresh_groups = [[c for c in g if c.key not in self.done] for g in parsed]
        candidates = [c.key for g in fresh_groups for c in g]
        known = self.r.hooks.known_keys(candidates) if candidates else set()  # one query
        for fresh in fresh_groups:
            if not fresh:
                continue
            self.done.update(c.key for c in fresh)
            seen_here = sum(1 for c in fresh if c.key in known)
            self.seen += seen_here
            self.r.stats.seen_items += seen_here
            if seen_here == len(fresh) and self.spec.stop_at_seen:
                return True
            self.pending.extend(c for c in fresh if c.key not in known)
        return False

    def _emit(self) -> None:
        if not self.pending:
            return
        boxes = self._fresh_boxes()
        shots = self._evidence_windows(boxes)
        batch = []
        for item in reversed(self.pending):  # oldest first
            screen, box = shots.get(item.key, (None, None))
            batch.append(Evidenced(item, screen, box))
        created = sum(self.r.hooks.store(batch))
        self.new += created
        self.r.stats.new_items += created
        self.pending.clear()

    def _fresh_boxes(self) -> dict[str, tuple[float, float, float, float]]:
        """Where each item is now (loading more may have moved earlier ones)."""
        extraction = self.r.driver.extract(self.item_sel, self.queries, group=self.group_sel)
        out: dict[str, tuple[float, float, float, float]] = {}
        for x in extraction.items:
            c = self._item(x)
            if c is not None and x.box is not None:
                out[c.key] = x.box
        return out

    def _evidence_windows(
        self, boxes: dict[str, tuple[float, float, float, float]]
    ) -> dict[str, tuple[bytes, tuple[float, float, float, float]]]:
        """One screenshot per screen-sized window of the page, shared by the items in it."""
        wanted = sorted(
            ((boxes[c.key], c.key) for c in self.pending if c.key in boxes),
            key=lambda pair: pair[0][1],
        )
        out: dict[str, tuple[bytes, tuple[float, float, float, float]]] = {}
        window_h = self.r.ctx.page_height  # a whole screen: the item in its context
        i = 0
        while i < len(wanted):
            top = max(0.0, wanted[i][0][1] - 40)
            members = []
            while i < len(wanted) and wanted[i][0][1] + wanted[i][0][3] <= top + window_h:
                members.append(wanted[i])
                i += 1
            if not members:  # an item taller than a screen: its own, taller window
                members.append(wanted[i])
                i += 1
            bottom = max(b[1] + b[3] for b, _ in members)
            if bottom - top <= window_h:  # the screen a person would see there
                png, top = self.r.driver.screen_at(top)
            else:  # an item taller than a screen: one tall capture of the page area
                png = self.r.driver.screenshot(clip=(0.0, top, self.r.ctx.page_width, bottom - top))
            for (x, y, w, h), key in members:
                out[key] = (png, (x, y - top, w, h))
        return out

    def _item(self, x: ExtractedItem) -> CollectedItem | None:
        f = x.fields
        text, author = f.get("text"), f.get("author")
        if text is None or author is None:
            return None
        author = author.strip()
        posted = (f.get("posted_at") or "").strip() or None
        message_id = (f.get("id") or "").strip() or content_id(author, text, self.thread, posted)
        ctx = self.r.ctx
        parent = (f.get("parent_id") or "").strip() or None
        return CollectedItem(
            platform=ctx.platform,
            account=ctx.account,
            thread=self.thread,
            kind=self.spec.kind,
            message_id=message_id,
            author=author,
            text=text,
            posted_at=posted,
            parent_id=parent,
            key=stable_key(ctx.platform, ctx.account, self.thread, message_id),
            parent_key=stable_key(ctx.platform, ctx.account, self.thread, parent)
            if parent
            else None,
            own=handle(author) == handle(ctx.account),
        )
