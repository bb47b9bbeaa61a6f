"""Events are recorded by the code that commits the fact, in its transaction: triage's P1
decisions, takeovers and hand-backs, the outbox's final states; and the SLA scan finds
deadlines about to pass and passed, once per item."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from agent.outbox import Outbox
from agent.review import actions
from agent.review.auth import add_user, grant
from agent.runtime import Runtime
from agent.store import Decision, Item, ItemCreate, OutboxEntry, User, add_item, text_hash
from agent.store.models import WebhookEventType
from agent.triage import Decision as TriageDecision
from agent.webhooks import events as webhook_events
from agent.webhooks.sla import scan_sla
from tests.webhooks.conftest import Clock, events

ACME = "sandbox-acme-web"


def stored_item(rt: Runtime, text: str, author: str = "dana", status: str = "new") -> Item:
    with rt.store.session() as s:
        item, _ = add_item(
            s,
            ItemCreate(
                workspace=ACME,
                platform="sandbox",
                account="acme",
                thread="/inbox/t1",
                kind="dm",
                author=author,
                text=text,
                message_id=f"m-{author}-{len(text)}",
            ),
        )
        item.status = status
        s.add(item)
    return item


def test_a_p1_decision_records_one_item_p1_event_per_item(rt: Runtime) -> None:
    triage = rt.triage()
    hacked = stored_item(rt, "someone hacked my account and is posting scams", "dana")
    private = stored_item(rt, "my card 4111 1111 1111 1111 was stolen", "lee")
    calm = stored_item(rt, "when do you open?", "mia")
    p1 = TriageDecision(id="1", intent="account_access", priority="P1", action="escalate")
    paused = TriageDecision(
        id="2", priority="P1", action="pause", pause_reasons=["private_data.card"]
    )
    p3 = TriageDecision(id="3", intent="product_question", priority="P3")
    triage.record_many([(hacked, p1), (private, paused), (calm, p3)])
    triage.record_many([(hacked, p1)])  # triaged again: still one event for the item

    found = events(rt.store)
    assert [(e.type, e.subject) for e in found] == [
        ("item.p1", f"item:{hacked.id}"),
        ("item.p1", f"item:{private.id}"),
    ]
    first, second = found
    assert first.data["item"]["text"] == hacked.text and first.data["item"]["author"] == "dana"
    assert first.data["decision"]["priority"] == "P1" and first.event_id.startswith("evt_")
    assert second.data["item"]["text"] is None  # private data is never sent anywhere
    assert second.data["item"]["text_withheld"] == "private data"


def test_takeover_and_hand_back_are_recorded_with_who(backend_rt: Runtime) -> None:
    rt = backend_rt
    with rt.store.session() as s:
        ann = User(name="ann", role="admin", password_hash="-")
        s.add(ann)
    held = actions.take_over(rt.store, ACME, ann, log=rt.log)
    actions.hand_back(rt.store, ACME, ann, log=rt.log)
    started, ended = events(rt.store)
    assert (started.type, ended.type) == ("takeover.started", "takeover.ended")
    assert started.subject == ended.subject == f"takeover:{held.id}"
    assert (
        started.data["takeover"]["user"] == "ann" and started.data["takeover"]["ended_at"] is None
    )
    assert ended.data["takeover"]["handed_back_by"] == "ann"
    assert ended.data["takeover"]["ended_at"] is not None


def test_the_outboxs_final_states_are_recorded_and_a_retry_is_not(rt: Runtime) -> None:
    items = [stored_item(rt, f"question {n}", f"c{n}") for n in range(2)]
    entries = []
    with rt.store.session() as s:
        for item in items:
            entry = OutboxEntry(
                item_id=item.id or 0,
                workspace=ACME,
                thread=item.thread,
                text="Thanks!",
                text_hash=text_hash("Thanks!"),
                approved_by="user:ann",
            )
            s.add(entry)
            s.flush()
            entries.append(entry)
    outbox = Outbox(rt)
    sent, failed = entries
    assert sent.id is not None and failed.id is not None
    outbox._set(sent.id, state="approved", last_error="retrying")  # not final: nothing
    assert events(rt.store) == []
    outbox._set(sent.id, state="sent", last_error=None)
    outbox._fail(failed, "after 3 attempts: login_required: the login wall")
    by_type = {e.type: e for e in events(rt.store)}
    assert set(by_type) == {"reply.sent", "reply.failed"}
    assert by_type["reply.sent"].data["reply"]["outbox"] == sent.id
    assert by_type["reply.failed"].data["reply"]["error"].endswith("the login wall")
    assert by_type["reply.failed"].data["item"]["author"] == "c1"


def test_an_event_commits_with_its_fact_or_not_at_all(backend_rt: Runtime) -> None:
    rt = backend_rt
    with pytest.raises(RuntimeError), rt.store.session() as s:
        webhook_events.record(s, WebhookEventType.SWEEP_STOPPED, "run:r1", ACME, {})
        raise RuntimeError("the sweep's transaction rolled back")
    assert events(rt.store) == []


def test_a_failing_event_insert_never_breaks_what_it_reports(
    backend_rt: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rt = backend_rt

    def broken(*_: object) -> object:
        raise sa.exc.OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(webhook_events, "dialect_insert", broken)
    with rt.store.session() as s:
        ann = User(name="ann", role="admin", password_hash="-")
        s.add(ann)
    held = actions.take_over(rt.store, ACME, ann, log=rt.log)  # its savepoint rolled back alone
    with rt.store.session() as s:
        assert s.get(type(held), held.id) is not None
    assert events(rt.store) == []
    assert "webhook events not recorded" in caplog.text


def _decide(rt: Runtime, item: Item, due_in: timedelta, sla_minutes: int, clock: Clock) -> None:
    with rt.store.session() as s:
        s.add(
            Decision(
                item_id=item.id or 0,
                action="review",
                priority="P2",
                intent="order_issue",
                sla_minutes=sla_minutes,
                sla_due_at=clock() + due_in,
            )
        )


def test_the_sla_scan_warns_then_breaches_once_per_open_item(rt: Runtime, clock: Clock) -> None:
    soon = stored_item(rt, "where is my order", "a", status="triaged")
    late = stored_item(rt, "still waiting", "b", status="in_review")
    done = stored_item(rt, "thanks", "c", status="resolved")
    tight = stored_item(rt, "refund?", "d", status="paused")
    _decide(rt, soon, timedelta(minutes=20), 60, clock)  # warned at 30 min left
    _decide(rt, late, timedelta(minutes=-5), 60, clock)  # already past
    _decide(rt, done, timedelta(minutes=-5), 60, clock)  # past, but nobody waits any more
    _decide(rt, tight, timedelta(minutes=10), 15, clock)  # warned at half its 15 minutes

    def found() -> set[tuple[str, str]]:
        return {(e.type, e.subject) for e in events(rt.store)}

    scan_sla(rt.store, now=clock(), warning_minutes=30)
    assert found() == {("sla.warning", f"item:{soon.id}"), ("sla.breached", f"item:{late.id}")}
    assert scan_sla(rt.store, now=clock(), warning_minutes=30) == 0  # nothing twice
    clock.advance(minutes=3)
    scan_sla(rt.store, now=clock(), warning_minutes=30)
    assert ("sla.warning", f"item:{tight.id}") in found()  # 7 minutes left of 15
    clock.advance(minutes=20)
    scan_sla(rt.store, now=clock(), warning_minutes=30)
    assert found() == {
        ("sla.warning", f"item:{soon.id}"),
        ("sla.breached", f"item:{soon.id}"),
        ("sla.breached", f"item:{late.id}"),
        ("sla.warning", f"item:{tight.id}"),
        ("sla.breached", f"item:{tight.id}"),
    }
    breach = next(e for e in events(rt.store) if e.subject == f"item:{late.id}")
    assert breach.data["sla"]["minutes_left"] == -5.0 and breach.data["item"]["author"] == "b"
    with rt.store.session() as s:
        assert s.exec(select(Item).where(Item.id == done.id)).one().status == "resolved"


def test_a_reviewer_raising_an_item_to_p1_records_its_item_p1_event_once(rt: Runtime) -> None:
    triage = rt.triage()
    quiet = stored_item(rt, "my order never came and i have a wedding saturday", "ola")
    triage.record_many([(quiet, TriageDecision(id="1", intent="order_issue", priority="P3"))])
    assert events(rt.store) == []
    with rt.store.session() as s:
        ann = add_user(s, "ann", "reviewer", "a long enough password")
        grant(s, ann, ACME)
    assert quiet.id is not None
    actions.correct(rt.store, quiet.id, ann, intent="complaint")  # not a priority: no event
    assert events(rt.store) == []
    actions.correct(rt.store, quiet.id, ann, priority="P1", log=rt.log)
    actions.correct(rt.store, quiet.id, ann, priority="P2")
    actions.correct(rt.store, quiet.id, ann, priority="P1")  # raised again: one event per item
    [found] = events(rt.store)
    assert (found.type, found.subject) == ("item.p1", f"item:{quiet.id}")
    assert found.data["decision"]["priority"] == "P1"
    assert found.data["decision"]["intent"] == "complaint"
