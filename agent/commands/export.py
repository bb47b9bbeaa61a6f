"""``inbox-agent export items``: every item once, as its escalation record (platform,
account, message type, handle, owner, draft status, review status, final action,
follow-up date, recovery note, and the fields that name it), as CSV or JSON Lines.

Written to stdout, or to ``--output FILE``. Values are written as stored: a spreadsheet
that treats a cell starting with ``=``, ``+``, ``-`` or ``@`` as a formula should import
the file as text.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated

import typer

from agent.commands.context import err_console, state
from agent.errors import UserError

if TYPE_CHECKING:  # the store and the report load when the command runs
    from collections.abc import Iterable

    from agent.report.records import ItemRecord
    from agent.runtime import Runtime

app = typer.Typer(no_args_is_help=True, help="Export what the store holds.")


@app.callback()
def _export() -> None:
    """Export what the store holds."""


@app.command("items")
def items(
    ctx: typer.Context,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV, with a header (default).")] = False,
    as_jsonl: Annotated[bool, typer.Option("--jsonl", help="One JSON object per line.")] = False,
    workspace: Annotated[
        list[str] | None,
        typer.Option("--workspace", "-w", help="Only this workspace (repeatable)."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")
    ] = None,
) -> None:
    """Every item once, with every field of its record."""
    if as_csv and as_jsonl:
        raise UserError("choose one of --csv and --jsonl")
    from agent.report.records import item_records
    from agent.runtime import open_runtime

    rt = open_runtime(state(ctx).home)
    try:
        chosen = _workspaces(rt, workspace or [])
        clients = rt.catalog.clients()
        with rt.store.session() as s:
            records = item_records(s, clients, workspaces=chosen, log=rt.log)
            if output is None:
                n = _write(sys.stdout, records, as_jsonl)
            else:
                try:
                    with output.open("w", newline="", encoding="utf-8") as fh:
                        n = _write(fh, records, as_jsonl)
                except OSError as exc:
                    raise UserError(f"cannot write {output}: {exc.strerror or exc}") from None
    finally:
        rt.store.close()
    if output is not None:
        err_console.print(f"wrote {n} items to {output}", markup=False)


def _workspaces(rt: Runtime, names: list[str]) -> set[str] | None:
    """The workspaces asked for (None: all), each known to the configuration or the store."""
    if not names:
        return None
    from sqlmodel import select

    from agent.store import Item

    with rt.store.session() as s:
        known = set(rt.catalog.workspaces) | set(s.exec(select(Item.workspace).distinct()).all())
    for name in names:
        if name not in known:
            shown = ", ".join(sorted(known)) or "none"
            raise UserError(f"unknown workspace {name[:80]!r} (known: {shown})")
    return set(names)


def _write(fh: IO[str], records: Iterable[ItemRecord], as_jsonl: bool) -> int:
    import csv
    import json

    from agent.report.records import RECORD_FIELDS

    n = 0
    writer = None if as_jsonl else csv.DictWriter(fh, fieldnames=RECORD_FIELDS)
    if writer is not None:
        writer.writeheader()
    for record in records:
        row = {k: _plain(v) for k, v in record.to_dict().items()}
        if writer is None:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
        n += 1
    fh.flush()
    return n


def _plain(value: object) -> object:
    """Times and days as ISO 8601 text (the same in CSV and JSON Lines)."""
    from datetime import date

    return value.isoformat() if isinstance(value, date) else value
