"""The activity log's chain heads in the store, on SQLite and PostgreSQL, and
``inbox-agent log verify`` comparing the log with them."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli import app
from agent.runtime import home_log
from agent.store import Store, StoreHeads, open_store, store_heads
from runlogs import LOG_KEY_ENV, ActivityLog, StoredHead
from runlogs.files import CHAIN_FILE
from workspaces.paths import DB_ENV, Home


@pytest.fixture(autouse=True)
def _no_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LOG_KEY_ENV, raising=False)


@pytest.fixture
def heads(store: Store) -> Iterator[StoreHeads]:
    made = store_heads(store)
    assert made is not None
    yield made
    made.close()


def test_advance_is_a_compare_and_set(heads: StoreHeads) -> None:
    assert heads.load("acme") is None
    first = StoredHead("2026-11-23", 1, "a" * 64, None)
    assert heads.advance("acme", first, expected=None, durable=True)
    assert not heads.advance("acme", first, expected=None, durable=True)  # one row only
    second = StoredHead("2026-11-23", 2, "hmac:0011aabb:" + "b" * 64, 2)
    assert not heads.advance("acme", second, expected=(1, "c" * 64), durable=False)
    assert heads.advance("acme", second, expected=(1, "a" * 64), durable=False)
    third = StoredHead("2026-11-24", 3, "hmac:0011aabb:" + "c" * 64, 3)
    assert heads.advance("acme", third, expected=(2, second.hash), durable=True)
    # keyed_from keeps the first keyed seq
    assert heads.load("acme") == StoredHead("2026-11-24", 3, third.hash, 2)
    assert heads.load("other") is None


def test_big_sequence_numbers_fit(heads: StoreHeads) -> None:
    big = StoredHead("2026-11-23", 2**40, "a" * 64, 2**40)
    assert heads.advance("acme", big, expected=None, durable=True)
    assert heads.load("acme") == big


def test_a_log_with_store_heads_names_truncation_without_the_chain_file(
    store: Store, heads: StoreHeads, tmp_path: Path
) -> None:
    moments = iter(datetime(2026, 11, 23, 9, tzinfo=UTC) + timedelta(hours=h) for h in range(99))
    log = ActivityLog(tmp_path / "logs", clock=lambda: next(moments), heads=heads)
    for i in range(30):  # crosses midnight
        log.append("acme", "run_started" if i % 10 == 0 else "step_ok", i=i)
    stored = heads.load("acme")
    assert stored is not None and (stored.seq, stored.day) == (30, "2026-11-24")
    assert log.verify("acme").ok

    day = tmp_path / "logs" / "acme" / "2026-11-24.jsonl"
    lines = day.read_bytes().splitlines(keepends=True)
    day.write_bytes(b"".join(lines[:-2]))
    (tmp_path / "logs" / "acme" / CHAIN_FILE).unlink()
    report = log.verify("acme")
    assert not report.ok
    assert str(report.problem) == (
        f"2026-11-24.jsonl:{len(lines) - 1}: line removed (log ends at seq 28, "
        "the store's chain head is seq 30 of 2026-11-24)"
    )


def test_a_busy_sqlite_store_does_not_stall_the_log(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with open_store(url) as store:
        heads = store_heads(store)
        assert heads is not None
        log = ActivityLog(tmp_path / "logs", heads=heads)
        log.append("acme", "run_started")
        blocker = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the database
        try:
            started = time.monotonic()
            for i in range(5):
                log.append("acme", "step_ok", i=i)
            elapsed = time.monotonic() - started
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        # 5 lines, each giving up after 50 ms, not after the store's 5 s busy timeout.
        assert elapsed < 2.5, elapsed
        stored = heads.load("acme")
        assert stored is not None and stored.seq == 1
        log.append("acme", "run_finished")  # the head catches up once the store is free
        stored = heads.load("acme")
        assert stored is not None and stored.seq == 7
        assert log.verify("acme").ok
        heads.close()


def test_in_memory_sqlite_has_no_separate_heads() -> None:
    with open_store("sqlite://") as store:
        assert store_heads(store) is None


# -- the command ------------------------------------------------------------------------


@pytest.fixture
def home(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Home:
    monkeypatch.setenv(DB_ENV, db_url)
    return Home(tmp_path / "home").ensure()


def _verify(home: Home):
    return CliRunner().invoke(app, ["--home", str(home.root), "log", "verify", "acme"])


def _write(home: Home, n: int) -> None:
    with open_store(home.db_url) as store:
        log = home_log(home, store)
        for i in range(n):
            log.append("acme", "step_ok", i=i)
        assert isinstance(log.heads, StoreHeads)
        log.heads.close()


def test_verify_command_compares_with_the_store(home: Home) -> None:
    _write(home, 5)
    result = _verify(home)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "ok: 5 lines checked"
    assert lines[1].startswith("chain head in the store: seq 5 of ")

    ws = home.logs_dir / "acme"
    day = next(ws.glob("*.jsonl"))
    day.write_bytes(b"".join(day.read_bytes().splitlines(keepends=True)[:-1]))
    (ws / CHAIN_FILE).unlink()
    result = _verify(home)
    assert result.exit_code == 1
    assert "line removed (log ends at seq 4, the store's chain head is seq 5" in result.output


def test_verify_command_without_the_key_exits_2(home: Home) -> None:
    _write(home, 3)
    home.log_key_file.unlink()
    result = _verify(home)
    assert result.exit_code == 2, result.output
    assert "the hashes of 3 keyed lines were not checked: no key" in result.output
    assert str(home.log_key_file) in result.output


def test_verify_command_names_a_log_removed_whole(home: Home) -> None:
    _write(home, 3)
    ws = home.logs_dir / "acme"
    for path in ws.iterdir():
        path.unlink()
    ws.rmdir()
    result = _verify(home)
    assert result.exit_code == 1, result.output
    assert "day file removed (the store's chain head, seq 3, is in it; no line is left)" in (
        result.output
    )
