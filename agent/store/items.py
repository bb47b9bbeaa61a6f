"""Storing what sweeps collect: runs, items once per stable key, thread watermarks.

These helpers take the caller's session and leave committing to it (use
``Store.session()``). Inserts that must happen once (an item per key, a
watermark per thread) are single ``INSERT … ON CONFLICT`` statements, so two
sessions or two processes racing on the same key still store one row: the
unique constraint decides, and the loser reads the winner's row.
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from agent.store.errors import StoreError
from agent.store.models import Item, ItemCreate, Run, RunKind, RunStatus, Watermark
from agent.store.types import this_host, utcnow


def dialect_insert(session: Session, model: Any) -> Any:
    """The dialect's INSERT construct (the one with ``on_conflict_*``)."""
    name = session.get_bind().dialect.name
    if name == "sqlite":
        return sqlite.insert(model)
    if name == "postgresql":
        return postgresql.insert(model)
    raise StoreError(f"unsupported database {name!r}")


# -- runs ---------------------------------------------------------------------


def new_run_id(now: datetime | None = None) -> str:
    """A run id that sorts by start time and is unique across hosts."""
    now = now or utcnow()
    return f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"


def start_run(
    session: Session,
    workspace: str,
    kind: str = RunKind.SWEEP.value,
    *,
    run_id: str | None = None,
    host: str | None = None,
    pid: int | None = None,
) -> Run:
    """Record that a run started (status ``running``); returns it, flushed."""
    run = Run(
        id=run_id or new_run_id(),
        workspace=workspace,
        kind=RunKind(kind).value,
        host=this_host() if host is None else host,
        pid=os.getpid() if pid is None else pid,
    )
    session.add(run)
    session.flush()
    return run


def finish_run(
    session: Session,
    run_id: str,
    status: str,
    *,
    stop_reason: str | None = None,
    new_items: int | None = None,
    seen_items: int | None = None,
    screenshots: int | None = None,
    unreadable: int | None = None,
    missed: int | None = None,
) -> Run:
    """Record how a run ended; counters left as None keep their stored values."""
    run = session.get(Run, run_id)
    if run is None:
        raise StoreError(f"no run {run_id!r}")
    run.status = RunStatus(status).value
    run.stop_reason = stop_reason
    run.finished_at = utcnow()
    if new_items is not None:
        run.new_items = new_items
    if seen_items is not None:
        run.seen_items = seen_items
    if screenshots is not None:
        run.screenshots = screenshots
    if unreadable is not None:
        run.unreadable = unreadable
    if missed is not None:
        run.missed = missed
    session.add(run)
    session.flush()
    return run


# -- items --------------------------------------------------------------------


def get_item(session: Session, key: str) -> Item | None:
    return session.exec(select(Item).where(Item.key == key)).first()


def add_item(session: Session, item: ItemCreate) -> tuple[Item, bool]:
    """Store ``item`` once per stable key; returns the stored row and whether it is new.

    A second call with the same key (from this or any other session or process)
    stores nothing and returns the first row with ``created=False``.
    """
    key = item.key()
    values = item.model_dump()
    values.update(key=key, seen_at=utcnow())
    stmt = (
        dialect_insert(session, Item)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Item.__table__.c.id)  # type: ignore[attr-defined]
    )
    # A row comes back only when this statement inserted it (rowcount is not
    # reliable for ON CONFLICT across drivers).
    created = session.execute(stmt).first() is not None
    stored = get_item(session, key)
    if stored is None:  # the unique index said it exists; it must be readable
        raise StoreError(f"item {key} vanished after insert")
    if not created:
        # Another session inserted it; make sure we do not hand back stale state.
        session.refresh(stored)
    return stored, created


INSERT_CHUNK = 400  # rows per INSERT (SQLite allows 32,766 bound values per statement)


def add_items(session: Session, items: list[ItemCreate]) -> list[tuple[Item, bool]]:
    """Store a batch as :func:`add_item` stores one, in a few statements: one multi-row
    INSERT … ON CONFLICT DO NOTHING per chunk and one SELECT of the rows. Returns, in
    the batch's order, each stored row and whether this call inserted it."""
    if not items:
        return []
    now = utcnow()
    keyed = [(item.key(), item) for item in items]
    inserted: set[str] = set()
    table = Item.__table__  # type: ignore[attr-defined]
    for start in range(0, len(keyed), INSERT_CHUNK):
        chunk = keyed[start : start + INSERT_CHUNK]
        values = [{**item.model_dump(), "key": key, "seen_at": now} for key, item in chunk]
        stmt = (
            dialect_insert(session, Item)
            .values(values)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(table.c.key)
        )
        inserted.update(row[0] for row in session.execute(stmt))
    keys = list(dict.fromkeys(key for key, _ in keyed))
    stored: dict[str, Item] = {}
    for start in range(0, len(keys), INSERT_CHUNK):
        rows = session.exec(
            select(Item).where(col(Item.key).in_(keys[start : start + INSERT_CHUNK]))
        )
        stored.update((row.key, row) for row in rows)
    out = []
    created_now: set[str] = set()
    for key, _ in keyed:
        row = stored.get(key)
        if row is None:  # the unique index said it exists; it must be readable
            raise StoreError(f"item {key} vanished after insert")
        created = key in inserted and key not in created_now
        created_now.add(key)
        out.append((row, created))
    return out


# -- watermarks ---------------------------------------------------------------


def get_watermark(session: Session, workspace: str, thread: str) -> Watermark | None:
    """Where the last sweep of this thread stopped (None if never swept)."""
    stmt = select(Watermark).where(Watermark.workspace == workspace, Watermark.thread == thread)
    return session.exec(stmt).first()


def set_watermark(
    session: Session,
    workspace: str,
    thread: str,
    item_key: str,
    seen_at: datetime | None = None,
) -> Watermark:
    """Move the thread's watermark to ``item_key`` (insert or update, race-free)."""
    seen_at = seen_at or utcnow()
    # The type processor (aware UTC -> storage form) applies to bound values only,
    # so route seen_at through the column rather than a literal.
    stmt = dialect_insert(session, Watermark).values(
        workspace=workspace, thread=thread, item_key=item_key, seen_at=seen_at
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["workspace", "thread"],
        set_={"item_key": stmt.excluded.item_key, "seen_at": stmt.excluded.seen_at},
    )
    session.execute(stmt)
    mark = get_watermark(session, workspace, thread)
    assert mark is not None
    session.refresh(mark)
    return mark
