"""What every command gets from the top-level options: the home folder and --debug."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

import typer
from rich.console import Console

from workspaces.paths import Home

# Piped output (CI logs, `| less`) gets a wide fixed width instead of rich's 80 columns.
_WIDTH = None if sys.stdout.isatty() else 160
console = Console(highlight=False, soft_wrap=True, width=_WIDTH)
err_console = Console(stderr=True, highlight=False, soft_wrap=True, width=_WIDTH)


@dataclass
class CliState:
    home: Home
    debug: bool = False


def state(ctx: typer.Context) -> CliState:
    """The CliState set by the top-level callback (a default one when a sub-app runs alone)."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState(home=Home.resolve())
    return root.obj


def print_json(obj: Any) -> None:
    """One JSON object on one line of stdout (for ``--json``)."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()
