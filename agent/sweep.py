"""A sweep: one run of a workspace's inbox flow, from lease to summary.

Order of things for every item, so nothing is lost or duplicated when a sweep
dies at any point: the runner reads the screen, the evidence is written
(content-addressed, so a rerun rewrites nothing), the item is inserted once per
stable key and committed, and only then is it logged and handed on (triage).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import col, func, select

from agent.config import Catalog
from agent.device_leases import lease_device
from agent.errors import UserError
from agent.leases import (
    LeaseHeld,
    LeaseLost,
    holding,
    new_holder,
    profile_resource,
    workspace_resource,
)
from agent.store import (
    Item,
    ItemCreate,
    Run,
    Store,
    Takeover,
    add_items,
    finish_run,
    set_watermark,
    start_run,
    utcnow,
)
from devices import factory
from devices.driver import Driver
from devices.errors import DriverError
from devices.factory import Places
from devices.playwright_driver import BrowserSettings
from devices.selectors import SelectorPack
from flows.context import Box, RunStats, Unreadable
from flows.errors import FlowDefinitionError, FlowStop
from flows.evidence import EvidenceStore, EvidenceWriter, ScreenFiles
from flows.models import Flow
from flows.runner import DEFAULT_TIMEOUT_S, Evidenced, FlowRunner, RunContext, expand_env
from runlogs import ActivityLog, NewEvent
from workspaces.models import AndroidDevice, BrowserProfile, Workspace
from workspaces.paths import Home

ItemCallback = Callable[[Item], None]


@dataclass
class SweepResult:
    workspace: str
    run_id: str | None
    status: str  # ok | drift | stopped | failed
    stop_reason: str | None = None
    message: str | None = None
    new_items: int = 0
    seen_items: int = 0
    screenshots: int = 0  # evidence files written (screens, crops)
    screens: int = 0  # screens captured as evidence of new items
    duration_s: float = 0.0
    fallbacks: dict[str, int] = field(default_factory=dict)  # selector -> alternative used
    fallback_items: dict[str, int] = field(default_factory=dict)  # selector -> items read so
    unreadable: int = 0  # elements on screen that did not become items
    unreadable_times: int = 0  # items whose shown time could not be read
    missed: int = 0  # items a full pass found that incremental sweeps had missed
    full_pass: bool = False
    evidence: str | None = None
    screen_tree: str | None = None  # a device's screen tree at the stop (evidence)
    reply: dict[str, Any] | None = None  # reply flows: what send_reply found and did

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["duration_s"] = round(self.duration_s, 3)
        return data


class SweepHooks:
    """RunnerHooks for a sweep: the store, the activity log and the evidence folder."""

    def __init__(
        self,
        ws: Workspace,
        run_id: str,
        store: Store,
        log: ActivityLog,
        evidence: EvidenceStore,
        on_item: ItemCallback | None,
        writer: EvidenceWriter,
    ):
        self.ws = ws
        self.run_id = run_id
        self.db = store
        self.log = log
        self.evidence = evidence
        self.on_item = on_item
        self.writer = writer
        self._writing: dict[int, tuple[bytes, list[Box], Future[ScreenFiles]]] = {}

    def _log(self, type_: str, **data: Any) -> None:
        self.log.append(self.ws.id, type_, run_id=self.run_id, **data)

    def step_started(self, path: str, kind: str, detail: dict[str, Any]) -> None:
        self._log("step_started", step=path, kind=kind, **detail)

    def step_ok(self, path: str, kind: str, duration_s: float, detail: dict[str, Any]) -> None:
        self._log("step_ok", step=path, kind=kind, duration_s=round(duration_s, 4), **detail)

    def step_failed(
        self, path: str, kind: str, duration_s: float, error: str, attempt: int
    ) -> None:
        self._log(
            "step_failed",
            step=path,
            kind=kind,
            duration_s=round(duration_s, 4),
            error=error,
            attempt=attempt,
        )

    def fallback(self, selector: str, index: int, locator: str) -> None:
        self._log("selector_fallback", selector=selector, alternative=index, locator=locator)

    def dismissed(self, dialog: str, selector: str) -> None:
        self._log("dialog_dismissed", dialog=dialog, selector=selector)

    def unreadable(self, report: Unreadable) -> None:
        path = str(self.evidence.save_screen(report.screen)) if report.screen else None
        self._log(
            "items_unreadable",
            selector=report.selector,
            count=report.count,
            missing=report.missing,
            sample={k: (v[:200] if v else v) for k, v in report.sample.items()},
            screenshot=path,
        )

    def screenshot(self, name: str, png: bytes) -> str:
        path = str(self.evidence.save_screen(png))
        self._log("screenshot", name=name, path=path)
        return path

    def known_keys(self, keys: list[str]) -> set[str]:
        if not keys:
            return set()
        with self.db.session() as s:
            return set(s.exec(select(Item.key).where(col(Item.key).in_(keys))).all())

    def _row(self, ev: Evidenced, files: tuple[Path, Path | None] | None) -> ItemCreate:
        item = ev.item
        screen = str(files[0]) if files else None
        crop = str(files[1]) if files and files[1] else None
        return ItemCreate(
            workspace=self.ws.id,
            platform=item.platform,
            account=item.account,
            thread=item.thread,
            kind=item.kind,
            message_id=item.message_id,
            author=item.author,
            text=item.text,
            posted_at=_parse_time(item.posted_at),
            posted_text=(item.posted_text or "")[:255] or None,
            author_handle=item.author_handle,
            truncated=item.truncated,
            evidence_capped=ev.capped,
            ocr_confidence=item.ocr_confidence,
            ocr_fields=",".join(item.ocr_fields) or None,
            run_id=self.run_id,
            parent_key=item.parent_key,
            screenshot=screen,
            crop=crop,
            evidence_hash=Path(crop).stem if crop else None,
            evidence_box=_stored_box(ev.box) if crop else None,
        )

    def evidence_captured(self, screen: bytes, boxes: list[Box]) -> None:
        """Start writing a captured screen and its crops now, on the writer's threads."""
        self._writing[id(screen)] = (screen, boxes, self.writer.submit(screen, list(boxes)))

    def _evidence_files(self, batch: list[Evidenced]) -> list[tuple[Path, Path | None] | None]:
        """Each item's (screen, crop) files, as the evidence writer wrote them: one job per
        screen (decoded once, its crops cut from it), started when the screen was
        captured; returns once every file of the batch exists."""
        by_screen: dict[int, tuple[bytes, list[int]]] = {}
        for k, ev in enumerate(batch):
            if ev.screen is not None:
                by_screen.setdefault(id(ev.screen), (ev.screen, []))[1].append(k)
        out: list[tuple[Path, Path | None] | None] = [None] * len(batch)
        for screen_id, (png, members) in by_screen.items():
            started = self._writing.pop(screen_id, None)
            boxes: list[Box | None] = [batch[k].box for k in members]
            if started is not None and started[0] is png and set(boxes) <= set(started[1]):
                files = started[2].result()
                crops = dict(zip(started[1], files.crops, strict=True))
                picked = [crops[box] if box is not None else None for box in boxes]
            else:  # not announced (or other boxes): written now
                files = self.writer.submit(png, boxes).result()
                picked = files.crops
            for k, crop in zip(members, picked, strict=True):
                out[k] = (files.screen, crop)
        return out

    def store(self, batch: list[Evidenced]) -> list[bool]:
        """Store the batch in one transaction (oldest first), then log and triage the new ones.

        One commit for the batch: either every item of it is stored or none is,
        so a kill between two items can never leave a newer item stored and an
        older one missing. The evidence files are written first (content-addressed, so a
        rerun rewrites nothing), so a stored row never names a missing file. The log
        lines of the batch go out in one append, and triage decides the batch at once.
        """
        files = self._evidence_files(batch)
        rows = [self._row(ev, f) for ev, f in zip(batch, files, strict=True)]
        created_flags: list[bool] = []
        stored_items: list[Item] = []
        newest_by_thread: dict[str, str] = {}
        with self.db.session() as s:  # committed before anything else happens to them
            for ev, (stored, created) in zip(batch, add_items(s, rows), strict=True):
                created_flags.append(created)
                stored_items.append(stored)
                if created:
                    newest_by_thread[ev.item.thread] = stored.key
                    if ev.item.own:  # our own reply: kept for the record, never triaged
                        stored.status = "resolved"
                        s.add(stored)
            for thread, key in newest_by_thread.items():
                set_watermark(s, self.ws.id, thread, key)
        collected = [
            NewEvent(
                "item_collected",
                self.run_id,
                data={
                    "item": stored.id,
                    "key": stored.key,
                    "thread": ev.item.thread,
                    "kind": ev.item.kind,
                    "author": ev.item.author,
                    "own": ev.item.own,
                    "crop": stored.crop,
                    "evidence_capped": ev.capped or None,
                    "ocr_confidence": ev.item.ocr_confidence,
                },
            )
            for ev, stored, created in zip(batch, stored_items, created_flags, strict=True)
            if created
        ]
        self.log.append_many(self.ws.id, collected)
        to_triage = [
            stored
            for ev, stored, created in zip(batch, stored_items, created_flags, strict=True)
            if created and not ev.item.own
        ]
        if self.on_item is not None and to_triage:
            on_items = getattr(self.on_item, "batch", None)
            if on_items is not None:  # triage: decisions stored and logged per batch
                on_items(to_triage)
            else:
                for stored in to_triage:
                    self.on_item(stored)
        return created_flags


def _drift_message(st: RunStats) -> str:
    parts = []
    if st.unreadable:
        parts.append(
            f"{st.unreadable} elements on screen could not be read as items "
            "(items_unreadable in the log; run selectors check)"
        )
    if st.unreadable_times:
        parts.append(f"{st.unreadable_times} items' times could not be read (kept as shown)")
    if st.missed:
        parts.append(
            f"a full pass found {st.missed} items earlier sweeps had missed "
            "(check the collect's order)"
        )
    return "; ".join(parts)


def _stored_box(box: Box | None) -> list[int] | None:
    """The crop's box as whole pixels ``[x, y, w, h]``, as ``save_crop`` cut it (the
    part off the screen's top or left edge left out)."""
    if box is None:
        return None
    x, y, w, h = box
    left, top = max(0, int(x)), max(0, int(y))
    right, bottom = int(x + w + 0.999), int(y + h + 0.999)
    if right <= left or bottom <= top:
        return None
    return [left, top, right - left, bottom - top]


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def places(home: Home) -> Places:
    """Where this home's environments keep their state."""
    return Places(profiles_dir=home.profiles_dir, errors_dir=home.screenshots_dir / "errors")


def browser_settings(home: Home, ws: Workspace) -> BrowserSettings:
    """The browser settings of a web workspace's profile (for tests and benches)."""
    return factory.browser_settings(places(home), ws)


def open_workspace_driver(home: Home, catalog: Catalog, ws: Workspace) -> Driver:
    """The workspace's environment, started: its browser profile or its device."""
    devices = {d: loaded.model for d, loaded in catalog.devices.items()}
    return factory.open_environment(ws, places=places(home), devices=devices)


def screen_context(ctx: RunContext, ws: Workspace, driver: Driver) -> None:
    """The screen the evidence windows are cut to: the viewport, or the device's screen."""
    if isinstance(ws.environment, BrowserProfile):
        ctx.locale = ws.environment.locale
    width, height = driver.viewport()
    ctx.page_width, ctx.page_height = float(width), float(height)


def flow_variables(ws: Workspace) -> dict[str, str]:
    env = ws.environment
    start = expand_env(env.start_url).rstrip("/") if isinstance(env, BrowserProfile) else ""
    return {"start_url": start, "workspace": ws.id, "account": env.expected_account}


@dataclass
class Sweeper:
    """Runs sweeps of a home's workspaces (one at a time per workspace and profile)."""

    home: Home
    catalog: Catalog
    store: Store
    log: ActivityLog
    on_item: ItemCallback | None = None
    driver_factory: Callable[[Workspace], Driver] | None = None
    max_items: int | None = None
    step_timeout_s: float | None = None  # per-step wait; None: the runner's default
    full_pass: bool = False  # read every list to its end and report what earlier sweeps missed
    clock: Callable[[], datetime] = field(default=utcnow)  # when items are seen (shown times)
    _driver: Any = field(default=None, init=False, repr=False)  # the one a flow runs on now

    def open_driver(self, ws: Workspace) -> Any:
        """Start the workspace's environment (browser profile or device) and return its driver."""
        if self.driver_factory is not None:
            return self.driver_factory(ws)
        return open_workspace_driver(self.home, self.catalog, ws)

    def sweep(self, workspace_id: str) -> SweepResult:
        ws = self.catalog.workspace(workspace_id)
        flow = self.catalog.flows[ws.flows.inbox].model
        pack = self.catalog.selectors[ws.selectors].model
        from agent.store.runs import close_stale_runs  # runs whose process died: crashed
        from agent.webhooks.events import crashed_runs

        close_stale_runs(
            self.store,
            self.log,
            workspace=ws.id,
            catalog=self.catalog,
            on_closed=crashed_runs(self.catalog.platform_of),
        )
        started = time.monotonic()
        if self.taken_over_by(ws.id):  # before waiting for a device the person holds
            return self._held(ws, started)
        try:
            with self.leased(ws):
                if self.taken_over_by(ws.id):
                    return self._held(ws, started)
                catch_up = getattr(self.on_item, "catch_up", None)
                if catch_up is not None:  # items a killed sweep stored but never triaged
                    catch_up(ws.id)
                result = self.run_flow(ws, flow, pack)
        except LeaseHeld as exc:
            self.log.append(ws.id, "stop", reason="busy", message=str(exc))
            result = SweepResult(ws.id, None, "stopped", "busy", str(exc))
        result.duration_s = time.monotonic() - started
        return result

    @contextmanager
    def leased(self, ws: Workspace) -> Iterator[None]:
        """Hold the workspace's and its profile's leases, and an Android workspace's device
        slot, in the store, heartbeaten while held (raises LeaseHeld when busy). A lease
        lost meanwhile (the store let another holder take it) stops the flow at once."""
        holder = new_holder(f"sweep {ws.id}")
        resources = [workspace_resource(ws.id), profile_resource(ws.profile_name)]

        def on_lost(exc: LeaseLost) -> None:
            self.log.append(ws.id, "lease_lost", resource=exc.resource, holder=exc.holder)
            if self._driver is not None:
                self._driver.set_deadline(0.0)

        with holding(self.store, resources, holder, on_lost=on_lost), self.device_leased(ws):
            yield

    @contextmanager
    def device_leased(self, ws: Workspace) -> Iterator[None]:
        env = ws.environment
        loaded = self.catalog.devices.get(env.device) if isinstance(env, AndroidDevice) else None
        if loaded is None:
            yield
            return
        holder = f"sweep {ws.id} pid {os.getpid()} {uuid.uuid4().hex[:8]}"
        lease = lease_device(self.store, loaded.model, holder)
        lost: list[str] = []

        def on_lost(_: object) -> None:  # another holder took the device: stop at once
            lost.append(holder)
            self.log.append(ws.id, "device_lease_lost", device=loaded.model.id, holder=holder)
            if self._driver is not None:
                self._driver.set_deadline(0.0)

        with lease:
            lease.start_heartbeat(on_lost=on_lost)
            try:
                yield
            finally:
                lease.stop_heartbeat()

    def taken_over_by(self, workspace_id: str) -> str | None:
        """The person who holds the workspace's live session, if anyone does."""
        with self.store.session() as s:
            row = s.exec(
                select(Takeover).where(
                    Takeover.workspace == workspace_id, col(Takeover.ended_at).is_(None)
                )
            ).first()
            return row.user if row else None

    def _held(self, ws: Workspace, started: float) -> SweepResult:
        who = self.taken_over_by(ws.id)
        message = f"taken over by {who}: automation leaves it alone until handed back"
        self.log.append(ws.id, "stop", reason="taken_over", message=message)
        result = SweepResult(ws.id, None, "stopped", "taken_over", message)
        result.duration_s = time.monotonic() - started
        return result

    def run_flow(
        self,
        ws: Workspace,
        flow: Flow,
        pack: SelectorPack,
        *,
        extra: dict[str, str] | None = None,
        kind: str = "sweep",
        driver: Any = None,
    ) -> SweepResult:
        """Run one flow in the workspace's environment (the caller holds the leases).

        With ``driver`` the caller's open browser is used and left open, so a
        batch of replies shares one browser start.
        """
        own_driver = driver is None
        with self.store.session() as s:
            run_id = start_run(s, ws.id, kind).id
        self.log.append(ws.id, "run_started", run_id=run_id, flow=flow.id, pack=pack.id)
        evidence = EvidenceStore(self.home.screenshots_dir)
        writer = EvidenceWriter(evidence)
        hooks = SweepHooks(ws, run_id, self.store, self.log, evidence, self.on_item, writer)
        ctx = RunContext(
            platform=ws.platform,
            account=ws.environment.expected_account,
            variables={**flow_variables(ws), **(extra or {})},
            max_items=self.max_items,
            timeout_s=self.step_timeout_s or DEFAULT_TIMEOUT_S,
            deadline=time.monotonic() + flow.max_duration_s,
            watch_screens=flow.kind != "login",
            timezone=ws.timezone,
            now=self.clock,
            sweep_number=self._sweeps_before(ws.id, run_id) if kind == "sweep" else 0,
            full_pass=self.full_pass and kind == "sweep",
        )
        result = SweepResult(ws.id, run_id, "ok")
        runner: FlowRunner | None = None
        try:
            if own_driver:
                driver = self.open_driver(ws)
            self._driver = driver
            driver.set_deadline(ctx.deadline)  # a call still running past it is stopped
            screen_context(ctx, ws, driver)
            runner = FlowRunner(driver, pack, hooks, ctx)
            runner.run(flow)
        except FlowStop as stop:
            result.status, result.stop_reason, result.message = "stopped", stop.reason, stop.message
            result.evidence = self._stop_screenshot(driver, evidence) or stop.evidence.screenshot
            result.screen_tree = self._stop_tree(driver, evidence)
            self.log.append(
                ws.id,
                "stop",
                run_id=run_id,
                reason=stop.reason,
                message=stop.message,
                screenshot=result.evidence,
                screen_tree=result.screen_tree,
                url=stop.evidence.url or self._current_url(driver),
            )
        except (DriverError, FlowDefinitionError) as exc:
            result.status, result.stop_reason, result.message = "failed", "crashed", str(exc)
            self.log.append(ws.id, "stop", run_id=run_id, reason="crashed", message=str(exc))
        finally:
            self._driver = None
            writer.close()
            if own_driver and driver is not None:
                driver.close()
        if runner is not None:
            st = runner.stats
            result.reply = st.reply
            result.new_items, result.seen_items = st.new_items, st.seen_items
            result.screenshots, result.fallbacks = evidence.written, st.fallbacks
            result.screens = st.screens
            result.fallback_items = {
                k: v for k, v in st.fallback_items.items() if k in st.fallbacks
            }
            result.unreadable, result.unreadable_times = st.unreadable, st.unreadable_times
            result.missed, result.full_pass = st.missed, st.full_pass
            if result.status == "ok" and st.drift:
                result.status = "drift"
                result.message = _drift_message(st)
        with self.store.session() as s:
            finish_run(
                s,
                run_id,
                result.status,
                stop_reason=result.stop_reason,
                new_items=result.new_items,
                seen_items=result.seen_items,
                screenshots=result.screenshots,
                unreadable=result.unreadable,
                missed=result.missed,
            )
            # -- webhooks (issue 16): a sweep's stop or drift, in the run's own transaction
            if kind == "sweep":
                from agent.webhooks import events as webhook_events

                webhook_events.sweep_finished(s, ws, run_id, result)
        self.log.append(
            ws.id,
            "run_finished",
            run_id=run_id,
            status=result.status,
            stop_reason=result.stop_reason,
            new_items=result.new_items,
            seen_items=result.seen_items,
            fallbacks=result.fallbacks,
            fallback_items=result.fallback_items,
            unreadable=result.unreadable,
            unreadable_times=result.unreadable_times,
            missed=result.missed,
            full_pass=result.full_pass,
        )
        return result

    def _sweeps_before(self, workspace_id: str, run_id: str) -> int:
        """How many sweeps of the workspace ran before this one (a full pass every N)."""
        with self.store.session() as s:
            return s.exec(
                select(func.count())
                .select_from(Run)
                .where(Run.workspace == workspace_id, Run.kind == "sweep", Run.id != run_id)
            ).one()

    def login(self, workspace_id: str) -> SweepResult:
        """Sign the workspace's profile in with its login flow (password from the environment)."""
        ws = self.catalog.workspace(workspace_id)
        env = ws.environment
        if ws.flows.login is None or env.login is None:
            raise UserError(f"workspace {ws.id} has no login flow and login settings")
        password = os.environ.get(env.login.password_env)
        if not password:
            raise UserError(f"set {env.login.password_env} to the password of {env.login.username}")
        flow = self.catalog.flows[ws.flows.login].model
        pack = self.catalog.selectors[ws.selectors].model
        started = time.monotonic()
        extra = {"login_username": env.login.username, "login_password": password}
        with self.leased(ws):
            result = self.run_flow(ws, flow, pack, extra=extra, kind="check")
        result.duration_s = time.monotonic() - started
        return result

    def _current_url(self, driver: Any) -> str | None:
        """Where the browser stood when a screen check stopped the flow (no error carried it)."""
        if driver is None:
            return None
        try:
            return str(driver.current_url())
        except DriverError:
            return None

    def _stop_tree(self, driver: Any, evidence: EvidenceStore) -> str | None:
        """A device's screen tree at the stop (a browser's page is in its screenshot)."""
        if driver is None:
            return None
        try:
            if driver.app_in_front() is None:
                return None
            return str(evidence.save_tree(driver.screen_tree()))
        except DriverError:
            return None

    def _stop_screenshot(self, driver: Any, evidence: EvidenceStore) -> str | None:
        if driver is None:
            return None
        try:
            return str(evidence.save_screen(driver.screenshot()))
        except DriverError:
            return None
