"""``inbox-agent run``, ``status`` and ``worker``: scheduled sweeps, on one host or several."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from agent.commands.context import console, err_console, print_json, state
from agent.errors import UserError

if TYPE_CHECKING:
    from agent.scheduler.execute import RunOutcome
    from agent.scheduler.planner import TickReport
    from agent.scheduler.status import WorkspaceStatus


def run(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="One tick, wait for its runs, exit.")
    ] = False,
    for_s: Annotated[
        float | None, typer.Option("--for", help="Stop after this many seconds (default: never).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print nothing per tick.")] = False,
) -> None:
    """Run the scheduler: sweep every scheduled workspace when it is due, drain the outbox.

    In-process on this host by default; with INBOX_AGENT_BROKER set (redis://…) runs go
    to Celery queues for `inbox-agent worker` on each host. One scheduler is active at a
    time; start more as standbys.
    """
    from agent.runtime import open_runtime
    from agent.scheduler.dispatch import InProcess, ToCelery
    from agent.scheduler.leadership import leadership_for
    from agent.scheduler.planner import Planner
    from agent.scheduler.service import SchedulerService
    from agent.scheduler.worker import broker_url, make_app
    from agent.store import utcnow

    rt = open_runtime(state(ctx).home)
    url = broker_url()
    if url and rt.store.dialect != "postgresql":
        raise UserError(
            "INBOX_AGENT_BROKER is set but the store is SQLite: workers on other hosts need "
            "a shared PostgreSQL (set INBOX_AGENT_DB=postgresql://…)"
        )
    leadership = leadership_for(rt.store)
    planner = Planner(
        rt.home, rt.catalog, rt.store, rt.log, leadership.holder, distributed=bool(url)
    )
    if not planner.cadences:
        raise UserError("no workspace has a schedule: add `schedule:` to a workspace file")

    def on_done(o: RunOutcome) -> None:  # a run this host's pool finished
        if not quiet:
            why = f" ({o.outcome})" if o.outcome else ""
            sent = f", {o.sent} replies sent" if o.sent else ""
            line = f"{utcnow():%H:%M:%S} {o.workspace}: {o.kind} {o.result}{why}{sent}"
            console.print(line, markup=False)

    workers = planner.config.caps.host if planner.config else 4
    dispatcher = (
        ToCelery(make_app(url))
        if url
        else InProcess(rt, workers, name=leadership.holder, on_done=on_done)
    )
    where = f"Celery at {_hide(url)}" if url else f"this host ({workers} at once)"
    console.print(
        f"scheduler {leadership.holder}: {len(planner.cadences)} workspaces, runs on {where}",
        markup=False,
    )

    was_active: list[bool] = []

    def on_tick(report: TickReport | None, active: bool) -> None:
        if quiet:
            return
        if was_active[-1:] != [active]:
            what = "active" if active else "standing by: another scheduler is active"
            console.print(f"{utcnow():%H:%M:%S} {what}", markup=False)
            was_active[:] = [active]
        if report is None:
            return
        for tick in report.planned:
            console.print(
                f"{report.at:%H:%M:%S} sweep {tick.workspace} (run {tick.id})", markup=False
            )
        for tick in report.sends:
            console.print(
                f"{report.at:%H:%M:%S} send {tick.workspace} (run {tick.id})", markup=False
            )
        for ws, why in report.skipped:
            console.print(f"{report.at:%H:%M:%S} skipped {ws}: {why}", markup=False)
        for ws, cap in report.capped:
            console.print(f"{report.at:%H:%M:%S} waiting {ws}: {cap}", markup=False)

    service = SchedulerService(rt, planner, dispatcher, leadership, on_tick=on_tick)
    if once:
        try:
            service.tick()
        finally:
            dispatcher.close(wait=True)
            leadership.release()
        return
    service.run(duration_s=for_s)
    err_console.print("scheduler stopped", markup=False)


def _hide(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per workspace.")] = False,
) -> None:
    """Every workspace's last sweep, what runs now, the next planned sweep and SLA exposure."""
    from agent.runtime import open_runtime
    from agent.scheduler.planner import Planner
    from agent.scheduler.status import workspace_statuses
    from agent.scheduler.worker import broker_url

    rt = open_runtime(state(ctx).home)
    planner = Planner(
        rt.home, rt.catalog, rt.store, rt.log, "status", distributed=bool(broker_url())
    )
    rows = workspace_statuses(planner)
    if as_json:
        for row in rows:
            print_json(row.to_dict())
        return
    _table(rows)


def _ago(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _table(rows: list[WorkspaceStatus]) -> None:
    from rich.table import Table

    from agent.store import utcnow

    now = utcnow()
    table = Table(
        "workspace", "where", "state", "last sweep", "result", "next", "unseen for", "SLA"
    )
    for r in rows:
        last = f"{_ago((now - r.last_started).total_seconds())} ago" if r.last_started else "never"
        result = (r.last_status or "-") + (f" ({r.last_stop_reason})" if r.last_stop_reason else "")
        if r.next_due is None:
            nxt = "-"
        else:
            wait = (r.next_due - now).total_seconds()
            nxt = "due now" if wait <= 0 else f"in {_ago(wait)}"
        sla = "-"
        if r.tightest_sla_min is not None:
            sla = f"{r.tightest_sla_min:g} min"
            if r.behind_sla_s:
                sla = f"[red]behind by {_ago(r.behind_sla_s)}[/] of {sla}"
            if not r.sla_cadence_holds:
                sla += " [yellow](platform spacing is longer)[/]"
        state_ = r.state + (f" {r.state_detail}" if r.state_detail else "")
        table.add_row(r.workspace, r.where, state_, last, result, nxt, _ago(r.unseen_for_s), sla)
    console.print(table)


def worker(
    ctx: typer.Context,
    queues: Annotated[
        str | None,
        typer.Option(
            "--queues", help="Comma-separated queues (default: this host's and the shared one)."
        ),
    ] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", help="Runs at once.")] = 2,
    host: Annotated[
        str | None,
        typer.Option(
            "--host",
            help="The host name this worker serves (default: INBOX_AGENT_HOST or the machine's).",
        ),
    ] = None,
    loglevel: Annotated[str, typer.Option("--loglevel")] = "INFO",
) -> None:
    """Run a Celery worker for planned sweeps and sends (needs INBOX_AGENT_BROKER and a shared
    PostgreSQL in INBOX_AGENT_DB)."""
    import os

    from agent.scheduler.planner import queue_for
    from agent.scheduler.worker import broker_url, make_app, run_worker
    from agent.store.types import HOST_ENV, this_host

    url = broker_url()
    if not url:
        raise UserError("set INBOX_AGENT_BROKER to the broker's URL (redis://HOST:6379/0)")
    if not os.environ.get("INBOX_AGENT_DB", "").startswith("postgresql"):
        raise UserError("workers share state through PostgreSQL: set INBOX_AGENT_DB=postgresql://…")
    if host:
        os.environ[HOST_ENV] = host
    os.environ["INBOX_AGENT_HOME"] = str(state(ctx).home.root)  # for the pool processes
    name = this_host()
    chosen = (
        [q.strip() for q in queues.split(",")] if queues else [queue_for(name), queue_for(None)]
    )
    run_worker(
        make_app(url), queues=chosen, concurrency=concurrency, name=f"{name}@%h", loglevel=loglevel
    )


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("status")(status)
    app.command("worker")(worker)
