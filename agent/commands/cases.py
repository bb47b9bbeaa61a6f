"""``inbox-agent review case show|approve|resolve|split|move``: cases from a terminal.

A case is the first item of many customers' near-identical messages and its members
(``agent.review.cases``). ``show`` prints every member and the case hash; ``approve``
needs that hash (``--case-hash``), so a member who joined since you looked refuses the
approval instead of going unanswered. One approval queues one reply per member.
"""

from __future__ import annotations

from typing import Annotated

import typer

from agent.commands.context import console, print_json
from agent.commands.review import AsUser, JsonOption, _one_line, _open
from agent.errors import UserError

app = typer.Typer(no_args_is_help=True, help="Cases: one approval, one reply per customer.")

CaseArg = Annotated[int, typer.Argument(help="The case's number (its first item's id).")]


@app.command("show")
def show(
    ctx: typer.Context, case_id: CaseArg, who: AsUser = "", as_json: JsonOption = False
) -> None:
    """Every member of the case (status, thread, text) and the case hash."""
    from agent.review import cases
    from agent.review.auth import visible_workspaces

    rt, user = _open(ctx, who)
    with rt.store.session() as s:
        case = cases.load(s, case_id, visible_workspaces(s, user))
    if as_json:
        print_json(case.to_dict())
        return
    console.print(
        f"case {case.case_id}: {len(case.members)} members · {case.left} · hash {case.hash}",
        markup=False,
    )
    for m in case.members:
        console.print(
            f"{m.item.id:>6}  {m.item.status:<9} {m.item.kind:<7} {m.item.author[:20]:<20} "
            f"{m.item.thread[:30]:<30} {_one_line(m.item.text, 50)}",
            markup=False,
        )
    for kind, draft in sorted(case.drafts.items()):
        console.print(f"draft for {kind}s: {_one_line(draft) or '(none)'}", markup=False)


@app.command("approve")
def approve(
    ctx: typer.Context,
    case_id: CaseArg,
    case_hash: Annotated[str, typer.Option("--case-hash", help="The hash `case show` printed.")],
    who: AsUser = "",
    comment: Annotated[
        str | None,
        typer.Option("--comment", help="The reply to public comments (default: the draft)."),
    ] = None,
    dm: Annotated[
        str | None, typer.Option("--dm", help="The reply to DMs (default: the draft).")
    ] = None,
    leave_out: Annotated[
        list[int] | None, typer.Option("--leave-out", help="A member not to answer (repeatable).")
    ] = None,
) -> None:
    """Approve the case's reply: one outbox entry per member, each sent once."""
    from agent.review import cases
    from agent.review.auth import visible_workspaces

    rt, user = _open(ctx, who)
    with rt.store.session() as s:
        case = cases.load(s, case_id, visible_workspaces(s, user))
    texts = {
        "comment": comment if comment is not None else case.drafts.get("comment", ""),
        "dm": dm if dm is not None else case.drafts.get("dm", ""),
    }
    done = cases.approve(
        rt.store, case_id, user, texts, seen_case_hash=case_hash, catalog=rt.catalog,
        leave_out=leave_out or (), log=rt.log,
    )  # fmt: skip
    console.print(
        f"approved case {case_id}: {len(done.entries)} replies in the outbox"
        + (
            f"; skipped (a person decides each): {', '.join(map(str, done.skipped))}"
            if done.skipped
            else ""
        )
        + (f"; left out: {', '.join(map(str, done.left_out))}" if done.left_out else ""),
        markup=False,
    )


@app.command("resolve")
def resolve(
    ctx: typer.Context,
    case_id: CaseArg,
    who: AsUser = "",
    note: Annotated[str | None, typer.Option("--note", help="One note for every member.")] = None,
) -> None:
    """Resolve every open member of the case without a reply."""
    from agent.review import cases

    rt, user = _open(ctx, who)
    done = cases.resolve(rt.store, case_id, user, note=note, log=rt.log)
    console.print(f"resolved case {case_id}: {len(done)} items", markup=False)


@app.command("split")
def split(
    ctx: typer.Context,
    item_id: Annotated[int, typer.Argument(help="The member to take out of its case.")],
    who: AsUser = "",
) -> None:
    """Take a member out of its case: an item of its own in the queue."""
    from agent.review import cases

    rt, user = _open(ctx, who)
    item = cases.split(rt.store, item_id, user, log=rt.log)
    console.print(f"item {item.id} is out of its case ({item.status})", markup=False)


@app.command("move")
def move(
    ctx: typer.Context,
    item_id: Annotated[int, typer.Argument(help="The item to move.")],
    into: Annotated[int, typer.Option("--into", help="The case (or open item) to join.")],
    who: AsUser = "",
) -> None:
    """Move an open item into another case of its workspace."""
    from agent.review import cases

    rt, user = _open(ctx, who)
    if item_id == into:
        raise UserError("an item cannot be moved into its own case")
    item = cases.move(rt.store, item_id, into, user, log=rt.log)
    console.print(f"item {item.id} is in case {item.case_id} ({item.status})", markup=False)
