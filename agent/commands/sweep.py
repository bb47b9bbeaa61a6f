"""``inbox-agent sweep`` and ``inbox-agent login``: run workspaces' flows in their profiles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from agent.commands.context import console, err_console, print_json, state
from agent.errors import UserError

if TYPE_CHECKING:
    from agent.sweep import SweepResult

STATUS_STYLE = {"ok": "green", "drift": "yellow", "stopped": "yellow", "failed": "red"}


def _summary(results: list[SweepResult]) -> None:
    from rich.table import Table

    table = Table(
        "workspace", "status", "stop reason", "new", "seen", "screens", "seconds", "drift"
    )
    for r in results:
        style = STATUS_STYLE.get(r.status, "")
        drift = _drift(r)
        table.add_row(
            r.workspace,
            f"[{style}]{r.status}[/]",
            r.stop_reason or "-",
            str(r.new_items),
            str(r.seen_items),
            str(r.screens),
            f"{r.duration_s:.1f}",
            drift,
        )
    console.print(table)
    for r in results:
        if r.status != "ok" and r.message:
            err_console.print(f"{r.workspace}: {r.stop_reason}: {r.message}", markup=False)
            if r.evidence:
                err_console.print(f"  screenshot: {r.evidence}", markup=False)


def _drift(r: SweepResult) -> str:
    """What a person should look at: fallbacks (with how many items each), unread elements."""
    parts = []
    for name, alternative in sorted(r.fallbacks.items()):
        items = r.fallback_items.get(name)
        parts.append(f"{name}→#{alternative}" + (f" ({items} items)" if items else ""))
    if r.unreadable:
        parts.append(f"{r.unreadable} unreadable")
    if r.unreadable_times:
        parts.append(f"{r.unreadable_times} times unread")
    if r.missed:
        parts.append(f"{r.missed} missed earlier")
    return ", ".join(parts) or "-"


def exit_code(results: list[SweepResult]) -> int:
    """0 when every sweep is ok, 2 when one stopped on a condition or drifted, 1 on failure."""
    if any(r.status == "failed" for r in results):
        return 1
    if any(r.status in ("stopped", "drift") for r in results):
        return 2
    return 0


def sweep(
    ctx: typer.Context,
    workspaces: Annotated[list[str] | None, typer.Argument(help="Workspace ids.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Sweep every workspace.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per workspace.")] = False,
    max_items: Annotated[
        int | None, typer.Option("--max-items", help="Stop a flow after this many new items.")
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="Read every list to its end and report items earlier sweeps missed."
        ),
    ] = False,
) -> None:
    """Run the inbox flows of the given workspaces and collect what is new."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from agent.runtime import open_runtime

    rt = open_runtime(state(ctx).home)
    ids = sorted(rt.catalog.workspaces) if all_ else list(workspaces or [])
    if not ids:
        raise UserError("name one or more workspaces, or use --all")
    for ws_id in ids:
        rt.catalog.workspace(ws_id)  # unknown ids fail before any browser starts
    sweeper = rt.sweeper(max_items=max_items)
    sweeper.full_pass = full
    results: list[SweepResult] = []
    if as_json:
        for ws_id in ids:
            result = sweeper.sweep(ws_id)
            results.append(result)
            print_json(result.to_dict())
    else:
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            for ws_id in ids:
                task = progress.add_task(f"sweeping {ws_id}", total=None)
                results.append(sweeper.sweep(ws_id))
                progress.remove_task(task)
        _summary(results)
        console.print(
            f"items and evidence: {rt.home.root}  ·  log: inbox-agent log WORKSPACE", markup=False
        )
    raise typer.Exit(exit_code(results))


def login(
    ctx: typer.Context,
    workspace: Annotated[str, typer.Argument(help="Workspace id.")],
) -> None:
    """Sign a workspace's browser profile in with its login flow."""
    from agent.runtime import open_runtime

    rt = open_runtime(state(ctx).home)
    result = rt.sweeper().login(workspace)
    if result.status != "ok":
        raise UserError(
            f"login of {workspace} {result.status}: {result.stop_reason}: {result.message}"
        )
    console.print(f"{workspace}: signed in ({result.duration_s:.1f}s)")


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep)
    app.command("login")(login)
