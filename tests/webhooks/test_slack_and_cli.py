"""The Slack message for every event, with untrusted text escaped; the scheduler's webhook
job; ``webhooks deliveries`` and ``webhooks deliver``."""

from __future__ import annotations

import json
import random

import pytest
from typer.testing import CliRunner

from agent.cli import app
from agent.runtime import Runtime
from agent.scheduler.service import SchedulerService
from agent.store.models import WebhookEventType
from agent.webhooks import slack
from agent.webhooks.events import record
from agent.webhooks.sender import sender_for
from tests.webhooks.conftest import SECRET, SECRET_ENV, Clock, Receiver, deliveries, write_webhooks

runner = CliRunner()
ACME = "sandbox-acme-web"
HOSTILE = "<@U123> *bold* & <!here|x>"

DATA = {
    "item.p1": {"item": {"author": HOSTILE, "kind": "dm", "text": HOSTILE}},
    "sla.warning": {"item": {"author": "a"}, "sla": {"minutes_left": 12.5}},
    "sla.breached": {"item": {"author": "a"}, "sla": {"minutes_left": -3.0}},
    "sweep.stopped": {"run": {"stop_reason": "challenge", "message": HOSTILE}, "what_to_do": "x"},
    "sweep.drift": {"run": {"stop_reason": "drift", "message": "2 elements unreadable"}},
    "takeover.started": {"takeover": {"user": "ann"}},
    "takeover.ended": {"takeover": {"user": "ann", "handed_back_by": "bob"}},
    "reply.sent": {"item": {"author": "dana"}, "reply": {}},
    "reply.failed": {"item": {"author": "dana"}, "reply": {"error": HOSTILE}},
}


@pytest.mark.parametrize("event_type", [t.value for t in WebhookEventType])
def test_every_event_has_a_slack_message_with_nothing_unescaped(event_type: str) -> None:
    body = slack.message(event_type, {"workspace": ACME, **DATA[event_type]})
    section = body["blocks"][0]["text"]["text"]
    assert body["text"] and ACME in body["text"] and len(section) <= 3000
    assert "<@U123>" not in json.dumps(body) and "<!here" not in json.dumps(body)
    if HOSTILE in json.dumps(DATA[event_type]):
        assert "&lt;@U123&gt; *bold* &amp; &lt;!here|x&gt;" in section
    assert body["blocks"][1]["elements"][0]["text"] == f"`{event_type}`"


def test_escape_is_slacks_three_characters() -> None:
    assert slack.escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    assert slack.escape("&lt;") == "&amp;lt;"  # already-escaped text stays literal


def test_the_scheduler_sends_only_while_it_is_the_active_one(
    rt: Runtime, clock: Clock, receiver: Receiver
) -> None:
    write_webhooks(
        rt.home,
        f"webhooks:\n  - name: ops\n    kind: json\n    url: {receiver.url}\n"
        f"    secret_env: {SECRET_ENV}\n",
    )
    sender = sender_for(rt, clock=clock, environ={SECRET_ENV: SECRET}, rng=random.Random(1))
    service = SchedulerService(rt, planner=None, dispatcher=None, leadership=None, webhooks=sender)  # type: ignore[arg-type]
    with rt.store.session() as s:
        record(s, WebhookEventType.TAKEOVER_STARTED, "takeover:1", ACME, {"workspace": ACME})
    service._safe_webhooks()  # standing by: nothing
    assert deliveries(rt.store) == [] and receiver.received == []
    service.active = True
    service._safe_webhooks()
    assert [d.state for d in deliveries(rt.store)] == ["delivered"]
    assert receiver.received[0].verified == "ok"


def test_deliveries_and_deliver_commands(
    rt: Runtime, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_webhooks(
        rt.home,
        f"retry: {{max_attempts: 1}}\nwebhooks:\n  - name: ops\n    kind: json\n"
        f"    url: {receiver.url}\n    secret_env: {SECRET_ENV}\n",
    )
    monkeypatch.setenv(SECRET_ENV, SECRET)
    receiver.script = [500]
    with rt.store.session() as s:
        record(s, WebhookEventType.TAKEOVER_STARTED, "takeover:1", ACME, {"workspace": ACME})
        record(s, WebhookEventType.TAKEOVER_ENDED, "takeover:1", ACME, {"workspace": ACME})
    home = ["--home", str(rt.home.root), "webhooks"]
    result = runner.invoke(app, [*home, "deliver", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "sla_events": 0, "fanned_out": 2, "delivered": 1, "retried": 0, "failed": 1
    }  # fmt: skip
    failed = runner.invoke(app, [*home, "deliveries", "--state", "failed", "--json"])
    [row] = map(json.loads, failed.output.splitlines())
    assert row["event_type"] == "takeover.started" and row["last_status"] == 500
    assert row["last_error"].startswith("after 1 attempt: HTTP 500 from http://127.0.0.1:")
    table = runner.invoke(app, [*home, "deliveries"])
    assert table.exit_code == 0 and "delivered" in table.output and "failed" in table.output
    bad = runner.invoke(app, [*home, "deliveries", "--state", "lost"])
    assert bad.exit_code != 0
