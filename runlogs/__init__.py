"""The append-only activity log: one tamper-evident JSONL chain per workspace.

Every step, decision and stop of a sweep, and every approval, reply and takeover, is
appended as one event line to ``<logs_dir>/<workspace>/<YYYY-MM-DD>.jsonl``. Lines are
chained by keyed hash (HMAC-SHA256, ``runlogs.keys``) across day files, and the chain's
head is also kept outside the folder (``runlogs.heads``), so :func:`verify_workspace`
names the first line that was edited, inserted or removed, lines cut off the end, a
removed day file and a chain rewritten without the key.
"""

from runlogs.errors import InvalidEventError, LogIntegrityError, RunLogError
from runlogs.events import EVENT_TYPES, RUN_BOUNDARY_TYPES, Event
from runlogs.heads import HeadStore, StoredHead
from runlogs.integrity import Problem, VerifyReport, verify_workspace
from runlogs.keys import LOG_KEY_ENV, LogKey, default_key_file, load_key
from runlogs.log import ActivityLog
from runlogs.writer import NewEvent

__all__ = [
    "EVENT_TYPES",
    "LOG_KEY_ENV",
    "RUN_BOUNDARY_TYPES",
    "ActivityLog",
    "Event",
    "HeadStore",
    "InvalidEventError",
    "LogIntegrityError",
    "LogKey",
    "NewEvent",
    "Problem",
    "RunLogError",
    "StoredHead",
    "VerifyReport",
    "default_key_file",
    "load_key",
    "verify_workspace",
]
