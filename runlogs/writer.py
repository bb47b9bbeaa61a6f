"""Appending events: lock, read the last line, seal, write once, update the heads.

Two processes may write one workspace's log at once. Each append holds an exclusive
``flock`` on the workspace's lock file while it reads the chain's last line (seeking
from the end of the newest day file) and appends its own, so the chain stays linear;
each append (one line, or a batch of them) goes out in one ``os.write`` on an
``O_APPEND`` descriptor, so lines never interleave. Every event is written through to
the OS at once; run boundaries (:data:`RUN_BOUNDARY_TYPES`) are also fsynced. Lines are
sealed with the log key (``runlogs.keys``) and the head is written to ``.chain`` and,
when the log has a :class:`~runlogs.heads.HeadStore`, to the store, still under the lock.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from runlogs.errors import LogIntegrityError
from runlogs.events import (
    RUN_BOUNDARY_TYPES,
    Event,
    check_actor,
    check_run_id,
    check_type,
    dumps_one_line,
    format_time,
)
from runlogs.files import (
    FILE_MODE,
    ChainHead,
    chain_lock,
    day_file,
    day_files,
    fsync_dir,
    read_last_line,
    workspace_dir,
    write_head,
)
from runlogs.heads import HeadStore, StoredHead, record_head
from runlogs.integrity import seal, unseal
from runlogs.keys import LogKey


def _chain_tail(files: list[Path]) -> tuple[int, str | None]:
    """(seq, hash) of the chain's last line: 0 and None for a new log."""
    for path in reversed(files):  # skip day files left empty (created, then a crash)
        raw = read_last_line(path)
        if raw is None:
            continue
        sealed = unseal(raw) if raw.endswith(b"\n") else None
        if sealed is None:
            raise LogIntegrityError(
                "the last line is not a complete event, so the chain cannot continue "
                "(run `inbox-agent log verify`)",
                file=path,
            )
        return sealed.seq, sealed.hash
    return 0, None


def _body(
    seq: int,
    time_text: str,
    workspace: str,
    run_id: str | None,
    actor: str,
    type_: str,
    data_json: str,
    prev: str | None,
) -> str:
    # Built by hand so that ``data`` is encoded once, before the lock is taken.
    return (
        f'{{"seq":{seq},"time":{json.dumps(time_text)},"workspace":{json.dumps(workspace)},'
        f'"run_id":{dumps_one_line(run_id)},"actor":{dumps_one_line(actor)},'
        f'"type":{json.dumps(type_)},"data":{data_json},"prev":{json.dumps(prev)}}}'
    )


def _write_line(path: Path, line: bytes, *, sync: bool) -> None:
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    try:
        written = os.write(fd, line)
        if written != len(line):
            raise OSError(f"short write to {path.name}: {written} of {len(line)} bytes")
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        fsync_dir(path.parent)  # the new day file's name must survive a crash too


def append_event(
    logs_dir: Path,
    workspace: str,
    type_: str,
    *,
    now: datetime,
    run_id: str | None,
    actor: str,
    data: Mapping[str, Any],
    key: LogKey | None = None,
    heads: HeadStore | None = None,
) -> Event:
    """Validate, then append one event to the workspace's log; return it as stored.

    ``key`` seals the line (None: an unkeyed line, as before logs were keyed); ``heads``
    also records the new chain head in the store.
    """
    entry = NewEvent(type_, run_id, actor, data)
    return append_events(logs_dir, workspace, [entry], now=now, key=key, heads=heads)[0]


@dataclass(frozen=True)
class NewEvent:
    """One event to append: its type, run, actor and data (the time is the append's)."""

    type: str
    run_id: str | None = None
    actor: str = "system"
    data: Mapping[str, Any] = field(default_factory=dict)


def append_events(
    logs_dir: Path,
    workspace: str,
    entries: Sequence[NewEvent],
    *,
    now: datetime,
    key: LogKey | None = None,
    heads: HeadStore | None = None,
) -> list[Event]:
    """Append events in order, under one lock and in one write; return them as stored.

    Every entry is validated before anything is written, so a bad one writes none.
    The lines go out in one ``os.write`` on an ``O_APPEND`` descriptor and the chain
    head moves once, to the last of them: a batch of a sweep's item and decision
    lines costs one lock, one write and one head update instead of one per line. A
    batch holding a run boundary is fsynced.
    """
    if not entries:
        return []
    ws_dir = workspace_dir(logs_dir, workspace)
    encoded = []
    for entry in entries:
        check_type(entry.type)
        check_actor(entry.actor)
        check_run_id(entry.run_id)
        encoded.append(dumps_one_line(dict(entry.data)))
    time_text = format_time(now)
    sync = any(entry.type in RUN_BOUNDARY_TYPES for entry in entries)

    ws_dir.mkdir(parents=True, exist_ok=True)
    sealed: list[tuple[int, str | None, str]] = []  # (seq, prev, hash) of each line
    with chain_lock(ws_dir) as lock_fd:
        files = day_files(ws_dir)
        target = day_file(ws_dir, datetime.fromisoformat(time_text).date())
        if files and files[-1].name > target.name:
            # The clock went back past midnight: keep the chain in file order.
            target = files[-1]
        first_seq, first_prev = _chain_tail(files)
        seq, prev = first_seq, first_prev
        lines = []
        for entry, data_json in zip(entries, encoded, strict=True):
            seq += 1
            body = _body(
                seq, time_text, workspace, entry.run_id, entry.actor, entry.type, data_json, prev
            )
            line, digest = seal(body, key)
            lines.append(line)
            sealed.append((seq, prev, digest))
            prev = digest
        _write_line(target, b"".join(lines), sync=sync)
        assert prev is not None
        write_head(lock_fd, ChainHead(seq=seq, hash=prev, file=target.name))
        if sync:
            os.fsync(lock_fd)
        if heads is not None:
            new = StoredHead(
                day=target.name.removesuffix(".jsonl"),
                seq=seq,
                hash=prev,
                keyed_from=first_seq + 1 if key is not None else None,
            )
            record_head(heads, ws_dir, workspace, new, (first_seq, first_prev), durable=sync)
    moment = datetime.fromisoformat(time_text)
    return [
        Event(
            seq=line_seq,
            time=moment,
            workspace=workspace,
            run_id=entry.run_id,
            actor=entry.actor,
            type=entry.type,
            data=json.loads(data_json),
            prev=line_prev,
            hash=digest,
        )
        for entry, data_json, (line_seq, line_prev, digest) in zip(
            entries, encoded, sealed, strict=True
        )
    ]
