"""The collect step: read a list, stop where the declared order allows, store oldest first.

Groups (a comment with its replies) are read in the list's order; an incremental
read of a ``newest_first`` or ``oldest_first`` list stops at the first group whose
items are all stored, so a sweep's cost follows what is new; ``appended_at_end``
and ``unordered`` lists, and full passes, are read to the end. Every element the
list selector matched is accounted for: it becomes an item, or it is counted as
unreadable (a required field missing, a group with no item), logged with a
screenshot and reported as drift. New items are handed to the hooks in one batch,
oldest first, each with a screen-high screenshot and its box on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from devices.driver import ExtractedItem, Extraction, FieldQuery
from devices.errors import DriverTimeout, ElementNotFound
from flows.context import Box, Evidenced
from flows.errors import FlowStop
from flows.items import CollectedItem, content_id, stable_key
from flows.models import CollectSpec, FieldSpec
from flows.templates import handle, render, thread_id
from flows.times import ShownTime, read_time

if TYPE_CHECKING:
    from flows.runner import FlowRunner

LAZY_LOAD_WAIT_S = 2.0  # how long the bottom of a list may take to append more
EVIDENCE_CAP_SCREENS = 3  # an item's evidence is at most this many screens tall


def storable(text: str) -> str:
    """Text a store can hold: a page script can build lone UTF-16 surrogates (and NUL),
    which neither SQLite nor PostgreSQL accept; each becomes U+FFFD (as the sandbox
    stores them), and a split surrogate pair becomes its character."""
    joined = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return joined.replace("\x00", "\ufffd")


def _said(x: ExtractedItem) -> tuple[str, str] | None:
    """(author, text) of a row, whitespace collapsed; None without both."""
    author = " ".join((x.fields.get("author") or "").split())
    text = " ".join((x.fields.get("text") or "").split())
    return (author, text) if author and text else None


class Collector:
    """One collect step: read groups newest first, stop at the first fully seen group."""

    def __init__(self, runner: FlowRunner, spec: CollectSpec, timeout_s: float):
        self.r = runner
        self.spec = spec
        self.t = timeout_s
        self.item_sel = runner.selector(spec.list)
        self.group_sel = runner.selector(spec.group) if spec.group else None
        self.queries = [runner.field_query(name, fs) for name, fs in spec.fields.named()]
        if isinstance(spec.thread, FieldSpec):
            self.queries.append(runner.field_query("thread", spec.thread))
        own_marker = runner.pack.own_marker
        if own_marker:
            marker = runner.selector(own_marker)
            self.queries.append(FieldQuery("own", marker, include_self=True, presence=True))
        url = runner.driver.current_url()
        self.page_url = url
        variables = {**runner.ctx.variables, "page_path": urlsplit(url).path, "page_url": url}
        if isinstance(spec.thread, str):
            self.thread = render(spec.thread, variables)
        else:
            self.thread = variables.get("entry_thread") or variables["page_path"]
        ctx = runner.ctx
        self.full = ctx.full_pass or bool(
            spec.full_every and ctx.sweep_number % spec.full_every == 0
        )
        self.stops = spec.stops_at_seen and not self.full
        self.seen_at = ctx.now()
        self.done: set[str] = set()
        self.pending: list[CollectedItem] = []
        self.roots_read = 0
        self.last_root_keys: list[str] = []
        self.new = 0
        self.seen = 0
        self.missed = 0
        self.threads_seen: set[str] = set()
        self.stopped_threads: set[str] = set()  # incremental: reading stopped in these
        self.past_seen_threads: set[str] = set()  # full pass: past where a read would stop
        self.bad_times: set[str] = set()
        self.times: dict[str, ShownTime] = {}
        self.unreadable: dict[tuple[object, ...], dict[str, str | None]] = {}
        self.unreadable_boxes: list[tuple[float, float, float, float]] = []
        self.missing: dict[str, int] = {}
        self.read_boxes: dict[str, tuple[float, float, float, float]] = {}
        self.scrolled = False  # the list moved since the first read
        self.at_end = False  # the list cannot move further
        self.dropped_cut = 0  # rows the last read left for another screen
        self.whole: set[tuple[str, str]] = set()  # (author, text) of rows seen whole
        self.cut_rows: dict[tuple[str, str], ExtractedItem] = {}  # seen only cut, so far

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
            self.r.note_fallback_items(extraction.fallback_counts)
            if self.r.ctx.probe:
                return self._probe(extraction)
            self._account(extraction)
            reached_seen = self._take(self._ordered(extraction.groups))
            if len(self.pending) >= limit:
                del self.pending[limit:]
                hit_limit = True
                break
            if reached_seen and self.stops:
                break
            if self.at_end:
                break
            if not self._load_more(scrolls):
                if not self.dropped_cut:
                    break
                self.at_end = True  # the rows at the far edge are whole now: read them once
                continue
            self.scrolled = True
            scrolls += 1
        if not (reached_seen and self.stops) and not hit_limit:
            self._cut_rows_left()
        self._emit()
        unreadable = self._report_unreadable()
        stats = self.r.stats
        stats.missed += self.missed
        stats.unreadable_times += len(self.bad_times)
        stats.full_pass = stats.full_pass or self.full
        if hit_limit:
            raise FlowStop("limit_reached", f"collected the limit of {limit} items in one step")
        if unreadable and self.spec.on_unreadable == "stop":
            raise FlowStop("selector_missing", self._unreadable_message(unreadable))
        return {
            "thread": self.thread,
            "new": self.new,
            "seen": self.seen,
            "stopped_at_seen": reached_seen and self.stops,
            "loads": scrolls,
            "full_pass": self.full,
            "missed": self.missed,
            "unreadable": unreadable,
            "unreadable_times": len(self.bad_times),
        }

    def _probe(self, extraction: Extraction) -> dict[str, Any]:
        """`selectors check`: note what resolves, remember the first item for the reply check."""
        for name in (self.spec.load_more, self.spec.end_marker):
            if name:
                self.r._note(self.r.driver.count(self.r.selector(name)))
        for x in extraction.items:
            item = self._item(x)
            if item is not None and not item.own:
                self.r.stats.probe_items.append(item)
                break
        return {"thread": self.thread, "probe": len(extraction.items)}

    # -- what could not be read --------------------------------------------------
    def _account(self, extraction: Extraction) -> None:
        """Count the elements of this read that did not become items (once each)."""
        occurrences: dict[tuple[object, ...], int] = {}
        for box in extraction.empty_groups:
            sig: tuple[object, ...] = ("group", round(box[1]) if box else None)
            self._unreadable_one(sig, {"item": None}, box, ["item"], occurrences)
        by_key: dict[str, tuple[str, str]] = {}
        for x in extraction.items:
            missing = self._missing(x)
            if missing and x.cut == "both" and self._part_of_cut_row(x):
                continue  # the middle of a towering row read from its top before
            if missing:
                sig = tuple(sorted(x.fields.items()))
                self._unreadable_one(sig, x.fields, x.box, missing, occurrences)
                continue
            item = self._item(x)
            if item is None:
                continue
            if x.box is not None:
                self.read_boxes[item.key] = x.box
            said = (item.author, item.text)
            if by_key.setdefault(item.key, said) != said:
                # Two different messages under one key (an id read from something that is
                # not unique): the second would be lost as a "duplicate", so it is reported.
                sig = ("same key", item.key, said)
                self._unreadable_one(sig, x.fields, x.box, ["id (not unique)"], occurrences)

    def _unreadable_one(
        self,
        sig: tuple[object, ...],
        fields: dict[str, str | None],
        box: tuple[float, float, float, float] | None,
        missing: list[str],
        occurrences: dict[tuple[object, ...], int],
    ) -> None:
        n = occurrences.get(sig, 0)
        occurrences[sig] = n + 1
        key = (*sig, n)
        if key in self.unreadable:
            return
        self.unreadable[key] = fields
        if box is not None:
            self.unreadable_boxes.append(box)
        for name in missing:
            self.missing[name] = self.missing.get(name, 0) + 1

    def _part_of_cut_row(self, x: ExtractedItem) -> bool:
        text = " ".join((x.fields.get("text") or "").split())
        return bool(text) and any(text == said[1] for said in self.cut_rows)

    @staticmethod
    def _missing(x: ExtractedItem) -> list[str]:
        return [n for n in ("text", "author") if not (x.fields.get(n) or "").strip()]

    def _report_unreadable(self) -> int:
        count = len(self.unreadable)
        if not count:
            return 0
        sample = next(iter(self.unreadable.values()))
        name = self.spec.group if "item" in self.missing and self.spec.group else self.spec.list
        box = self.unreadable_boxes[0] if self.unreadable_boxes else None
        self.r.report_unreadable(name, count, dict(self.missing), box, sample)
        return count

    def _unreadable_message(self, count: int) -> str:
        lacking = ", ".join(f"{n} ({k})" for n, k in sorted(self.missing.items()))
        return (
            f"{count} elements of {self.spec.list!r} could not be read as items "
            f"(missing: {lacking}); on_unreadable: stop"
        )

    def _read_more(self) -> Extraction:
        """Read the roots not read yet (lists grow at the end as more loads).

        The last root already read is read again: if it is not where it was, the
        list was re-rendered and everything is read from the top.
        """
        d = self.r.driver
        start = max(0, self.roots_read - 1)
        extraction = self._whole(
            d.extract(self.item_sel, self.queries, group=self.group_sel, start=start)
        )
        if start:
            first = extraction.groups[0] if extraction.groups else []
            keys = [c.key for c in (self._item(x) for x in first) if c is not None]
            if keys != self.last_root_keys:
                start = 0
                extraction = self._whole(
                    d.extract(self.item_sel, self.queries, group=self.group_sel)
                )
        total = start + len(extraction.groups)
        if extraction.groups:
            last = extraction.groups[-1]
            self.last_root_keys = [c.key for c in (self._item(x) for x in last) if c is not None]
        self.roots_read = total
        return extraction

    def _whole(self, extraction: Extraction) -> Extraction:
        """Without the rows a phone's list may have cut: those touching the edge the list
        scrolls towards (unless it is at its end) or the edge it came from (unless nothing
        was scrolled yet). Each is read whole on the screen after or before; a row read in
        half would be stored without its time, or twice."""
        ahead, behind = ("top", "bottom") if self.spec.scroll == "up" else ("bottom", "top")
        cut = [
            x
            for x in extraction.items
            if (x.cut == ahead and not self.at_end) or (x.cut == behind and self.scrolled)
        ]
        self.dropped_cut = len(cut)
        for x in extraction.items:
            said = _said(x)
            if x.cut in (None, "both") and said is not None:
                self.whole.add(said)  # read as it is: shown whole, or as much as ever shows
        for x in cut:  # kept aside: a row taller than the list is never shown whole
            said = _said(x)
            if said is not None and said not in self.whole and "text" not in x.ocr:
                self.cut_rows[said] = x  # (pixels cut in half read as nonsense: never kept)
        if cut:
            dropped = {id(x) for x in cut}
            groups = [[x for x in g if id(x) not in dropped] for g in extraction.groups]
            extraction.groups = [g for g in groups if g]
        return extraction

    def _cut_rows_left(self) -> None:
        """Rows only ever seen cut by the list's edge (taller than the list): read as they
        were seen with their author and text, so a long message is never lost."""
        rows = [x for said, x in self.cut_rows.items() if said not in self.whole]
        for x in rows:
            item = self._item(x)
            if item is not None and x.box is not None:
                self.read_boxes.setdefault(item.key, x.box)
        if rows:
            self._take([[x] for x in rows])

    def _ordered(self, groups: list[list[ExtractedItem]]) -> list[list[ExtractedItem]]:
        """Groups newest first (the order _take stops in and the batch is reversed from)."""
        if self.spec.order in ("oldest_first", "appended_at_end"):
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
        if d.scroll(up=self.spec.scroll == "up"):
            return True  # what the scroll revealed is read on the next pass
        if self._at_end():
            return False
        # At the bottom: a lazily loading page appends here, or this is the end.
        wait = min(self.t, self.spec.end_wait_s)
        return wait > 0 and d.wait_for_count(self.item_sel, before, timeout_s=wait)

    def _at_end(self) -> bool:
        marker = self.spec.end_marker
        if marker is None:
            return False
        return self.r.driver.is_visible(self.r.selector(marker)) is not None

    def _take(self, groups: list[list[ExtractedItem]]) -> bool:
        """Queue new items, newest group first; True when reading may stop here.

        An incremental read stops at the first group already stored. When each item
        names its own thread (several posts on one page), that stop is per thread:
        the rest of a stopped thread is skipped, the other threads are still read,
        and reading ends once every thread seen has stopped.
        """
        parsed = [self._group(g) for g in groups]
        fresh_groups = [[c for c in g if c.key not in self.done] for g in parsed]
        candidates = [c.key for g in fresh_groups for c in g]
        known = self.r.hooks.known_keys(candidates) if candidates else set()  # one query
        per_thread = isinstance(self.spec.thread, FieldSpec)
        for fresh in fresh_groups:
            if not fresh:
                continue
            thread = fresh[0].thread if per_thread else ""
            self.threads_seen.add(thread)
            if thread in self.stopped_threads:
                continue
            self.done.update(c.key for c in fresh)
            seen_here = sum(1 for c in fresh if c.key in known)
            self.seen += seen_here
            self.r.stats.seen_items += seen_here
            if seen_here == len(fresh):
                if self.stops:
                    self.stopped_threads.add(thread)
                    if not per_thread:
                        return True
                    continue
                if self.spec.stops_at_seen:
                    self.past_seen_threads.add(thread)
            new_here = [c for c in fresh if c.key not in known]
            if thread in self.past_seen_threads:
                self.missed += len(new_here)  # an incremental read stops before these
            for c in new_here:
                if c.posted_how == "unreadable" and self.spec.fields.posted_at is not None:
                    self.bad_times.add(c.key)
            self.pending.extend(new_here)
        return bool(self.threads_seen) and self.threads_seen <= self.stopped_threads

    def _group(self, group: list[ExtractedItem]) -> list[CollectedItem]:
        """A group's items; when the group's own element is an item and the pack reads no
        parent_id, the items nested in it are its replies."""
        pairs = [(x, c) for x, c in ((x, self._item(x)) for x in group) if c is not None]
        root = next((c for x, c in pairs if x.is_group), None)
        if root is not None and self.spec.fields.parent_id is None:
            for _, c in pairs:
                if c is not root and c.parent_key is None:
                    c.parent_id, c.parent_key = root.message_id, root.key
        return [c for _, c in pairs]

    def _emit(self) -> None:
        if not self.pending:
            return
        boxes = self._fresh_boxes()
        shots = self._evidence_windows(boxes)
        batch = []
        for item in reversed(self.pending):  # oldest first
            screen, box = shots.get(item.key, (None, None))
            capped = item.key in boxes and boxes[item.key][3] > self._cap_height()
            batch.append(Evidenced(item, screen, box, capped))
        created = sum(self.r.hooks.store(batch))
        self.new += created
        self.r.stats.new_items += created
        self.pending.clear()

    def _fresh_boxes(self) -> dict[str, tuple[float, float, float, float]]:
        """Where each item is now (loading more may have moved earlier ones); an item no
        longer on screen (a phone's list keeps only the rows it shows) keeps the box it
        was read at, on the screen the driver kept from then."""
        extraction = self.r.driver.extract(self.item_sel, self.queries, group=self.group_sel)
        out = dict(self.read_boxes)
        for x in extraction.items:
            c = self._item(x)
            if c is not None and x.box is not None and x.cut is None:
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
        placed = []
        kept: dict[int, tuple[bytes, list[Box]]] = {}  # screens a device kept, by identity
        for box, key in wanted:  # a device keeps the screens it read rows on
            shown = self.r.driver.screen_showing(box)
            if shown is None:
                placed.append((box, key))
                continue
            png, top = shown
            out[key] = (png, (box[0], box[1] - top, box[2], box[3]))
            kept.setdefault(id(png), (png, []))[1].append(out[key][1])
        for png, on_it in kept.values():  # captured while reading: each counted once here
            self.r.stats.screens += 1
            self.r.hooks.evidence_captured(png, on_it)
        wanted = placed
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
            if bottom - top <= window_h or bottom - top > self._cap_height():
                # the screen a person would see there; for a towering item, its start
                png, top = self.r.driver.screen_at(top)
            else:  # an item a few screens tall: one tall capture of the page area
                png = self.r.driver.screenshot(clip=(0.0, top, self.r.ctx.page_width, bottom - top))
            self.r.stats.screens += 1
            for (x, y, w, h), key in members:
                out[key] = (png, (x, y - top, w, h))
            self.r.hooks.evidence_captured(png, [out[key][1] for _, key in members])
        return out

    def _cap_height(self) -> float:
        """The tallest evidence capture. A megabyte message makes the page 125,000 px tall
        and capturing it stalls the renderer: its first screen is kept, marked capped."""
        return EVIDENCE_CAP_SCREENS * self.r.ctx.page_height

    def _item(self, x: ExtractedItem) -> CollectedItem | None:
        f = x.fields
        text, author = f.get("text"), f.get("author")
        if self._missing(x) or text is None or author is None:
            return None
        ctx = self.r.ctx
        text, author = storable(text), storable(author)
        text = " ".join(text.split()) if self.spec.whitespace == "collapse" else text
        author = " ".join(author.split())
        shown_handle = handle(f.get("handle") or "") or None
        own = f.get("own") is not None or handle(shown_handle or author) == handle(ctx.account)
        if own and f.get("own") is not None:
            author = ctx.account  # the account's own preview in a partner's row
        when = self._time(f.get("posted_at"))
        thread = self.thread
        if isinstance(self.spec.thread, FieldSpec):
            value = " ".join((f.get("thread") or "").split())
            thread = thread_id(value, self.page_url) if value else self.thread
        # A shown time ("3h") changes between sweeps: only an ISO time may fingerprint an item.
        stays = when.absolute or (self.spec.shown_times_stay and bool(when.text))
        fingerprint_time = when.text if stays else None
        message_id = (f.get("id") or "").strip() or content_id(
            shown_handle or author, text, thread, fingerprint_time
        )
        parent = (f.get("parent_id") or "").strip() or None
        return CollectedItem(
            platform=ctx.platform,
            account=ctx.account,
            thread=thread,
            kind=self.spec.kind,
            message_id=message_id,
            author=author,
            text=text,
            posted_at=when.at.isoformat() if when.at else None,
            parent_id=parent,
            key=stable_key(ctx.platform, ctx.account, thread, message_id),
            parent_key=stable_key(ctx.platform, ctx.account, thread, parent) if parent else None,
            own=own,
            author_handle=shown_handle,
            posted_text=when.text or None,
            posted_how=self._how(x, when),
            truncated=bool(f.get("truncated") is not None),
            ocr_confidence=min(x.ocr.values()) if x.ocr else None,
            ocr_fields=sorted(x.ocr),
        )

    def _how(self, x: ExtractedItem, when: ShownTime) -> str | None:
        """How the time was read; a row taller than the list (read cut, or as much as ever
        shows) may show no time on any one screen: not a time the pack failed to read."""
        if self.spec.fields.posted_at is None:
            return None
        if x.cut is not None and x.fields.get("posted_at") is None:
            return None
        return when.how

    def _time(self, shown: str | None) -> ShownTime:
        """The shown time read once per text (items are parsed several times per step)."""
        key = shown or ""
        if key not in self.times:
            ctx = self.r.ctx
            self.times[key] = read_time(
                shown, seen_at=self.seen_at, timezone=ctx.timezone, locale=ctx.locale
            )
        return self.times[key]
