"""``inbox-agent send``: post approved replies through each workspace's reply flow."""

from __future__ import annotations

from typing import Annotated

import typer

from agent.commands.context import console, print_json, state


def send(
    ctx: typer.Context,
    workspace: Annotated[
        str | None, typer.Option("--workspace", "-w", help="Only this workspace.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per entry.")] = False,
) -> None:
    """Send every approved reply (exactly once each); exit 1 if any ended failed."""
    from rich.table import Table

    from agent.outbox import Outbox
    from agent.runtime import open_runtime

    rt = open_runtime(state(ctx).home)
    if workspace:
        rt.catalog.workspace(workspace)
    results = Outbox(rt).send(workspace)
    if as_json:
        for r in results:
            print_json(r.to_dict())
    else:
        table = Table("entry", "item", "workspace", "state", "note")
        for r in results:
            note = "was already posted" if r.already_posted else (r.error or "")
            table.add_row(str(r.entry), str(r.item), r.workspace, r.state, note)
        console.print(table if results else "nothing to send")
    raise typer.Exit(1 if any(r.state == "failed" for r in results) else 0)


def register(app: typer.Typer) -> None:
    app.command("send")(send)
