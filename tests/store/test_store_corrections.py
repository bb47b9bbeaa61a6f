"""Corrections: recorded only on a change, read back oldest first with the item's text, and
the migration adds the table to a database made before it (0005)."""

from __future__ import annotations

from datetime import UTC

import pytest
import sqlalchemy as sa

from agent.store import Item, ItemCreate, Store, add_item, head_revision, open_store
from agent.store.corrections import CorrectionRow, corrections_for, item_corrections, record


def _item(store: Store, workspace: str, text: str, author: str = "@sam") -> Item:
    with store.session() as s:
        item, _ = add_item(
            s,
            ItemCreate(
                workspace=workspace, platform="instagram", account="@brand", thread="t1",
                kind="dm", author=author, text=text,
            ),
        )  # fmt: skip
    return item


def test_record_keeps_only_real_changes_and_reads_them_back_in_order(store: Store) -> None:
    first = _item(store, "acme", "where is my refund?", author="@ana")
    other = _item(store, "globex", "love it")
    with store.session() as s:
        assert record(s, first, "intent", "order_issue", "order_issue", "alice") is None
        made = record(s, first, "intent", "order_issue", "billing_refund", "alice")
        assert made is not None and made.id is not None
        record(s, other, "priority", "P3", "none", "eve")
        record(s, first, "draft", "shipping-times", "rejected", "bob")
        record(s, first, "queue", None, None, "bob")  # equal: nothing
    rows = corrections_for(store)
    assert [(r.workspace, r.field, r.old_value, r.new_value, r.reviewer) for r in rows] == [
        ("acme", "intent", "order_issue", "billing_refund", "alice"),
        ("globex", "priority", "P3", "none", "eve"),
        ("acme", "draft", "shipping-times", "rejected", "bob"),
    ]
    assert rows[0] == CorrectionRow(
        item_id=first.id or 0, workspace="acme", field="intent", old_value="order_issue",
        new_value="billing_refund", reviewer="alice", created_at=rows[0].created_at,
        text="where is my refund?", platform="instagram", kind="dm", author="@ana",
    )  # fmt: skip
    assert all(r.created_at.tzinfo is not None for r in rows)
    assert rows[0].created_at.utcoffset() == UTC.utcoffset(None)
    assert [r.created_at for r in rows] == sorted(r.created_at for r in rows)
    assert [r.field for r in corrections_for(store, "acme")] == ["intent", "draft"]
    assert [r.text for r in corrections_for(store, "globex")] == ["love it"]
    assert corrections_for(store, "initech") == []
    with store.session() as s:
        assert [c.field for c in item_corrections(s, first.id or 0)] == ["intent", "draft"]
    with pytest.raises(AttributeError):
        rows[0].reviewer = "mallory"  # type: ignore[misc]  # frozen


def test_record_refuses_a_field_that_is_not_a_correction(store: Store) -> None:
    item = _item(store, "acme", "hi")
    with store.session() as s, pytest.raises(ValueError, match="'owner'"):
        record(s, item, "owner", "a", "b", "alice")
    assert corrections_for(store) == []


def test_a_correction_needs_a_stored_item(store: Store) -> None:
    ghost = Item(id=999_999, workspace="acme", platform="x", account="a", thread="t", key="k")
    with pytest.raises(sa.exc.IntegrityError), store.session() as s:
        record(s, ghost, "intent", "a", "b", "alice")
    assert corrections_for(store) == []


def test_upgrading_a_0005_database_adds_corrections_and_keeps_its_items(db_url: str) -> None:
    with open_store(db_url, migrate=False) as store:
        store.upgrade("0005")
        assert store.current_revision() == "0005"
        assert "corrections" not in sa.inspect(store.engine).get_table_names()
        with store.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO items (workspace, platform, account, thread, kind, author,"
                    " text, key, seen_at, status, truncated, evidence_capped, ocr_fields)"
                    " VALUES ('acme', 'instagram', '@brand', 'p1', 'comment', '@sam',"
                    " 'my parcel is late', 'k1', :t, 'in_review', false, false, NULL)"
                ),
                {"t": "2026-12-01 10:00:00"},
            )
    with open_store(db_url) as store:  # opening migrates to head
        assert store.current_revision() == head_revision() != "0005"
        inspector = sa.inspect(store.engine)
        assert {c["name"] for c in inspector.get_columns("corrections")} == {
            "id", "item_id", "workspace", "field", "old_value", "new_value", "reviewer",
            "created_at",
        }  # fmt: skip
        indexes = {ix["name"] for ix in inspector.get_indexes("corrections")}
        assert {"ix_corrections_item_id", "ix_corrections_workspace"} <= indexes
        fks = inspector.get_foreign_keys("corrections")
        assert [(fk["referred_table"], fk["constrained_columns"]) for fk in fks] == [
            ("items", ["item_id"])
        ]
        with store.session() as s:
            old = s.exec(sa.select(Item).where(Item.key == "k1")).scalar_one()  # type: ignore[call-overload]
            record(s, old, "priority", "P3", "P2", "alice")
        rows = corrections_for(store, "acme")
    assert [(r.text, r.field, r.old_value, r.new_value) for r in rows] == [
        ("my parcel is late", "priority", "P3", "P2")
    ]
