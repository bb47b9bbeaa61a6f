"""``inbox-agent log``: show, follow and verify a workspace's activity log.

Two forms share one group: ``log WORKSPACE [--follow] [--json] [--run RUN]`` shows the
log, and ``log verify WORKSPACE`` checks its hash chain. Any first argument that is not
a subcommand is routed to the hidden ``show`` command (so a workspace that happens to
be called ``verify`` is shown with ``log show verify``).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from agent.commands.context import console, print_json, state
from agent.errors import UserError
from runlogs import ActivityLog, Event, RunLogError, verify_workspace
from runlogs.files import workspace_dir
from runlogs.reader import follow_events

_SUMMARY_WIDTH = 400
# Text from social media must not drive the terminal: show control characters escaped.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class _LogGroup(TyperGroup):
    """Routes ``log WORKSPACE …`` to the hidden ``show`` command."""

    # ``ctx`` is typer's vendored click Context; it is not part of typer's public names.
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["show", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_LogGroup,
    help=(
        "Show a workspace's activity log (log WORKSPACE [--follow] [--json] [--run RUN]) "
        "or check its hash chain (log verify WORKSPACE)."
    ),
    subcommand_metavar="WORKSPACE [OPTIONS] | verify WORKSPACE",
    no_args_is_help=True,
    context_settings={"help_option_names": ["--help", "-h"]},
)


def _log_dir(ctx: typer.Context, workspace: str) -> tuple[ActivityLog, str]:
    logs_dir = state(ctx).home.logs_dir
    try:
        ws_dir = workspace_dir(logs_dir, workspace)
    except RunLogError as exc:
        raise UserError(str(exc)) from exc
    if not ws_dir.is_dir():
        raise UserError(f"no activity log for workspace {workspace!r} in {logs_dir}")
    return ActivityLog(logs_dir), workspace


def _clean(text: str) -> str:
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def summarize(data: dict[str, Any], width: int = _SUMMARY_WIDTH) -> str:
    """``key=value`` pairs on one line, control characters escaped, cut to ``width``."""
    parts = []
    for key, value in data.items():
        shown = value if isinstance(value, str) else repr(value)
        parts.append(f"{key}={shown}")
    text = _clean(" ".join(parts))
    return text if len(text) <= width else text[: width - 1] + "…"


def _row(event: Event) -> list[Text]:
    return [
        Text(event.time.strftime("%Y-%m-%d %H:%M:%S.") + f"{event.time.microsecond // 1000:03d}"),
        Text(_clean(event.run_id or "-")),
        Text(_clean(event.actor)),
        Text(event.type),
        Text(summarize(dict(event.data))),
    ]


def _table(rows: list[list[Text]], *, header: bool = True) -> Table:
    # One terminal line per event, with the data cut to what is left of the width (Rich
    # would shrink every column alike and hide the short ones).
    titles = ("time (UTC)", "run", "actor", "type", "data")
    for row in rows:  # on a narrow terminal a run id's start is enough to tell runs apart
        row[1].truncate(36 if console.width >= 120 else 13, overflow="ellipsis")
    widths = [max([len(t)] + [row[i].cell_len for row in rows]) for i, t in enumerate(titles)]
    room = max(10, console.width - sum(widths[:4]) - 2 * 4)
    table = Table(show_header=header, box=None, pad_edge=False)
    for title in titles:
        table.add_column(title, no_wrap=True, overflow="ellipsis")
    for row in rows:
        row[4].truncate(room, overflow="ellipsis")
        table.add_row(*row)
    return table


def _emit(events: list[Event], as_json: bool, *, header: bool = True) -> None:
    if as_json:
        for event in events:
            print_json(event.to_dict())
        return
    if not events:
        return
    console.print(_table([_row(event) for event in events], header=header))


@app.command("show", hidden=True)
def show(
    ctx: typer.Context,
    workspace: Annotated[str, typer.Argument(help="Workspace id, e.g. acme-instagram.")],
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new events (Ctrl-C ends).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    run: Annotated[str | None, typer.Option("--run", help="Only the events of this run.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only day files from this date (YYYY-MM-DD).")
    ] = None,
) -> None:
    """Show a workspace's activity log, oldest first."""
    log, workspace = _log_dir(ctx, workspace)
    since_date = _parse_date(since)
    try:
        events = list(log.events(workspace, run_id=run, since_date=since_date))
        _emit(events, as_json)
        if not events and not as_json:
            console.print("no events" + (f" for run {run!r}" if run else ""))
        if follow:
            last_seq = max((e.seq for e in events), default=0)
            if not events:  # filtered by run or date: start from the chain's current end
                last_seq = max((e.seq for e in log.events(workspace)), default=0)
            for event in follow_events(log.logs_dir, workspace, run_id=run, after_seq=last_seq):
                _emit([event], as_json, header=False)
    except RunLogError as exc:
        raise UserError(str(exc)) from exc


def _parse_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise UserError(f"--since must be a date like 2026-11-23, not {text!r}") from exc


@app.command("verify")
def verify(
    ctx: typer.Context,
    workspace: Annotated[str, typer.Argument(help="Workspace id, e.g. acme-instagram.")],
) -> None:
    """Check the log's hash chain; name the first line that was edited, inserted or removed."""
    log, workspace = _log_dir(ctx, workspace)
    try:
        report = verify_workspace(log.logs_dir, workspace)
    except RunLogError as exc:
        raise UserError(str(exc)) from exc
    if report.ok:
        console.print(f"ok: {report.lines_checked} lines checked")
        return
    console.print(Text(f"tampered: {report.problem}"))
    raise typer.Exit(1)
