"""The flow runner: executes a Flow's steps on a Driver, knowing no platform and no path.

It reports everything through ``RunnerHooks`` (the sweep implements them: store,
activity log, evidence) and yields items through ``hooks.item`` the moment they
are read, so each is stored before anything else happens to it. Every halt is
a ``FlowStop`` with a named reason; the screens listed in the selector pack
(login wall, challenge, rate-limit notice) are checked after each navigation
and whenever an element is missing, so a missing element on a login wall is
reported as ``login_required``, not as selector drift.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

from devices.driver import Driver, ExtractedItem, Extraction, FieldQuery, Match
from devices.errors import DriverCrashed, DriverError, DriverTimeout, ElementNotFound
from devices.selectors import Selector, SelectorPack
from flows.errors import FlowDefinitionError, FlowStop
from flows.items import CollectedItem, content_id, stable_key
from flows.models import (
    AssertAccount,
    AssertVisible,
    Back,
    Collect,
    CollectSpec,
    FieldSpec,
    Flow,
    ForEach,
    IfVisible,
    Open,
    Reload,
    Screenshot,
    ScrollUntil,
    SendReply,
    Tap,
    TypeText,
    WaitFor,
)

DEFAULT_TIMEOUT_S = 15.0
LAZY_LOAD_WAIT_S = 2.0  # how long the bottom of a list may take to append more
WINDOW_HEIGHT = 1600.0  # evidence screenshots cover at most this much page height
NAVIGATION = (Open, Tap, Back, Reload)


Box = tuple[float, float, float, float]


@dataclass
class Evidenced:
    """A collected item with the screen it was seen on and its box on that screen."""

    item: CollectedItem
    screen: bytes | None
    box: Box | None


class RunnerHooks(Protocol):
    def step_started(self, path: str, kind: str, detail: dict[str, Any]) -> None: ...

    def step_ok(self, path: str, kind: str, duration_s: float, detail: dict[str, Any]) -> None: ...

    def step_failed(
        self, path: str, kind: str, duration_s: float, error: str, attempt: int
    ) -> None: ...

    def fallback(self, selector: str, index: int, locator: str) -> None: ...

    def screenshot(self, name: str, png: bytes) -> str: ...

    def known_keys(self, keys: list[str]) -> set[str]: ...

    def store(self, batch: list[Evidenced]) -> list[bool]:
        """Store a batch of items (oldest first) atomically; True for each that was new.

        Called before anything else happens to the items: logging and triage
        come after the batch is committed.
        """
        ...


@dataclass
class RunContext:
    platform: str
    account: str
    variables: dict[str, str]
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_items: int | None = None
    deadline: float | None = None
    page_width: float = 1280.0
    page_height: float = 900.0  # the viewport: evidence windows are one screen high
    probe: bool = (
        False  # `selectors check`: visit one entry per list, read one screen, store nothing
    )
    watch_screens: bool = True  # off for login flows, which expect the login wall


@dataclass
class RunStats:
    new_items: int = 0
    seen_items: int = 0
    screenshots: int = 0
    fallbacks: dict[str, int] = field(default_factory=dict)
    resolved: dict[str, int] = field(default_factory=dict)  # best alternative seen; -1 none
    reply: dict[str, Any] | None = None  # what the last send_reply found and did


_VAR = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_ENV = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}")


def expand_env(text: str) -> str:
    """Expand ``${VAR}`` and ``${VAR:-default}`` from the environment."""
    return _ENV.sub(lambda m: os.environ.get(m.group(1)) or (m.group(2) or ""), text)


def render(template: str, variables: dict[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in variables:
            raise FlowDefinitionError(f"unknown variable {{{name}}} in {template!r}")
        return variables[name]

    return _VAR.sub(sub, template)


class FlowRunner:
    def __init__(self, driver: Driver, pack: SelectorPack, hooks: RunnerHooks, ctx: RunContext):
        self.driver = driver
        self.pack = pack
        self.hooks = hooks
        self.ctx = ctx
        self.stats = RunStats()

    # -- public ------------------------------------------------------------------
    def run(self, flow: Flow) -> RunStats:
        self._steps(flow.steps, "")
        return self.stats

    # -- helpers -------------------------------------------------------------------
    def selector(self, name: str) -> Selector:
        if name not in self.pack.selectors:
            raise FlowDefinitionError(f"selector {name!r} is not in pack {self.pack.id!r}")
        selector = self.pack.selector(name)
        if not any("{" in alt.value for alt in selector.alternatives):
            return selector
        return selector.model_copy(
            update={
                "alternatives": tuple(
                    alt.model_copy(
                        update={alt.kind: _render_locator(alt.kind, alt.value, self.ctx.variables)}
                    )
                    for alt in selector.alternatives
                )
            }
        )

    def _note(self, match: Match | None) -> None:
        if match is not None:
            best = self.stats.resolved.get(match.selector, -1)
            if best < 0 or 0 <= match.index < best:
                self.stats.resolved[match.selector] = match.index
        if match is not None and match.fell_back:
            self.stats.fallbacks[match.selector] = match.index
            self.hooks.fallback(match.selector, match.index, match.locator)

    def _timeout(self, step: Any) -> float:
        return float(step.timeout_s or self.ctx.timeout_s)

    def _check_deadline(self) -> None:
        if self.ctx.deadline is not None and time.monotonic() > self.ctx.deadline:
            raise FlowStop("limit_reached", "the flow ran past its maximum duration")

    def check_screens(self) -> None:
        """Stop with the screen's reason if a login wall, challenge or block notice shows."""
        if not self.ctx.watch_screens:
            return
        for reason, name in self.pack.screens.items():
            if self.driver.is_visible(self.selector(name)) is not None:
                raise FlowStop(reason, f"the screen shows {name}")

    # -- step execution ----------------------------------------------------------
    def _steps(self, steps: list[Any], prefix: str) -> None:
        for index, step in enumerate(steps):
            self._step(step, f"{prefix}{index + 1}")

    def _step(self, step: Any, path: str) -> None:
        kind = type(step).__name__.lower()
        attempts = step.retries + 1
        for attempt in range(1, attempts + 1):
            self._check_deadline()
            started = time.monotonic()
            self.hooks.step_started(path, kind, {"attempt": attempt})
            try:
                detail = self._execute(step, path) or {}
            except FlowStop:
                raise
            except DriverCrashed as exc:
                raise FlowStop("crashed", str(exc), exc.evidence) from exc
            except DriverError as exc:
                took = time.monotonic() - started
                self.hooks.step_failed(path, kind, took, str(exc), attempt)
                with contextlib.suppress(DriverError):
                    self.check_screens()  # raises FlowStop when a block screen explains it
                if attempt < attempts:
                    for r_index, recovery in enumerate(step.recover):
                        self._step(recovery, f"{path}.recover{r_index + 1}")
                    continue
                if step.optional:
                    return
                reason = "selector_missing" if isinstance(exc, ElementNotFound) else "timeout"
                if not isinstance(exc, (ElementNotFound, DriverTimeout)):
                    reason = "crashed"
                raise FlowStop(reason, str(exc), exc.evidence) from exc
            self.hooks.step_ok(path, kind, time.monotonic() - started, detail)
            if isinstance(step, NAVIGATION):
                self.check_screens()
            return

    def _execute(self, step: Any, path: str) -> dict[str, Any] | None:
        d = self.driver
        t = self._timeout(step)
        if isinstance(step, Open):
            url = expand_env(render(step.open, self.ctx.variables))
            d.open(url, timeout_s=t)
            return {"url": url}
        if isinstance(step, WaitFor):
            m = d.find(self.selector(step.wait_for), timeout_s=t)
            self._note(m)
            return {"selector": m.selector, "locator": m.locator}
        if isinstance(step, AssertVisible):
            self.check_screens()
            try:
                m = d.find(self.selector(step.assert_visible), timeout_s=t)
            except ElementNotFound as exc:
                raise FlowStop(step.stop_reason, str(exc), exc.evidence) from exc
            self._note(m)
            return {"selector": m.selector}
        if isinstance(step, AssertAccount):
            return self._assert_account(step, t)
        if isinstance(step, Tap):
            m = d.tap(self.selector(step.tap), timeout_s=t)
            self._note(m)
            return {"selector": m.selector, "locator": m.locator}
        if isinstance(step, TypeText):
            text = render(step.type.text, self.ctx.variables)
            m = d.type_text(self.selector(step.type.into), text, clear=step.type.clear, timeout_s=t)
            self._note(m)
            return {"selector": m.selector, "chars": len(text)}
        if isinstance(step, ScrollUntil):
            return self._scroll_until(step, t)
        if isinstance(step, Collect):
            return self._collect(step.collect, t)
        if isinstance(step, ForEach):
            return self._for_each(step, path, t)
        if isinstance(step, IfVisible):
            shown = d.is_visible(self.selector(step.if_visible.selector)) is not None
            branch = step.if_visible.then if shown else step.if_visible.otherwise
            self._steps(branch, f"{path}.{'then' if shown else 'else'}.")
            return {"visible": shown}
        if isinstance(step, Screenshot):
            where = self.hooks.screenshot(step.screenshot, d.screenshot())
            self.stats.screenshots += 1
            return {"name": step.screenshot, "path": where}
        if isinstance(step, Reload):
            d.reload(timeout_s=t)
            return None
        if isinstance(step, Back):
            d.back(timeout_s=t)
            return None
        if isinstance(step, SendReply):
            if "reply_text" not in self.ctx.variables:
                raise FlowDefinitionError(
                    "send_reply runs only in a reply flow started by the outbox"
                )
            self.stats.reply = ReplySender(self, step.send_reply, t).run()
            return self.stats.reply
        raise FlowDefinitionError(f"unknown step {type(step).__name__}")

    def _assert_account(self, step: AssertAccount, t: float) -> dict[str, Any]:
        self.check_screens()
        try:
            text, m = self.driver.read_text(self.selector(step.assert_account), timeout_s=t)
        except ElementNotFound as exc:
            self.check_screens()
            raise FlowStop(
                "wrong_account", f"cannot see which account is logged in: {exc}", exc.evidence
            ) from exc
        self._note(m)
        shown = _handle(text)
        if shown != _handle(self.ctx.account):
            raise FlowStop(
                "wrong_account", f"logged in as {text.strip()!r}, expected {self.ctx.account!r}"
            )
        return {"account": text.strip()}

    def _scroll_until(self, step: ScrollUntil, t: float) -> dict[str, Any]:
        spec = step.scroll_until
        target = self.selector(spec.until_visible) if spec.until_visible else None
        for n in range(spec.max_scrolls):
            if target is not None and self.driver.is_visible(target) is not None:
                return {"scrolls": n}
            if not self.driver.scroll():
                break
        if target is not None and self.driver.is_visible(target) is None:
            raise ElementNotFound(f"scrolled {spec.max_scrolls} times without seeing {target.name}")
        return {"scrolls": spec.max_scrolls}

    # -- for_each ----------------------------------------------------------------
    def _for_each(self, step: ForEach, path: str, t: float) -> dict[str, Any]:
        spec = step.for_each
        entries = self.selector(spec.list)
        queries = [
            FieldQuery(n, self._field_selector(f), f.attr)
            for n, f in (("link", spec.link), ("latest", spec.latest))
            if f is not None
        ]
        extraction = self.driver.extract(entries, queries)
        self._note_fields(extraction.field_matches, extraction.match)
        rows = extraction.items[: 1 if self.ctx.probe else spec.max]
        skipped = 0
        base = self.driver.current_url()
        for i, row in enumerate(rows):
            self._check_deadline()
            if spec.link is not None and spec.latest is not None and self._entry_seen(row, base):
                skipped += 1
                continue
            if spec.link is not None:
                href = row.fields.get("link")
                if not href:
                    continue
                self.driver.open(urljoin(base, href), timeout_s=t)
                self.check_screens()
            else:
                self._note(self.driver.tap(entries, nth=i, timeout_s=t))
                self.check_screens()
            self._steps(spec.steps, f"{path}.{i + 1}.")
        return {"entries": len(rows), "skipped_unchanged": skipped}

    def _entry_seen(self, row: ExtractedItem, base: str) -> bool:
        href, latest = row.fields.get("link"), row.fields.get("latest")
        if not href or not latest:
            return False
        thread = urlsplit(urljoin(base, href)).path
        key = stable_key(self.ctx.platform, self.ctx.account, thread, latest)
        return key in self.hooks.known_keys([key])

    def _field_selector(self, spec: FieldSpec) -> Selector | None:
        return self.selector(spec.selector) if spec.selector else None

    def _note_fields(self, used: dict[str, int], match: Match) -> None:
        self._note(match)
        for name, index in used.items():
            if index < 0 and name in self.pack.selectors:
                self.stats.resolved.setdefault(name, -1)
            if index == 0 and name in self.pack.selectors:
                self.stats.resolved[name] = 0
            if index > 0 and name in self.pack.selectors:
                alt = self.pack.selectors[name][index]
                self._note(Match(name, index, 0, alt.describe()))

    # -- collect -------------------------------------------------------------------
    def _collect(self, spec: CollectSpec, t: float) -> dict[str, Any]:
        return Collector(self, spec, t).run()


def _render_locator(kind: str, template: str, variables: dict[str, str]) -> str:
    """Fill ``{var}`` in a locator; values come from screens, so they are quoted, never spliced."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in variables:
            raise FlowDefinitionError(f"unknown variable {{{name}}} in selector {template!r}")
        value = variables[name]
        if kind == "css":
            return re.sub(r"([\\'\"\]\[])", r"\\\1", value)
        if kind == "xpath" and "'" in value:
            raise FlowDefinitionError(
                f"value for {{{name}}} contains a quote; xpath cannot hold it"
            )
        return value

    return _VAR.sub(sub, template)


def _same_text(a: str, b: str) -> bool:
    import unicodedata

    def norm(x: str) -> str:
        return " ".join(unicodedata.normalize("NFC", x).split())

    return norm(a) == norm(b)


class ReplySender:
    """One send_reply step: verify, check not already posted, type, send, confirm."""

    def __init__(self, runner: FlowRunner, spec: Any, timeout_s: float):
        self.r = runner
        self.spec = spec
        self.t = timeout_s
        self.text = runner.ctx.variables["reply_text"]

    def _own_texts(self) -> list[str]:
        own = self.r.selector(self.spec.own_replies)
        sub = self.r.selector(self.spec.own_text) if self.spec.own_text else None
        extraction = self.r.driver.extract(own, [FieldQuery("text", sub, None)])
        return [x.fields.get("text") or "" for x in extraction.items]

    def already_posted(self) -> bool:
        return any(_same_text(t, self.text) for t in self._own_texts())

    def run(self) -> dict[str, Any]:
        d, r = self.r.driver, self.r
        if self.spec.target:
            try:
                r._note(d.find(r.selector(self.spec.target), timeout_s=self.t))
            except ElementNotFound as exc:
                r.check_screens()
                raise FlowStop(
                    "selector_missing",
                    "the customer's message is no longer in the thread",
                    exc.evidence,
                ) from exc
        if self.already_posted():
            return {"already_posted": True}
        before = len(self._own_texts())
        if self.spec.open_composer:
            r._note(d.tap(r.selector(self.spec.open_composer), timeout_s=self.t))
        r._note(
            d.type_text(r.selector(self.spec.composer), self.text, clear=True, timeout_s=self.t)
        )
        r._note(d.tap(r.selector(self.spec.send), timeout_s=self.t))
        deadline = time.monotonic() + self.t
        while time.monotonic() < deadline:
            # The send usually navigates; reading mid-navigation fails, so poll until the
            # reply shows up among the brand's replies or the step's time runs out.
            with contextlib.suppress(DriverError):
                r.check_screens()
                if len(self._own_texts()) > before and self.already_posted():
                    return {"already_posted": False, "confirmed": True}
            time.sleep(0.1)
        raise DriverTimeout("the reply did not appear in the thread after sending")


def _handle(text: str) -> str:
    return text.strip().lstrip("@").casefold()


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
                d.tap(button, timeout_s=self.t)
                return d.wait_for_count(self.item_sel, before, timeout_s=self.t)
        if d.scroll():
            return True  # what the scroll revealed is read on the next pass
        if self.spec.end_marker and d.is_visible(self.r.selector(self.spec.end_marker)):
            return False
        # At the bottom: a lazily loading page appends here, or this is the end.
        return d.wait_for_count(self.item_sel, before, timeout_s=min(self.t, LAZY_LOAD_WAIT_S))

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
            height = max(window_h, max(b[1] + b[3] for b, _ in members) - top)
            png = self.r.driver.screenshot(clip=(0.0, top, self.r.ctx.page_width, height))
            self.r.stats.screenshots += 1
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
            own=_handle(author) == _handle(ctx.account),
        )
