"""``inbox-agent eval``: measure parts of inbox-agent on real labeled data."""

from __future__ import annotations

from collections.abc import Callable
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
    ctx: typer.Context,
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
    workspace: Annotated[
        str | None,
        typer.Option(
            "--workspace",
            "-w",
            help="Show what this workspace's reviewer corrections change, on held-out ones.",
        ),
    ] = None,
) -> None:
    """Per-class precision/recall/F1, confusion matrices and stop-rule recall."""
    if workspace is not None:
        corrections(ctx, workspace)
        return
    from agent.commands._dev import dev_module

    evaluation = dev_module("evaluation")
    folder = data or REPO.parent / "shared" / "data"
    if not (folder / "youtube_spam").is_dir() or not (folder / "intents").is_dir():
        raise UserError(f"{folder}: no youtube_spam/ and intents/ here (use --data DIR)")
    _, numbers = evaluation.run(folder, report, limit)
    for name, value in numbers.items():
        typer.echo(f"{name}: {value:.4f}")
    typer.echo(f"wrote {report}")


def corrections(ctx: typer.Context, workspace: str) -> None:
    """Agreement with the reviewers on the held-out corrected items (one in five), by the
    shipped model alone and with a memory learned from the other corrections."""
    from agent.commands.context import state
    from agent.commands.triage import workspace_corrections
    from agent.runtime import open_runtime
    from agent.triage import Decision, Pipeline, TriageInput
    from agent.triage.corrections import agreement, held_out, train_memory
    from agent.triage.workspace import workspace_config

    home = state(ctx).home
    runtime = open_runtime(home)
    try:
        labels = workspace_corrections(runtime, workspace)
    finally:
        runtime.store.close()
    check = [label for label in labels if held_out(label.item_id)]
    learn = [label for label in labels if not held_out(label.item_id)]
    if not check or not learn:
        raise UserError(
            f"workspace {workspace!r} has {len(labels)} corrected item(s): too few to hold "
            "one in five out (correct more items, then run this again)"
        )
    ws = runtime.catalog.workspace(workspace)
    config = workspace_config(home, ws).model_copy(update={"corrections_path": None})
    shipped, adjusted = Pipeline(config), Pipeline(config, memory=train_memory(learn))

    def decide(pipe: Pipeline) -> Callable[[str], Decision]:
        def run(text: str) -> Decision:
            pipe.reset()
            return pipe.triage(TriageInput("eval", text, ws.platform, workspace=workspace))

        return run

    result = agreement(decide(shipped), decide(adjusted), check)
    typer.echo(
        f"{workspace}: {len(labels)} corrected item(s); learned from {len(learn)}, "
        f"checked on {len(check)} held out ({result.fields} corrected field(s))"
    )
    typer.echo(f"  shipped model agrees with the reviewers: {result.shipped}/{result.fields}")
    typer.echo(f"  with the corrections learned:            {result.adjusted}/{result.fields}")
