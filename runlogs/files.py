"""Where a workspace's log lives on disk, and the low-level file work on it.

Layout under the logs folder (``Home.logs_dir``)::

    <workspace>/2026-11-23.jsonl   one file per UTC day, one event per line
    <workspace>/.chain             lock file for writers; also holds the chain head
                                   (last seq and hash), so that verify can tell when
                                   lines were cut off the end of the log (the store
                                   keeps a copy too: see ``runlogs.heads``)

Workspace ids are validated here so that a path built from one never leaves the
logs folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from runlogs.errors import InvalidEventError

WORKSPACE_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")
DAY_FILE = re.compile(r"(\d{4}-\d{2}-\d{2})\.jsonl")
CHAIN_FILE = ".chain"
FILE_MODE = 0o600  # messages from people are private data
_TAIL_CHUNK = 8192


def check_workspace(workspace: str) -> str:
    if not isinstance(workspace, str) or not WORKSPACE_ID.fullmatch(workspace):
        raise InvalidEventError(
            f"invalid workspace id {workspace!r}: use lowercase letters, digits, '-' and '_'"
        )
    return workspace


def workspace_dir(logs_dir: Path, workspace: str) -> Path:
    return Path(logs_dir) / check_workspace(workspace)


def day_file(ws_dir: Path, day: date) -> Path:
    return ws_dir / f"{day.isoformat()}.jsonl"


def day_of(path: Path) -> date:
    match = DAY_FILE.fullmatch(path.name)
    if match is None:
        raise ValueError(f"{path.name} is not a day file")
    return date.fromisoformat(match.group(1))


def day_files(ws_dir: Path) -> list[Path]:
    """The workspace's day files, oldest first (ISO dates sort as text)."""
    try:
        names = os.listdir(ws_dir)
    except FileNotFoundError:
        return []
    return [ws_dir / n for n in sorted(names) if DAY_FILE.fullmatch(n)]


def iter_lines_backwards(path: Path) -> Iterator[bytes]:
    """The file's lines (each with its newline, if it has one), last first.

    Reads from the end in chunks, so stopping early costs only what was read.
    """
    with open(path, "rb") as fh:
        pos = fh.seek(0, os.SEEK_END)
        head = b""  # not yet yielded: lines whose start may lie further back
        while pos > 0:
            step = min(_TAIL_CHUNK, pos)
            pos -= step
            fh.seek(pos)
            head = fh.read(step) + head
            cut = head.find(b"\n")
            if cut != -1:  # everything after the first newline starts at a known place
                known, head = head[cut + 1 :], head[: cut + 1]
                yield from reversed(_split_keep(known))
        if head:
            yield head


def _split_keep(data: bytes) -> list[bytes]:
    parts = data.split(b"\n")
    lines = [part + b"\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


_SEQ_PREFIX = re.compile(rb'\{"seq":(\d+),')


def line_with_seq(path: Path, seq: int) -> bytes | None:
    """The line of ``path`` whose seq is ``seq``, searching from the end; None if absent.

    Lines are written in seq order, so the search stops at the first smaller seq: it
    costs O(distance from the end), which is small when ``seq`` is recent.
    """
    try:
        lines = iter_lines_backwards(path)
        for raw in lines:
            match = _SEQ_PREFIX.match(raw)
            if match is None:
                continue
            found = int(match.group(1))
            if found == seq:
                return raw
            if found < seq:
                return None
    except FileNotFoundError:
        return None
    return None


def read_last_line(path: Path) -> bytes | None:
    """The file's last line (with its newline, if it has one), reading from the end.

    Costs O(length of the last line), not O(size of the file). ``None`` for an empty file.
    """
    with open(path, "rb") as fh:
        pos = fh.seek(0, os.SEEK_END)
        tail = b""
        while pos > 0:
            step = min(_TAIL_CHUNK, pos)
            pos -= step
            fh.seek(pos)
            tail = fh.read(step) + tail
            # Look for the newline that ends the line before the last one.
            cut = tail.rfind(b"\n", 0, len(tail) - 1)
            if cut != -1:
                return tail[cut + 1 :]
        return tail or None


@contextlib.contextmanager
def chain_lock(ws_dir: Path, *, shared: bool = False) -> Iterator[int]:
    """Hold the workspace's lock file (exclusive for writers); yields its descriptor."""
    fd = os.open(ws_dir / CHAIN_FILE, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@dataclass(frozen=True)
class ChainHead:
    """The last line the writer wrote: its seq, hash and day file name."""

    seq: int
    hash: str
    file: str


def read_head(lock_fd: int) -> ChainHead | None:
    raw = os.pread(lock_fd, 4096, 0)
    if not raw.strip():
        return None
    try:
        record = json.loads(raw)
        return ChainHead(seq=int(record["seq"]), hash=str(record["hash"]), file=record["file"])
    except (ValueError, KeyError, TypeError):
        return None


def write_head(lock_fd: int, head: ChainHead) -> None:
    raw = json.dumps({"seq": head.seq, "hash": head.hash, "file": head.file}).encode()
    os.pwrite(lock_fd, raw, 0)
    os.ftruncate(lock_fd, len(raw))


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
