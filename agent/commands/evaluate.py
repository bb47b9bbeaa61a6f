"""``inbox-agent eval``: measure parts of inbox-agent on real labeled data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.errors import UserError

app = typer.Typer(help="Evaluate inbox-agent on real labeled data.", no_args_is_help=True)

REPO = Path(__file__).resolve().parents[2]


@app.callback()
def _eval() -> None:
    """Evaluate inbox-agent on real labeled data."""


@app.command("triage")
def triage(
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Evaluation data folder (default: ../shared/data)."),
    ] = None,
    report: Annotated[Path, typer.Option("--report", help="Markdown report to write.")] = REPO
    / "docs"
    / "triage-eval.md",
    limit: Annotated[
        int | None, typer.Option("--limit", help="Use only the first N rows of each set.")
    ] = None,
) -> None:
    """Per-class precision/recall/F1, confusion matrices and stop-rule recall."""
    from agent.commands._dev import dev_module

    evaluation = dev_module("evaluation")
    folder = data or REPO.parent / "shared" / "data"
    if not (folder / "youtube_spam").is_dir() or not (folder / "intents").is_dir():
        raise UserError(f"{folder}: no youtube_spam/ and intents/ here (use --data DIR)")
    _, numbers = evaluation.run(folder, report, limit)
    for name, value in numbers.items():
        typer.echo(f"{name}: {value:.4f}")
    typer.echo(f"wrote {report}")
