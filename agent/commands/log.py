"""``inbox-agent log``: show, follow and verify a workspace's activity log.

Two forms share one group: ``log WORKSPACE [--follow] [--json] [--run RUN]`` shows the
log, and ``log verify WORKSPACE`` checks its hash chain (with the home's log key, and
against the chain head kept in the store). Any first argument that is not a subcommand
is routed to the hidden ``show`` command (so a workspace that happens to be called
``verify`` is shown with ``log show verify``).

Showing a log first closes the workspace's runs whose process is gone (as ``crashed``,
with their end event: ``agent.store.runs``), so a run is never shown as running when
nothing runs it; runs still running are named below the table.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from agent.commands.context import console, err_console, print_json, state
from agent.commands.db import missing_sqlite_file
from agent.errors import InboxAgentError, UserError

# The activity log is plain Python (no store, no SQLAlchemy): cheap to import here.
from runlogs import ActivityLog, Event, RunLogError
from runlogs.files import workspace_dir
from runlogs.reader import follow_events

if TYPE_CHECKING:
    from agent.store import Store
    from agent.store.runs import RunEnd
    from workspaces.paths import Home

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


def _ws_dir(home: Home, workspace: str) -> Path:
    try:
        return workspace_dir(home.logs_dir, workspace)
    except RunLogError as exc:
        raise UserError(str(exc)) from exc


def _no_log(home: Home, workspace: str) -> UserError:
    return UserError(f"no activity log for workspace {workspace!r} in {home.logs_dir}")


@contextlib.contextmanager
def home_store(home: Home) -> Iterator[Store | None]:
    """The home's store when it exists (None for a SQLite file not created yet)."""
    from agent.store import open_store

    if missing_sqlite_file(home.db_url) is not None:
        yield None
        return
    store = open_store(home.db_url)
    try:
        yield store
    finally:
        store.close()


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
    from agent.runtime import home_log

    home = state(ctx).home
    if not _ws_dir(home, workspace).is_dir():
        raise _no_log(home, workspace)
    since_date = _parse_date(since)
    with contextlib.ExitStack() as stack:
        try:
            store = stack.enter_context(home_store(home))
        except InboxAgentError as exc:  # the log can still be shown
            err_console.print(
                f"note: cannot check for runs whose process died: {exc}", markup=False
            )
            store = None
        log = home_log(home, store)
        stack.callback(_close_heads, log)
        _show(home, store, log, workspace, follow, as_json, run, since_date)


def _close_heads(log: ActivityLog) -> None:
    from agent.store import StoreHeads

    if isinstance(log.heads, StoreHeads):
        log.heads.close()


def _show(
    home: Home,
    store: Store | None,
    log: ActivityLog,
    workspace: str,
    follow: bool,
    as_json: bool,
    run: str | None,
    since_date: date | None,
) -> None:
    from agent.runtime import close_dead_runs
    from agent.store.runs import unended_runs

    try:
        if store is not None:
            close_dead_runs(home, store, log, workspace=workspace)
        events = list(log.events(workspace, run_id=run, since_date=since_date))
        unended: list[RunEnd] = []
        if store is not None:
            ended = {e.run_id for e in events if e.type == "run_finished"}
            started = [e.run_id for e in events if e.type == "run_started" and e.run_id]
            unended, written = unended_runs(
                store, log, workspace, [r for r in started if r not in ended]
            )
            events.extend(written)
        _emit(events, as_json)
        if not events and not as_json:
            console.print("no events" + (f" for run {run!r}" if run else ""))
        if not as_json:
            for note in unended:
                console.print(Text(_clean(_unended_note(note))))
        if follow:
            last_seq = max((e.seq for e in events), default=0)
            if not events:  # filtered by run or date: start from the chain's current end
                last_seq = max((e.seq for e in log.events(workspace)), default=0)
            for event in follow_events(log.logs_dir, workspace, run_id=run, after_seq=last_seq):
                _emit([event], as_json, header=False)
    except RunLogError as exc:
        raise UserError(str(exc)) from exc


def _unended_note(run: RunEnd) -> str:
    if run.status is None:
        return f"run {run.id} has no end event, and the store has no row for it: its end is unknown"
    since = f", since {run.started_at:%Y-%m-%d %H:%M:%S} UTC" if run.started_at else ""
    return f"run {run.id} is running: process {run.pid} on host {run.host}{since}"


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
    """Check the log's hash chain; name the first line that was edited, inserted or removed.

    Also names lines cut off the end and removed day files (against the chain head kept
    in the store) and a chain rewritten without the key. Exit 0 ok, 1 tampered, 2 when
    keyed lines could not be checked for want of the key.
    """
    from agent.runtime import home_log

    home = state(ctx).home
    has_dir = _ws_dir(home, workspace).is_dir()
    with contextlib.ExitStack() as stack:
        try:
            store = stack.enter_context(home_store(home))
        except InboxAgentError as exc:
            err_console.print(
                f"note: cannot compare with the chain head in the store: {exc}", markup=False
            )
            store = None
        log = home_log(home, store)
        stack.callback(_close_heads, log)
        try:
            report = log.verify(workspace)
        except RunLogError as exc:
            raise UserError(str(exc)) from exc
    if not has_dir and report.stored_head is None:
        raise _no_log(home, workspace)
    if not report.ok:
        console.print(Text(f"tampered: {report.problem}"))
        raise typer.Exit(1)
    console.print(Text(str(report)))
    head = report.stored_head
    if head is not None:
        console.print(
            Text(f"chain head in the store: seq {head.seq} of {head.day}, found in the log")
        )
    if not report.complete:
        raise typer.Exit(2)
