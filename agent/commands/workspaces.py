"""``inbox-agent workspaces list|show|pause|resume``: the home's workspaces, and holding
one back from the scheduler."""

from __future__ import annotations

from typing import Annotated

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
) -> None:
    """Show one workspace's full configuration."""
    import yaml

    from agent.config import load_catalog

    catalog = load_catalog(state(ctx).home).raise_for_problems()
    ws = catalog.workspace(workspace)
    data = ws.model_dump(mode="json", by_alias=True)
    if as_json:
        print_json(data)
        return
    console.print(f"[bold]{ws.id}[/] ({ws.client}, {ws.platform}/{ws.surface})")
    console.print(f"  file: {catalog.workspaces[workspace].doc.path}", markup=False)
    console.print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), markup=False)


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
