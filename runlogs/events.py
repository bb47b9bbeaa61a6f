"""The event model: what one line of the activity log holds, and how it is encoded.

An event is one JSON object on one line: ``seq`` (1, 2, 3… per workspace, across day
files), ``time`` (UTC ISO-8601 with milliseconds), ``workspace``, ``run_id`` (null
outside a run), ``actor`` (``system`` or ``user:<name>``), ``type``, a ``data`` object,
``prev`` (the hash of the line before) and ``hash`` (of this line). The known types
live in :data:`EVENT_TYPES`, the one place to add a new one. Data comes from social
media and is untrusted: it is encoded so that no character in it can split a line.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import PurePath
from typing import Any

from runlogs.errors import InvalidEventError

#: Every event type the log accepts. Add new types here (and nowhere else).
EVENT_TYPES: frozenset[str] = frozenset(
    {
        "run_started",
        "run_finished",
        "step_started",
        "step_ok",
        "step_failed",
        "item_collected",
        "decision",
        "stop",
        "approval",
        "review",
        "reply_sent",
        "reply_failed",
        "takeover",
        "handback",
        "selector_fallback",
        "selectors_checked",
        "items_unreadable",
        "reply_sending",
        "screenshot",
        "dialog_dismissed",  # a harmless dialog the pack lists was tapped away
        "device_held",  # a takeover holds the workspace's device
        "device_released",  # ... and handed it back
        "device_lease_lost",  # another holder took the device mid-run: the run stops
        "triage_trained",  # a workspace's correction memory was learned (triage train -w)
        "lease_lost",  # another holder took the workspace or profile mid-run: the run stops
        "sweep_planned",  # the scheduler handed a sweep of the workspace on (inbox-agent run)
        "sweep_skipped",  # ... or did not: the workspace is paused or taken over
        "sweep_lost",  # a planned run never finished (its worker died): planned again
        "sweep_failed",  # a planned run raised instead of ending as ok/drift/stopped/failed
        "scheduled_run_started",  # a worker (or the scheduler's pool) took a planned run
        "scheduler_active",  # this scheduler became the active one (log "scheduler")
        "scheduler_standby",  # ... or stands by while another one is active
        "workspace_paused",  # an operator held the workspace back from the scheduler
        "workspace_resumed",
        "live_view_started",  # a takeover's live view opened the workspace's environment
        "live_view_navigated",  # ... its page went to a new address (a screenshot of it)
        "live_view_ended",  # ... and closed it (how many input events; never what was typed)
    }
)

#: Types that mark a run boundary: the log file is fsynced after writing them.
RUN_BOUNDARY_TYPES: frozenset[str] = frozenset({"run_started", "run_finished", "stop"})

SYSTEM_ACTOR = "system"
_USER_ACTOR = re.compile(
    r"user:[^\x00-\x20\x7f-\x9f\u2028\u2029][^\x00-\x1f\x7f-\x9f\u2028\u2029]{0,127}"
)
# Characters json.dumps(ensure_ascii=False) leaves raw although some readers treat them as
# line breaks (U+0085, U+2028, U+2029), and lone surrogates, which cannot be UTF-8 encoded.
_UNSAFE_IN_LINE = re.compile("[\u0085\u2028\u2029\ud800-\udfff]")


def format_time(moment: datetime) -> str:
    """UTC ISO-8601 with milliseconds and a ``Z``; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def check_type(type_: str) -> str:
    if type_ not in EVENT_TYPES:
        known = ", ".join(sorted(EVENT_TYPES))
        raise InvalidEventError(f"unknown event type {type_!r} (known: {known})")
    return type_


def check_actor(actor: str) -> str:
    if actor == SYSTEM_ACTOR or _USER_ACTOR.fullmatch(actor):
        return actor
    raise InvalidEventError(f"actor must be 'system' or 'user:<name>', not {actor!r}")


def check_run_id(run_id: str | None) -> str | None:
    if run_id is not None and (not isinstance(run_id, str) or not run_id.strip()):
        raise InvalidEventError(f"run id must be a non-empty string or None, not {run_id!r}")
    return run_id


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value) if value.tzinfo is not None else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    dump = getattr(value, "model_dump", None)  # pydantic models
    if callable(dump):
        return dump(mode="json")
    raise TypeError(f"data value of type {type(value).__name__} is not JSON-serialisable")


def _escape_unsafe(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def dumps_one_line(value: Any) -> str:
    """Compact JSON that is always exactly one line, whatever the strings inside hold."""
    try:
        text = json.dumps(
            value,
            ensure_ascii=False,
            separators=(",", ":"),
            allow_nan=False,
            default=_json_default,
        )
    except (TypeError, ValueError) as exc:
        raise InvalidEventError(f"event data cannot be logged: {exc}") from exc
    # json.dumps already escapes \n, \r and every other control character.
    return _UNSAFE_IN_LINE.sub(_escape_unsafe, text)


@dataclass(frozen=True, slots=True)
class Event:
    """One line of a workspace's activity log."""

    seq: int
    time: datetime
    workspace: str
    run_id: str | None
    actor: str
    type: str
    data: Mapping[str, Any] = field(default_factory=dict)
    prev: str | None = None
    hash: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The event as it is stored (time as the stored string), for ``--json`` output."""
        return {
            "seq": self.seq,
            "time": format_time(self.time),
            "workspace": self.workspace,
            "run_id": self.run_id,
            "actor": self.actor,
            "type": self.type,
            "data": dict(self.data),
            "prev": self.prev,
            "hash": self.hash,
        }

    @classmethod
    def from_record(cls, record: Any) -> Event:
        """Build from a decoded line; raises ``ValueError`` naming what is wrong."""
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
        try:
            seq, time_text = record["seq"], record["time"]
            workspace, run_id = record["workspace"], record["run_id"]
            actor, type_, data = record["actor"], record["type"], record["data"]
            prev, hash_ = record["prev"], record["hash"]
        except KeyError as exc:
            raise ValueError(f"field {exc.args[0]!r} is missing") from exc
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise ValueError("seq is not a positive integer")
        if not isinstance(data, dict):
            raise ValueError("data is not an object")
        texts = (time_text, workspace, actor, type_, hash_)
        if not all(isinstance(t, str) for t in texts):
            raise ValueError("a text field is not a string")
        if not all(v is None or isinstance(v, str) for v in (run_id, prev)):
            raise ValueError("run_id or prev is neither a string nor null")
        return cls(
            seq=seq,
            time=datetime.fromisoformat(time_text),
            workspace=workspace,
            run_id=run_id,
            actor=actor,
            type=type_,
            data=data,
            prev=prev,
            hash=hash_,
        )
