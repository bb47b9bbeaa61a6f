"""``users`` and ``review`` commands through Typer's CliRunner."""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer
from review_world import ACME, GLOBEX, World, workspace_yaml
from sqlmodel import select
from typer.testing import CliRunner

from agent.commands import review as review_cmd
from agent.commands import serve as serve_cmd
from agent.commands import users as users_cmd
from agent.commands.context import CliState
from agent.store import OutboxEntry, User
from workspaces.paths import Home


def _cli(home: Home) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root(ctx: typer.Context) -> None:
        ctx.obj = CliState(home=home)

    app.add_typer(users_cmd.app, name="users")
    app.add_typer(review_cmd.app, name="review")
    serve_cmd.register(app)
    return app


def test_users_add_grant_revoke_list(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    for ws in (ACME, GLOBEX):  # a grant names a configured workspace
        folder = home.config_dir("workspaces")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{ws}.yaml").write_text(workspace_yaml(ws))
    cli, runner = _cli(home), CliRunner()
    secret = "s3cret-password-for-cli"
    r = runner.invoke(
        cli, ["users", "add", "kim", "--role", "approver", "--password-stdin"], input=f"{secret}\n"
    )
    assert r.exit_code == 0, r.output
    assert secret not in r.output
    assert runner.invoke(cli, ["users", "grant", "kim", ACME]).exit_code == 0
    assert runner.invoke(cli, ["users", "grant", "kim", GLOBEX]).exit_code == 0
    assert runner.invoke(cli, ["users", "revoke", "kim", GLOBEX]).exit_code == 0
    listed = runner.invoke(cli, ["users", "list", "--json"])
    assert json.loads(listed.output.strip().splitlines()[-1]) == {
        "name": "kim", "role": "approver", "disabled": False, "grants": [ACME]
    }  # fmt: skip
    bad = runner.invoke(
        cli, ["users", "add", "x", "--role", "boss", "--password-stdin"], input="longenough\n"
    )
    assert bad.exit_code != 0
    short = runner.invoke(cli, ["users", "add", "y", "--password-stdin"], input="short\n")
    assert short.exit_code != 0
    from agent.store import open_store

    with open_store(home.db_url) as store, store.session() as s:
        users = s.exec(select(User)).all()
    assert [u.name for u in users] == ["kim"] and secret not in users[0].password_hash


def test_review_list_show_approve(world: World) -> None:
    cli, runner = _cli(world.home), CliRunner()
    item_id = world.item(ACME, "Is it waterproof?", screenshot=True)
    world.item(GLOBEX, "not for alice")
    listed = runner.invoke(cli, ["review", "list", "--as", "alice"])
    assert listed.exit_code == 0 and "Is it waterproof?" in listed.output
    assert "not for alice" not in listed.output
    shown = runner.invoke(cli, ["review", "show", str(item_id), "--as", "alice"])
    assert shown.exit_code == 0
    item = world.get_item(item_id)
    assert (
        f"screenshot: {item.screenshot}" in shown.output
        and f"crop:       {item.crop}" in shown.output
    )
    assert "rule:intent.question" in shown.output and "saved reply: shipping-times" in shown.output
    draft_hash = re.search(r"draft hash: ([0-9a-f]+)", shown.output).group(1)  # type: ignore[union-attr]
    stale = runner.invoke(
        cli, ["review", "approve", str(item_id), "--as", "alice", "--draft-hash", "0" * 16]
    )
    assert stale.exit_code != 0
    ok = runner.invoke(
        cli, ["review", "approve", str(item_id), "--as", "alice", "--draft-hash", draft_hash]
    )
    assert ok.exit_code == 0, ok.output
    with world.store.session() as s:
        assert len(s.exec(select(OutboxEntry)).all()) == 1
    events = [e for e in world.runtime.log.events(ACME) if e.type == "approval"]
    assert [e.actor for e in events] == ["user:alice"]


def test_review_edit_reject_escalate_assign(world: World) -> None:
    cli, runner = _cli(world.home), CliRunner()
    item_id = world.item(ACME, "Wrong size delivered")
    other = world.item(GLOBEX, "theirs")
    shown = runner.invoke(cli, ["review", "show", str(item_id), "--as", "bob", "--json"])
    draft_hash = json.loads(shown.output)["draft_hash"]
    args = ["--as", "bob"]
    assert (
        runner.invoke(
            cli,
            [
                "review",
                "edit",
                str(item_id),
                "--draft-hash",
                draft_hash,
                "--text",
                "We will swap it.",
                *args,
            ],
        ).exit_code
        == 0
    )
    assert (
        runner.invoke(cli, ["review", "reject", str(item_id), "--reason", "tone", *args]).exit_code
        == 0
    )
    assert runner.invoke(cli, ["review", "assign", str(item_id), "carol", *args]).exit_code == 0
    assert (
        runner.invoke(cli, ["review", "escalate", str(item_id), "--to", "lead", *args]).exit_code
        == 0
    )
    assert runner.invoke(cli, ["review", "show", str(other), *args]).exit_code != 0
    assert runner.invoke(cli, ["review", "list"]).exit_code != 0  # nobody named
    actions = [e.data.get("action") for e in world.runtime.log.events(ACME)]
    assert actions == ["edit", "reject", "assign", "escalate"]


def test_review_restore(world: World) -> None:
    cli, runner = _cli(world.home), CliRunner()
    item_id = world.item(
        ACME, "when do you restock the blue one? https://t.co/Lk9Jh8Gf7D", action="drop",
        intent="spam", priority="none", draft=None, sla_minutes=None, status="dropped",
    )  # fmt: skip
    r = runner.invoke(cli, ["review", "restore", str(item_id), "--as", "bob", "--reason", "fan"])
    assert r.exit_code == 0, r.output
    assert f"item {item_id} restored: triaged" in r.output
    again = runner.invoke(cli, ["review", "restore", str(item_id), "--as", "bob"])
    assert again.exit_code != 0 and "not dropped" in str(again.exception)


def test_review_takeover_and_handback(world: World) -> None:
    from agent.store import Takeover

    cli, runner = _cli(world.home), CliRunner()
    taken = runner.invoke(cli, ["review", "takeover", ACME, "--as", "alice"])
    assert taken.exit_code == 0, taken.output
    assert runner.invoke(cli, ["review", "takeover", ACME, "--as", "bob"]).exit_code != 0
    assert runner.invoke(cli, ["review", "takeover", ACME, "--as", "eve"]).exit_code != 0
    assert runner.invoke(cli, ["review", "handback", ACME, "--as", "alice"]).exit_code == 0
    with world.store.session() as s:
        (row,) = s.exec(select(Takeover)).all()
        assert row.user == "alice" and row.ended_at is not None
    kinds = [(e.type, e.actor) for e in world.runtime.log.events(ACME)]
    assert kinds == [("takeover", "user:alice"), ("handback", "user:alice")]
