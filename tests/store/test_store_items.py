"""Items once per key, watermarks, runs, and the outbox's once-per-text guard."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import func, select

from agent.store import (
    Decision,
    Item,
    ItemCreate,
    OutboxEntry,
    Store,
    StoreError,
    add_item,
    add_items,
    finish_run,
    get_watermark,
    item_key,
    open_store,
    set_watermark,
    start_run,
    text_hash,
)


def _collected(**overrides: object) -> ItemCreate:
    fields: dict[str, object] = {
        "workspace": "acme-instagram",
        "platform": "instagram",
        "account": "acme",
        "thread": "post-1",
        "kind": "comment",
        "message_id": "m-1",
        "author": "sam",
        "text": "Where is my order?",
    }
    fields.update(overrides)
    return ItemCreate.model_validate(fields)


def _count(store: Store) -> int:
    with store.session() as session:
        return session.exec(select(func.count()).select_from(Item)).one()


def test_item_key_is_stable_and_distinguishes_each_part() -> None:
    key = item_key("instagram", "acme", "post-1", "m-1")
    assert key == item_key(" Instagram", "acme", "post-1 ", "m-1")
    others = {
        item_key("tiktok", "acme", "post-1", "m-1"),
        item_key("instagram", "acme2", "post-1", "m-1"),
        item_key("instagram", "acme", "post-2", "m-1"),
        item_key("instagram", "acme", "post-1", "m-2"),
        item_key("instagram", "acmepost-1", "", "m-1"),
    }
    assert key not in others and len(others) == 5


def test_items_without_message_id_are_keyed_by_author_and_text() -> None:
    a = _collected(message_id=None, text="Hello  there")
    assert a.key() == _collected(message_id=None, text="Hello there").key()
    assert a.key() != _collected(message_id=None, text="Hello", author="sam").key()
    assert a.key() != _collected(message_id=None, author="kim", text="Hello there").key()


def test_same_key_twice_stores_one_row(store: Store) -> None:
    with store.session() as session:
        first, created = add_item(session, _collected())
        assert created
    with store.session() as session:
        again, created_again = add_item(session, _collected(text="edited on screen"))
    assert not created_again
    assert again.id == first.id and again.key == first.key
    assert again.text == "Where is my order?"  # the first capture is kept
    assert again.status == "new" and again.seen_at.tzinfo is not None
    assert _count(store) == 1
    with store.session() as session:
        _, created = add_item(session, _collected(message_id="m-2"))
    assert created and _count(store) == 2


def test_same_key_twice_in_one_session(store: Store) -> None:
    with store.session() as session:
        a, created_a = add_item(session, _collected())
        b, created_b = add_item(session, _collected())
    assert (created_a, created_b) == (True, False)
    assert a.id == b.id and _count(store) == 1


def test_naive_posted_at_is_refused(store: Store) -> None:
    with pytest.raises(sa.exc.StatementError, match="naive"), store.session() as session:
        add_item(session, _collected(posted_at=datetime(2025, 1, 1)))
    assert _count(store) == 0


def _insert_items(url: str, barrier, queue, n: int) -> None:
    try:
        with open_store(url) as store:
            barrier.wait(timeout=30)
            created = 0
            for i in range(n):
                with store.session() as session:
                    _, new = add_item(session, _collected(message_id=f"m-{i}"))
                    created += new
            queue.put(created)
    except Exception as exc:
        queue.put(repr(exc))


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_concurrent_processes_store_each_key_once(backend, tmp_path, request) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'race.db'}"
    else:
        url = request.getfixturevalue("fresh_postgres")()
    open_store(url).close()  # migrate first: this test is about the inserts
    ctx = multiprocessing.get_context("fork")
    workers, n = 4, 25
    barrier, queue = ctx.Barrier(workers), ctx.Queue()
    procs = [
        ctx.Process(target=_insert_items, args=(url, barrier, queue, n)) for _ in range(workers)
    ]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == n  # each key was reported new exactly once
    with open_store(url) as store:
        assert _count(store) == n


def test_watermark_insert_then_move(store: Store) -> None:
    with store.session() as session:
        assert get_watermark(session, "acme", "post-1") is None
        set_watermark(session, "acme", "post-1", "k1")
        set_watermark(session, "acme", "post-2", "k9")
    later = datetime(2030, 1, 1, tzinfo=UTC)
    with store.session() as session:
        mark = set_watermark(session, "acme", "post-1", "k2", seen_at=later)
        assert (mark.item_key, mark.seen_at) == ("k2", later)
    with store.session() as session:
        mark = get_watermark(session, "acme", "post-1")
        assert mark is not None and mark.item_key == "k2" and mark.seen_at == later
        other = get_watermark(session, "acme", "post-2")
        assert other is not None and other.item_key == "k9"
        assert get_watermark(session, "other", "post-1") is None


def test_runs_start_and_finish(store: Store) -> None:
    with store.session() as session:
        run = start_run(session, "acme", "sweep")
        assert run.status == "running" and run.pid and run.host
        add_item(session, _collected(run_id=run.id))
    with store.session() as session:
        done = finish_run(session, run.id, "stopped", stop_reason="login_wall", new_items=1)
    assert done.status == "stopped" and done.stop_reason == "login_wall"
    assert done.new_items == 1 and done.seen_items == 0
    assert done.finished_at is not None and done.finished_at >= done.started_at
    with store.session() as session:
        with pytest.raises(StoreError, match="no run"):
            finish_run(session, "nope", "ok")
        with pytest.raises(ValueError):
            finish_run(session, run.id, "exploded")
        with pytest.raises(ValueError):
            start_run(session, "acme", "dance")


def test_run_ids_sort_by_start_time() -> None:
    from agent.store import new_run_id

    early = new_run_id(datetime(2025, 1, 1, tzinfo=UTC))
    late = new_run_id(datetime(2025, 1, 2, tzinfo=UTC))
    assert early < late and early != new_run_id(datetime(2025, 1, 1, tzinfo=UTC))


def test_outbox_takes_one_entry_per_item_and_text(store: Store) -> None:
    with store.session() as session:
        item, _ = add_item(session, _collected())
    assert item.id is not None

    def entry(text: str) -> OutboxEntry:
        return OutboxEntry(
            item_id=item.id,
            workspace=item.workspace,
            thread=item.thread,
            text=text,
            text_hash=text_hash(text),
            approved_by="ana",
        )

    with store.session() as session:
        session.add(entry("Thanks, we are on it."))
    with pytest.raises(sa.exc.IntegrityError), store.session() as session:
        session.add(entry("Thanks, we are on it."))
    with store.session() as session:
        session.add(entry("Thanks! We are on it."))  # an edited text is a new approval
    with store.session() as session:
        rows = session.exec(select(OutboxEntry)).all()
    assert len(rows) == 2 and {r.state for r in rows} == {"approved"}


def test_decisions_keep_json_lists_and_need_an_item(store: Store) -> None:
    with store.session() as session:
        item, _ = add_item(session, _collected())
        session.add(
            Decision(
                item_id=item.id,
                action="pause",
                intent="billing_refund",
                priority="P2",
                pause_reasons=["refund_or_dispute"],
                why=["rule:refund", "model:0.91"],
                confidence=0.91,
            )
        )
    with store.session() as session:
        decision = session.exec(select(Decision)).one()
        assert decision.pause_reasons == ["refund_or_dispute"]
        assert decision.why == ["rule:refund", "model:0.91"]
    with pytest.raises(sa.exc.IntegrityError), store.session() as session:
        session.add(Decision(item_id=99999, action="review"))


def test_a_batch_is_stored_once_per_key_in_its_order(store: Store) -> None:
    with store.session() as session:
        first, _ = add_item(session, _collected(message_id="m-2", text="already here"))
    batch = [_collected(message_id=f"m-{i}", text=f"text {i}") for i in range(1, 1001)]
    batch.append(_collected(message_id="m-7", text="the same key again"))

    with store.session() as session:
        stored = add_items(session, batch)

    assert len(stored) == 1001
    assert [row.message_id for row, _ in stored[:3]] == ["m-1", "m-2", "m-3"]
    created = [flag for _, flag in stored]
    assert created[1] is False and stored[1][0].id == first.id  # stored before this batch
    assert stored[1][0].text == "already here"
    assert created[1000] is False and stored[1000][0].id == stored[6][0].id  # twice in it
    assert sum(created) == 999 and _count(store) == 1000
    with store.session() as session:
        again = add_items(session, batch[:10])
    assert not any(flag for _, flag in again)
    assert [row.id for row, _ in again] == [row.id for row, _ in stored[:10]]
