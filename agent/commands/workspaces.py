"""``inbox-agent workspaces list|show``: what the home's workspaces are."""

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
        every = f"every {ws.schedule.every_minutes} min" if ws.schedule else "manual"
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
