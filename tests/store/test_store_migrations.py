"""The migrations build exactly the models' schema, and upgrades keep the data."""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from agent.store import Item, Run, Store, head_revision, open_store
from agent.store.engine import alembic_config
from agent.store.models import metadata
from agent.store.types import utcnow

# The search objects of migration 0009 (SQLite's FTS5 table and its shadow tables,
# PostgreSQL's expression index) have no model: the comparison leaves exactly them alone.
SEARCH_OBJECTS = importlib.import_module(
    "agent.store.migrations.versions.0009_search_views"
).SEARCH_OBJECTS


def _not_search(name: str | None, _type: str, _parents: object) -> bool:
    return name not in SEARCH_OBJECTS


def _diffs(store: Store) -> list:
    with store.engine.connect() as conn:
        opts = {"compare_type": True, "include_name": _not_search}
        ctx = MigrationContext.configure(conn, opts=opts)
        return compare_metadata(ctx, metadata)


def test_models_and_migrations_agree(store: Store) -> None:
    assert store.current_revision() == head_revision()
    assert _diffs(store) == []


def test_the_comparison_would_notice_a_missing_index(store: Store) -> None:
    # Guards the test above against comparing nothing at all.
    with store.engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX ix_items_queue"))
    diffs = _diffs(store)
    assert [d[0] for d in diffs] == ["add_index"]
    assert diffs[0][1].name == "ix_items_queue"


def test_revisions_form_one_line_and_every_table_exists(store: Store) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    assert [r.revision for r in script.walk_revisions()][-1] == "0001"
    tables = set(sa.inspect(store.engine).get_table_names())
    assert set(metadata.tables) <= tables
    assert {
        "runs",
        "items",
        "watermarks",
        "decisions",
        "reviews",
        "outbox",
        "leases",
        "users",
        "grants",
        "takeovers",
    } <= tables


def test_upgrade_in_place_keeps_rows(db_url: str) -> None:
    with open_store(db_url, migrate=False) as store:
        assert store.current_revision() is None
        store.upgrade("0001")
        assert store.current_revision() == "0001"
        index_names = {ix["name"] for ix in sa.inspect(store.engine).get_indexes("items")}
        assert "ix_items_queue" not in index_names
        with store.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO runs (id, workspace, kind, host, pid, started_at, status,"
                    " new_items, seen_items, screenshots)"
                    " VALUES ('r1', 'acme', 'sweep', 'h', 1, :t, 'ok', 1, 1, 0)"
                ),
                {"t": "2025-01-01 10:00:00"},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO items (workspace, platform, account, thread, kind, author,"
                    " text, run_id, key, seen_at, status)"
                    " VALUES ('acme', 'instagram', 'acme', 'p1', 'comment', 'sam', 'hi',"
                    " 'r1', 'k1', :t, 'new')"
                ),
                {"t": "2025-01-01 10:00:01"},
            )
    with open_store(db_url) as store:  # opening migrates to head
        assert store.current_revision() == head_revision() != "0001"
        index_names = {ix["name"] for ix in sa.inspect(store.engine).get_indexes("items")}
        assert "ix_items_queue" in index_names
        with store.session() as session:
            run = session.get(Run, "r1")
            item = session.exec(sa.select(Item).where(Item.key == "k1")).scalar_one()  # type: ignore[call-overload]
        assert run is not None and run.workspace == "acme"
        assert item.text == "hi" and item.run_id == "r1"
        assert item.seen_at.tzinfo is not None and item.seen_at < utcnow()


def test_downgrade_to_nothing_and_back(store: Store) -> None:
    with store.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert "items" not in sa.inspect(store.engine).get_table_names()
    store.upgrade()
    assert store.is_current() and _diffs(store) == []
