"""`inbox-agent sandbox ...` through Typer's CliRunner, against a running test sandbox."""

from __future__ import annotations

import json
import socket

import pytest
from typer.testing import CliRunner

from agent.commands.sandbox import app
from agent.errors import UserError
from sandbox.testing import RunningSandbox

runner = CliRunner()


def test_post_comment_and_nested_reply(sb: RunningSandbox) -> None:
    post = sb.client.state()["accounts"][0]["posts"][1]
    r = runner.invoke(
        app,
        [
            "post",
            "--account",
            "acme",
            "--kind",
            "comment",
            "--author",
            "zed",
            "--text",
            "Nice 👍",
            "--thread",
            post,
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    top = json.loads(r.stdout)
    assert (top["author"], top["container_id"], top["text"]) == ("zed", post, "Nice 👍")
    r = runner.invoke(
        app,
        [
            "post",
            "--account",
            "acme",
            "--kind",
            "comment",
            "--author",
            "amy",
            "--text",
            "agreed",
            "--thread",
            post,
            "--parent",
            top["id"],
        ],
    )
    assert r.exit_code == 0, r.output
    assert f"in {post}" in r.stdout
    last = sb.client.state()["messages"][-1]
    assert (last["author"], last["parent_id"]) == ("amy", top["id"])


def test_post_dm_with_url_option(sb: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INBOX_AGENT_SANDBOX_URL")
    r = runner.invoke(
        app,
        [
            "post",
            "--account",
            "globex",
            "--kind",
            "dm",
            "--author",
            "kim",
            "--text",
            "hello",
            "--url",
            sb.url,
        ],
    )
    assert r.exit_code == 0, r.output
    last = sb.client.state()["messages"][-1]
    assert (last["account"], last["kind"], last["author"]) == ("globex", "dm", "kim")


def test_bad_kind_and_unknown_account_are_user_errors(sb: RunningSandbox) -> None:
    r = runner.invoke(
        app, ["post", "--account", "acme", "--kind", "tweet", "--author", "a", "--text", "b"]
    )
    assert isinstance(r.exception, UserError) and "comment or dm" in str(r.exception)
    r = runner.invoke(
        app, ["post", "--account", "umbrella", "--kind", "dm", "--author", "a", "--text", "b"]
    )
    assert isinstance(r.exception, UserError) and "umbrella" in str(r.exception)
    assert "\n" not in str(r.exception)


def test_not_running_is_a_one_line_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("INBOX_AGENT_SANDBOX_URL", f"http://127.0.0.1:{port}")
    for args in (["replies"], ["reset"], ["seed", "3"], ["fault", "acme", "slow"]):
        r = runner.invoke(app, args)
        assert isinstance(r.exception, UserError), args
        assert "no sandbox answers" in str(r.exception)


def test_fault_switches_and_clears(sb: RunningSandbox) -> None:
    r = runner.invoke(app, ["fault", "initech", "rate_limited"])
    assert r.exit_code == 0 and "initech: fault rate_limited" in r.stdout
    modes = {a["name"]: a["fault"] for a in sb.client.state()["accounts"]}
    assert modes == {"acme": "none", "globex": "none", "initech": "rate_limited"}
    assert runner.invoke(app, ["fault", "initech", "none"]).exit_code == 0
    assert sb.client.state()["accounts"][2]["fault"] == "none"
    r = runner.invoke(app, ["fault", "initech", "meltdown"])
    assert isinstance(r.exception, UserError) and "meltdown" in str(r.exception)


def test_seed_is_deterministic_and_reset_empties(sb: RunningSandbox) -> None:
    assert runner.invoke(app, ["seed", "9"]).exit_code == 0
    first = sb.client.state()["messages"]
    assert runner.invoke(app, ["seed", "9"]).exit_code == 0
    assert sb.client.state()["messages"] == first
    assert runner.invoke(app, ["seed", "10"]).exit_code == 0
    assert sb.client.state()["messages"] != first
    r = runner.invoke(app, ["reset"])
    assert r.exit_code == 0 and sb.client.state()["messages"] == []


def test_replies_lists_what_the_sandbox_received(sb: RunningSandbox) -> None:
    r = runner.invoke(app, ["replies"])
    assert r.exit_code == 0 and "no replies received" in r.stdout
    thread = sb.client.state()["accounts"][0]["threads"][0]
    sb.state.record_reply("acme", "dm", thread, "thanks <b>!</b>", None)
    r = runner.invoke(app, ["replies", "--json"])
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(x["seq"], x["account"], x["container_id"], x["text"]) for x in rows] == [
        (1, "acme", thread, "thanks <b>!</b>")
    ]
    r = runner.invoke(app, ["replies"])
    assert "thanks <b>!</b>" in r.stdout and f"@acme dm {thread}" in r.stdout
