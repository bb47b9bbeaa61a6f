"""The hash chain: sealing a line when it is written, and verifying a workspace's log.

Each line's ``hash`` is computed over the line's own bytes without the hash field, and
the body includes ``prev``, the hash of the line before (across day files), so editing
any line breaks its own hash, and inserting or removing one breaks the sequence or the
chain. Hashing the stored bytes (not a re-encoding) keeps verify independent of how
JSON happens to be re-serialised.

A line's hash is keyed: ``hmac:<key id>:<HMAC-SHA256 under the log key>`` (see
``runlogs.keys``), so only someone who holds the key can write a line that verifies.
Lines written before the log was keyed carry a plain SHA-256 (64 hex digits); they
still verify, and verify says they are unkeyed. Once a log has a keyed line, every
later line must be keyed.

The end of the log is pinned twice: by the ``.chain`` head file beside the day files,
and by the head the writer records in the store (``runlogs.heads``); verify compares
the log with both, so lines cut off the end, or a removed last day file, are named
even when ``.chain`` was removed too.

What each check can and cannot catch is spelled out in the README ("The store and the
activity log").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from runlogs.files import (
    DAY_FILE,
    ChainHead,
    chain_lock,
    day_files,
    read_head,
    workspace_dir,
)
from runlogs.heads import HeadStore, StoredHead
from runlogs.keys import LOG_KEY_ENV, LogKey, default_key_file, load_key

_PLAIN = re.compile(r"[0-9a-f]{64}")
_KEYED = re.compile(r"hmac:([0-9a-f]{8}):([0-9a-f]{64})")


def seal(body: str, key: LogKey | None = None) -> tuple[bytes, str]:
    """Given a line's JSON object text without ``hash``, the full line and its hash.

    With ``key`` the hash is keyed (``hmac:<key id>:<hex>``), else a plain SHA-256.
    """
    raw = body.encode("utf-8")
    digest = hashlib.sha256(raw).hexdigest() if key is None else f"hmac:{key.id}:{key.mac(raw)}"
    return raw[:-1] + b',"hash":"' + digest.encode() + b'"}\n', digest


@dataclass(frozen=True)
class SealedLine:
    record: dict[str, Any]
    seq: int
    prev: str | None
    hash: str
    hash_ok: bool | None  # None: a keyed line, and no key to check it with
    key_id: str | None = None  # the key id of a keyed line

    @property
    def keyed(self) -> bool:
        return self.key_id is not None


def unseal(raw: bytes, key: LogKey | None = None) -> SealedLine | None:
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
    suffix = b',"hash":"' + digest.encode("utf-8", "surrogatepass") + b'"}'
    body = line[: -len(suffix)] + b"}" if line.endswith(suffix) else None
    keyed = _KEYED.fullmatch(digest)
    key_id = keyed.group(1) if keyed else None
    hash_ok: bool | None
    if body is None:
        hash_ok = False
    elif keyed is not None:
        if key is None:
            hash_ok = None
        elif key.id != key_id:
            hash_ok = False
        else:
            hash_ok = hmac.compare_digest(key.mac(body), keyed.group(2))
    elif _PLAIN.fullmatch(digest):
        hash_ok = hashlib.sha256(body).hexdigest() == digest
    else:
        hash_ok = False
    return SealedLine(record, seq, prev, digest, hash_ok, key_id)


@dataclass(frozen=True)
class Problem:
    """The first place where the log is not what was written (``line`` None: a file)."""

    file: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.file.name}: {self.message}"
        return f"{self.file.name}:{self.line}: {self.message}"


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    lines_checked: int
    problem: Problem | None = None
    keyed: int = 0  # lines with a keyed hash
    unkeyed: int = 0  # lines with a plain SHA-256 (written before the log was keyed)
    unchecked: int = 0  # keyed lines whose hash could not be checked: no key
    key_id: str | None = None  # the key the lines were checked with
    key_hint: str = ""  # where a key would have come from (when there was none)
    stored_head: StoredHead | None = field(default=None)  # the store's head, if compared

    @property
    def complete(self) -> bool:
        """Whether every line's hash was checked (False: keyed lines and no key)."""
        return self.unchecked == 0

    def notes(self) -> list[str]:
        out = []
        if self.unchecked:
            out.append(
                f"the hashes of {self.unchecked} keyed lines were not checked: no key "
                f"({self.key_hint or LOG_KEY_ENV}); only their order and links were"
            )
        if self.unkeyed and self.unkeyed == self.lines_checked:
            out.append(
                "unkeyed: written before the log was keyed, so anyone could have recomputed "
                "these hashes"
            )
        elif self.unkeyed:
            out.append(f"{self.unkeyed} unkeyed lines from before the log was keyed")
        return out

    def __str__(self) -> str:
        if self.problem is not None:
            return str(self.problem)
        notes = self.notes()
        text = f"ok: {self.lines_checked} lines checked"
        return text + (f" ({'; '.join(notes)})" if notes else "")


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


@dataclass
class _Walk:
    """Where verify is in the chain, and what it needs to explain a break."""

    key: LogKey | None
    stored: StoredHead | None
    seq: int = 0
    digest: str | None = None
    keyed_seen: bool = False
    last: _Line | None = None

    def must_be_keyed(self, seq: int) -> bool:
        keyed_from = self.stored.keyed_from if self.stored is not None else None
        return self.keyed_seen or (keyed_from is not None and seq >= keyed_from)

    @cached_property
    def key_text(self) -> str:
        return f"key id {self.key.id}" if self.key is not None else "no key"


def _unseal_line(line: _Line, key: LogKey | None) -> SealedLine | None:
    return unseal(line.raw, key) if line.raw.endswith(b"\n") else None


def _links_after(candidate: _Line | None, seq: int, digest: str | None, key: LogKey | None) -> bool:
    """Whether ``candidate`` is a sound line that directly follows (seq, digest)."""
    if candidate is None:
        return False
    sealed = _unseal_line(candidate, key)
    return (
        sealed is not None
        and sealed.hash_ok is not False
        and sealed.seq == seq + 1
        and sealed.prev == digest
    )


def _rewritten_after(
    first: SealedLine, rest: Iterator[_Line], key: LogKey | None, *, unkeyed: bool
) -> tuple[int, set[str]]:
    """How many lines from ``first`` on link to each other and are all not sealed with the
    key (``unkeyed``: all plain SHA-256 where keys are required); their key ids."""
    count, ids = 1, {first.key_id} if first.key_id else set()
    seq, digest = first.seq, first.hash
    for line in rest:
        sealed = _unseal_line(line, key)
        if sealed is None or sealed.seq != seq + 1 or sealed.prev != digest:
            return 0, set()  # the run of rewritten lines does not reach the end
        bad = not sealed.keyed if unkeyed else sealed.hash_ok is False
        if not bad:
            return 0, set()
        if sealed.key_id:
            ids.add(sealed.key_id)
        count, seq, digest = count + 1, sealed.seq, sealed.hash
    return count, ids


def _rewrite_message(count: int, ids: set[str], walk: _Walk) -> str:
    if walk.key is not None and ids and walk.key.id not in ids:
        shown = ", ".join(sorted(ids))
        return (
            f"chain rewritten from here to the end with another key ({count} lines link to "
            f"each other, sealed with key id {shown}; the key in use is {walk.key.id}): "
            "by someone without the key, or the key was replaced"
        )
    return (
        f"chain rewritten from here to the end without the key ({count} lines link to each "
        f"other, but none is sealed with the key, {walk.key_text})"
    )


def _days_apart(earlier: Path, later: Path) -> int:
    a, b = DAY_FILE.fullmatch(earlier.name), DAY_FILE.fullmatch(later.name)
    if a is None or b is None:
        return 0
    return (date.fromisoformat(b.group(1)) - date.fromisoformat(a.group(1))).days


def _diagnose(cur: _Line, nxt: _Line | None, rest: Iterator[_Line], walk: _Walk) -> str:
    """Why ``cur`` does not follow the walk's last line (seq, digest)."""
    seq, digest, key = walk.seq, walk.digest, walk.key
    if not cur.raw.endswith(b"\n"):
        return "line incomplete (no newline at end: the write was cut off)"
    if _links_after(nxt, seq, digest, key):
        # The next line continues the chain from the line before this one.
        return "line inserted"
    sealed = unseal(cur.raw, key)
    if sealed is None:
        return "line edited (not a valid event line)"
    if sealed.seq <= seq:
        return f"line inserted (seq {sealed.seq} after {seq})"
    if sealed.hash_ok is False:
        following = iter([nxt, *rest] if nxt is not None else [])
        count, ids = _rewritten_after(sealed, following, key, unkeyed=False)
        if count > 1:
            return _rewrite_message(count, ids, walk)
        if key is not None and sealed.key_id is not None and sealed.key_id != key.id:
            return f"line sealed with another key (key id {sealed.key_id}; in use: {key.id})"
        return "line edited (hash mismatch)"
    if sealed.seq > seq + 1:
        if seq == 0:
            return f"line removed before this one (log starts at seq {sealed.seq})"
        jump = f"seq jumps {seq}→{sealed.seq}"
        last = walk.last
        if cur.number == 1 and last is not None and _days_apart(last.file, cur.file) > 1:
            return (
                f"line removed before this one ({jump}: the lines between {last.file.name} "
                "and this day file are missing; a whole day file may have been removed)"
            )
        return f"line removed before this one ({jump})"
    return "line edited (its prev hash does not match the line before)"


def _downgrade(sealed: SealedLine, nxt: _Line | None, rest: Iterator[_Line], walk: _Walk) -> str:
    following = iter([nxt, *rest] if nxt is not None else [])
    count, _ids = _rewritten_after(sealed, following, walk.key, unkeyed=True)
    if walk.keyed_seen:
        why = "after keyed lines"
    else:
        assert walk.stored is not None
        why = f"although the store records the log as keyed from seq {walk.stored.keyed_from}"
    if count > 1:
        return (
            f"chain rewritten from here to the end without the key ({count} lines link to "
            f"each other with unkeyed hashes {why})"
        )
    return f"line not keyed {why} (rewritten without the key?)"


def _check_head(head: ChainHead | None, walk: _Walk, ws_dir: Path | None) -> Problem | None:
    """Compare the end of the log with the ``.chain`` head file."""
    seq, digest, last = walk.seq, walk.digest, walk.last
    if head is None or head.seq < seq:
        return None
    head_file = (ws_dir / head.file) if ws_dir is not None else Path(head.file)
    file = last.file if last is not None else head_file
    number = last.number + 1 if last is not None else 1
    if head.seq > seq:
        if (
            ws_dir is not None
            and not head_file.exists()
            and (last is None or head_file.name > last.file.name)
        ):
            return Problem(
                head_file,
                None,
                f"day file removed (the chain head, seq {head.seq}, was written to it; "
                f"the log ends at seq {seq})",
            )
        return Problem(
            file, number, f"line removed (log ends at seq {seq}, seq {head.seq} was written)"
        )
    if head.hash != digest and last is not None:
        return Problem(file, last.number, "line edited (does not match the recorded chain head)")
    return None


def _check_stored(
    stored: StoredHead | None, walk: _Walk, at_stored: _Line | None, ws_dir: Path
) -> Problem | None:
    """Compare the log with the chain head the store recorded."""
    if stored is None:
        return None
    seq, last = walk.seq, walk.last
    if seq < stored.seq:
        day_path = ws_dir / f"{stored.day}.jsonl"
        if not day_path.exists() and (last is None or day_path.name > last.file.name):
            ends = f"the log ends at seq {seq}" if seq else "no line is left"
            return Problem(
                day_path,
                None,
                f"day file removed (the store's chain head, seq {stored.seq}, is in it; {ends})",
            )
        file = last.file if last is not None else day_path
        number = last.number + 1 if last is not None else 1
        return Problem(
            file,
            number,
            f"line removed (log ends at seq {seq}, the store's chain head is seq {stored.seq} "
            f"of {stored.day})",
        )
    if at_stored is not None:
        sealed = unseal(at_stored.raw)
        if sealed is None or sealed.hash != stored.hash:
            return Problem(
                at_stored.file,
                at_stored.number,
                f"line rewritten (seq {stored.seq} does not have the hash the store recorded "
                "for it: the log was rewritten up to here)",
            )
    return None


def verify_lines(
    files: list[Path],
    head: ChainHead | None,
    *,
    key: LogKey | None = None,
    stored: StoredHead | None = None,
    ws_dir: Path | None = None,
    key_hint: str = "",
) -> VerifyReport:
    walk = _Walk(key=key, stored=stored)
    checked = keyed = unkeyed = unchecked = 0
    at_stored: _Line | None = None

    def report(problem: Problem | None) -> VerifyReport:
        return VerifyReport(
            problem is None,
            checked,
            problem,
            keyed=keyed,
            unkeyed=unkeyed,
            unchecked=unchecked,
            key_id=key.id if key is not None else None,
            key_hint=key_hint,
            stored_head=stored,
        )

    lines = _lines(files)
    cur = next(lines, None)
    while cur is not None:
        nxt = next(lines, None)
        sealed = _unseal_line(cur, key)
        if sealed is None or not (
            sealed.hash_ok is not False
            and sealed.seq == walk.seq + 1
            and sealed.prev == walk.digest
        ):
            return report(Problem(cur.file, cur.number, _diagnose(cur, nxt, lines, walk)))
        if not sealed.keyed and walk.must_be_keyed(sealed.seq):
            return report(Problem(cur.file, cur.number, _downgrade(sealed, nxt, lines, walk)))
        checked += 1
        if sealed.keyed:
            keyed += 1
            unchecked += sealed.hash_ok is None
            walk.keyed_seen = True
        else:
            unkeyed += 1
        if stored is not None and sealed.seq == stored.seq:
            at_stored = cur
        walk.seq, walk.digest, walk.last = sealed.seq, sealed.hash, cur
        cur = nxt
    folder = ws_dir if ws_dir is not None else (files[0].parent if files else None)
    problem = _check_head(head, walk, folder)
    if problem is None and folder is not None:
        problem = _check_stored(stored, walk, at_stored, folder)
    return report(problem)


class _Default:
    pass


_FROM_HOME = _Default()


def verify_workspace(
    logs_dir: Path,
    workspace: str,
    *,
    key: LogKey | None | _Default = _FROM_HOME,
    key_file: Path | None = None,
    heads: HeadStore | None = None,
) -> VerifyReport:
    """Check the workspace's whole chain; report the first line that was tampered with.

    The key is ``INBOX_AGENT_LOG_KEY``, else the key file (default
    ``<logs_dir>/../keys/log.key``); verify never creates one. With ``heads`` the log is
    also compared with the chain head kept in the store.

    Holds the workspace's lock (shared) meanwhile, so writers wait and verify never
    sees a half-written line. A workspace with no log (and no stored head) verifies ok
    with 0 lines.
    """
    logs_dir = Path(logs_dir)
    ws_dir = workspace_dir(logs_dir, workspace)
    key_path = key_file or default_key_file(logs_dir)
    hint = f"set {LOG_KEY_ENV} or restore {key_path}"
    if isinstance(key, _Default):
        key = load_key(key_path, create=False, logs_dir=logs_dir)
    stored = heads.load(workspace) if heads is not None else None
    if not ws_dir.is_dir():
        if stored is None:
            return VerifyReport(True, 0, key_hint=hint)
        return verify_lines([], None, key=key, stored=stored, ws_dir=ws_dir, key_hint=hint)
    with chain_lock(ws_dir, shared=True) as lock_fd:
        return verify_lines(
            day_files(ws_dir),
            read_head(lock_fd),
            key=key,
            stored=stored,
            ws_dir=ws_dir,
            key_hint=hint,
        )
