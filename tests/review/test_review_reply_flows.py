"""An approval nothing could send is refused: the workspace has no reply flow, or its reply
flow does not answer the item's kind (``handles``). Nothing is queued, through the actions,
the web form, the JSON API and the CLI alike."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import typer
from fastapi.testclient import TestClient
from review_world import ACME, World, csrf_of
from typer.testing import CliRunner

from agent.commands import review as review_cmd
from agent.commands.context import CliState
from agent.review import actions
from agent.review.errors import InvalidState
from agent.store import OutboxEntry

DM_ONLY = """\
id: dm-only-reply
kind: reply
handles: [dm]
steps:
  - open: "{start_url}{thread}"
  - send_reply:
      target: reply_target_message
      composer: composer
      send: send_button
      own_replies: own_messages
      own_text: message_text
"""


def _approve(world: World, item_id: int, text: str = "On it!") -> OutboxEntry:
    return actions.approve(
        world.store, item_id, world.get_user("alice"), text, seen_draft_hash=world.draft_hash(item_id),
        catalog=world.runtime.catalog, log=world.runtime.log,
    )  # fmt: skip


def test_a_workspace_without_a_reply_flow_refuses_approval(world: World) -> None:
    world.configure(ACME, reply=None)
    assert world.runtime.catalog.problems == []  # no reply flow is a valid workspace
    item_id = world.item(ACME, "Do you ship to Oslo?", kind="dm")
    with pytest.raises(InvalidState) as refused:
        _approve(world, item_id)
    assert str(refused.value) == (
        f"item {item_id} cannot be approved: workspace {ACME} has no reply flow, "
        "so nothing can be sent; nothing was queued"
    )
    assert world.outbox() == []
    assert world.get_item(item_id).status == "in_review"
    assert [e for e in world.runtime.log.events(ACME) if e.type == "approval"] == []


def test_a_reply_flow_answers_only_the_kinds_it_handles(world: World) -> None:
    world.configure(ACME, reply="dm-only-reply", flows={"dm-only-reply": DM_ONLY})
    comment = world.item(ACME, "Is the red one back?", kind="comment", thread="/posts/1")
    dm = world.item(ACME, "Where is my parcel?", kind="dm", thread="/inbox/2")
    with pytest.raises(InvalidState, match=re.escape(
        f"reply flow 'dm-only-reply' of workspace {ACME} cannot answer comment items "
        "(it handles: dm)"
    )):  # fmt: skip
        _approve(world, comment, "Edited: yes, since Monday.")  # edit-and-approve alike
    assert world.outbox() == [] and world.get_item(comment).status == "in_review"
    entry = _approve(world, dm)
    assert [o.id for o in world.outbox()] == [entry.id] and entry.item_id == dm


def test_a_workspace_missing_from_the_configuration_refuses_approval(world: World) -> None:
    item_id = world.item("acme-gone", "hello")
    world.user("gina", "reviewer", "acme-gone")
    with pytest.raises(InvalidState, match="workspace 'acme-gone' is not in the configuration"):
        actions.approve(
            world.store, item_id, world.get_user("gina"), "Hi", seen_draft_hash=world.draft_hash(item_id),
            catalog=world.runtime.catalog,
        )  # fmt: skip
    assert world.outbox() == []


def test_the_web_form_and_the_api_refuse_with_the_reason(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    world.configure(ACME, reply="dm-only-reply", flows={"dm-only-reply": DM_ONLY})
    item_id = world.item(ACME, "Which size fits me?", kind="comment")
    alice = client_for("alice")
    page = alice.get(f"/items/{item_id}").text
    seen = world.draft_hash(item_id)
    form = {"csrf_token": csrf_of(page), "draft_hash": seen, "text": "Edited: size M."}
    refused = alice.post(f"/items/{item_id}/approve", data=form)
    assert refused.status_code == 409
    assert "cannot answer comment items (it handles: dm)" in refused.text
    csrf = {"X-CSRF-Token": alice.get("/api/me").json()["csrf_token"]}
    api = alice.post(
        f"/api/items/{item_id}/approve", json={"text": "M", "draft_hash": seen}, headers=csrf
    )
    assert api.status_code == 409
    assert "reply flow 'dm-only-reply'" in api.json()["error"]
    assert "nothing was queued" in api.json()["error"]
    assert world.outbox() == [] and world.get_item(item_id).status == "in_review"


def test_the_cli_refuses_with_the_reason(world: World) -> None:
    world.configure(ACME, reply=None)
    item_id = world.item(ACME, "Any discounts?", kind="dm")
    app = typer.Typer()

    @app.callback()
    def root(ctx: typer.Context) -> None:
        ctx.obj = CliState(home=world.home)

    app.add_typer(review_cmd.app, name="review")
    result = CliRunner().invoke(
        app,
        [
            "review",
            "approve",
            str(item_id),
            "--as",
            "alice",
            "--draft-hash",
            world.draft_hash(item_id),
        ],
    )
    assert result.exit_code == 1  # the CLI's main prints a UserError as one line
    assert isinstance(result.exception, InvalidState)
    assert f"workspace {ACME} has no reply flow" in str(result.exception)
    assert world.outbox() == []
