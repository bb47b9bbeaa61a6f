"""`inbox-agent selectors check`: primary selectors on the normal DOM, drift on a changed one."""

from __future__ import annotations

import json

from sqlmodel import select
from typer.testing import CliRunner

from agent.cli import app
from agent.runtime import Runtime
from agent.selector_check import check_selectors
from agent.store import Item
from sandbox.testing import RunningSandbox
from tests.sweeps.conftest import ACME


def _content(sb: RunningSandbox) -> None:
    c = sb.client
    post = c.add_post("acme", "Spring sale")
    c.post_message(account="acme", kind="comment", author="ana", text="nice!", thread=post["id"])
    c.post_message(account="acme", kind="dm", author="ben", text="hello there")


def test_healthy_pack_resolves_through_primary_selectors(rt: Runtime, sb: RunningSandbox) -> None:
    _content(sb)
    report = check_selectors(rt, ACME)
    status = {r.selector: r.status for r in report.rows}
    assert report.ok and report.stop_reason is None
    for name in (
        "account_handle",
        "dm_thread_item",
        "message_item",
        "message_text",
        "comment_thread",
        "comment_item",
        "comment_author",
        "comment_text",
    ):
        assert status[name] == "primary", (name, status[name])
    assert status["login_form"] == "not shown"
    assert "fallback" not in status.values() and "missing" not in status.values()
    # the reply flow was probed on a DM and a comment: composers and send controls resolve
    assert sorted(report.replies_checked) == ["comment", "dm"]
    for name in ("composer", "send_button", "reply_input", "reply_send", "reply_target_comment"):
        assert status[name] == "primary", (name, status[name])
    assert sb.client.replies("acme") == []  # nothing was sent
    with rt.store.session() as s:  # a check stores nothing
        assert s.exec(select(Item)).all() == []


def test_changed_dom_is_reported_as_drift_with_the_alternative_used(
    rt: Runtime, sb: RunningSandbox
) -> None:
    _content(sb)
    sb.client.fault("acme", "changed_dom")
    result = CliRunner().invoke(
        app, ["--home", str(rt.home.root), "selectors", "check", ACME, "--json"]
    )
    assert result.exit_code == 2, result.output  # healthy through fallbacks: drift
    rows = {r["selector"]: r for r in map(json.loads, result.output.strip().splitlines())}
    assert rows["comment_item"]["status"] == "fallback"
    assert rows["comment_item"]["alternative"] == 1
    assert "Comment by" in rows["comment_item"]["locator"]
    assert rows["account_handle"]["status"] == "fallback"
    assert not [r for r in rows.values() if r["status"] == "missing"]
    assert any(e.type == "selectors_checked" for e in rt.log.events(ACME))


def test_a_login_wall_is_named_not_reported_as_missing_selectors(
    rt: Runtime, sb: RunningSandbox
) -> None:
    sb.client.fault("acme", "session_expired")
    report = check_selectors(rt, ACME)
    assert report.stop_reason == "login_required" and not report.ok
    assert "missing" not in {r.status for r in report.rows}
