"""``inbox-agent workspaces list|show|pause|resume``: the home's workspaces, and holding
one back from the scheduler."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from agent.commands.context import console, print_json, state

app = typer.Typer(no_args_is_help=True, help="List and show workspaces.")


@app.command("list")
def list_workspaces(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per workspace.")] = False,
) -> None:
    """List the workspaces of the home."""
    from rich.table import Table

    from agent.config import load_catalog
    from workspaces.models import BrowserProfile

    catalog = load_catalog(state(ctx).home).raise_for_problems()
    rows = [loaded.model for _, loaded in sorted(catalog.workspaces.items())]
    if as_json:
        for ws in rows:
            print_json(
                {
                    "id": ws.id,
                    "client": ws.client,
                    "platform": ws.platform,
                    "surface": ws.surface,
                    "environment": ws.environment.kind,
                    "inbox_flow": ws.flows.inbox,
                    "schedule_minutes": ws.schedule.every_minutes if ws.schedule else None,
                    "schedule_cron": ws.schedule.cron if ws.schedule else None,
                }
            )
        return
    table = Table("workspace", "client", "platform", "surface", "environment", "schedule")
    for ws in rows:
        env = ws.environment
        where = (
            f"profile {ws.profile_name}"
            if isinstance(env, BrowserProfile)
            else f"device {env.device}"
        )
        every = "manual"
        if ws.schedule is not None:
            every = (
                f"cron {ws.schedule.cron}"
                if ws.schedule.cron
                else f"every {ws.schedule.every_minutes:g} min"
            )
        table.add_row(ws.id, ws.client, ws.platform, ws.surface, where, every)
    console.print(table)
    if not rows:
        console.print("no workspaces yet: run `inbox-agent init` for examples")


@app.command("show")
def show(
    ctx: typer.Context,
    workspace: Annotated[str, typer.Argument(help="Workspace id.")],
    as_json: Annotated[bool, typer.Option("--json", help="The workspace as JSON.")] = False,
    days: Annotated[int, typer.Option("--days", help="Health over this many days.")] = 7,
) -> None:
    """Show one workspace's configuration and health: its sweeps over the last week (results,
    stop reasons, drift), login state, takeover and pause, the schedule and the next sweep."""
    import yaml

    from agent.health import workspace_health
    from agent.runtime import open_runtime
    from agent.scheduler.planner import Planner
    from agent.scheduler.status import workspace_statuses
    from agent.scheduler.worker import broker_url

    rt = open_runtime(state(ctx).home)
    ws = rt.catalog.workspace(workspace)
    data = ws.model_dump(mode="json", by_alias=True)
    health = workspace_health(rt.store, ws.id, days=days)
    planner = Planner(
        rt.home, rt.catalog, rt.store, rt.log, "status", distributed=bool(broker_url())
    )
    status = workspace_statuses(planner, workspaces={ws.id})[0]
    if as_json:
        print_json({**data, "health": health.to_dict(), "schedule_status": status.to_dict()})
        return
    console.print(f"[bold]{ws.id}[/] ({ws.client}, {ws.platform}/{ws.surface})")
    console.print(f"  file: {rt.catalog.workspaces[workspace].doc.path}", markup=False)
    for line in _health_lines(health, status):
        console.print(f"  {line}", markup=False)
    console.print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), markup=False)


def _health_lines(health: Any, status: Any) -> list[str]:
    def counts(values: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(values.items())) or "none"

    last = "never"
    if health.last_started is not None:
        last = f"{health.last_started:%Y-%m-%d %H:%M} UTC, {health.last_status}"
        if health.last_stop_reason:
            last += f" ({health.last_stop_reason})"
    nxt = f"{status.next_due:%Y-%m-%d %H:%M:%S} UTC" if status.next_due else "-"
    lines = [
        f"last sweep: {last}",
        f"login: {health.login}",
        f"last {health.days} days: {health.sweeps} sweeps ({counts(health.by_status)})",
        f"stop reasons: {counts(health.stop_reasons)}",
        f"drift: {health.drift} sweeps, {health.unreadable} unreadable elements, "
        f"{health.missed} items missed by earlier sweeps",
        f"schedule: {status.schedule}; state {status.state}; next sweep {nxt}",
    ]
    if health.taken_over_by:
        lines.append(f"taken over by {health.taken_over_by}")
    if health.paused_by:
        lines.append(f"paused by {health.paused_by}")
    return lines


@app.command("pause")
def pause(
    ctx: typer.Context,
    workspace: Annotated[str, typer.Argument(help="Workspace id.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why (shown in status).")] = None,
    by: Annotated[str, typer.Option("--by", help="Who pauses it.")] = "operator",
) -> None:
    """Hold a workspace back: the scheduler plans no sweep or send for it until resumed."""
    from agent.runtime import open_runtime
    from agent.scheduler.pauses import pause_workspace

    rt = open_runtime(state(ctx).home)
    rt.catalog.workspace(workspace)
    pause_workspace(rt.store, rt.log, workspace, by=by, reason=reason)
    console.print(f"{workspace}: paused (inbox-agent workspaces resume {workspace})", markup=False)


@app.command("resume")
def resume(
    ctx: typer.Context,
    workspace: Annotated[str, typer.Argument(help="Workspace id.")],
    by: Annotated[str, typer.Option("--by", help="Who resumes it.")] = "operator",
) -> None:
    """Let the scheduler sweep a paused workspace again."""
    from agent.runtime import open_runtime
    from agent.scheduler.pauses import resume_workspace

    rt = open_runtime(state(ctx).home)
    rt.catalog.workspace(workspace)
    was = resume_workspace(rt.store, rt.log, workspace, by=by)
    console.print(f"{workspace}: {'resumed' if was else 'was not paused'}", markup=False)
