"""Full-text search over items (text and author), reviewers' saved queue views, and two
indexes on decisions: by deadline (the queue's first pages walk it) and by item and id
(is a decision its item's newest).

SQLite: ``items_fts``, an FTS5 table with external content (``items`` itself: the index
holds no copy of the text), kept in step by three triggers on ``items`` (insert, delete,
an update of ``text`` or ``author``) and filled from the rows already stored
(``rebuild``). Its tokenizer is unicode61 with accents kept and combining marks part of
words, as ``agent.review.queries.search_words`` splits input; prefixes of 2 and 3
characters are indexed too (short prefix searches read one list, not hundreds).

PostgreSQL: ``ix_items_search``, a GIN index on ``to_tsvector('simple', author || ' ' ||
text)``; building it indexes the rows already stored, and PostgreSQL keeps it in step.

Neither is in the SQLModel metadata (they are not tables or indexes a model can
describe on both backends): ``SEARCH_OBJECTS`` names them, for the models-vs-migrations
comparison to leave alone. A later migration that rebuilds ``items`` on SQLite (a
batch "move and copy") drops the triggers with the old table: it must create them
again (``create_sqlite_search``) and rebuild the index.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The FTS5 table, its shadow tables, and the PostgreSQL expression index.
SEARCH_OBJECTS = frozenset(
    {
        "items_fts",
        "items_fts_data",
        "items_fts_idx",
        "items_fts_docsize",
        "items_fts_config",
        "items_fts_content",
        "ix_items_search",
    }
)

_TOKENIZE = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'"
_SQLITE_UP = [
    "CREATE VIRTUAL TABLE items_fts USING fts5(text, author, content='items',"
    f" content_rowid='id', prefix='2 3', tokenize=\"{_TOKENIZE}\")",
    "CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN"
    " INSERT INTO items_fts(rowid, text, author) VALUES (new.id, new.text, new.author);"
    " END",
    "CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN"
    " INSERT INTO items_fts(items_fts, rowid, text, author)"
    " VALUES ('delete', old.id, old.text, old.author);"
    " END",
    "CREATE TRIGGER items_fts_update AFTER UPDATE OF text, author ON items BEGIN"
    " INSERT INTO items_fts(items_fts, rowid, text, author)"
    " VALUES ('delete', old.id, old.text, old.author);"
    " INSERT INTO items_fts(rowid, text, author) VALUES (new.id, new.text, new.author);"
    " END",
    "INSERT INTO items_fts(items_fts) VALUES ('rebuild')",  # the rows stored before
]
_PG_UP = (
    "CREATE INDEX ix_items_search ON items"
    " USING gin (to_tsvector('simple'::regconfig, author || ' ' || text))"
)


def create_sqlite_search() -> None:
    for statement in _SQLITE_UP:
        op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
        sa.UniqueConstraint("user", "name", name=op.f("uq_saved_views_user_name")),
    )
    op.create_index(op.f("ix_saved_views_user"), "saved_views", ["user"])
    op.create_index("ix_decisions_due", "decisions", ["sla_due_at"])
    op.create_index("ix_decisions_newest", "decisions", ["item_id", "id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_UP)
    else:
        create_sqlite_search()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_items_search")
    else:
        for trigger in ("items_fts_insert", "items_fts_delete", "items_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS items_fts")
    op.drop_index("ix_decisions_newest", table_name="decisions")
    op.drop_index("ix_decisions_due", table_name="decisions")
    op.drop_index(op.f("ix_saved_views_user"), table_name="saved_views")
    op.drop_table("saved_views")
