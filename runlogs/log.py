"""``ActivityLog``: the one object the rest of inbox-agent uses to log and to read."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from runlogs.events import Event
from runlogs.heads import HeadStore
from runlogs.integrity import VerifyReport, verify_workspace
from runlogs.keys import LogKey, default_key_file, load_key
from runlogs.reader import follow_events, iter_events
from runlogs.writer import NewEvent, append_event, append_events


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ActivityLog:
    """The activity logs under one logs folder (``Home.logs_dir``), one chain per workspace.

    ``clock`` gives the time of each event (UTC; a naive datetime is taken as UTC); tests
    inject one to cross midnight. Lines are sealed with the key from
    ``INBOX_AGENT_LOG_KEY``, else from ``key_file`` (default ``<logs_dir>/../keys/log.key``),
    which the first append creates when it is missing. ``heads`` (the agent's store)
    keeps a copy of each workspace's chain head outside the logs folder.
    """

    def __init__(
        self,
        logs_dir: Path,
        *,
        clock: Callable[[], datetime] | None = None,
        key_file: Path | None = None,
        heads: HeadStore | None = None,
    ):
        self.logs_dir = Path(logs_dir)
        self._clock = clock or _utc_now
        self.key_file = Path(key_file) if key_file is not None else default_key_file(logs_dir)
        self.heads = heads
        self._key: LogKey | None = None

    def key(self) -> LogKey:
        """The key lines are sealed with (created in ``key_file`` on first use if needed)."""
        if self._key is None:
            key = load_key(self.key_file, create=True, logs_dir=self.logs_dir)
            assert key is not None
            self._key = key
        return self._key

    def append(
        self,
        workspace: str,
        type: str,  # noqa: A002 - the public name of the field
        *,
        run_id: str | None = None,
        actor: str = "system",
        **data: Any,
    ) -> Event:
        """Append one event; raises ``InvalidEventError`` (nothing written) on bad input."""
        return append_event(
            self.logs_dir,
            workspace,
            type,
            now=self._clock(),
            run_id=run_id,
            actor=actor,
            data=data,
            key=self.key(),
            heads=self.heads,
        )

    def append_many(self, workspace: str, entries: Sequence[NewEvent]) -> list[Event]:
        """Append events in order under one lock and in one write (a sweep's batch of item
        and decision lines); all are validated first, so a bad one writes none."""
        return append_events(
            self.logs_dir, workspace, entries, now=self._clock(), key=self.key(), heads=self.heads
        )

    def verify(self, workspace: str) -> VerifyReport:
        """Check the workspace's chain with this log's key file and store (never creates a key)."""
        return verify_workspace(self.logs_dir, workspace, key_file=self.key_file, heads=self.heads)

    def events(
        self, workspace: str, *, run_id: str | None = None, since_date: date | None = None
    ) -> Iterator[Event]:
        """The workspace's events in order, across day files (from ``since_date`` on)."""
        return iter_events(self.logs_dir, workspace, run_id=run_id, since_date=since_date)

    def follow(
        self,
        workspace: str,
        *,
        run_id: str | None = None,
        poll_interval: float = 0.5,
        stop: Callable[[], bool] | None = None,
    ) -> Iterator[Event]:
        """Events appended after this call, as they come; ends when ``stop()`` is true."""
        return follow_events(
            self.logs_dir, workspace, run_id=run_id, poll_interval=poll_interval, stop=stop
        )
