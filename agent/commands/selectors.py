"""``inbox-agent selectors check WORKSPACE``: the health check after a platform's UI changes."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from agent.commands.context import console, err_console, print_json, state

app = typer.Typer(no_args_is_help=True, help="Check selector packs against live screens.")
STYLE = {
    "primary": "green",
    "fallback": "yellow",
    "missing": "red",
    "not reached": "red",
    "not shown": "dim",
    "unused": "dim",
}


@app.command("check")
def check(
    ctx: typer.Context,
    workspace: Annotated[str, typer.Argument(help="Workspace id.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per selector.")] = False,
) -> None:
    """Open the workspace's screens and report which selectors resolve and which fell back."""
    from rich.markup import escape
    from rich.table import Table

    from agent.runtime import open_runtime
    from agent.selector_check import check_selectors

    report = check_selectors(open_runtime(state(ctx).home), workspace)
    if as_json:
        for row in report.rows:
            print_json({"workspace": workspace, **asdict(row)})
    else:
        table = Table("selector", "status", "matched by")
        for row in report.rows:
            table.add_row(
                row.selector, f"[{STYLE[row.status]}]{row.status}[/]", escape(row.locator or "-")
            )
        console.print(table)
    if report.stop_reason:
        err_console.print(
            f"{workspace}: stopped: {report.stop_reason}: {report.message}", markup=False
        )
    if report.app_tested is False:
        pack = open_runtime(state(ctx).home).catalog.workspace(workspace).selectors
        err_console.print(
            f"{workspace}: untested app version {report.app_version or '(not installed)'}: "
            f"pack {pack} was not written for it",
            markup=False,
        )
    drift = [r.selector for r in report.rows if r.status == "fallback"]
    if drift and not as_json:
        err_console.print(f"drift: {', '.join(drift)} matched only through fallbacks", markup=False)
    raise typer.Exit(0 if report.ok and not drift else (2 if report.ok else 1))
