"""The ``inbox-agent`` command line.

Top-level options choose the home folder and whether tracebacks are shown.
Every command group lives in ``agent/commands/``; this module wires them up and
turns inbox-agent errors into one clear line and exit code 1.

Start-up stays fast: a command module imports only typer, rich and the standard
library when it is loaded, and what its commands use (the store, browsers, the web
stack, triage) when they run (tests/test_cli_startup.py checks it).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from agent.commands import db as db_cmd
from agent.commands import devices as devices_cmd
from agent.commands import evaluate as evaluate_cmd
from agent.commands import export as export_cmd
from agent.commands import log as log_cmd
from agent.commands import report as report_cmd
from agent.commands import review as review_cmd
from agent.commands import sandbox as sandbox_cmd
from agent.commands import schedule as schedule_cmd
from agent.commands import selectors as selectors_cmd
from agent.commands import send as send_cmd
from agent.commands import serve as serve_cmd
from agent.commands import setup as setup_cmd
from agent.commands import sweep as sweep_cmd
from agent.commands import triage as triage_cmd
from agent.commands import users as users_cmd
from agent.commands import webhooks as webhooks_cmd
from agent.commands import workspaces as workspaces_cmd
from agent.commands.context import CliState, err_console
from agent.errors import InboxAgentError
from workspaces.errors import ConfigError
from workspaces.paths import Home

app = typer.Typer(
    name="inbox-agent",
    help="Sweep social inboxes, triage what is new, and send replies only after approval.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    home: Annotated[
        str | None,
        typer.Option("--home", help="Home folder (default: $INBOX_AGENT_HOME or ./.inbox-agent)."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    ctx.obj = CliState(home=Home.resolve(home), debug=debug)


setup_cmd.register(app)
sweep_cmd.register(app)
schedule_cmd.register(app)
send_cmd.register(app)
serve_cmd.register(app)
report_cmd.register(app)  # the pilot report (issue 16)
app.add_typer(users_cmd.app, name="users")
app.add_typer(review_cmd.app, name="review")
app.add_typer(workspaces_cmd.app, name="workspaces")
app.add_typer(log_cmd.app, name="log")
app.add_typer(triage_cmd.app, name="triage")
app.add_typer(evaluate_cmd.app, name="eval")
app.add_typer(sandbox_cmd.app, name="sandbox")
app.add_typer(db_cmd.app, name="db")
app.add_typer(selectors_cmd.app, name="selectors")
app.add_typer(devices_cmd.app, name="devices")
app.add_typer(export_cmd.app, name="export")  # the item records (issue 16)
app.add_typer(webhooks_cmd.app, name="webhooks")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: one line per error, exit 1, traceback only with --debug."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        rc = app(args=args, standalone_mode=False)
    except ConfigError as exc:
        if debug:
            raise
        for problem in exc.problems:
            err_console.print(str(problem), markup=False)
        sys.exit(1)
    except InboxAgentError as exc:
        if debug:
            raise
        err_console.print(f"[bold red]error:[/] {exc}", markup=True)
        sys.exit(1)
    except ValueError as exc:  # e.g. a bad --home path from pathlib
        if debug:
            raise
        err_console.print(f"[bold red]error:[/] {exc}", markup=True)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("aborted")
        sys.exit(130)
    except Exception as exc:  # click usage errors and anything unforeseen
        # typer bundles its own click, so recognise usage errors by shape, not by class.
        show = getattr(exc, "show", None)
        if callable(show) and hasattr(exc, "exit_code"):
            show()
            sys.exit(getattr(exc, "exit_code", 2) or 2)
        if debug:
            raise
        err_console.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {exc} (rerun with --debug)",
            markup=True,
        )
        sys.exit(1)
    sys.exit(rc if isinstance(rc, int) else 0)
