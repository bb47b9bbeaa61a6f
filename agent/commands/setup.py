"""Top-level commands that set up and check a home: ``init`` and ``validate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.commands.context import console, err_console, print_json, state
from agent.config import load_catalog
from agent.scaffold import init_home
from workspaces.paths import Home


def init(
    ctx: typer.Context,
    directory: Annotated[
        Path | None, typer.Argument(help="Home folder to create (default: the current home).")
    ] = None,
) -> None:
    """Create a home folder with commented, working example files."""
    home = Home.resolve(directory) if directory else state(ctx).home
    result = init_home(home)
    for path in result.written:
        console.print(f"  wrote {path.relative_to(home.root)}")
    for path in result.kept:
        console.print(f"  kept  {path.relative_to(home.root)} (exists)")
    console.print(f"home ready at {home.root}")
    console.print(f"next: inbox-agent --home {home.root} validate")


def validate(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders to check (default: everything in the home)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per problem.")] = False,
) -> None:
    """Check configuration files; list every problem as FILE:LINE:COLUMN: field: message."""
    home = state(ctx).home
    catalog = load_catalog(home, paths or None)
    if as_json:
        for p in catalog.problems:
            print_json(
                {
                    "path": p.path,
                    "line": p.line,
                    "column": p.column,
                    "field": p.field,
                    "message": p.message,
                }
            )
    else:
        for p in sorted(catalog.problems):
            err_console.print(str(p), markup=False)
    if catalog.problems:
        n = len(catalog.problems)
        err_console.print(
            f"{n} problem{'s' * (n != 1)} in {len(catalog.checked)} files checked", markup=False
        )
        raise typer.Exit(1)
    if not as_json:
        kinds: dict[str, int] = {}
        for kind, _ in catalog.checked:
            kinds[kind] = kinds.get(kind, 0) + 1
        detail = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
        console.print(
            f"ok: {len(catalog.checked)} files checked ({detail or 'none'})", markup=False
        )


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("validate")(validate)
