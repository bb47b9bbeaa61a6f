"""Appending and reading back: round trip, day files, hostile text, validation, follow."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from runlogs import EVENT_TYPES, ActivityLog, Event, InvalidEventError, verify_workspace
from runlogs.files import read_last_line


def test_append_then_read_round_trip(log: ActivityLog, logs_dir: Path) -> None:
    first = log.append("acme-ig", "run_started", run_id="r1", flow="inbox")
    second = log.append("acme-ig", "item_collected", run_id="r1", key="c:42", text="hello")
    third = log.append("acme-ig", "approval", actor="user:ana", item="c:42")

    read = list(log.events("acme-ig"))

    assert read == [first, second, third]
    assert [e.seq for e in read] == [1, 2, 3]
    assert read[1].data == {"key": "c:42", "text": "hello"}
    assert read[2].run_id is None and read[2].actor == "user:ana"
    assert second.prev == first.hash and third.prev == second.hash and first.prev is None
    assert first.time.tzinfo is not None
    path = logs_dir / "acme-ig" / "2026-11-23.jsonl"
    stored = json.loads(path.read_bytes().splitlines()[0])
    assert stored["time"] == "2026-11-23T09:00:00.001Z"
    assert list(stored) == [
        "seq", "time", "workspace", "run_id", "actor", "type", "data", "prev", "hash",
    ]  # fmt: skip


def test_events_filter_by_run(log: ActivityLog) -> None:
    log.append("acme", "run_started", run_id="r1")
    log.append("acme", "run_started", run_id="r2")
    log.append("acme", "run_finished", run_id="r1")

    assert [e.type for e in log.events("acme", run_id="r1")] == ["run_started", "run_finished"]
    assert list(log.events("never-logged")) == []


def test_chain_continues_across_day_files(log: ActivityLog, logs_dir: Path, clock) -> None:
    log.append("acme", "run_started", run_id="r1")
    last_of_day = log.append("acme", "step_ok", run_id="r1", step="open")
    clock.now = datetime(2026, 11, 24, 0, 0, 0, tzinfo=UTC)
    first_of_next = log.append("acme", "run_finished", run_id="r1")

    files = sorted(p.name for p in (logs_dir / "acme").glob("*.jsonl"))
    assert files == ["2026-11-23.jsonl", "2026-11-24.jsonl"]
    assert first_of_next.prev == last_of_day.hash
    assert first_of_next.seq == 3
    assert [e.seq for e in log.events("acme")] == [1, 2, 3]
    assert [e.seq for e in log.events("acme", since_date=date(2026, 11, 24))] == [3]
    report = verify_workspace(logs_dir, "acme")
    assert report.ok and report.lines_checked == 3


def test_clock_going_back_keeps_file_order(log: ActivityLog, logs_dir: Path, clock) -> None:
    clock.now = datetime(2026, 11, 24, 0, 0, 1, tzinfo=UTC)
    log.append("acme", "run_started")
    clock.now = datetime(2026, 11, 23, 23, 59, 59, tzinfo=UTC)
    log.append("acme", "run_finished")

    assert [p.name for p in (logs_dir / "acme").glob("*.jsonl")] == ["2026-11-24.jsonl"]
    assert verify_workspace(logs_dir, "acme").ok


HOSTILE = [
    "line one\nline two",
    "carriage\rreturn",
    "para\u2028sep\u2029end",
    "next line \u0085 here",
    'quote " backslash \\ and }{"hash":"x"}\n{"seq":99}',
    "nul \x00 escape \x1b[31m bell \x07",
    "lone surrogate \ud800 emoji 🙂 arabic مرحبا",
]


def test_hostile_text_keeps_one_line_per_event(log: ActivityLog, logs_dir: Path) -> None:
    for text in HOSTILE:
        log.append("acme", "item_collected", text=text, **{"key\nwith\u2028breaks": text})

    raw = (logs_dir / "acme" / "2026-11-23.jsonl").read_bytes()
    assert raw.count(b"\n") == len(HOSTILE)
    assert len(raw.decode("utf-8").splitlines()) == len(HOSTILE)  # splitlines knows U+2028
    assert [e.data["text"] for e in log.events("acme")] == HOSTILE
    assert verify_workspace(logs_dir, "acme").ok


@pytest.mark.parametrize("bad", ["", "Acme", "../escape", "a/b", ".hidden", "-x", "a b", "é"])
def test_workspace_ids_cannot_escape_the_logs_folder(log: ActivityLog, bad: str) -> None:
    with pytest.raises(InvalidEventError, match="invalid workspace id"):
        log.append(bad, "run_started")
    with pytest.raises(InvalidEventError):
        list(log.events(bad))


def test_invalid_events_write_nothing(log: ActivityLog, logs_dir: Path) -> None:
    with pytest.raises(InvalidEventError, match="unknown event type"):
        log.append("acme", "made_up")
    with pytest.raises(InvalidEventError, match="actor"):
        log.append("acme", "takeover", actor="ana")
    with pytest.raises(InvalidEventError, match="actor"):
        log.append("acme", "takeover", actor="user:ana\nforged")
    with pytest.raises(InvalidEventError, match="cannot be logged"):
        log.append("acme", "decision", value=object())
    with pytest.raises(InvalidEventError, match="cannot be logged"):
        log.append("acme", "decision", value=float("nan"))
    assert list(logs_dir.glob("acme/*.jsonl")) == []


def test_data_values_are_made_json(log: ActivityLog) -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    ev = log.append("acme", "screenshot", path=Path("/s/a.png"), at=moment, tags={"b", "a"})
    assert ev.data == {"path": "/s/a.png", "at": "2026-01-02T03:04:05.678Z", "tags": ["a", "b"]}
    assert "screenshot" in EVENT_TYPES


def test_read_last_line_reads_from_the_end(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    long_line = b"x" * 20_000 + b"\n"
    path.write_bytes(b"first\n" * 1000 + long_line)
    assert read_last_line(path) == long_line
    path.write_bytes(b"only\n")
    assert read_last_line(path) == b"only\n"
    path.write_bytes(b"a\nhalf")
    assert read_last_line(path) == b"half"
    path.write_bytes(b"")
    assert read_last_line(path) is None


def test_follow_yields_events_appended_after_it_started(log: ActivityLog, clock) -> None:
    log.append("acme", "run_started", run_id="old")  # before follow: not yielded
    polled = threading.Event()
    got: list[Event] = []
    deadline = time.monotonic() + 20  # generous upper bound, not a synchronisation

    def stop() -> bool:
        polled.set()
        return len(got) >= 3 or time.monotonic() > deadline

    def writer() -> None:
        polled.wait(10)
        log.append("acme", "step_ok", run_id="new", n=1)
        log.append("acme", "step_ok", run_id="other", n=2)
        clock.now = clock.now + timedelta(days=1)  # the next event goes to a new day file
        log.append("acme", "run_finished", run_id="new", n=3)
        log.append("acme", "run_finished", run_id="new", n=4)

    events = log.follow("acme", run_id="new", poll_interval=0.01, stop=stop)
    thread = threading.Thread(target=writer)
    thread.start()
    for event in events:
        got.append(event)
    thread.join()

    assert [e.data["n"] for e in got] == [1, 3, 4]
    assert [e.run_id for e in got] == ["new"] * 3


def test_follow_waits_for_a_log_that_does_not_exist_yet(log: ActivityLog) -> None:
    polled = threading.Event()
    got: list[Event] = []
    deadline = time.monotonic() + 20

    def stop() -> bool:
        polled.set()
        return bool(got) or time.monotonic() > deadline

    thread = threading.Thread(target=lambda: polled.wait(10) and log.append("new-ws", "stop"))
    events = log.follow("new-ws", poll_interval=0.01, stop=stop)
    thread.start()
    got.extend(events)
    thread.join()
    assert [e.type for e in got] == ["stop"]


def test_follow_after_seq_starts_in_the_right_day_file(log: ActivityLog, logs_dir, clock) -> None:
    from runlogs.reader import follow_events

    log.append("acme", "run_started", run_id="r1")
    log.append("acme", "step_ok", run_id="r1")
    clock.now = clock.now + timedelta(days=1)
    log.append("acme", "run_finished", run_id="r1")
    got: list[Event] = []

    stream = follow_events(logs_dir, "acme", after_seq=1, poll_interval=0.01, stop=lambda: True)
    got.extend(stream)

    assert [e.seq for e in got] == [2, 3]


def test_append_many_chains_its_lines_in_one_write(log: ActivityLog, logs_dir: Path) -> None:
    from runlogs import NewEvent

    first = log.append("acme", "run_started", run_id="r1")
    batch = log.append_many(
        "acme",
        [
            NewEvent("item_collected", "r1", data={"item": 1, "text": "a\nb"}),
            NewEvent("decision", "r1", data={"item": 1, "action": "review"}),
            NewEvent("review", None, "user:ana", {"item": 1}),
        ],
    )
    after = log.append("acme", "run_finished", run_id="r1")

    read = list(log.events("acme"))
    assert read == [first, *batch, after]
    assert [e.seq for e in read] == [1, 2, 3, 4, 5]
    assert batch[0].prev == first.hash and batch[2].prev == batch[1].hash
    assert after.prev == batch[2].hash
    assert batch[2].actor == "user:ana" and batch[0].data["text"] == "a\nb"
    assert verify_workspace(logs_dir, "acme", key_file=log.key_file).ok


def test_append_many_writes_nothing_when_one_entry_is_bad(log: ActivityLog) -> None:
    from runlogs import NewEvent

    log.append("acme", "run_started", run_id="r1")
    with pytest.raises(InvalidEventError, match="unknown event type"):
        log.append_many("acme", [NewEvent("item_collected", "r1"), NewEvent("no_such_type", "r1")])
    assert [e.type for e in log.events("acme")] == ["run_started"]
    assert log.append_many("acme", []) == []
