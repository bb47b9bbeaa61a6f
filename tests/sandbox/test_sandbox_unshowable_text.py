"""Text no page can carry as is (lone surrogates, NUL) is stored replaced by U+FFFD, the same
way on every path in, and never makes a sandbox page answer 500; `sandbox post` reads text of
any size from a file or stdin."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from agent.commands.sandbox import app as sandbox_cli
from sandbox.state import SandboxState, clean_text
from sandbox.testing import RunningSandbox

runner = CliRunner()
NASTY = "lone \ud800 high, \udfff low, NUL \x00 here, pair \ud83d\ude00, rtl \u202e, e\u0301"
SHOWN = "lone \ufffd high, \ufffd low, NUL \ufffd here, pair \U0001f600, rtl \u202e, e\u0301"


def browser(sb: RunningSandbox, account: str) -> httpx.Client:
    http = httpx.Client(base_url=sb.url, timeout=30)
    assert http.post("/login", data={"username": account, "password": "sandbox"}).status_code == 303
    return http


def every_page(sb: RunningSandbox, http: httpx.Client) -> dict[str, httpx.Response]:
    state = sb.client.state()
    acme = next(a for a in state["accounts"] if a["name"] == "acme")
    paths = ["/", "/login", "/posts", "/inbox", "/admin/state", "/admin/replies"]
    for post in acme["posts"]:
        paths += [f"/posts/{post}", f"/posts/{post}/comments.json"]
    for thread in acme["threads"]:
        paths += [f"/inbox/{thread}", f"/inbox/{thread}/messages.json"]
    return {p: http.get(p, follow_redirects=False) for p in paths}


def test_clean_text_replaces_only_what_cannot_be_shown() -> None:
    assert clean_text(NASTY) == SHOWN
    assert clean_text("plain, emoji 👍, tab\t, bell \x07") == "plain, emoji 👍, tab\t, bell \x07"
    assert clean_text("\ud83d") == "\ufffd" and clean_text("\ude00\ud83d") == "\ufffd\ufffd"
    state = SandboxState()
    dm = state.add_dm("acme", "dana\ud800", NASTY)
    assert (dm.text, dm.author) == (SHOWN, "dana\ufffd")
    assert state.add_dm("acme", "dana\ud800", "again").container_id == dm.container_id
    assert state.record_reply("acme", "dm", dm.container_id, "ok\x00", None).text == "ok\ufffd"
    assert state.add_post("acme", "cap\udc00tion").caption == "cap\ufffdtion"


@pytest.mark.parametrize("fault", ["none", "changed_dom"])
def test_unshowable_text_posted_over_http_is_stored_replaced_and_every_page_works(
    sb: RunningSandbox, fault: str
) -> None:
    dm = sb.client.post_message("acme", "dm", "dana\ud800", NASTY)
    comment = sb.client.post_message("acme", "comment", "zed\x00", NASTY)
    # a raw JSON body, as any HTTP client would write it (escapes, not UTF-8)
    raw = json.dumps({"account": "acme", "kind": "comment", "author": "raw", "text": NASTY})
    posted = httpx.post(
        f"{sb.url}/admin/messages", content=raw, headers={"Content-Type": "application/json"}
    )
    assert posted.status_code == 200 and posted.json()["text"] == SHOWN
    bad = httpx.post(  # refused, and the refusal (which quotes the input) is sent
        f"{sb.url}/admin/messages",
        content=json.dumps({"account": "acme", "kind": "\ud800"}),
        headers={"Content-Type": "application/json"},
    )
    assert bad.status_code == 422 and "\ufffd" in bad.json()["detail"][0]["input"]
    assert (dm["text"], dm["author"], comment["author"]) == (SHOWN, "dana\ufffd", "zed\ufffd")
    http = browser(sb, "acme")
    reply = http.post(f"/inbox/{dm['container_id']}/reply", data={"text": "answer \x00 here"})
    assert reply.status_code == 303
    sb.client.fault("acme", fault)
    pages = every_page(sb, http)
    assert {p: r.status_code for p, r in pages.items() if r.status_code >= 500} == {}
    thread_page = pages[f"/inbox/{dm['container_id']}"].text
    assert "NUL \ufffd here" in thread_page and "answer \ufffd here" in thread_page
    assert "pair \U0001f600" in pages[f"/posts/{comment['container_id']}"].text
    stored = {m["id"]: m["text"] for m in sb.client.state()["messages"]}
    assert stored[dm["id"]] == stored[comment["id"]] == SHOWN
    assert sb.client.replies("acme")[-1]["text"] == "answer \ufffd here"


def post_args(*extra: str) -> list[str]:
    return ["post", "--account", "acme", "--kind", "dm", "--author", "dana", "--json", *extra]


def test_sandbox_post_reads_a_5_mb_text_from_a_file(sb: RunningSandbox, tmp_path: Path) -> None:
    text = ("Where is my order? ünïcödé 👍\n" * 200_000)[: 5 * 1024 * 1024]
    path = tmp_path / "big.txt"
    path.write_text(text, encoding="utf-8")
    r = runner.invoke(sandbox_cli, post_args("--text-file", str(path)))
    assert r.exit_code == 0, r.output
    msg = json.loads(r.stdout)
    assert len(msg["text"]) == len(text)
    assert sb.client.state()["messages"][-1]["text"] == text  # stored whole, exactly
    page = browser(sb, "acme").get(f"/inbox/{msg['container_id']}")
    assert page.status_code == 200 and len(page.text) > len(text)


def test_sandbox_post_reads_stdin_with_text_dash(sb: RunningSandbox) -> None:
    data = b"line one\nNUL \x00 and bad bytes: \xff\xfe\nend\n"
    r = runner.invoke(sandbox_cli, post_args("--text", "-"), input=data)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["text"] == "line one\nNUL \ufffd and bad bytes: \ufffd\ufffd\nend\n"


def test_sandbox_post_with_a_surrogate_from_argv(sb: RunningSandbox) -> None:
    # Python decodes argv bytes that are not UTF-8 to lone surrogates (surrogateescape)
    r = runner.invoke(sandbox_cli, post_args("--text", "bad \udcff byte"))
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["text"] == "bad \ufffd byte"


@pytest.mark.parametrize(
    "args",
    [[], ["--text", "a", "--text-file", "x.txt"], ["--text-file", "/no/such/file.txt"]],
    ids=["neither", "both", "missing file"],
)
def test_sandbox_post_needs_exactly_one_readable_text(sb: RunningSandbox, args: list[str]) -> None:
    r = runner.invoke(sandbox_cli, post_args(*args))
    assert r.exit_code != 0
    message = str(r.exception)
    assert "\n" not in message and ("--text" in message or "cannot read" in message), message
