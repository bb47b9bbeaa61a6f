"""Top-level commands that set up and check a home: ``init`` and ``validate``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agent.commands.context import console, err_console, print_json, state
from workspaces.paths import WEBHOOKS_FILE, Home

if TYPE_CHECKING:
    from agent.config import Catalog
    from devices.selectors import SelectorPack


def init(
    ctx: typer.Context,
    directory: Annotated[
        Path | None, typer.Argument(help="Home folder to create (default: the current home).")
    ] = None,
) -> None:
    """Create a home folder with commented, working example files."""
    from agent.scaffold import init_home

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
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="One JSON object per problem, then one per built-in selector pack."
        ),
    ] = False,
) -> None:
    """Check configuration files; list every problem as FILE:LINE:COLUMN: field: message.

    Also lists the built-in selector packs (which platforms have one, and what each
    was verified against).
    """
    from agent.config import load_catalog

    home = state(ctx).home
    webhooks = home.root / WEBHOOKS_FILE
    asked = [p.resolve() for p in paths or []]
    rest = [p for p in paths or [] if p.resolve() != webhooks.resolve()]
    catalog = load_catalog(home, rest if paths else None)
    if (not paths or webhooks.resolve() in asked) and webhooks.is_file():
        _check_webhooks(home.root, catalog)
    packs = sorted(catalog.builtin_packs.values(), key=lambda loaded: loaded.model.id)
    if as_json:
        for p in catalog.problems:
            print_json(
                {
                    "kind": "problem",
                    "path": p.path,
                    "line": p.line,
                    "column": p.column,
                    "field": p.field,
                    "message": p.message,
                }
            )
        for loaded in packs:
            pack = loaded.model
            print_json(
                {
                    "kind": "builtin_pack",
                    "id": pack.id,
                    "platform": pack.platform,
                    "surface": pack.surface,
                    "verified": pack.verified,
                    "path": str(loaded.doc.path),
                }
            )
    else:  # the packs first: the problems end up next to their count
        console.print("built-in packs:" if packs else "built-in packs: none", markup=False)
        for loaded in packs:
            console.print(f"  {_describe_pack(loaded.model)}", markup=False)
        console.file.flush()
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


def _check_webhooks(root: Path, catalog: Catalog) -> None:
    """Add ``webhooks.yaml``'s problems (its fields, secrets written into it, the workspaces
    and clients it names) to ``catalog``'s, and count it as checked. Imported only when the
    file exists: its event names load the store's models, which ``validate`` needs not."""
    from agent.webhooks.config import load_webhooks_config, reference_problems  # the store's

    config, doc, problems = load_webhooks_config(root)
    if doc is not None and not problems:
        problems = reference_problems(config, doc, catalog)
    catalog.problems.extend(problems)
    catalog.checked.append(("webhooks", root / WEBHOOKS_FILE))


def _describe_pack(pack: SelectorPack) -> str:
    verified = f"verified: {pack.verified}" if pack.verified else "not verified"
    return f"{pack.id} ({pack.platform}/{pack.surface}) — {verified}"


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("validate")(validate)
