"""``inbox-agent selectors check``: which selectors of a workspace's pack still resolve.

The health check an operator runs after a platform changes its UI: the
workspace's inbox flow runs in probe mode (one entry per list, one screen per
collect, nothing stored), and every selector the flow touched is reported as
resolving through its primary alternative, through a fallback (drift: fix the
pack before the fallback breaks too), or not at all.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.leases import holding, new_holder, profile_resource, workspace_resource
from agent.runtime import Runtime
from agent.sweep import flow_variables, open_workspace_driver, screen_context
from devices.driver import Driver
from devices.errors import DriverError
from devices.selectors import SelectorPack
from flows.context import Box, RunStats, Unreadable
from flows.errors import FlowDefinitionError, FlowStop
from flows.items import CollectedItem
from flows.models import Flow, SendReply, walk
from flows.runner import Evidenced, FlowRunner, RunContext
from workspaces.models import Workspace


@dataclass
class SelectorHealth:
    selector: str
    status: str  # primary | fallback | missing | not reached | not shown | unused
    alternative: int | None
    locator: str | None


@dataclass
class CheckReport:
    workspace: str
    rows: list[SelectorHealth]
    stop_reason: str | None = None
    message: str | None = None
    replies_checked: list[str] = field(default_factory=list)  # item kinds the reply flow opened
    app_version: str | None = None  # android: the installed version of the pack's app
    app_tested: bool | None = None  # whether the pack was written for that version

    @property
    def ok(self) -> bool:
        return self.stop_reason is None and not any(r.status == "missing" for r in self.rows)


class _ProbeHooks:
    """Runner hooks that store nothing: every item counts as new, nothing is kept."""

    def step_started(self, path: str, kind: str, detail: dict[str, Any]) -> None:
        pass

    def step_ok(self, path: str, kind: str, duration_s: float, detail: dict[str, Any]) -> None:
        pass

    def step_failed(
        self, path: str, kind: str, duration_s: float, error: str, attempt: int
    ) -> None:
        pass

    def fallback(self, selector: str, index: int, locator: str) -> None:
        pass

    def screenshot(self, name: str, png: bytes) -> str:
        return ""

    def known_keys(self, keys: list[str]) -> set[str]:
        return set()

    def dismissed(self, dialog: str, selector: str) -> None:
        pass

    def unreadable(self, report: Unreadable) -> None:
        pass  # a probe reads one screen and stores nothing: nothing to account for

    def evidence_captured(self, screen: bytes, boxes: list[Box]) -> None:
        pass  # a probe stores nothing

    def store(self, batch: list[Evidenced]) -> list[bool]:
        return [False for _ in batch]


def check_selectors(rt: Runtime, workspace_id: str) -> CheckReport:
    """Probe the inbox flow, then the reply flow on one item of each kind it found.

    The reply probe opens the item's thread and finds the customer's message, the
    composer and the send control (opening the composer when the flow does), but
    types nothing and sends nothing.
    """
    ws = rt.catalog.workspace(workspace_id)
    flow = rt.catalog.flows[ws.flows.inbox].model
    reply = rt.catalog.flows[ws.flows.reply].model if ws.flows.reply else None
    pack = rt.catalog.selectors[ws.selectors].model
    report = CheckReport(ws.id, [])
    resolved: dict[str, int] = {}
    resources = [workspace_resource(ws.id), profile_resource(ws.profile_name)]
    with holding(rt.store, resources, new_holder(f"selectors check {ws.id}")):
        driver = open_workspace_driver(rt.home, rt.catalog, ws)
        try:
            if pack.app is not None:
                report.app_version = driver.app_version(pack.app.package)
                report.app_tested = pack.app.tested(report.app_version)
            inbox = _probe(driver, pack, ws, flow, {}, report, resolved)
            if reply is not None and report.stop_reason is None:
                for item in _one_per_kind(inbox.probe_items, reply.handles or ["dm", "comment"]):
                    extra = {
                        "thread": item.thread,
                        "item_message_id": item.message_id,
                        "item_text": item.text,
                        "item_kind": item.kind,
                        "item_author": item.author,
                        "account_name": ws.environment.expected_account.lstrip("@"),
                        "reply_text": "",
                    }
                    _probe(driver, pack, ws, reply, extra, report, resolved)
                    report.replies_checked.append(item.kind)
        finally:
            driver.close()
    used = flow.selector_names() | (reply.selector_names() if reply else set())
    optional = flow.optional_selector_names() | set(pack.screens.values())
    if reply is not None:
        optional |= reply.optional_selector_names()
        for step in walk(reply.steps):  # the brand's replies may legitimately be none yet
            if isinstance(step, SendReply):
                optional.update(
                    n for n in (step.send_reply.own_replies, step.send_reply.own_text) if n
                )
    if pack.own_marker:
        optional.add(pack.own_marker)
    reply_only = (reply.selector_names() - flow.selector_names()) if reply else set()
    for name, alternatives in pack.selectors.items():
        index = resolved.get(name)
        if index is None or index < 0:
            if name not in used or name in optional:
                status = "not shown" if name in used or name in optional else "unused"
            elif name in reply_only and not report.replies_checked:
                status = "not reached"  # no item to open a thread for
            else:
                status = "not reached" if report.stop_reason else "missing"
            report.rows.append(SelectorHealth(name, status, None, None))
        else:
            status = "primary" if index == 0 else "fallback"
            report.rows.append(SelectorHealth(name, status, index, alternatives[index].describe()))
    rt.log.append(
        ws.id,
        "selectors_checked",
        ok=report.ok,
        stop_reason=report.stop_reason,
        replies_checked=report.replies_checked,
        fallbacks=[r.selector for r in report.rows if r.status == "fallback"],
        missing=[r.selector for r in report.rows if r.status == "missing"],
    )
    return report


def _probe(
    driver: Driver,
    pack: SelectorPack,
    ws: Workspace,
    flow: Flow,
    extra: dict[str, str],
    report: CheckReport,
    resolved: dict[str, int],
) -> RunStats:
    """Run one flow in probe mode; merge what resolved (the best alternative seen wins)."""
    ctx = RunContext(
        platform=ws.platform,
        account=ws.environment.expected_account,
        variables={**flow_variables(ws), **extra},
        probe=True,
        deadline=time.monotonic() + flow.max_duration_s,
        timezone=ws.timezone,
    )
    screen_context(ctx, ws, driver)
    runner = FlowRunner(driver, pack, _ProbeHooks(), ctx)
    try:
        runner.run(flow)
    except FlowStop as stop:
        report.stop_reason, report.message = stop.reason, f"{flow.id}: {stop.message}"
    except (DriverError, FlowDefinitionError) as exc:
        report.stop_reason, report.message = "crashed", f"{flow.id}: {exc}"
    for name, index in runner.stats.resolved.items():
        best = resolved.get(name, -1)
        if best < 0 or 0 <= index < best:
            resolved[name] = index
    return runner.stats


def _one_per_kind(items: list[CollectedItem], kinds: Sequence[str]) -> list[CollectedItem]:
    out: dict[str, CollectedItem] = {}
    for item in items:
        if item.kind in kinds and item.kind not in out:
            out[item.kind] = item
    return list(out.values())
