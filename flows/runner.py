"""The flow runner: executes a Flow's steps on a Driver, knowing no platform and no path.

It reports everything through ``RunnerHooks`` (the sweep implements them: store,
activity log, evidence) and hands each collect step's new items to ``hooks.store``
in one batch, so they are stored before anything else happens to them. Every halt is
a ``FlowStop`` with a named reason; the screens listed in the selector pack
(login wall, challenge, rate-limit notice) are checked after each navigation
and whenever an element is missing, so a missing element on a login wall is
reported as ``login_required``, not as selector drift.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from devices.android.backend import SYSTEM_DIALOGS
from devices.driver import Driver, ExtractedItem, FieldQuery, Match, Relation
from devices.errors import (
    DriverCrashed,
    DriverError,
    DriverStalled,
    DriverTimeout,
    ElementNotFound,
    SelectorInvalid,
)
from devices.selectors import Selector, SelectorPack
from flows.collect import Collector
from flows.context import (
    DEFAULT_TIMEOUT_S,
    Box,
    Evidenced,
    RunContext,
    RunnerHooks,
    RunStats,
    Unreadable,
)
from flows.errors import FlowDefinitionError, FlowStop
from flows.items import stable_key
from flows.models import (
    AssertAccount,
    AssertVisible,
    Back,
    Collect,
    CollectSpec,
    FieldSpec,
    Flow,
    ForEach,
    ForEachSpec,
    IfKind,
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
from flows.reply import ReplySender
from flows.templates import expand_env, handle, render, render_locator, thread_id

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "Box",
    "Evidenced",
    "FlowRunner",
    "RunContext",
    "RunStats",
    "RunnerHooks",
    "expand_env",
    "render",
]

NAVIGATION = (Open, Tap, Back, Reload)
MAX_DIALOGS = 5  # dismissed in a row before the flow stops: something keeps raising them


@dataclass
class _EntryWalk:
    """Where a for_each is in its list: entries visited and skipped, by thread or link."""

    done: set[str] = field(default_factory=set)
    shared: set[str] = field(default_factory=set)  # threads two entries on one screen share
    unreadable: set[tuple[tuple[str, str], ...]] = field(default_factory=set)
    visited: int = 0
    skipped: int = 0
    scrolls: int = 0
    on_screen: int = 0
    matched: bool = False
    at_end: bool = False


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
                        update={alt.kind: render_locator(alt.kind, alt.value, self.ctx.variables)}
                    )
                    for alt in selector.alternatives
                )
            }
        )

    def open(self, url: str, timeout_s: float, wait_until: str = "load") -> int | None:
        """Navigate; an error page is its own stop, never mistaken for the screen it replaced."""
        status = self.driver.open(url, timeout_s=timeout_s, wait_until=wait_until)
        if status == 429:
            raise FlowStop("rate_limited", f"the platform answered HTTP 429 for {url}")
        if status is not None and status >= 500:
            raise FlowStop("platform_error", f"the platform answered HTTP {status} for {url}")
        return status

    def field_query(self, name: str, spec: FieldSpec) -> FieldQuery:
        """How the driver reads one field: its selector, attribute and relation to the item."""
        relation: Relation | None = None
        related = spec.closest or spec.preceding
        if spec.closest:
            relation = "closest"
        elif spec.preceding:
            relation = "preceding"
        return FieldQuery(
            name,
            self._field_selector(spec),
            spec.attr,
            relation,
            self.selector(related) if related else None,
            ocr=spec.ocr,
        )

    def note_fallback_items(self, counts: dict[str, int]) -> None:
        for name, n in counts.items():
            self.stats.fallback_items[name] = self.stats.fallback_items.get(name, 0) + n

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
        """Stop with the screen's reason if a login wall, challenge or block notice shows.

        On a device, the harmless dialogs the pack lists are dismissed first (logged),
        and a window of another package in front of the app (a permission prompt,
        another app) stops the flow: ``unexpected_dialog`` for a system dialog,
        ``wrong_app`` for another app.
        """
        if not self.ctx.watch_screens:
            return
        self._dismiss_dialogs()
        for reason, name in self.pack.screens.items():
            if self.driver.is_visible(self.selector(name)) is not None:
                raise FlowStop(reason, f"the screen shows {name}")
        if self.pack.surface == "android" and self.driver.dialog_in_front():
            raise FlowStop("unexpected_dialog", "a dialog the pack does not list covers the app")
        app = self.pack.app.package if self.pack.app is not None else None
        front = self.driver.app_in_front() if app is not None else None
        if app is not None and front is not None and front != app:
            if front in SYSTEM_DIALOGS:  # the permission prompt, a system alert
                raise FlowStop("unexpected_dialog", f"a {front} dialog covers {app}")
            raise FlowStop("wrong_app", f"{front} is in front, not {app}")

    def _dismiss_dialogs(self) -> None:
        """Tap away the harmless dialogs the pack names (a dialog may follow a dialog)."""
        for _ in range(MAX_DIALOGS):
            shown = next(
                (
                    (name, d)
                    for name, d in self.pack.dialogs.items()
                    if self.driver.is_visible(self.selector(d.detect)) is not None
                ),
                None,
            )
            if shown is None:
                return
            name, dialog = shown
            self.driver.tap(self.selector(dialog.dismiss), timeout_s=self.ctx.timeout_s)
            self.stats.dialogs_dismissed[name] = self.stats.dialogs_dismissed.get(name, 0) + 1
            self.hooks.dismissed(name, dialog.dismiss)
        raise FlowStop(
            "unexpected_dialog", f"dialogs kept showing after {MAX_DIALOGS} were dismissed"
        )

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
            except DriverStalled as exc:  # the watchdog stopped a browser that hung
                raise FlowStop("timeout", str(exc), exc.evidence) from exc
            except DriverCrashed as exc:
                raise FlowStop("crashed", str(exc), exc.evidence) from exc
            except SelectorInvalid as exc:  # a pack error: retrying cannot help
                raise FlowStop(
                    "crashed", f"pack {self.pack.id!r}, step {path} ({kind}): {exc}", exc.evidence
                ) from exc
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
            status = self.open(url, t, step.wait_until)
            return {"url": url, "status": status}
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
        if isinstance(step, IfKind):
            if "item_kind" not in self.ctx.variables:
                raise FlowDefinitionError("if_kind runs only in a reply flow started by the outbox")
            hit = self.ctx.variables["item_kind"] == step.if_kind.kind
            branch = step.if_kind.then if hit else step.if_kind.otherwise
            self._steps(branch, f"{path}.{'then' if hit else 'else'}.")
            return {"item_kind": self.ctx.variables["item_kind"]}
        if isinstance(step, Screenshot):
            where = self.hooks.screenshot(step.screenshot, d.screenshot())
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
        selector = self.selector(step.assert_account)
        try:
            text, m = self.driver.read_text(selector, timeout_s=t)
            if step.attr is not None:
                read = self.driver.extract(selector, [FieldQuery("value", None, step.attr)])
                first = read.items[0].fields.get("value") if read.items else None
                text = first or ""
        except ElementNotFound as exc:
            self.check_screens()
            raise FlowStop(
                "wrong_account", f"cannot see which account is logged in: {exc}", exc.evidence
            ) from exc
        self._note(m)
        shown = " ".join(text.split())
        if step.pattern is not None:
            found = re.search(step.pattern, shown)
            shown = found.group(1) if found else ""
        if not shown or handle(shown) != handle(self.ctx.account):
            where = f"{step.assert_account}" + (f" [{step.attr}]" if step.attr else "")
            raise FlowStop(
                "wrong_account",
                f"logged in as {shown or text.strip()!r} (read from {where}), "
                f"expected {self.ctx.account!r}",
            )
        return {"account": shown}

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
        """Visit the list's entries; with ``scroll``, screen by screen down the list (a
        phone's list holds only the rows it shows), each entry once by its thread or link."""
        spec = step.for_each
        wanted = render(spec.match, self.ctx.variables) if spec.match is not None else None
        state = _EntryWalk()
        while True:
            self._for_each_screen(spec, path, t, wanted, state)
            if not spec.scroll or self.ctx.probe or state.visited + state.skipped >= spec.max:
                break
            if (wanted is not None and state.matched) or state.at_end:
                break
            if not self.driver.scroll():
                state.at_end = True  # the rows at the bottom edge are whole now
                continue
            state.scrolls += 1
        if wanted is not None and not state.matched:
            raise ElementNotFound(
                f"no entry of {spec.list!r} has thread {wanted!r} ({state.on_screen} entries "
                f"on screen{f', {state.scrolls} scrolls' if state.scrolls else ''})"
            )
        out = {"entries": state.visited + state.skipped, "skipped_unchanged": state.skipped}
        if spec.scroll:
            out["scrolls"] = state.scrolls
        return out

    def _for_each_screen(
        self, spec: ForEachSpec, path: str, t: float, wanted: str | None, state: _EntryWalk
    ) -> None:
        entries = self.selector(spec.list)
        queries = [
            self.field_query(n, f)
            for n, f in (("link", spec.link), ("latest", spec.latest), ("thread", spec.thread))
            if f is not None
        ]
        if spec.only_with:
            queries.append(FieldQuery("changed", self.selector(spec.only_with), presence=True))
        extraction = self.driver.extract(entries, queries)
        self._note_fields(extraction.field_matches, extraction.match)
        self.note_fallback_items(extraction.fallback_counts)
        base = self.driver.current_url()
        state.on_screen = len(extraction.items)
        needed = [n for n, f in (("link", spec.link), ("thread", spec.thread)) if f is not None]
        rows: list[tuple[int, ExtractedItem]] = []
        unreadable: list[tuple[int, ExtractedItem, list[str]]] = []
        for i, row in enumerate(extraction.items):
            lacks = [n for n in needed if not (row.fields.get(n) or "").strip()]
            if spec.scroll and (
                (row.cut == "bottom" and not state.at_end) or (row.cut == "top" and state.scrolls)
            ):
                continue  # cut by the list's edge: read whole on the next (or last) screen
            if lacks:
                sig = tuple(sorted((k, v or "") for k, v in row.fields.items()))
                if sig not in state.unreadable:
                    state.unreadable.add(sig)
                    unreadable.append((i, row, lacks))
                continue
            identity = self._entry_thread(row, base) if needed else None
            if identity is not None and identity in state.done:
                continue
            if wanted is not None and self._entry_thread(row, base) != wanted:
                continue
            rows.append((i, row))
        if unreadable and not self.ctx.probe:  # counted and logged, never skipped silently
            lacking: dict[str, int] = {}
            for _, _, lacks in unreadable:
                for name in lacks:
                    lacking[name] = lacking.get(name, 0) + 1
            first = unreadable[0][1]
            self.report_unreadable(spec.list, len(unreadable), lacking, first.box, first.fields)
        room = 1 if self.ctx.probe else spec.max - state.visited - state.skipped
        rows = rows[: max(0, room)]
        seen = self._entries_seen(spec, [row for _, row in rows], base)
        every = spec.full_every
        full = self.ctx.full_pass or bool(every and self.ctx.sweep_number % every == 0)
        if spec.only_with and not full and wanted is None:
            seen |= {id(row) for _, row in rows if row.fields.get("changed") is None}
        # Known again on a later screen by thread or link (two entries on one screen may
        # share a name: both are visited, and reported: their items share one thread).
        threads = [t for t in (self._entry_thread(row, base) for _, row in rows) if t]
        shared = [t for t, n in Counter(threads).items() if n > 1 and t not in state.shared]
        if shared and not self.ctx.probe:
            state.shared.update(shared)
            first = next(row for _, row in rows if self._entry_thread(row, base) == shared[0])
            extra = sum(threads.count(t) - 1 for t in shared)
            self.report_unreadable(
                spec.list, extra, {"thread (not unique)": extra}, first.box, first.fields
            )
        state.done.update(threads)
        for i, row in rows:
            self._check_deadline()
            entry_thread = self._entry_thread(row, base)
            state.matched = state.matched or wanted is not None
            if id(row) in seen:
                state.skipped += 1
                continue
            state.visited += 1
            if spec.link is not None:
                self.open(urljoin(base, row.fields.get("link") or ""), t)
                self.check_screens()
            else:
                self._note(self.driver.tap(entries, nth=i, timeout_s=t))
                self.check_screens()
            saved = self.ctx.variables.get("entry_thread")
            if entry_thread is not None:
                self.ctx.variables["entry_thread"] = entry_thread
            try:
                number = state.visited + state.skipped
                self._steps(spec.steps, f"{path}.{number}.")
            finally:
                if saved is None:
                    self.ctx.variables.pop("entry_thread", None)
                else:
                    self.ctx.variables["entry_thread"] = saved

    def report_unreadable(
        self,
        selector: str,
        count: int,
        missing: dict[str, int],
        box: Box | None,
        sample: dict[str, str | None],
    ) -> None:
        """Elements seen but not read (by a collect or a for_each): counted, and handed to
        the hooks with a screenshot of the first of them."""
        screen = None
        if box is not None:
            with contextlib.suppress(DriverTimeout, ElementNotFound):
                screen = self.driver.screen_at(max(0.0, box[1] - 40))[0]
        self.stats.unreadable += count
        self.hooks.unreadable(Unreadable(selector, count, missing, screen, dict(sample)))

    def _entry_thread(self, row: ExtractedItem, base: str) -> str | None:
        """The entry's thread: its ``thread`` field (tap mode), else its link's path."""
        value = " ".join((row.fields.get("thread") or "").split())
        if value:
            return thread_id(value, base)
        href = row.fields.get("link")
        return urlsplit(urljoin(base, href)).path if href else None

    def _entries_seen(self, spec: ForEachSpec, rows: list[ExtractedItem], base: str) -> set[int]:
        """The rows (by id) whose newest message is stored already, in one store query."""
        if spec.latest is None:
            return set()
        keys: dict[int, str] = {}
        for row in rows:
            thread, latest = self._entry_thread(row, base), row.fields.get("latest")
            if thread and latest:
                keys[id(row)] = stable_key(self.ctx.platform, self.ctx.account, thread, latest)
        known = self.hooks.known_keys(list(keys.values())) if keys else set()
        return {row_id for row_id, key in keys.items() if key in known}

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
