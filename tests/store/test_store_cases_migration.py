"""Migration 0013 (issue 18): near-duplicates stored as ``dropped`` before cases existed
are joined to their case on upgrade; duplicates of spam stay dropped."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlmodel import col, select

from agent.store import Decision, Item, open_store

T0 = "2026-12-01 10:00:00"


def _item(conn: sa.Connection, key: str, author: str, thread: str, text: str, status: str) -> int:
    conn.execute(
        sa.text(
            "INSERT INTO items (workspace, platform, account, thread, kind, author, text, key,"
            " seen_at, status, truncated, evidence_capped)"
            " VALUES ('acme', 'sandbox', '@acme', :thread, 'comment', :author, :text, :key,"
            " :t, :status, false, false)"
        ),
        {"thread": thread, "author": author, "text": text, "key": key, "t": T0, "status": status},
    )
    return int(
        conn.execute(sa.text("SELECT id FROM items WHERE key = :k"), {"k": key}).scalar_one()
    )


def _decision(
    conn: sa.Connection, item_id: int, action: str, intent: str, why: list[str], dup: int | None
) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO decisions (item_id, action, intent, priority, queue, owner,"
            " sla_minutes, confidence, pause_reasons, why, duplicate_of, created_at)"
            " VALUES (:item, :action, :intent, 'P1', 'support', 'acme-support', 60, 0.9,"
            " '[]', :why, :dup, :t)"
        ),
        {
            "item": item_id, "action": action, "intent": intent, "why": json.dumps(why),
            "dup": str(dup) if dup is not None else None, "t": T0,
        },
    )  # fmt: skip


def test_upgrade_joins_dropped_duplicates_of_customers_to_their_case(db_url: str) -> None:
    near = "drop:duplicate.near: near-duplicate of {} (2)"
    text = "the site is down for me since this morning and nothing loads today at all"
    with open_store(db_url, migrate=False) as store:
        store.upgrade("0012")
        with store.engine.begin() as conn:
            first = _item(conn, "k1", "ann", "/posts/p1", text, "triaged")
            _decision(conn, first, "escalate", "outage", ["intent.model:outage"], None)
            other = _item(conn, "k2", "bob", "/posts/p1", text, "dropped")
            _decision(conn, other, "drop", "outage", [near.format(first)], first)
            card = _item(conn, "k3", "cy", "/posts/p2", text + " card 4111111111111111", "dropped")
            _decision(conn, card, "drop", "outage", [near.format(first)], first)
            again = _item(conn, "k4", "ANN", "/posts/p1", text + "!", "dropped")
            _decision(conn, again, "drop", "outage", [near.format(first)], first)
            spam = _item(conn, "k5", "bot1", "/posts/p1", "free giftcards here", "dropped")
            _decision(conn, spam, "drop", "spam", ["drop:spam.model: p=0.99"], None)
            copy = _item(conn, "k6", "bot2", "/posts/p1", "free giftcards here", "dropped")
            _decision(conn, copy, "drop", "spam", [near.format(spam)], spam)
    # opening migrates to head, as `inbox-agent db upgrade` does
    with open_store(db_url) as store, store.session() as s:
        items = {i.id: i for i in s.exec(select(Item)).all()}
        latest = {d.item_id: d for d in s.exec(select(Decision).order_by(col(Decision.id))).all()}
    assert (items[first].status, items[first].case_id) == ("triaged", first)
    assert (items[other].status, items[other].case_id) == ("in_case", first)
    assert latest[other].action == "escalate" and latest[other].priority == "P1"
    assert latest[other].sla_due_at is not None
    assert any("joined the case" in w for w in latest[other].why)
    assert (items[card].status, items[card].case_id) == ("paused", first)
    assert "private_data.card_number" in latest[card].pause_reasons
    assert (items[again].status, items[again].case_id) == ("merged", None)
    assert items[spam].status == items[copy].status == "dropped"
    assert items[copy].case_id is None
