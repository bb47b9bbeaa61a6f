"""``inbox-agent triage``: triage a JSONL file of items, or rebuild the model (``train``).

Each input line is one JSON object with ``id``, ``text``, ``platform``, ``kind``
(comment | dm), ``author`` and optional ``account``, ``workspace``, ``posted_at``.
Each output line is the item's Decision, or ``{"id", "line", "error": {field, message}}``
for a line that could not be triaged; those are also reported on stderr as
``FILE:LINE: field: message``. Other lines are still processed; the exit code is 1
when any line failed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer

from agent.errors import UserError

if TYPE_CHECKING:
    from agent.runtime import Runtime
    from agent.triage.corrections import Label

app = typer.Typer(
    help="Triage items from a JSONL file (intent, priority, stop rules, routing, drafts).",
    add_completion=False,
)

MAX_LINE_BYTES = 256 * 1024


def _parse_line(raw: bytes) -> Any:
    from agent.triage import TriageInput
    from agent.triage.errors import TriageInputError

    if len(raw) > MAX_LINE_BYTES:
        raise TriageInputError("line", f"is {len(raw)} bytes; the limit is {MAX_LINE_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TriageInputError("line", f"invalid UTF-8 at byte {exc.start}") from exc
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TriageInputError("line", f"not valid JSON ({exc.msg} at column {exc.colno})") from exc
    return TriageInput.from_dict(obj)


def _guess_id(raw: bytes) -> str | None:
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if isinstance(obj, dict) and isinstance(obj.get("id"), str | int):
        return str(obj["id"])
    return None


def run_file(
    source: Path, out: IO[str], err: IO[str], config: Path | None = None
) -> tuple[int, int]:
    """Triage every line of ``source``; returns (lines done, lines failed)."""
    from agent.triage import Pipeline, load_config
    from agent.triage.errors import TriageInputError

    try:
        data = source.read_bytes()
    except OSError as exc:
        raise UserError(f"{source}: cannot read: {exc.strerror or exc}") from exc
    pipe = Pipeline(load_config(config))
    done = failed = 0
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            decision = pipe.triage(_parse_line(raw.rstrip(b"\r")))
        except TriageInputError as exc:
            failed += 1
            err.write(f"{source}:{number}: {exc.field}: {exc.message}\n")
            error = {"field": exc.field, "message": exc.message}
            row = {"id": _guess_id(raw), "line": number, "error": error}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            continue
        done += 1
        out.write(json.dumps(decision.to_dict(), ensure_ascii=False) + "\n")
    return done, failed


@app.callback(invoke_without_command=True)
def triage(
    ctx: typer.Context,
    input: Annotated[
        Path | None, typer.Option("--input", "-i", help="JSONL file, one item per line.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write decisions here (default: stdout).")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="Triage config YAML (default: built-in).")
    ] = None,
) -> None:
    """Triage a JSONL file: one decision (or error) line per input line."""
    if ctx.invoked_subcommand is not None:
        return
    if input is None:
        raise UserError("give --input FILE.jsonl (or run `inbox-agent triage train`)")
    if output is None:
        done, failed = run_file(input, sys.stdout, sys.stderr, config)
    else:
        with output.open("w", encoding="utf-8") as fh:
            done, failed = run_file(input, fh, sys.stderr, config)
    typer.echo(f"triaged {done} item(s), {failed} failed", err=True)
    if failed:
        raise typer.Exit(1)


@app.command()
def train(
    ctx: typer.Context,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Folder with examples.tsv and open/ (default: shipped data)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Model file to write (default: shipped model).")
    ] = None,
    workspace: Annotated[
        str | None,
        typer.Option(
            "--workspace",
            "-w",
            help="Train this workspace's correction memory from its reviewers' corrections "
            "(on top of the shipped model) instead of rebuilding the shipped model.",
        ),
    ] = None,
) -> None:
    """Rebuild the shipped models, or (--workspace) learn a workspace's corrections."""
    if workspace is not None:
        train_workspace(ctx, workspace)
        return
    from agent.commands._dev import dev_module

    training = dev_module("training")
    data_dir = data or training.DATA_DIR
    if not (data_dir / "examples.tsv").is_file():
        raise UserError(f"{data_dir}: no examples.tsv here")
    target = out or training.MODEL_PATH
    models = training.build(data_dir, target)
    for name, model in models.items():
        temperature = getattr(model, "temperature", None)
        extra = f", temperature {temperature:.3f}" if temperature is not None else ""
        typer.echo(f"{name}: {len(model.classes)} heads/classes{extra}")
    typer.echo(f"wrote {target}")


def workspace_corrections(runtime: Runtime, workspace: str) -> list[Label]:
    """The workspace's reviewer corrections, one Label per corrected item (the workspace
    must be configured)."""
    from agent.store.corrections import corrections_for
    from agent.triage.corrections import labels_from

    runtime.catalog.workspace(workspace)  # UserError naming the configured ones
    return labels_from(corrections_for(runtime.store, workspace))


def train_workspace(ctx: typer.Context, workspace: str) -> None:
    """Build ``<home>/triage/<workspace>/corrections.npz`` from the store's corrections."""
    from agent.commands.context import state
    from agent.runtime import open_runtime
    from agent.triage.corrections import held_out, train_memory
    from agent.triage.workspace import memory_path

    home = state(ctx).home
    runtime = open_runtime(home)
    try:
        labels = workspace_corrections(runtime, workspace)
        if not labels:
            raise UserError(f"workspace {workspace!r} has no reviewer corrections to learn from")
        memory = train_memory(labels)
        target = memory_path(home.root, workspace)
        memory.save(target)
        runtime.log.append(
            workspace, "triage_trained", corrected_items=len(labels), similarity=memory.similarity
        )
    finally:
        runtime.store.close()
    fields = sum(len(label.values) for label in labels)
    kept = sum(held_out(label.item_id) for label in labels)
    typer.echo(
        f"{workspace}: {len(labels)} corrected item(s), {fields} corrected field(s); "
        f"similarity {memory.similarity:.2f} (chosen without the {kept} held-out item(s))"
    )
    typer.echo(f"wrote {target}")
