"""The sender against a real HTTP receiver: retries with backoff driven by the injected
clock, each event delivered once, failures kept with their reason, safe claims."""

from __future__ import annotations

import random
import threading
from datetime import timedelta

import pytest
from sqlmodel import col, select

from agent.runtime import Runtime
from agent.store.models import DeliveryState, WebhookDelivery, WebhookEventType
from agent.webhooks import deliveries as outbox
from agent.webhooks.config import Retry, Webhook, WebhooksConfig
from agent.webhooks.events import record
from agent.webhooks.sender import Sender
from tests.serving import free_port
from tests.webhooks.conftest import (
    SECRET,
    SECRET_ENV,
    Clock,
    Receiver,
    deliveries,
    events,
)

ACME = "sandbox-acme-web"


def json_hook(url: str, **extra: object) -> Webhook:
    return Webhook.model_validate(
        {"name": "ops", "kind": "json", "url": url, "secret_env": SECRET_ENV, **extra}
    )


def sender(rt: Runtime, clock: Clock, hooks: list[Webhook], **retry: float) -> Sender:
    config = WebhooksConfig(webhooks=hooks, retry=Retry.model_validate(retry))
    return Sender(
        rt.store,
        config,
        client_of={ACME: "Acme Corp"}.get,
        clock=clock,
        rng=random.Random(16),
        environ={SECRET_ENV: SECRET},
    )


def takeover_event(rt: Runtime, subject: str = "takeover:1") -> None:
    with rt.store.session() as s:
        data = {"workspace": ACME, "takeover": {"id": 1, "user": "ann"}}
        record(s, WebhookEventType.TAKEOVER_STARTED, subject, ACME, data)


def delivery(rt: Runtime) -> WebhookDelivery:
    [only] = deliveries(rt.store)
    return only


def test_500_twice_then_200_is_retried_with_backoff_and_arrives_once(
    backend_rt: Runtime, clock: Clock, receiver: Receiver
) -> None:
    rt = backend_rt
    receiver.script = [500, 500]
    s = sender(rt, clock, [json_hook(receiver.url)], first_delay_seconds=30)
    takeover_event(rt)
    [event] = events(rt.store)

    first = s.run_once()
    assert first.fanned_out == 1 and first.retried == 1 and len(receiver.received) == 1
    d = delivery(rt)
    assert d.state == "pending" and d.attempts == 1 and d.last_status == 500
    wait1 = d.next_attempt_at - clock()
    assert timedelta(seconds=15) <= wait1 <= timedelta(seconds=30)  # 30 s, jittered down

    s.run_once()  # not due yet: nothing is sent
    clock.advance(seconds=wait1.total_seconds() - 1)
    s.run_once()
    assert len(receiver.received) == 1

    clock.advance(seconds=1)
    assert s.run_once().retried == 1 and len(receiver.received) == 2
    d = delivery(rt)
    wait2 = d.next_attempt_at - clock()
    assert timedelta(seconds=30) <= wait2 <= timedelta(seconds=60)  # doubled

    clock.advance(seconds=wait2.total_seconds())
    assert s.run_once().delivered == 1
    clock.advance(hours=5)
    s.run_once()  # nothing more to do

    assert [r.answered for r in receiver.received] == [500, 500, 200]
    assert all(r.verified == "ok" for r in receiver.received)  # each attempt freshly signed
    assert {r.headers["webhook-id"] for r in receiver.received} == {event.event_id}
    assert receiver.delivered_ids() == [event.event_id]  # arrived once
    stamps = [int(r.headers["webhook-timestamp"]) for r in receiver.received]
    assert stamps[1] - stamps[0] >= 15 and stamps[2] - stamps[1] >= 30
    body = receiver.received[-1].json()
    assert body["type"] == "takeover.started" and body["id"] == event.event_id
    assert body["data"]["client"] == "Acme Corp" and body["data"]["takeover"]["user"] == "ann"
    d = delivery(rt)
    assert (d.state, d.attempts, d.last_status, d.last_error) == ("delivered", 3, 200, None)


def test_out_of_attempts_it_ends_failed_with_its_last_error(
    rt: Runtime, clock: Clock, receiver: Receiver
) -> None:
    receiver.script = [503] * 10
    s = sender(rt, clock, [json_hook(receiver.url)], max_attempts=3, first_delay_seconds=1)
    takeover_event(rt)
    for _ in range(6):
        s.run_once()
        clock.advance(minutes=1)
    assert len(receiver.received) == 3  # never a fourth attempt
    d = delivery(rt)
    assert d.state == "failed" and d.attempts == 3 and d.last_status == 503
    assert d.last_error is not None and d.last_error.startswith("after 3 attempts: HTTP 503 from")
    assert "try again later" in d.last_error
    assert "hooks/inbox" not in d.last_error and "team=ops" not in d.last_error  # host only
    assert d.finished_at == clock() - timedelta(minutes=4)


def test_a_receiver_that_is_down_loses_nothing(rt: Runtime, clock: Clock) -> None:
    down = Receiver(clock, port=free_port())  # nothing listens on its port yet
    s = sender(rt, clock, [json_hook(down.url)], first_delay_seconds=10)
    for n in range(3):
        takeover_event(rt, f"takeover:{n}")
    for _ in range(3):
        s.run_once()
        clock.advance(minutes=2)
    rows = deliveries(rt.store)
    assert [d.state for d in rows] == ["pending"] * 3 and all(d.attempts == 3 for d in rows)
    assert all(d.last_status is None and "ConnectError" in (d.last_error or "") for d in rows)
    down.start()  # back on the same port
    try:
        s.run_once()
    finally:
        down.stop()
    assert sorted(down.delivered_ids()) == sorted(e.event_id for e in events(rt.store))
    assert [d.state for d in deliveries(rt.store)] == ["delivered"] * 3


def test_a_secret_missing_from_the_environment_is_retried_then_failed_saying_so(
    rt: Runtime, clock: Clock, receiver: Receiver
) -> None:
    s = sender(rt, clock, [json_hook(receiver.url)], max_attempts=2, first_delay_seconds=1)
    s.environ = {}
    takeover_event(rt)
    for _ in range(3):
        s.run_once()
        clock.advance(minutes=1)
    d = delivery(rt)
    assert d.state == "failed" and receiver.received == []  # never sent unsigned
    assert f"the environment variable {SECRET_ENV} is not set" in (d.last_error or "")


def test_a_webhook_removed_from_the_config_fails_its_deliveries_visibly(
    rt: Runtime, clock: Clock, receiver: Receiver
) -> None:
    receiver.script = [500]
    s = sender(rt, clock, [json_hook(receiver.url)])
    takeover_event(rt)
    s.run_once()
    s.config = WebhooksConfig()
    clock.advance(hours=2)
    s.run_once()
    d = delivery(rt)
    assert d.state == "failed" and "no longer in webhooks.yaml" in (d.last_error or "")


def test_fan_out_follows_events_workspaces_and_clients(
    rt: Runtime, clock: Clock, receiver: Receiver
) -> None:
    hooks = [
        json_hook(receiver.url, name="all"),
        json_hook(receiver.url, name="p1-only", events=["item.p1"]),
        json_hook(receiver.url, name="globex", clients=["Globex Corp"]),
        json_hook(receiver.url, name="acme-ws", workspaces=[ACME]),
    ]
    s = sender(rt, clock, hooks)
    s.batch = 0  # fan out only
    takeover_event(rt)
    s.run_once()
    s.run_once()  # a second fan-out makes nothing new
    assert sorted(d.webhook for d in deliveries(rt.store)) == ["acme-ws", "all"]
    takeover_event(rt)  # the same (type, subject): recorded once
    assert len(events(rt.store)) == 1
    hooks.append(json_hook(receiver.url, name="added-later"))
    s.run_once()  # an event already dispatched is not sent to a webhook added since
    assert "added-later" not in {d.webhook for d in deliveries(rt.store)}


def test_two_senders_never_claim_one_delivery_and_a_dead_claim_is_taken_over(
    backend_rt: Runtime, clock: Clock, receiver: Receiver
) -> None:
    rt = backend_rt
    for n in range(20):
        takeover_event(rt, f"takeover:{n}")
    a = sender(rt, clock, [json_hook(receiver.url)])
    a.batch = 0
    a.run_once()
    claims: list[list[int]] = []
    barrier = threading.Barrier(4)

    def claim(holder: str) -> None:
        barrier.wait()
        got = outbox.claim_due(
            rt.store, now=clock(), holder=holder, limit=20, stale_after=timedelta(minutes=1)
        )
        claims.append([c.delivery.id or 0 for c in got])

    threads = [threading.Thread(target=claim, args=(f"s{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [i for got in claims for i in got]
    assert sorted(claimed) == sorted(d.id for d in deliveries(rt.store))  # each exactly once

    # a claim left by a sender that died is taken over once stale; the dead one's late
    # outcome is then ignored
    d = deliveries(rt.store)[0]
    assert d.id is not None and d.claimed_by is not None
    assert (
        outbox.claim_due(rt.store, now=clock(), holder="b", limit=50, stale_after=a.stale_after)
        == []
    )
    clock.advance(seconds=a.stale_after.total_seconds() + 1)
    again = outbox.claim_due(rt.store, now=clock(), holder="b", limit=50, stale_after=a.stale_after)
    assert len(again) == 20 and all(c.delivery.attempts == 2 for c in again)
    assert not outbox.mark_delivered(rt.store, d.id, d.claimed_by, now=clock(), status=200)
    assert outbox.mark_delivered(rt.store, d.id, "b", now=clock(), status=200)


def test_backoff_doubles_with_jitter_up_to_its_cap(rt: Runtime, clock: Clock) -> None:
    s = sender(rt, clock, [], first_delay_seconds=10, max_delay_seconds=300)
    for attempts in range(1, 12):
        full = min(300, 10 * 2 ** (attempts - 1))
        waits = {s.delay(attempts).total_seconds() for _ in range(20)}
        assert all(full / 2 <= w <= full for w in waits) and len(waits) > 1  # jittered
    assert s.delay(1, retry_after_s=120).total_seconds() == 120  # the receiver asked for more


@pytest.mark.parametrize("hostile", ["<!channel> & <https://evil.example|click here>"])
def test_a_slack_message_escapes_what_the_customer_wrote(
    rt: Runtime, clock: Clock, hostile: str
) -> None:
    plain = Receiver(clock, secret=None).start()
    try:
        hook = Webhook.model_validate({"name": "slack", "kind": "slack", "url": plain.url})
        s = sender(rt, clock, [hook])
        s.config = s.config.model_copy(update={"review_url": "https://review.example"})
        with rt.store.session() as sess:
            data = {
                "item": {"id": 7, "author": hostile, "kind": "dm", "text": f"help {hostile}"},
                "decision": {"intent": "safety", "queue": "trust"},
            }
            record(sess, WebhookEventType.ITEM_P1, "item:7", ACME, data)
        s.run_once()
    finally:
        plain.stop()
    [got] = plain.received
    assert "webhook-signature" not in got.headers  # a slack webhook with no secret_env
    body = got.json()
    section = body["blocks"][0]["text"]["text"]
    assert body["text"] == f"P1 item in {ACME}"
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click here&gt;" in section
    assert "<!channel>" not in section and "<https://evil" not in section
    context = body["blocks"][1]["elements"][0]["text"]
    assert "<https://review.example/items/7|open in review>" in context and "Acme Corp" in context
    assert [d.state for d in deliveries(rt.store)] == [DeliveryState.DELIVERED.value]
    with rt.store.session() as sess:
        left = sess.exec(select(WebhookDelivery).where(col(WebhookDelivery.state) != "delivered"))
        assert list(left) == []


def test_prune_forgets_only_old_finished_deliveries_and_their_events(
    backend_rt: Runtime, clock: Clock, receiver: Receiver
) -> None:
    rt = backend_rt
    receiver.script = [500]
    s = sender(rt, clock, [json_hook(receiver.url)])
    takeover_event(rt, "takeover:old")  # fails once: still pending when pruned
    takeover_event(rt, "takeover:done")
    s.run_once()
    assert sorted(d.state for d in deliveries(rt.store)) == ["delivered", "pending"]
    clock.advance(days=31)
    assert outbox.prune(rt.store, older_than=clock() - outbox.KEEP) == 2  # a delivery + its event
    [left] = deliveries(rt.store)
    assert left.state == "pending" and [e.event_id for e in events(rt.store)] == [left.event_id]
