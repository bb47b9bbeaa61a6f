"""The chain head kept outside the log folder: (day, seq, hash) of the last line.

The ``.chain`` file beside the day files says where the log ended, but whoever can cut
lines off the end can remove or rewrite it too. So writers also hand every line's head
to a :class:`HeadStore` (the agent keeps it in its database, ``agent.store.heads``),
and verify compares the log with it: a log that ends before the stored head, misses
the stored head's day file, or has another line at the stored seq was cut or rewritten.

The stored head only ever moves along the chain. A writer advances it from the line
before its own (a compare-and-set on seq and hash); when lines were written without it
(a writer with no store, a store that was busy), it first checks that the stored head
is still a line of this log. When the log no longer holds the stored head (cut, or
rewritten), the head is left where it is, so the evidence survives later writes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from runlogs.files import line_with_seq

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredHead:
    """A line of the chain as the store recorded it; ``keyed_from``: first keyed seq."""

    day: str
    seq: int
    hash: str
    keyed_from: int | None = None


class HeadStore(Protocol):
    """Where the chain heads of a logs folder's workspaces are kept, outside the folder."""

    def load(self, workspace: str) -> StoredHead | None:
        """The workspace's stored head (None when none was recorded)."""

    def advance(
        self,
        workspace: str,
        new: StoredHead,
        *,
        expected: tuple[int, str] | None,
        durable: bool,
    ) -> bool:
        """Set the head to ``new`` if it is now ``expected`` (seq, hash), or absent when
        ``expected`` is None; True if it was set. ``keyed_from`` is kept once set.
        ``durable``: wait for a busy store and commit durably (run boundaries); otherwise
        give up at once when the store is busy (the next line catches up)."""


# Stored heads found not to be in the log any more, per (folder, seq, hash): checked once.
_diverged: set[tuple[str, int, str]] = set()
_warned: set[str] = set()


def _holds(ws_dir: Path, head: StoredHead) -> bool:
    from runlogs.integrity import unseal  # integrity imports this module's types

    key = (str(ws_dir), head.seq, head.hash)
    if key in _diverged:
        return False
    raw = line_with_seq(ws_dir / f"{head.day}.jsonl", head.seq)
    sealed = unseal(raw) if raw is not None and raw.endswith(b"\n") else None
    if sealed is not None and sealed.hash == head.hash:
        return True
    _diverged.add(key)
    return False


def record_head(
    heads: HeadStore,
    ws_dir: Path,
    workspace: str,
    new: StoredHead,
    prev: tuple[int, str | None],
    *,
    durable: bool,
) -> bool:
    """Move the stored head to ``new`` (just written after ``prev``); True if it moved.

    Called with the workspace's lock held, so the files do not change meanwhile and
    heads are recorded in chain order. Never raises: a store that cannot be written
    must not stop the log (the head then lags, and catches up with a later line).
    """
    prev_seq, prev_hash = prev
    try:
        if prev_hash is not None and heads.advance(
            workspace, new, expected=(prev_seq, prev_hash), durable=durable
        ):
            return True
        current = heads.load(workspace)
        if current is None:
            return heads.advance(workspace, new, expected=None, durable=durable)
        if current.seq >= new.seq or current.seq == prev_seq:
            # The store knows a line this log no longer has at that place: the log was
            # cut or rewritten. Keep the record; verify names it.
            return False
        if not _holds(ws_dir, current):
            return False
        return heads.advance(workspace, new, expected=(current.seq, current.hash), durable=durable)
    except Exception as exc:  # noqa: BLE001 - any store failure: the log goes on
        if workspace not in _warned:
            _warned.add(workspace)
            _log.warning(
                "cannot record the log's chain head of %s in the store: %s", workspace, exc
            )
        return False
