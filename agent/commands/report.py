"""``inbox-agent report``: the pilot's numbers, by week and in total, per workspace and
per client, each with its definition: a text table, JSON, CSV files or one HTML file.

The report is read from the store (``agent.report``); clients are the workspaces'
``client`` names. Days are UTC and both included; ``--workspace`` and ``--client`` may
be given more than once (a workspace must match both when both are given).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from agent.commands.context import err_console, print_json, state

Day = Annotated[str | None, typer.Option(help="First day (YYYY-MM-DD, UTC) of items seen.")]


def register(app: typer.Typer) -> None:
    app.command("report")(report)


def report(
    ctx: typer.Context,
    since: Day = None,
    until: Annotated[
        str | None, typer.Option(help="Last day (YYYY-MM-DD, UTC, included) of items seen.")
    ] = None,
    workspace: Annotated[
        list[str] | None,
        typer.Option("--workspace", "-w", help="Only this workspace (repeatable)."),
    ] = None,
    client: Annotated[
        list[str] | None,
        typer.Option("--client", help="Only this client's (repeatable)."),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Write the report with charts to FILE."),
    ] = None,
    csv_dir: Annotated[
        Path | None, typer.Option("--csv", help="Write every measure and table as CSV files here.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """The pilot report: every measure with its definition, in total and by week."""
    from agent.report import ReportRequest, build_report, parse_day
    from agent.runtime import open_runtime

    wanted = ReportRequest(
        since=parse_day("--since", since),
        until=parse_day("--until", until),
        workspaces=tuple(workspace or ()),
        clients=tuple(client or ()),
    )
    rt = open_runtime(state(ctx).home)
    try:
        clients = rt.catalog.clients()
        result = build_report(rt.store, clients, wanted)
    finally:
        rt.store.close()
    if html is not None:
        from agent.report.html import render_file

        _write(html, render_file(result))
        err_console.print(f"wrote {html}", markup=False)
    if csv_dir is not None:
        from agent.report.csvout import write_csv

        try:
            paths = write_csv(result, csv_dir)
        except OSError as exc:
            from agent.errors import UserError

            raise UserError(f"cannot write CSV files to {csv_dir}: {exc.strerror or exc}") from None
        err_console.print(f"wrote {len(paths)} CSV files to {csv_dir}", markup=False)
    if as_json:
        print_json(result.to_dict())
        return
    from agent.report.text import render_text

    sys.stdout.write(render_text(result))


def _write(path: Path, text: str) -> None:
    from agent.errors import UserError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
