"""A real sweep, a real reply and a real stop in Chromium against the sandbox, with the
receiver down the whole time: the sweep and the send only insert events (no delivery is
even made until the sender runs), and once the receiver is back every event arrives once,
signed."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.outbox import Outbox
from agent.runtime import open_runtime
from agent.scaffold import init_home
from agent.store import OutboxEntry, text_hash
from agent.webhooks.sender import sender_for
from sandbox.testing import RunningSandbox, running_sandbox
from tests.serving import free_port
from tests.webhooks.conftest import (
    SECRET,
    SECRET_ENV,
    Clock,
    Receiver,
    deliveries,
    events,
    write_webhooks,
)
from workspaces.paths import Home

pytestmark = pytest.mark.browser
ACME = "sandbox-acme-web"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox(empty=True) as sb, pytest.MonkeyPatch.context() as mp:
        mp.setenv("INBOX_AGENT_SANDBOX_URL", sb.url)
        mp.setenv("SANDBOX_PASSWORD", "sandbox")  # the sandbox's documented practice password
        yield sb


def test_a_receiver_down_for_a_whole_sweep_delays_nothing_and_loses_nothing(
    tmp_path: Path, sandbox: RunningSandbox, clock: Clock
) -> None:
    home = Home(tmp_path / "home")
    init_home(home)
    down = Receiver(clock, port=free_port())  # nothing listens there until the end
    write_webhooks(
        home,
        f"webhooks:\n  - name: ops\n    kind: json\n    url: {down.url}\n"
        f"    secret_env: {SECRET_ENV}\n    events: [item.p1, sweep.stopped, reply.sent]\n",
    )
    rt = open_runtime(home)
    assert rt.sweeper().login(ACME).status == "ok"
    sandbox.client.post_message(
        account="acme",
        kind="dm",
        author="dana",
        text="Someone hacked my account, they changed my password and are posting scams",
    )

    swept = rt.sweeper().sweep(ACME)
    assert swept.status == "ok" and swept.new_items == 1
    [p1] = events(rt.store)
    assert p1.type == "item.p1" and p1.data["item"]["author"] == "dana"
    assert deliveries(rt.store) == []  # the sweep recorded an event; it sent nothing

    item_id = p1.data["item"]["id"]
    with rt.store.session() as s:  # an approved reply, as a reviewer's approval leaves it
        text = "We are on it: please check your DMs."
        s.add(
            OutboxEntry(
                item_id=item_id,
                workspace=ACME,
                thread=p1.data["item"]["thread"],
                text=text,
                text_hash=text_hash(text),
                approved_by="user:ann",
            )
        )
    [sent] = Outbox(rt).send(ACME)
    assert sent.state == "sent"

    sandbox.client.fault("acme", "session_expired")
    stopped = rt.sweeper().sweep(ACME)
    sandbox.client.fault("acme", "none")
    assert stopped.status == "stopped" and stopped.stop_reason == "login_required"
    assert [e.type for e in events(rt.store)] == ["item.p1", "reply.sent", "sweep.stopped"]
    assert deliveries(rt.store) == []

    sender = sender_for(rt, clock=clock, environ={SECRET_ENV: SECRET}, rng=random.Random(3))
    sender.run_once()  # the receiver is still down: tried, kept
    assert [(d.state, d.attempts) for d in deliveries(rt.store)] == [("pending", 1)] * 3

    down.start()
    try:
        clock.advance(hours=1)
        report = sender.run_once()
        clock.advance(hours=1)
        sender.run_once()
    finally:
        down.stop()
    assert report.delivered == 3
    assert sorted(down.delivered_ids()) == sorted(e.event_id for e in events(rt.store))
    assert len(down.received) == 3 and all(r.verified == "ok" for r in down.received)
    by_type = {r.json()["type"]: r.json()["data"] for r in down.received}
    assert by_type["sweep.stopped"]["run"]["stop_reason"] == "login_required"
    assert "inbox-agent login sandbox-acme-web" in by_type["sweep.stopped"]["what_to_do"]
    assert by_type["reply.sent"]["reply"]["item"] == item_id
    assert by_type["item.p1"]["client"] == "Acme Corp"
    assert [d.state for d in deliveries(rt.store)] == ["delivered"] * 3
