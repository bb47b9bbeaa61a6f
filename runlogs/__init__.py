"""The append-only activity log: one tamper-evident JSONL chain per workspace.

Every step, decision and stop of a sweep, and every approval, reply and takeover, is
appended as one event line to ``<logs_dir>/<workspace>/<YYYY-MM-DD>.jsonl``. Lines are
chained by hash across day files, so :func:`verify_workspace` names the first line
that was edited, inserted or removed.
"""

from runlogs.errors import InvalidEventError, LogIntegrityError, RunLogError
from runlogs.events import EVENT_TYPES, RUN_BOUNDARY_TYPES, Event
from runlogs.integrity import Problem, VerifyReport, verify_workspace
from runlogs.log import ActivityLog

__all__ = [
    "EVENT_TYPES",
    "RUN_BOUNDARY_TYPES",
    "ActivityLog",
    "Event",
    "InvalidEventError",
    "LogIntegrityError",
    "Problem",
    "RunLogError",
    "VerifyReport",
    "verify_workspace",
]
