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


def test_catch_up_decides_a_killed_sweeps_items_in_batches_and_skips_a_failing_one(
    tmp_path, monkeypatch
) -> None:
    from agent.store import ItemCreate, add_items
    from agent.triage.errors import TriageError
    from tests.sweeps.conftest import make_runtime

    rt = make_runtime(tmp_path / "home")
    texts = [f"where is my order number {i}?" for i in range(7)] + ["this one breaks triage"]
    rows = [
        ItemCreate(workspace=ACME, platform="sandbox", account="@acme", thread="/inbox/t1",
                   kind="dm", message_id=f"m{i}", author=f"person{i}", text=text)
        for i, text in enumerate(texts)
    ]  # fmt: skip
    with rt.store.session() as s:
        stored = [item for item, _ in add_items(s, rows)]
    triage = rt.triage()
    pipe = triage.pipeline(ACME)
    real = pipe.triage

    def fussy(item, skip=()):  # noqa: ANN001, ANN202 - the pipeline's own signature
        if "breaks" in item.text:
            raise TriageError("this item cannot be triaged")
        return real(item, skip=skip)

    monkeypatch.setattr(pipe, "triage", fussy)
    commits = []
    record_many = triage.record_many
    monkeypatch.setattr(triage, "record_many", lambda d: commits.append(len(d)) or record_many(d))

    assert triage.catch_up(ACME, batch_size=3) == 8
    assert commits == [3, 3, 1]  # one transaction per batch; the failing item decides nothing
    with rt.store.session() as s:
        status = {i.text: i.status for i in s.exec(select(Item)).all()}
        decided = s.exec(select(Decision)).all()
    assert status.pop("this one breaks triage") == "new"  # left for the next sweep
    assert "new" not in status.values() and len(decided) == 7
    assert {d.item_id for d in decided} == {i.id for i in stored[:7]}
    events = list(rt.log.events(ACME))
    assert sum(e.type == "decision" for e in events) == 7
    assert [e.data["item"] for e in events if e.type == "step_failed"] == [stored[7].id]
    assert triage.catch_up(ACME, batch_size=3) == 1  # only the one still waiting
