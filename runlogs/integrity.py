"""The hash chain: sealing a line when it is written, and verifying a workspace's log.

Each line's ``hash`` is the SHA-256 of the line's own bytes without the hash field,
and the body includes ``prev``, the hash of the line before (across day files), so
editing any line breaks its own hash, and inserting or removing one breaks the
sequence or the chain. Hashing the stored bytes (not a re-encoding) keeps verify
independent of how JSON happens to be re-serialised. The chain head kept by the
writer lets verify notice lines cut off the end of the log.

The chain is tamper-evident, not tamper-proof: someone who rewrites every line after
an edit, and the head, can forge a consistent log.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runlogs.files import ChainHead, chain_lock, day_files, read_head, workspace_dir

_HASH = re.compile(rb"[0-9a-f]{64}")


def seal(body: str) -> tuple[bytes, str]:
    """Given a line's JSON object text without ``hash``, the full line and its hash."""
    raw = body.encode("utf-8")
    digest = hashlib.sha256(raw).hexdigest()
    return raw[:-1] + b',"hash":"' + digest.encode() + b'"}\n', digest


@dataclass(frozen=True)
class SealedLine:
    record: dict[str, Any]
    seq: int
    prev: str | None
    hash: str
    hash_ok: bool


def unseal(raw: bytes) -> SealedLine | None:
    """Decode one stored line; ``None`` when it is not a sealed event line at all."""
    line = raw[:-1] if raw.endswith(b"\n") else raw
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    seq, prev, digest = record.get("seq"), record.get("prev"), record.get("hash")
    if not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(digest, str):
        return None
    if prev is not None and not isinstance(prev, str):
        return None
    suffix = b',"hash":"' + digest.encode() + b'"}'
    hash_ok = (
        _HASH.fullmatch(digest.encode()) is not None
        and line.endswith(suffix)
        and hashlib.sha256(line[: -len(suffix)] + b"}").hexdigest() == digest
    )
    return SealedLine(record=record, seq=seq, prev=prev, hash=digest, hash_ok=hash_ok)


@dataclass(frozen=True)
class Problem:
    """The first place where the log is not what was written."""

    file: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file.name}:{self.line}: {self.message}"


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    lines_checked: int
    problem: Problem | None = None

    def __str__(self) -> str:
        if self.problem is None:
            return f"ok: {self.lines_checked} lines checked"
        return str(self.problem)


@dataclass(frozen=True)
class _Line:
    file: Path
    number: int
    raw: bytes


def _lines(files: list[Path]) -> Iterator[_Line]:
    for path in files:
        with open(path, "rb") as fh:
            for number, raw in enumerate(fh, start=1):
                yield _Line(path, number, raw)


def _links_after(candidate: _Line | None, seq: int, digest: str | None) -> bool:
    """Whether ``candidate`` is a sound line that directly follows (seq, digest)."""
    if candidate is None:
        return False
    sealed = unseal(candidate.raw)
    return sealed is not None and sealed.hash_ok and sealed.seq == seq + 1 and sealed.prev == digest


def _diagnose(cur: _Line, nxt: _Line | None, seq: int, digest: str | None) -> str:
    """Why ``cur`` does not follow the line with (seq, digest)."""
    if not cur.raw.endswith(b"\n"):
        return "line incomplete (no newline at end: the write was cut off)"
    if _links_after(nxt, seq, digest):
        # The next line continues the chain from the line before this one.
        return "line inserted"
    sealed = unseal(cur.raw)
    if sealed is None:
        return "line edited (not a valid event line)"
    if sealed.seq <= seq:
        return f"line inserted (seq {sealed.seq} after {seq})"
    if not sealed.hash_ok:
        return "line edited (hash mismatch)"
    if sealed.seq > seq + 1:
        if seq == 0:
            return f"line removed before this one (log starts at seq {sealed.seq})"
        return f"line removed before this one (seq jumps {seq}→{sealed.seq})"
    return "line edited (its prev hash does not match the line before)"


def _check_head(
    head: ChainHead | None, last: _Line | None, seq: int, digest: str | None
) -> Problem | None:
    if head is None or head.seq < seq:
        return None
    file = last.file if last is not None else Path(head.file)
    number = last.number + 1 if last is not None else 1
    if head.seq > seq:
        return Problem(
            file, number, f"line removed (log ends at seq {seq}, seq {head.seq} was written)"
        )
    if head.hash != digest and last is not None:
        return Problem(file, last.number, "line edited (does not match the recorded chain head)")
    return None


def verify_lines(files: list[Path], head: ChainHead | None) -> VerifyReport:
    seq, digest, checked = 0, None, 0
    last: _Line | None = None
    lines = _lines(files)
    cur = next(lines, None)
    while cur is not None:
        nxt = next(lines, None)
        sealed = unseal(cur.raw) if cur.raw.endswith(b"\n") else None
        if sealed is None or not (
            sealed.hash_ok and sealed.seq == seq + 1 and sealed.prev == digest
        ):
            return VerifyReport(
                False, checked, Problem(cur.file, cur.number, _diagnose(cur, nxt, seq, digest))
            )
        seq, digest, checked, last = sealed.seq, sealed.hash, checked + 1, cur
        cur = nxt
    problem = _check_head(head, last, seq, digest)
    return VerifyReport(problem is None, checked, problem)


def verify_workspace(logs_dir: Path, workspace: str) -> VerifyReport:
    """Check the workspace's whole chain; report the first line that was tampered with.

    Holds the workspace's lock (shared) meanwhile, so writers wait and verify never
    sees a half-written line. A workspace with no log verifies ok with 0 lines.
    """
    ws_dir = workspace_dir(Path(logs_dir), workspace)
    if not ws_dir.is_dir():
        return VerifyReport(True, 0)
    with chain_lock(ws_dir, shared=True) as lock_fd:
        return verify_lines(day_files(ws_dir), read_head(lock_fd))
