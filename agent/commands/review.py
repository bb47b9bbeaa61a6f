"""``inbox-agent review list|show|approve|edit|reject|correct|escalate|assign|resolve``: the review
queue for people who live in a terminal.

Every command acts as a review user (``--as NAME``, or ``INBOX_AGENT_USER``) with
that user's role and grants, exactly as in the web UI. ``show`` prints the
item's draft hash; ``approve`` and ``edit`` need it (``--draft-hash``), so a draft
that changed since you looked is refused instead of being sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from agent.commands.context import console, print_json, state
from agent.errors import UserError

# The review code (the store, SQLAlchemy) is imported by each command when it runs.
if TYPE_CHECKING:
    from agent.runtime import Runtime
    from agent.store import User

app = typer.Typer(no_args_is_help=True, help="Review triaged items: approve, edit, reject, …")

# The keys of agent.review.queries.STATUS_FILTERS, for --status's help without importing
# the store (tests/test_cli_startup.py checks they agree).
STATUS_NAMES = ("pending", "approved", "resolved", "dropped", "in_case", "merged", "all")

AsUser = Annotated[
    str,
    typer.Option("--as", envvar="INBOX_AGENT_USER", help="Review user to act as."),
]
ItemArg = Annotated[int, typer.Argument(help="Item id (from `review list`).")]
HashOption = Annotated[
    str, typer.Option("--draft-hash", help="The draft hash `review show` printed.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON output.")]


def _open(ctx: typer.Context, name: str) -> tuple[Runtime, User]:
    from agent.review.auth import require_user
    from agent.runtime import open_runtime

    if not name:
        raise UserError("say who you are: --as NAME (or set INBOX_AGENT_USER)")
    rt = open_runtime(state(ctx).home)
    with rt.store.session() as s:
        user = require_user(s, name)
    return rt, user


def _one_line(text: str, width: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    who: AsUser = "",
    workspace: Annotated[str | None, typer.Option("--workspace", "-w")] = None,
    intent: Annotated[str | None, typer.Option("--intent")] = None,
    priority: Annotated[str | None, typer.Option("--priority")] = None,
    sla: Annotated[str | None, typer.Option("--sla", help="breached|due_soon|ok|none")] = None,
    status: Annotated[str, typer.Option("--status", help="|".join(STATUS_NAMES))] = "pending",
    page: Annotated[int, typer.Option("--page", min=1)] = 1,
    as_json: JsonOption = False,
) -> None:
    """The queue, soonest SLA deadline first."""
    from agent.review.auth import require_visible, visible_workspaces
    from agent.review.queries import QueueFilter, check_filter, known_intents, queue

    rt, user = _open(ctx, who)
    f = QueueFilter(workspace, intent, priority, sla, status, page)
    check_filter(f, known_intents(rt.home, rt.catalog))
    with rt.store.session() as s:
        visible = visible_workspaces(s, user)
        require_visible(visible, workspace)
        result = queue(s, f, visible)
    for r in result.rows:
        d = r.decision
        if as_json:
            print_json(
                {
                    "id": r.item.id, "workspace": r.item.workspace, "status": r.item.status,
                    "intent": d.intent if d else None, "priority": d.priority if d else None,
                    "queue": d.queue if d else None,
                    "sla": r.sla, "left": r.left, "author": r.item.author,
                    "text": r.item.text[:280], "case_id": r.item.case_id,
                    "case": r.case.to_dict() if r.case is not None else None,
                }
            )  # fmt: skip
            continue
        console.print(
            f"{r.item.id:>6}  {r.left:<16} {(d.priority if d else '') or '-':<4} "
            f"{r.item.workspace:<20} {(d.intent if d else '') or '-':<18} "
            f"{_one_line(r.item.text)}"
            + (f"  [case: {r.case.members} customers]" if r.case is not None else ""),
            markup=False,
        )
    if not as_json:
        console.print(f"page {result.page} of {result.pages} · {result.total} items", markup=False)


@app.command("show")
def show(
    ctx: typer.Context, item_id: ItemArg, who: AsUser = "", as_json: JsonOption = False
) -> None:
    """An item: its text, screenshot paths, thread, the decision with reasons, the draft."""
    from agent.review.auth import visible_workspaces
    from agent.review.errors import NotFound
    from agent.review.queries import item_detail, visible_item

    rt, user = _open(ctx, who)
    with rt.store.session() as s:
        item = visible_item(s, item_id, visible_workspaces(s, user))
        if item is None:
            raise NotFound(f"no item {item_id}")
        d = item_detail(s, item)
    dec = d.decision
    info: dict[str, Any] = {
        "id": item.id, "workspace": item.workspace, "thread": item.thread,
        "author": item.author, "status": item.status, "text": item.text,
        "screenshot": item.screenshot, "crop": item.crop,
        "decision": dec.model_dump(mode="json") if dec else None,
        "sla": d.sla, "left": d.left, "draft_hash": d.hash,
        "thread_items": [t.id for t in d.thread],
    }  # fmt: skip
    if as_json:
        print_json(info)
        return
    out = [
        f"item {item.id} · {item.workspace} · thread {item.thread} · {item.status} · {d.left}",
        f"from {item.author}: {item.text[:2000]!r}",
        f"screenshot: {item.screenshot or '-'}",
        f"crop:       {item.crop or '-'}",
    ]
    if dec is not None:
        out += [
            f"decision: {dec.action} · intent {dec.intent} · {dec.priority} · queue {dec.queue}"
            f" · owner {dec.owner} · confidence {dec.confidence}",
            f"why: {'; '.join(dec.why) or '-'}",
        ]
        if dec.pause_reasons:
            out.append(f"paused for: {', '.join(dec.pause_reasons)}")
        out.append(f"draft ({dec.draft_source or 'no source'}): {dec.draft!r}")
    out.append(f"thread items: {', '.join(str(t.id) for t in d.thread) or '-'}")
    out.append(f"draft hash: {d.hash}  (approve: inbox-agent review approve {item.id} "
               f"--draft-hash {d.hash})")  # fmt: skip
    for line in out:
        console.print(line, markup=False)


@app.command("approve")
def approve(
    ctx: typer.Context,
    item_id: ItemArg,
    draft_hash: HashOption,
    who: AsUser = "",
    text: Annotated[
        str | None, typer.Option("--text", help="Approve this text instead of the draft.")
    ] = None,
) -> None:
    """Approve the draft (or --text): it goes to the outbox, to be sent once."""
    from agent.review import actions
    from agent.review.auth import visible_workspaces
    from agent.review.errors import NotFound
    from agent.review.queries import item_detail, visible_item

    rt, user = _open(ctx, who)
    if text is None:
        with rt.store.session() as s:
            item = visible_item(s, item_id, visible_workspaces(s, user))
            if item is None:
                raise NotFound(f"no item {item_id}")
            dec = item_detail(s, item).decision
        text = (dec.draft if dec else None) or ""
        if not text:
            raise UserError(f"item {item_id} has no draft: pass --text")
    entry = actions.approve(
        rt.store, item_id, user, text, seen_draft_hash=draft_hash, catalog=rt.catalog, log=rt.log
    )
    console.print(f"approved item {item_id}: outbox entry {entry.id} ({entry.state})", markup=False)


@app.command("edit")
def edit(
    ctx: typer.Context,
    item_id: ItemArg,
    draft_hash: HashOption,
    text: Annotated[str, typer.Option("--text", help="The new draft.")],
    who: AsUser = "",
) -> None:
    """Replace the draft without approving it."""
    from agent.review import actions

    rt, user = _open(ctx, who)
    actions.save_draft(rt.store, item_id, user, text, seen_draft_hash=draft_hash, log=rt.log)
    console.print(f"draft of item {item_id} saved", markup=False)


Reason = Annotated[str | None, typer.Option("--reason", help="Why (kept in the history).")]


@app.command("reject")
def reject(ctx: typer.Context, item_id: ItemArg, who: AsUser = "", reason: Reason = None) -> None:
    """Reject the draft; the item stays in review."""
    from agent.review import actions

    rt, user = _open(ctx, who)
    actions.reject(rt.store, item_id, user, reason=reason, log=rt.log)
    console.print(f"draft of item {item_id} rejected", markup=False)


@app.command("correct")
def correct(
    ctx: typer.Context,
    item_id: ItemArg,
    who: AsUser = "",
    intent: Annotated[str | None, typer.Option("--intent", help="The right intent.")] = None,
    priority: Annotated[
        str | None, typer.Option("--priority", help="The right priority: P1, P2, P3 or none.")
    ] = None,
    queue_name: Annotated[str | None, typer.Option("--queue", help="The right queue.")] = None,
    note: Reason = None,
) -> None:
    """Correct triage's intent, priority or queue (recorded as a label; `triage train -w`
    learns the workspace's corrections)."""
    from agent.review import actions
    from agent.review.queries import known_intents

    rt, user = _open(ctx, who)
    actions.correct(
        rt.store, item_id, user, intent=intent, priority=priority, queue=queue_name, note=note,
        intents=known_intents(rt.home, rt.catalog), log=rt.log,
    )  # fmt: skip
    console.print(f"triage of item {item_id} corrected", markup=False)


@app.command("escalate")
def escalate(
    ctx: typer.Context,
    item_id: ItemArg,
    who: AsUser = "",
    reason: Reason = None,
    owner: Annotated[str | None, typer.Option("--to", help="Escalate to this owner.")] = None,
) -> None:
    """Escalate the item (approving it then needs an approver)."""
    from agent.review import actions

    rt, user = _open(ctx, who)
    actions.escalate(rt.store, item_id, user, reason=reason, owner=owner, log=rt.log)
    console.print(f"item {item_id} escalated", markup=False)


@app.command("assign")
def assign(
    ctx: typer.Context,
    item_id: ItemArg,
    owner: Annotated[str, typer.Argument(help="New owner (a person or a team).")],
    who: AsUser = "",
) -> None:
    """Reassign the item."""
    from agent.review import actions

    rt, user = _open(ctx, who)
    actions.assign(rt.store, item_id, user, owner, log=rt.log)
    console.print(f"item {item_id} assigned to {owner}", markup=False)


@app.command("resolve")
def resolve(ctx: typer.Context, item_id: ItemArg, who: AsUser = "", reason: Reason = None) -> None:
    """Resolve without a reply."""
    from agent.review import actions

    rt, user = _open(ctx, who)
    actions.resolve(rt.store, item_id, user, note=reason, log=rt.log)
    console.print(f"item {item_id} resolved without a reply", markup=False)


@app.command("restore")
def restore(ctx: typer.Context, item_id: ItemArg, who: AsUser = "", reason: Reason = None) -> None:
    """Not spam: put a dropped item in the queue (triaged again; stop rules still apply)."""
    from agent.review import actions

    rt, user = _open(ctx, who)
    item = actions.restore(rt.store, item_id, user, rt.triage().not_spam, note=reason, log=rt.log)
    console.print(f"item {item_id} restored: {item.status}", markup=False)


WorkspaceArg = Annotated[str, typer.Argument(help="Workspace id.")]


@app.command("takeover")
def takeover(ctx: typer.Context, workspace: WorkspaceArg, who: AsUser = "") -> None:
    """Take over a workspace's live session: sweeps and the outbox leave it alone."""
    from agent import takeover as takeovers
    from agent.review.queries import open_session_command

    rt, user = _open(ctx, who)
    taken = takeovers.take_over(rt, workspace, user)
    console.print(
        f"{workspace} is yours until `inbox-agent review handback {workspace}`", markup=False
    )
    if taken.device is not None and not taken.device_held:
        console.print(
            f"device {taken.device} is still in use (a sweep is finishing): it is yours once "
            "that sweep ends; no new sweep starts on this workspace",
            markup=False,
        )
    loaded = rt.catalog.workspaces.get(workspace)
    if loaded is not None:
        devices = {d: e.model for d, e in rt.catalog.devices.items()}
        command = open_session_command(rt.home, loaded.model, devices)
        console.print(f"open the session: {command}", markup=False)
        console.print(
            f"or from anywhere: the review UI's live view, /workspaces/{workspace}/live",
            markup=False,
        )


@app.command("handback")
def handback(ctx: typer.Context, workspace: WorkspaceArg, who: AsUser = "") -> None:
    """Hand a taken-over workspace back to automation."""
    from agent import takeover as takeovers

    rt, user = _open(ctx, who)
    takeovers.hand_back(rt, workspace, user)
    console.print(f"{workspace} handed back: sweeps and replies resume", markup=False)


def _register_cases() -> None:
    from agent.commands import cases as cases_cmd

    app.add_typer(cases_cmd.app, name="case")


_register_cases()
