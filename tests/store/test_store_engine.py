"""Opening the store: connection settings, URL handling, concurrent first opens."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from agent.store import Run, Store, StoreError, head_revision, open_store
from agent.store.engine import normalise_url


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(tmp_path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        # Several connections: the settings must hold on each, not only the first.
        conns = [store.engine.connect() for _ in range(3)]
        try:
            for conn in conns:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        finally:
            for conn in conns:
                conn.close()
    assert (tmp_path / "a.db-wal").exists() or (tmp_path / "a.db").exists()


def test_sqlite_enforces_foreign_keys(tmp_path) -> None:
    with (
        open_store(f"sqlite:///{tmp_path / 'fk.db'}") as store,
        store.engine.connect() as conn,
        pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY"),
    ):
        conn.execute(
            sa.text(
                "INSERT INTO decisions (item_id, action, pause_reasons, why, created_at)"
                " VALUES (4242, 'review', '[]', '[]', '2025-01-01 00:00:00')"
            )
        )


def test_opening_migrates_to_head_and_creates_parent_folders(tmp_path) -> None:
    path = tmp_path / "deep" / "er" / "x.db"
    with open_store(f"sqlite:///{path}") as store:
        assert store.current_revision() == head_revision()
        assert store.is_current()
        assert "items" in sa.inspect(store.engine).get_table_names()
    assert path.exists()


def test_in_memory_sqlite_keeps_its_schema_across_sessions() -> None:
    with open_store("sqlite://") as store:
        with store.session() as session:
            session.add(Run(id="r1", workspace="acme"))
        with store.session() as session:
            assert session.get(Run, "r1") is not None


def test_postgres_urls_use_psycopg() -> None:
    assert normalise_url("postgresql://u:p@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    with pytest.raises(StoreError, match="unsupported"):
        normalise_url("mysql://u@h/db")
    with pytest.raises(StoreError, match="not a database URL"):
        normalise_url("no url here")


@pytest.mark.postgres
def test_plain_postgresql_url_opens(fresh_postgres) -> None:
    url = fresh_postgres().replace("postgresql+psycopg://", "postgresql://")
    with open_store(url) as store:
        assert store.dialect == "postgresql"
        assert store.engine.url.drivername == "postgresql+psycopg"
        assert store.is_current()


def test_unreachable_postgres_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="cannot migrate"):
        open_store("postgresql://nobody@127.0.0.1:1/none")


def test_times_come_back_aware_utc_and_naive_times_are_refused(store: Store) -> None:
    started = datetime(2025, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    with store.session() as session:
        session.add(Run(id="r1", workspace="acme", started_at=started))
    with store.session() as session:
        run = session.get(Run, "r1")
        assert run is not None
        assert run.started_at == started
        assert run.started_at.tzinfo is not None
        assert run.started_at.utcoffset() == timedelta(0)
    with pytest.raises(sa.exc.StatementError, match="naive"), store.session() as session:
        session.add(Run(id="r2", workspace="acme", started_at=datetime(2025, 1, 1)))
    with store.session() as session:
        assert session.get(Run, "r2") is None
        assert session.get(Run, "r1").started_at.tzinfo == UTC  # type: ignore[union-attr]


def _open_and_count(url: str, barrier, queue) -> None:
    try:
        barrier.wait(timeout=30)
        with open_store(url) as store:
            queue.put(("ok", store.current_revision()))
    except Exception as exc:  # reported to the parent, which fails the test
        queue.put(("error", repr(exc)))


def test_concurrent_first_opens_of_a_fresh_sqlite_file_both_succeed(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    ctx = multiprocessing.get_context("fork")
    barrier, queue = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_open_and_count, args=(url, barrier, queue)) for _ in range(4)]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    assert results == [("ok", head_revision())] * 4
    with open_store(url) as store, store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1
