"""Review actions: approvals create one outbox entry, stale drafts are refused, roles and
grants apply, and every action is logged with its actor."""

from __future__ import annotations

import threading

import pytest
from review_world import ACME, GLOBEX, World
from sqlmodel import select

from agent.review import actions
from agent.review.errors import InvalidState, NotAllowed, NotFound, StaleDraft
from agent.review.queries import latest_decision
from agent.store import Review, Takeover


def test_approve_creates_one_outbox_entry_and_logs_the_approval(world: World) -> None:
    item_id = world.item(ACME, "When does my order ship?")
    alice = world.get_user("alice")
    entry = actions.approve(
        world.store, item_id, alice, "It ships Monday.", seen_draft_hash=world.draft_hash(item_id),
        log=world.runtime.log, catalog=world.runtime.catalog
    )  # fmt: skip
    assert entry.state == "approved" and entry.approved_by == "alice"
    assert (entry.workspace, entry.thread, entry.item_id) == (ACME, "t1", item_id)
    assert world.get_item(item_id).status == "approved"
    assert [o.id for o in world.outbox()] == [entry.id]
    events = [e for e in world.runtime.log.events(ACME) if e.type == "approval"]
    assert len(events) == 1
    assert events[0].actor == "user:alice"
    assert events[0].data["item"] == item_id and events[0].data["edited"] is True


def test_approving_again_with_the_old_hash_is_refused(world: World) -> None:
    item_id = world.item(ACME, "Hi")
    alice = world.get_user("alice")
    seen = world.draft_hash(item_id)
    actions.approve(
        world.store, item_id, alice, "Hello!", seen_draft_hash=seen, catalog=world.runtime.catalog
    )
    with pytest.raises(StaleDraft, match="changed since you opened it"):
        actions.approve(
            world.store,
            item_id,
            alice,
            "Hello!",
            seen_draft_hash=seen,
            catalog=world.runtime.catalog,
        )
    assert len(world.outbox()) == 1


def test_a_draft_edited_by_someone_else_makes_the_approval_stale(world: World) -> None:
    item_id = world.item(ACME, "Do you ship to Canada?")
    alice, bob = world.get_user("alice"), world.get_user("bob")
    seen_by_alice = world.draft_hash(item_id)
    actions.save_draft(
        world.store, item_id, bob, "Yes, in 5 days.", seen_draft_hash=world.draft_hash(item_id)
    )
    with pytest.raises(StaleDraft):
        actions.approve(
            world.store,
            item_id,
            alice,
            "Old text",
            seen_draft_hash=seen_by_alice,
            catalog=world.runtime.catalog,
        )
    assert world.outbox() == []
    with world.store.session() as s:
        decision = latest_decision(s, item_id)
        assert decision is not None
        assert decision.draft == "Yes, in 5 days." and decision.draft_source == "edited by bob"


def test_concurrent_approvals_of_one_item_make_one_entry(world: World) -> None:
    item_id = world.item(ACME, "Race me")
    seen = world.draft_hash(item_id)
    users = [world.get_user("alice"), world.get_user("bob")] * 4
    errors: list[Exception] = []
    barrier = threading.Barrier(len(users))

    def run(i: int) -> None:
        barrier.wait()
        try:
            actions.approve(
                world.store,
                item_id,
                users[i],
                f"reply {i}",
                seen_draft_hash=seen,
                catalog=world.runtime.catalog,
            )
        except StaleDraft as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(users))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(world.outbox()) == 1
    assert len(errors) == len(users) - 1


def test_an_ungranted_item_looks_absent_to_every_action(world: World) -> None:
    item_id = world.item(GLOBEX, "secret")
    alice = world.get_user("alice")
    seen = world.draft_hash(item_id)
    calls = [
        lambda: actions.approve(
            world.store, item_id, alice, "x", seen_draft_hash=seen, catalog=world.runtime.catalog
        ),
        lambda: actions.save_draft(world.store, item_id, alice, "x", seen_draft_hash=seen),
        lambda: actions.reject(world.store, item_id, alice),
        lambda: actions.escalate(world.store, item_id, alice),
        lambda: actions.assign(world.store, item_id, alice, "me"),
        lambda: actions.resolve(world.store, item_id, alice),
        lambda: actions.take_over(world.store, GLOBEX, alice),
        lambda: actions.hand_back(world.store, GLOBEX, alice),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            call()
    assert world.get_item(item_id).status == "in_review"
    assert world.outbox() == []


def test_roles(world: World) -> None:
    world.user("vera", "viewer", ACME)
    world.user("april", "approver", ACME)
    plain = world.item(ACME, "question")
    urgent = world.item(ACME, "my account was hacked", priority="P1", intent="account_access")
    with pytest.raises(NotAllowed, match="reviewer"):
        actions.resolve(world.store, plain, world.get_user("vera"))
    with pytest.raises(NotAllowed, match="approver"):
        actions.approve(
            world.store,
            urgent,
            world.get_user("alice"),
            "ok",
            seen_draft_hash=world.draft_hash(urgent),
            catalog=world.runtime.catalog,
        )
    actions.approve(
        world.store,
        urgent,
        world.get_user("april"),
        "ok",
        seen_draft_hash=world.draft_hash(urgent),
        catalog=world.runtime.catalog,
    )
    # The admin has no grants and still sees every workspace.
    actions.resolve(world.store, plain, world.get_user("root"))
    assert world.get_item(plain).status == "resolved"


def test_escalated_items_need_an_approver(world: World) -> None:
    item_id = world.item(ACME, "I want a refund", intent="billing_refund", priority="P2")
    alice = world.get_user("alice")
    actions.escalate(world.store, item_id, alice, reason="refund over 100", owner="finance")
    with world.store.session() as s:
        decision = latest_decision(s, item_id)
        assert decision is not None and decision.action == "escalate"
        assert decision.owner == "finance"
    with pytest.raises(NotAllowed):
        actions.approve(
            world.store,
            item_id,
            alice,
            "ok",
            seen_draft_hash=world.draft_hash(item_id),
            catalog=world.runtime.catalog,
        )


def test_reject_assign_resolve_record_reviews_and_events(world: World) -> None:
    item_id = world.item(ACME, "meh")
    alice = world.get_user("alice")
    log = world.runtime.log
    actions.reject(world.store, item_id, alice, reason="wrong tone", log=log)
    actions.assign(world.store, item_id, alice, "bob", log=log)
    actions.resolve(world.store, item_id, alice, note="answered by phone", log=log)
    with pytest.raises(InvalidState):
        actions.reject(world.store, item_id, alice)
    with world.store.session() as s:
        reviews = s.exec(select(Review).where(Review.item_id == item_id)).all()
        decision = latest_decision(s, item_id)
    assert [r.action for r in reviews] == ["reject", "assign", "resolve"]
    assert decision is not None and decision.draft is None and decision.owner == "bob"
    events = [(e.type, e.data.get("action"), e.actor) for e in log.events(ACME)]
    assert events == [
        ("review", "reject", "user:alice"),
        ("review", "assign", "user:alice"),
        ("review", "resolve", "user:alice"),
    ]


def test_takeover_and_handback(world: World) -> None:
    alice, bob = world.get_user("alice"), world.get_user("bob")
    log = world.runtime.log
    actions.take_over(world.store, ACME, alice, log=log)
    with pytest.raises(InvalidState, match="taken over by alice"):
        actions.take_over(world.store, ACME, bob, log=log)
    with pytest.raises(NotAllowed):  # a reviewer cannot end someone else's takeover
        actions.hand_back(world.store, ACME, bob, log=log)
    held = actions.hand_back(world.store, ACME, alice, log=log)
    assert held.ended_at is not None
    with world.store.session() as s:
        assert len(s.exec(select(Takeover)).all()) == 1
    assert [(e.type, e.actor) for e in log.events(ACME)] == [
        ("takeover", "user:alice"),
        ("handback", "user:alice"),
    ]


def _dropped(world: World, text: str) -> int:
    return world.item(
        ACME, text, action="drop", intent="spam", priority="none", draft=None,
        sla_minutes=None, status="dropped",
    )  # fmt: skip


def test_restore_puts_a_dropped_customer_back_in_the_queue(world: World) -> None:
    item_id = _dropped(world, "my parcel arrived crushed, photo: https://t.co/Xy12AbCdEf")
    alice = world.get_user("alice")
    not_spam = world.runtime.triage().not_spam
    item = actions.restore(
        world.store, item_id, alice, not_spam, note="a customer", log=world.runtime.log
    )
    assert item.status == "triaged"
    with world.store.session() as s:
        decision = latest_decision(s, item_id)
        reviews = s.exec(select(Review).where(Review.item_id == item_id)).all()
    assert decision is not None and decision.action in ("review", "escalate")
    assert decision.intent not in (None, "spam") and decision.owner and decision.sla_due_at
    assert "skipped:spam" in decision.why and "restored by alice: not spam" in decision.why
    assert [(r.action, r.reviewer, r.note) for r in reviews] == [("restore", "alice", "a customer")]
    event = list(world.runtime.log.events(ACME))[-1]
    assert event.type == "review" and event.data["action"] == "restore"
    with pytest.raises(InvalidState, match="not dropped"):
        actions.restore(world.store, item_id, alice, not_spam)  # once is enough


def test_restore_still_applies_stop_rules_grants_and_roles(world: World) -> None:
    not_spam = world.runtime.triage().not_spam
    private = _dropped(world, "my order 55120 never came, email me at ana.gomez@example.org")
    item = actions.restore(world.store, private, world.get_user("bob"), not_spam)
    with world.store.session() as s:
        decision = latest_decision(s, private)
    assert item.status == "paused" and decision is not None and decision.action == "pause"
    assert decision.draft is None and "private_data.email" in decision.pause_reasons
    other = _dropped(world, "is this the right size chart? https://t.co/Ab12Cd34Ef")
    with pytest.raises(NotFound):
        actions.restore(world.store, other, world.get_user("eve"), not_spam)  # not her client
    world.user("vic", "viewer", ACME)
    with pytest.raises(NotAllowed):
        actions.restore(world.store, other, world.get_user("vic"), not_spam)
    assert world.get_item(other).status == "dropped"


def test_known_customers_come_from_the_store(world: World) -> None:
    """Authors a sweep kept, or a person restored, are known customers in later sweeps."""
    from agent.decide import SweepTriage
    from agent.triage import TriageInput

    world.item(ACME, "where is my order?", author="@maria")  # kept: in review
    world.item(
        ACME, "free followers!!", author="@bot", action="drop", intent="spam", status="dropped"
    )
    restored = world.item(
        ACME, "photo: https://t.co/Xy12AbCdEf", author="@carl", action="drop", intent="spam",
        priority="none", draft=None, sla_minutes=None, status="dropped",
    )  # fmt: skip
    actions.restore(world.store, restored, world.get_user("alice"), world.runtime.triage().not_spam)
    fresh = SweepTriage(world.home, {}, world.store, world.runtime.log)  # a later sweep
    assert fresh.known_authors(ACME) == {"@maria", "@carl"}
    for author, action, spammy in (
        ("@maria", "review", "CHECK OUT my channel and subscribe!!! free giftcards www.x.biz"),
        ("@carl", "review", "make $500 a day from home, click here https://bit.ly/3xRich"),
        ("@bot", "drop", "sub4sub anyone?? subscribe to my channel i sub back"),
    ):
        d = fresh.pipeline(ACME).triage(
            TriageInput(id=author, text=spammy, platform="x", author=author, workspace=ACME)
        )
        assert d.action == action, (author, d.why)
    assert fresh.known_authors("globex") == set()
