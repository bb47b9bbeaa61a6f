"""Reading a workspace's log back: all events in order, or following new ones.

Readers take no lock. A last line without its newline may be a write in progress,
so it is left for later (``follow``) or skipped (``events``); verify, which does take
the lock, is what reports a line that was really cut off.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from runlogs.errors import LogIntegrityError
from runlogs.events import Event
from runlogs.files import day_files, day_of, read_last_line, workspace_dir


def parse_line(raw: bytes, path: Path, number: int | None) -> Event:
    try:
        return Event.from_record(json.loads(raw))
    except ValueError as exc:
        raise LogIntegrityError(f"not a valid event line ({exc})", file=path, line=number) from exc


def iter_events(
    logs_dir: Path, workspace: str, *, run_id: str | None = None, since_date: date | None = None
) -> Iterator[Event]:
    """Every complete event of the workspace, oldest first, across day files."""
    for path in day_files(workspace_dir(logs_dir, workspace)):
        if since_date is not None and day_of(path) < since_date:
            continue
        with open(path, "rb") as fh:
            for number, raw in enumerate(fh, start=1):
                if not raw.endswith(b"\n"):
                    break  # a write in progress
                event = parse_line(raw, path, number)
                if run_id is None or event.run_id == run_id:
                    yield event


@dataclass
class _Cursor:
    """Where a follower is: a day file (None until one exists) and a byte offset in it."""

    path: Path | None
    offset: int = 0
    pending: bytes = field(default=b"")


def _cursor_at_end(ws_dir: Path, _seq: int = 0) -> _Cursor:
    files = day_files(ws_dir)
    if not files:
        return _Cursor(None)
    size = files[-1].stat().st_size
    last = read_last_line(files[-1])
    if last is not None and not last.endswith(b"\n"):
        size -= len(last)  # start at the line being written, not in its middle
    return _Cursor(files[-1], size)


def _cursor_after_seq(ws_dir: Path, seq: int) -> _Cursor:
    """Start of the newest day file whose first event is at most ``seq + 1``."""
    files = day_files(ws_dir)
    for path in reversed(files):
        with open(path, "rb") as fh:
            first = fh.readline()
        if first.endswith(b"\n") and parse_line(first, path, 1).seq <= seq + 1:
            return _Cursor(path)
    return _Cursor(files[0] if files else None)


def _read_new(cursor: _Cursor) -> list[bytes]:
    """Complete lines appended to the cursor's file since the last call."""
    if cursor.path is None:
        return []
    with open(cursor.path, "rb") as fh:
        fh.seek(cursor.offset)
        chunk = fh.read()
    cursor.offset += len(chunk)
    data = cursor.pending + chunk
    *lines, cursor.pending = data.split(b"\n")
    return [line + b"\n" for line in lines]


def _move_to_next_day(ws_dir: Path, cursor: _Cursor) -> bool:
    """Move to the next day file once the current one can get no more lines."""
    newer = [p for p in day_files(ws_dir) if cursor.path is None or p.name > cursor.path.name]
    if not newer:
        return False
    # A newer file means the writers are done with this one, but one may have finished
    # just after our last read: move on only once everything in it has been read.
    if cursor.path is not None and os.path.getsize(cursor.path) > cursor.offset:
        return False
    # What is left pending now is a line cut off by a crash; verify reports it.
    cursor.path, cursor.offset, cursor.pending = newer[0], 0, b""
    return True


def follow_events(
    logs_dir: Path,
    workspace: str,
    *,
    run_id: str | None = None,
    poll_interval: float = 0.5,
    stop: Callable[[], bool] | None = None,
    after_seq: int | None = None,
) -> Iterator[Event]:
    """Events appended from now on (or after ``after_seq``), polling; moves on to new days.

    The starting point is fixed when this is called, not when iteration begins. The
    generator ends when ``stop()`` returns true (asked each time it has caught up) and otherwise
    runs until the caller stops iterating.
    """
    ws_dir = workspace_dir(logs_dir, workspace)
    start = _cursor_at_end if after_seq is None else _cursor_after_seq
    cursor = start(ws_dir, after_seq or 0)
    return _follow(ws_dir, cursor, run_id, poll_interval, stop, after_seq or 0)


def _follow(
    ws_dir: Path,
    cursor: _Cursor,
    run_id: str | None,
    poll_interval: float,
    stop: Callable[[], bool] | None,
    after_seq: int,
) -> Iterator[Event]:
    while True:
        # One poll: read until caught up with every day file, then ask whether to stop.
        while True:
            lines = _read_new(cursor)
            for raw in lines:
                assert cursor.path is not None
                event = parse_line(raw, cursor.path, None)
                if event.seq > after_seq and (run_id is None or event.run_id == run_id):
                    yield event
            if not lines and not _move_to_next_day(ws_dir, cursor):
                break
        if stop is not None and stop():
            return
        time.sleep(poll_interval)
