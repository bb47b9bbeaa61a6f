"""One tick of the scheduler: what is due, what the caps allow, what is skipped and why.

Each tick reads the store's facts for every workspace in a few queries, then, for
each workspace with a schedule and nothing planned or running:

- paused (``inbox-agent workspaces pause``) or taken over by a person: a ``skipped``
  run is recorded and logged once per due time (``sweep_skipped``), nothing runs;
- due (its ``Cadence`` says so) and within the caps: a run is planned (inserted once,
  whoever else plans the same due time) and handed to the dispatcher;
- due but over a cap (per host, per platform, per device pool): it waits for a
  later tick, which runs it once (missed runs coalesce, they never stack).

Approved replies waiting in the outbox of a workspace with nothing running go out
between sweeps (a ``send`` run). A run open far longer than its flow may last (its
worker died and no rerun came) is marked ``lost`` and the workspace is planned again.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from agent.config import Catalog
from agent.scheduler.cadence import Cadence
from agent.scheduler.config import SchedulerConfig
from agent.scheduler.ticks import Facts, mark_lost, plan_tick, plan_ticks, read_facts
from agent.store import Store, SweepTick, TickKind, TickState, stale_limit, utcnow
from runlogs import ActivityLog
from workspaces.models import AndroidDevice, BrowserProfile, Workspace
from workspaces.paths import Home

Clock = Callable[[], datetime]
ANY_HOST = ""  # the queue of workspaces no host is named for: any worker


class Dispatcher(Protocol):
    def dispatch(self, tick: SweepTick) -> None: ...


@dataclass(frozen=True)
class Placement:
    """Where a workspace runs: its host (None: any) and the device pools it uses."""

    host: str | None
    platform: str
    pools: tuple[str, ...] = ()


@dataclass
class TickReport:
    at: datetime
    planned: list[SweepTick] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (workspace, why)
    capped: list[tuple[str, str]] = field(default_factory=list)  # (workspace, which cap)
    lost: list[int] = field(default_factory=list)
    sends: list[SweepTick] = field(default_factory=list)


def tightest_sla_minutes(home: Home, ws: Workspace) -> float | None:
    """The tightest SLA of the workspace's routing (minutes), from its triage config (read
    again when the file changes, so a long-running review UI sees an edited SLA)."""
    if not ws.triage:
        return _tightest(None, 0)
    path = home.root / ws.triage
    return _tightest(str(path), path.stat().st_mtime_ns if path.exists() else 0)


@functools.lru_cache(maxsize=256)
def _tightest(triage_file: str | None, _mtime: int) -> float | None:
    from agent.triage.config import load_config

    config = load_config(triage_file)
    slas = [r.actions.sla_minutes for r in config.routing.rules if r.actions.sla_minutes]
    return float(min(slas)) if slas else None


def placement(catalog: Catalog, ws: Workspace) -> Placement:
    env = ws.environment
    if isinstance(env, BrowserProfile):
        return Placement(env.host, ws.platform)
    assert isinstance(env, AndroidDevice)
    loaded = catalog.devices.get(env.device)
    device = loaded.model if loaded is not None else None
    return Placement(
        device.host if device else None, ws.platform, tuple(device.labels) if device else ()
    )


def queue_for(host: str | None) -> str:
    """The Celery queue of a host's workers (``host.NAME``), or the shared one."""
    return f"host.{host}" if host else "inbox-agent"


@dataclass
class Planner:
    home: Home
    catalog: Catalog
    store: Store
    log: ActivityLog
    name: str  # who plans (the scheduler's holder name), recorded on every run
    config: SchedulerConfig | None = None
    now: Clock = utcnow
    distributed: bool = False  # True: runs go to Celery queues; False: this host runs them
    cadences: dict[str, Cadence] = field(default_factory=dict, init=False)
    placements: dict[str, Placement] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        if self.config is None:
            self.config = self.catalog.scheduler
        for ws_id, loaded in sorted(self.catalog.workspaces.items()):
            ws = loaded.model
            self.placements[ws_id] = placement(self.catalog, ws)
            if ws.schedule is None:
                continue
            self.cadences[ws_id] = Cadence.of(
                ws_id,
                ws.schedule,
                ws.timezone,
                tightest_sla_minutes=tightest_sla_minutes(self.home, ws),
                spacing_s=self.config.spacing_s(ws.platform),
            )

    @property
    def slack(self) -> timedelta:
        assert self.config is not None
        return timedelta(seconds=self.config.tick_seconds)

    def queue_of(self, workspace: str) -> str:
        """The queue a workspace's runs go to (in-process: "", this host runs them all)."""
        return queue_for(self.placements[workspace].host) if self.distributed else ANY_HOST

    def next_due(self, workspace: str, facts: Facts, now: datetime) -> datetime | None:
        cadence = self.cadences.get(workspace)
        if cadence is None:
            return None
        return cadence.next_due(
            facts.anchors.get(workspace),
            now,
            open_p1=workspace in facts.open_p1,
            slack=self.slack,
        )

    # -- one tick --------------------------------------------------------------
    def tick(self, dispatcher: Dispatcher) -> TickReport:
        now = self.now()
        report = TickReport(now)
        facts = read_facts(self.store)
        self._expire(facts, now, report)
        in_flight = self._in_flight(facts)
        due: list[tuple[bool, datetime, str]] = []
        for ws_id in self.cadences:
            if facts.open_ticks.get(ws_id):
                continue  # planned or running: never stacked
            when = self.next_due(ws_id, facts, now)
            if when is not None and when <= now:
                due.append((ws_id not in facts.open_p1, when, ws_id))
        wanted: list[tuple[str, TickKind, datetime, str]] = []
        for _, when, ws_id in sorted(due):  # open P1 first, then the longest waiting
            why = self._skip_reason(ws_id, facts)
            if why is not None:
                if self._plan(ws_id, TickKind.SWEEP, when, now, TickState.SKIPPED, why):
                    self.log.append(ws_id, "sweep_skipped", reason=why, due_at=when.isoformat())
                    report.skipped.append((ws_id, why))
                continue
            cap = self._over_cap(ws_id, in_flight)
            if cap is not None:
                report.capped.append((ws_id, cap))
                continue
            self._count(ws_id, in_flight)
            wanted.append((ws_id, TickKind.SWEEP, when, self.queue_of(ws_id)))
        # one statement for every run of the tick; a run another scheduler planned is left out
        for tick in plan_ticks(self.store, wanted, now=now, planned_by=self.name):
            self.log.append(
                tick.workspace,
                "sweep_planned",
                tick=tick.id,
                due_at=tick.due_at.isoformat(),
                queue=tick.queue,
            )
            dispatcher.dispatch(tick)
            report.planned.append(tick)
            facts.open_ticks[tick.workspace] = [tick]
        assert self.config is not None
        if self.config.drain_outbox:
            self._drain(facts, now, dispatcher, report, in_flight)
        return report

    def _drain(
        self,
        facts: Facts,
        now: datetime,
        dispatcher: Dispatcher,
        report: TickReport,
        in_flight: Counter[str],
    ) -> None:
        for ws_id in sorted(facts.outbox_waiting):
            if ws_id not in self.catalog.workspaces or facts.open_ticks.get(ws_id):
                continue  # a sweep in flight sends its workspace's replies when it ends
            if self._skip_reason(ws_id, facts) is not None or self._over_cap(ws_id, in_flight):
                continue
            tick = self._plan(ws_id, TickKind.SEND, now, now)
            if tick is None:
                continue
            self._count(ws_id, in_flight)
            dispatcher.dispatch(tick)
            report.sends.append(tick)

    def _plan(
        self,
        ws_id: str,
        kind: TickKind,
        due: datetime,
        now: datetime,
        state: TickState = TickState.QUEUED,
        outcome: str | None = None,
    ) -> SweepTick | None:
        return plan_tick(
            self.store,
            ws_id,
            kind,
            due,
            now=now,
            planned_by=self.name,
            queue=self.queue_of(ws_id),
            state=state,
            outcome=outcome,
        )

    @staticmethod
    def _skip_reason(ws_id: str, facts: Facts) -> str | None:
        pause = facts.paused.get(ws_id)
        if pause is not None:
            return f"paused by {pause.paused_by}" + (f": {pause.reason}" if pause.reason else "")
        who = facts.taken_over.get(ws_id)
        return f"taken over by {who}" if who else None

    # -- caps ----------------------------------------------------------------
    def _keys(self, ws_id: str) -> list[str]:
        place = self.placements[ws_id]
        host = place.host if self.distributed else "(this host)"
        keys = [f"platform:{place.platform}"] + [f"pool:{p}" for p in place.pools]
        if host:
            keys.append(f"host:{host}")
        return keys

    def _in_flight(self, facts: Facts) -> Counter[str]:
        counts: Counter[str] = Counter()
        for ws_id, ticks in facts.open_ticks.items():
            if ws_id in self.placements:
                for _ in ticks:
                    self._count(ws_id, counts)
        return counts

    def _count(self, ws_id: str, counts: Counter[str]) -> None:
        for key in self._keys(ws_id):
            counts[key] += 1

    def _over_cap(self, ws_id: str, in_flight: Counter[str]) -> str | None:
        assert self.config is not None
        caps = self.config.caps
        limits = {f"platform:{p}": n for p, n in caps.platforms.items()}
        limits.update({f"pool:{p}": n for p, n in caps.device_pools.items()})
        for key in self._keys(ws_id):
            limit = caps.host if key.startswith("host:") else limits.get(key)
            if limit is not None and in_flight[key] >= limit:
                return f"{key} at its cap of {limit}"
        return None

    # -- runs that never finished ----------------------------------------------
    def _expire(self, facts: Facts, now: datetime, report: TickReport) -> None:
        for ws_id, ticks in list(facts.open_ticks.items()):
            limit = timedelta(seconds=stale_limit(self.catalog, ws_id))
            kept = []
            for tick in ticks:
                since = tick.started_at or tick.planned_at
                if now - since > limit and tick.id is not None:
                    age = (now - since).total_seconds()
                    why = f"{tick.state} for {age:.0f} s, longer than a run may last"
                    if mark_lost(self.store, tick.id, now=now, why=why):
                        self.log.append(ws_id, "sweep_lost", tick=tick.id, why=why)
                        report.lost.append(tick.id)
                        continue
                kept.append(tick)
            facts.open_ticks[ws_id] = kept
