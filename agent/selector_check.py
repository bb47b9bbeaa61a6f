"""``inbox-agent selectors check``: which selectors of a workspace's pack still resolve.

The health check an operator runs after a platform changes its UI: the
workspace's inbox flow runs in probe mode (one entry per list, one screen per
collect, nothing stored), and every selector the flow touched is reported as
resolving through its primary alternative, through a fallback (drift: fix the
pack before the fallback breaks too), or not at all.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from agent.runtime import Runtime
from agent.sweep import browser_settings, flow_variables
from devices.errors import DriverError
from devices.playwright_driver import PlaywrightDriver
from flows.context import Unreadable
from flows.errors import FlowDefinitionError, FlowStop
from flows.runner import Evidenced, FlowRunner, RunContext
from workspaces.leases import Lease


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

    @property
    def ok(self) -> bool:
        return self.stop_reason is None and not any(r.status == "missing" for r in self.rows)


class _ProbeHooks:
    """Runner hooks that store nothing: every item counts as new, nothing is kept."""

    def __init__(self) -> None:
        self.unreadable_reports: list[Unreadable] = []

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

    def unreadable(self, report: Unreadable) -> None:
        self.unreadable_reports.append(report)

    def store(self, batch: list[Evidenced]) -> list[bool]:
        return [False for _ in batch]


def check_selectors(rt: Runtime, workspace_id: str) -> CheckReport:
    ws = rt.catalog.workspace(workspace_id)
    flow = rt.catalog.flows[ws.flows.inbox].model
    pack = rt.catalog.selectors[ws.selectors].model
    ctx = RunContext(
        platform=ws.platform,
        account=ws.environment.expected_account,
        variables=flow_variables(ws),
        probe=True,
        deadline=time.monotonic() + flow.max_duration_s,
    )
    report = CheckReport(ws.id, [])
    with (
        Lease(rt.home.leases_dir, f"workspace-{ws.id}"),
        Lease(rt.home.leases_dir, f"profile-{ws.profile_name}"),
    ):
        driver = PlaywrightDriver(browser_settings(rt.home, ws)).start()
        runner = FlowRunner(driver, pack, _ProbeHooks(), ctx)
        try:
            runner.run(flow)
        except FlowStop as stop:
            report.stop_reason, report.message = stop.reason, stop.message
        except (DriverError, FlowDefinitionError) as exc:
            report.stop_reason, report.message = "crashed", str(exc)
        finally:
            driver.close()
    resolved = runner.stats.resolved
    used = flow.selector_names()
    optional = flow.optional_selector_names() | set(pack.screens.values())
    for name, alternatives in pack.selectors.items():
        index = resolved.get(name)
        if index is None or index < 0:
            if name not in used or name in optional:
                status = "not shown" if name in used or name in optional else "unused"
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
        fallbacks=[r.selector for r in report.rows if r.status == "fallback"],
        missing=[r.selector for r in report.rows if r.status == "missing"],
    )
    return report
