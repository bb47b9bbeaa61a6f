"""Runs that never end: closing the ones whose process died as ``crashed``.

A run row is ``running`` from ``start_run`` until its process records the end. A
process killed in between (SIGKILL, a SIGTERM it did not handle, a power cut) leaves
the row ``running`` and its ``run_started`` without a ``run_finished``. Whoever looks
next (a sweep of the workspace, ``inbox-agent log``, ``inbox-agent db status``)
closes such runs:

- a run of this host is dead when its pid is not alive (``os.kill(pid, 0)``; a zombie,
  or a process that started after the run did, has taken over the pid and does not
  count);
- a run of another host, whose process cannot be asked, is dead once it started longer
  ago than its limit: the longest ``max_duration_s`` of the workspace's flows plus a
  margin (:data:`DEFAULT_MARGIN_S`), or ``INBOX_AGENT_STALE_RUN_S`` seconds when set.

Closing is one conditional ``UPDATE … WHERE status = 'running'``, so of two closers (or a
closer and the run itself finishing) one wins, and only the winner writes the end
event: ``run_finished`` with ``status: crashed`` and the reason, and (through
``on_closed``, in the closing transaction) what else must know, such as the
``sweep.stopped`` webhook (``agent.webhooks.events.crashed_runs``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session

from agent.store import types
from agent.store.engine import Store
from agent.store.models import Run, RunStatus
from agent.store.types import utcnow

DEFAULT_MARGIN_S = 300.0
DEFAULT_FLOW_DURATION_S = 900.0  # flows.models.Flow.max_duration_s's default
STALE_AFTER_ENV = "INBOX_AGENT_STALE_RUN_S"
# A process that started this long after its run's recorded start is not the run's.
_PID_REUSE_SLACK_S = 5.0
# A run whose end the store recorded this recently may still be writing its end event.
_ENDING_S = 60.0
_RUNS: Any = Run.__table__  # type: ignore[attr-defined]


class _Log(Protocol):
    def append(self, workspace: str, type: str, **kwargs: Any) -> Any: ...  # noqa: A002


@dataclass(frozen=True)
class OpenRun:
    """A ``running`` row, as read (the columns every schema revision has)."""

    id: str
    workspace: str
    kind: str
    host: str
    pid: int | None
    started_at: datetime


@dataclass(frozen=True)
class ClosedRun(OpenRun):
    """A run found dead and closed as ``crashed``."""

    reason: str


def _process_start(pid: int) -> datetime | None:
    """When process ``pid`` started (Linux ``/proc``), or None when that cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        with open("/proc/stat") as fh:
            boot = next(int(line.split()[1]) for line in fh if line.startswith("btime "))
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        return datetime.fromtimestamp(boot + ticks / os.sysconf("SC_CLK_TCK"), UTC)
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _zombie(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state in ("Z", "X")


def process_alive(pid: int, since: datetime) -> bool:
    """Whether process ``pid`` of this host is alive and could be the one that started a
    run at ``since`` (not a zombie, not a newer process that reused the pid)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    if _zombie(pid):
        return False
    started = _process_start(pid)
    return started is None or started <= since + timedelta(seconds=_PID_REUSE_SLACK_S)


def why_dead(
    run: OpenRun,
    *,
    now: datetime,
    this_host: str,
    limit_s: Callable[[], float],
    alive: Callable[[int, datetime], bool] = process_alive,
) -> str | None:
    """Why nothing runs ``run`` any more, or None when something may still run it."""
    if run.host == this_host and run.pid is not None:
        if alive(run.pid, run.started_at):
            return None
        return f"its process {run.pid} on host {run.host} is gone"
    age = (now - run.started_at).total_seconds()
    limit = limit_s()
    if age <= limit:
        return None
    where = f"host {run.host}" if run.host else "an unknown host"
    return (
        f"it started {age:.0f} s ago on {where} (process {run.pid}) and has not ended; "
        f"no run lasts longer than {limit:.0f} s"
    )


def stale_limit(
    catalog: Any | None, workspace: str, *, margin_s: float = DEFAULT_MARGIN_S
) -> float:
    """How long a run of ``workspace`` on another host may last before it counts as dead.

    ``INBOX_AGENT_STALE_RUN_S`` when set; else the longest ``max_duration_s`` of the
    workspace's flows (any flow's when the workspace is not configured) plus ``margin_s``.
    """
    configured = os.environ.get(STALE_AFTER_ENV)
    if configured:
        return float(configured)
    flows = getattr(catalog, "flows", {}) or {}
    loaded = (getattr(catalog, "workspaces", {}) or {}).get(workspace)
    ids: Iterable[str | None]
    if loaded is not None:
        names = loaded.model.flows
        ids = (names.inbox, names.reply, names.login)
    else:
        ids = flows.keys()
    durations = [float(flows[i].model.max_duration_s) for i in ids if i and i in flows]
    if not durations:
        durations = [float(f.model.max_duration_s) for f in flows.values()]
    return max(durations, default=DEFAULT_FLOW_DURATION_S) + margin_s


def running_runs(store: Store, workspace: str | None = None) -> list[OpenRun]:
    """Every ``running`` row (of one workspace), oldest first."""
    stmt = sa.select(
        _RUNS.c.id,
        _RUNS.c.workspace,
        _RUNS.c.kind,
        _RUNS.c.host,
        _RUNS.c.pid,
        _RUNS.c.started_at,
    ).where(_RUNS.c.status == RunStatus.RUNNING.value)
    if workspace is not None:
        stmt = stmt.where(_RUNS.c.workspace == workspace)
    with store.engine.connect() as conn:
        rows = conn.execute(stmt.order_by(_RUNS.c.started_at, _RUNS.c.id)).all()
    return [OpenRun(r.id, r.workspace, r.kind, r.host, r.pid, r.started_at) for r in rows]


def close_stale_runs(
    store: Store,
    log: _Log | None,
    *,
    workspace: str | None = None,
    catalog: Any | None = None,
    limit_s: float | Callable[[str], float] | None = None,
    now: datetime | None = None,
    this_host: str | None = None,
    alive: Callable[[int, datetime], bool] = process_alive,
    on_closed: Callable[[Session, ClosedRun], None] | None = None,
) -> list[ClosedRun]:
    """Close every ``running`` run (of ``workspace``) that nothing runs any more.

    Each is set to ``crashed`` (``finished_at`` = ``now``), ``on_closed`` runs in the same
    transaction (only for the closer that won), and, when ``log`` is given, the run gets
    its end event in the workspace's activity log. ``limit_s`` (seconds, or a
    function of the workspace) overrides the limit for runs of other hosts; by
    default it comes from ``catalog`` (:func:`stale_limit`). ``now``, ``this_host``
    and ``alive`` are for tests.
    """
    now = now or utcnow()
    host = types.this_host() if this_host is None else this_host
    closed: list[ClosedRun] = []
    for run in running_runs(store, workspace):

        def limit(ws: str = run.workspace) -> float:
            if limit_s is None:
                return stale_limit(catalog, ws)
            return limit_s(ws) if callable(limit_s) else float(limit_s)

        reason = why_dead(run, now=now, this_host=host, limit_s=limit, alive=alive)
        if reason is None:
            continue
        dead = ClosedRun(run.id, run.workspace, run.kind, run.host, run.pid, run.started_at, reason)
        with store.session() as session:
            result: Any = session.execute(
                sa.update(_RUNS)
                .where(_RUNS.c.id == run.id, _RUNS.c.status == RunStatus.RUNNING.value)
                .values(status=RunStatus.CRASHED.value, stop_reason="crashed", finished_at=now)
            )
            if result.rowcount != 1:
                continue  # it ended meanwhile, or another closer was first
            if on_closed is not None:
                on_closed(session, dead)
        if log is not None:
            log.append(
                run.workspace,
                "run_finished",
                run_id=run.id,
                status=RunStatus.CRASHED.value,
                stop_reason="crashed",
                reason=reason,
                closed_by=f"process {os.getpid()} on host {host}",
            )
        closed.append(dead)
    return closed


@dataclass(frozen=True)
class RunEnd:
    """What the store says of a run whose end the activity log lacks."""

    id: str
    status: str | None  # None: the store has no such run
    host: str = ""
    pid: int | None = None
    started_at: datetime | None = None
    stop_reason: str | None = None


def unended_runs(
    store: Store,
    log: _Log | None,
    workspace: str,
    run_ids: Iterable[str],
    *,
    now: datetime | None = None,
) -> tuple[list[RunEnd], list[Any]]:
    """For runs with ``run_started`` but no ``run_finished`` in the log: the ones still
    running or unknown to the store, and the end events written for runs the store says
    ended (their process died after recording the end in the store, before the log).

    A run the store saw end less than :data:`_ENDING_S` ago is left alone: its own
    end event may be on its way.
    """
    now = now or utcnow()
    ids = list(dict.fromkeys(run_ids))
    if not ids:
        return [], []
    stmt = sa.select(
        _RUNS.c.id,
        _RUNS.c.status,
        _RUNS.c.host,
        _RUNS.c.pid,
        _RUNS.c.started_at,
        _RUNS.c.stop_reason,
        _RUNS.c.finished_at,
    ).where(_RUNS.c.id.in_(ids))
    with store.engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(stmt).all()}
    left: list[RunEnd] = []
    written: list[Any] = []
    for run_id in ids:
        row = rows.get(run_id)
        if row is None:
            left.append(RunEnd(run_id, None))
            continue
        if row.status == RunStatus.RUNNING.value:
            left.append(RunEnd(run_id, row.status, row.host, row.pid, row.started_at))
            continue
        if row.finished_at is not None and now - row.finished_at < timedelta(seconds=_ENDING_S):
            continue
        if log is not None:
            written.append(
                log.append(
                    workspace,
                    "run_finished",
                    run_id=run_id,
                    status=row.status,
                    stop_reason=row.stop_reason,
                    reason="the store recorded the run's end, the activity log did not",
                )
            )
    return left, written
