"""Every new item a sweep stores gets one stored, logged Decision, with the workspace's config."""

from __future__ import annotations

from sqlmodel import select

from agent.runtime import Runtime
from agent.store import Decision, Item
from sandbox.testing import RunningSandbox
from tests.sweeps.conftest import ACME


def test_sweep_triages_each_new_item_with_the_workspaces_owners_and_replies(
    rt: Runtime, sb: RunningSandbox
) -> None:
    c = sb.client
    post = c.add_post("acme", "Our new bottle")
    c.post_message(
        account="acme",
        kind="comment",
        author="mia",
        text="Love it, thank you so much! 😍",
        thread=post["id"],
    )
    c.post_message(
        account="acme",
        kind="comment",
        author="raj",
        text="my email is raj.k@example.com please call me",
        thread=post["id"],
    )
    c.post_message(
        account="acme",
        kind="dm",
        author="lee",
        text="I was charged twice for my subscription this month, I want my money back",
    )
    result = rt.sweeper().sweep(ACME)
    assert result.status == "ok" and result.new_items == 3
    with rt.store.session() as s:
        rows = s.exec(select(Item, Decision).join(Decision, Decision.item_id == Item.id)).all()
    by_author = {item.author: (item, d) for item, d in rows}
    assert len(rows) == 3 and set(by_author) == {"mia", "raj", "lee"}

    item, praise = by_author["mia"]
    assert praise.intent == "praise" and praise.action == "review"
    assert praise.draft and praise.draft_source  # praise is an approved intent in the example
    assert item.status == "triaged" and praise.sla_due_at is not None

    item, private = by_author["raj"]
    assert private.action == "pause" and private.draft is None
    assert any(r.startswith("private_data") for r in private.pause_reasons)
    assert item.status == "paused"

    _, billing = by_author["lee"]
    assert billing.queue == "billing" and billing.owner == "acme-finance"  # the workspace's owner

    logged = [e for e in rt.log.events(ACME) if e.type == "decision"]
    assert sorted(e.data["item"] for e in logged) == sorted(i.id for i, _ in rows)


def test_items_stored_but_not_triaged_are_triaged_by_the_next_sweep(
    rt: Runtime, sb: RunningSandbox
) -> None:
    """As if a sweep was killed between storing items and triaging them."""
    sb.client.post_message(account="acme", kind="dm", author="zoe", text="is the shop open today?")
    assert rt.sweeper(triage=False).sweep(ACME).new_items == 1
    with rt.store.session() as s:
        (item,) = s.exec(select(Item)).all()
        assert item.status == "new" and s.exec(select(Decision)).all() == []
    again = rt.sweeper().sweep(ACME)
    assert again.new_items == 0
    with rt.store.session() as s:
        (decision,) = s.exec(select(Decision)).all()
        assert decision.item_id == item.id
        assert s.get(Item, item.id).status != "new"  # type: ignore[union-attr]
    third = rt.sweeper().sweep(ACME)  # nothing triaged twice
    assert third.new_items == 0
    with rt.store.session() as s:
        assert len(s.exec(select(Decision)).all()) == 1
