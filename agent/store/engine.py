"""Opening the store: one engine per database, migrated to the newest schema.

``open_store(url)`` accepts SQLite URLs (the embedded default) and PostgreSQL
URLs (``postgresql://`` is rewritten to the psycopg 3 driver). Every SQLite
connection gets WAL journaling, enforced foreign keys and a 5 s busy timeout, so
sweeps, the review UI and the outbox can share one file. Opening migrates the
database in place with Alembic; concurrent openers are serialised by a file lock
(SQLite) or an advisory lock (PostgreSQL), so two processes racing on a fresh
database both end up at head and neither crashes.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

from agent.store.errors import MigrationError, StoreError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5000
# Any constant will do: it only has to be the same in every inbox-agent process.
_PG_MIGRATION_LOCK = 0x1B0C_A6E7


def normalise_url(url: str) -> URL:
    """The SQLAlchemy URL for ``url``; plain ``postgresql://`` means psycopg 3."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StoreError(f"not a database URL: {url!r}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise StoreError(f"unsupported database {backend!r} (use sqlite or postgresql)")
    return parsed


def _sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL, or None for an in-memory database."""
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # busy_timeout first: switching to WAL needs a lock another process may hold.
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def create_store_engine(url: str) -> Engine:
    """An engine for ``url`` with the store's connection settings (no migration)."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, pool_pre_ping=True)
    path = _sqlite_file(parsed)
    if path is None:
        # One shared connection, or each new connection would see an empty database.
        engine = sa.create_engine(
            parsed, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"check_same_thread": False})
    sa.event.listen(engine, "connect", _on_sqlite_connect)
    return engine


def alembic_config(connection: Connection | None = None) -> Config:
    """A programmatic Alembic config for the packaged migrations (no alembic.ini)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest schema revision this version of inbox-agent knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Store:
    """One database: its engine, sessions and schema revision."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def url(self) -> str:
        """The URL with any password hidden (safe to print)."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends and rolls back on an error.

        Objects stay readable after the block (``expire_on_commit=False``).
        """
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def current_revision(self) -> str | None:
        """The schema revision of the database (None before the first migration)."""
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def is_current(self) -> bool:
        return self.current_revision() == head_revision()

    def upgrade(self, revision: str = "head") -> None:
        """Migrate the database in place to ``revision`` (safe to run concurrently)."""
        try:
            if self.dialect == "sqlite":
                self._upgrade_sqlite(revision)
            else:
                self._upgrade_postgres(revision)
        except sa.exc.SQLAlchemyError as exc:
            raise MigrationError(self.url, str(exc).splitlines()[0]) from exc

    def _upgrade_sqlite(self, revision: str) -> None:
        path = _sqlite_file(self.engine.url)
        lock: AbstractContextManager[None] = (
            nullcontext() if path is None else _file_lock(path.with_name(path.name + ".lock"))
        )
        with lock, self.engine.begin() as conn:
            command.upgrade(alembic_config(conn), revision)

    def _upgrade_postgres(self, revision: str) -> None:
        with self.engine.begin() as conn:
            # Transaction-scoped: released at commit or rollback; DDL is transactional too.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            command.upgrade(alembic_config(conn), revision)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the database at ``url`` and (by default) migrate it to the newest schema."""
    store = Store(create_store_engine(url))
    if migrate:
        try:
            store.upgrade()
        except BaseException:
            store.close()
            raise
    return store
