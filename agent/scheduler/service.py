"""``inbox-agent run``: the scheduler's loop on APScheduler, leadership and a clean stop.

APScheduler (3) fires one job, the tick, every ``tick_seconds``, coalesced (a tick
late because the machine was busy runs once, not once per missed interval) and never
overlapping itself. Each tick the scheduler makes sure it is the active one
(``leadership``), then plans (``planner``) and hands runs on (``dispatch``). A
standby only checks for leadership.

SIGTERM (or SIGINT, or ``--for`` running out) stops planning at once; runs already
handed on finish (in-process, the loop waits for them; a Celery worker finishes its
own on its warm shutdown), so nothing is cut in the middle of a step and a run that
never started stays planned for the next scheduler.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from agent.runtime import Runtime
from agent.scheduler.leadership import Leadership
from agent.scheduler.planner import Planner, TickReport
from agent.scheduler.ticks import prune_ticks

logger = logging.getLogger(__name__)
KEEP_FINISHED = timedelta(days=7)  # finished planned runs kept (the runs table keeps sweeps)
PRUNE_EVERY_TICKS = 360


@dataclass
class SchedulerService:
    rt: Runtime
    planner: Planner
    dispatcher: Any  # dispatch.InProcess | dispatch.ToCelery
    leadership: Leadership
    on_tick: Callable[[TickReport | None, bool], None] | None = None  # (report, active)
    ticks: int = 0
    active: bool = False
    _stop: threading.Event = field(default_factory=threading.Event)
    _scheduler: Any = None
    webhooks: Any = None  # agent.webhooks.sender.Sender (default: the home's webhooks.yaml)

    def tick(self) -> TickReport | None:
        """One tick: become (or stay) the active scheduler, then plan; None when standing by."""
        if self._stop.is_set():
            return None
        was = self.active
        self.active = self.leadership.acquire()
        if self.active != was:
            state = "active" if self.active else "standby"
            self.rt.log.append("scheduler", f"scheduler_{state}", holder=self.leadership.holder)
        report = self.planner.tick(self.dispatcher) if self.active else None
        if self.active and self.ticks % PRUNE_EVERY_TICKS == 0:
            prune_ticks(self.rt.store, older_than=self.planner.now() - KEEP_FINISHED)
        self.ticks += 1
        if self.on_tick is not None:
            self.on_tick(report, self.active)
        return report

    def _safe_tick(self) -> None:
        try:
            self.tick()
        except Exception:  # noqa: BLE001 - a store hiccup must not end the loop
            logger.exception("scheduler tick failed; the next tick tries again")

    def run(self, *, duration_s: float | None = None, handle_signals: bool = True) -> None:
        """Tick until SIGTERM/SIGINT (or ``duration_s``), then let runs in flight finish."""
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        assert self.planner.config is not None
        scheduler = BackgroundScheduler(timezone=UTC)
        self._scheduler = scheduler
        scheduler.add_job(
            self._safe_tick,
            IntervalTrigger(seconds=self.planner.config.tick_seconds, timezone=UTC),
            id="tick",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),
        )
        # -- webhooks (issue 16): delivered by a job of their own, so a slow receiver never
        # delays a tick; only the active scheduler sends (claims make a second one harmless).
        if self.webhooks is None:
            from agent.webhooks.sender import sender_for

            self.webhooks = sender_for(self.rt)
        scheduler.add_job(
            self._safe_webhooks,
            IntervalTrigger(seconds=self.planner.config.tick_seconds, timezone=UTC),
            id="webhooks",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        if handle_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: self.stop())
        deadline = None if duration_s is None else time.monotonic() + duration_s
        scheduler.start()
        try:
            while not self._stop.wait(0.2):
                if deadline is not None and time.monotonic() >= deadline:
                    self.stop()
        finally:
            scheduler.shutdown(wait=True)  # the tick in progress ends its planning
            self.dispatcher.close(wait=True)  # runs handed to this host finish
            self.leadership.release()

    def _safe_webhooks(self) -> None:
        if not self.active or self._stop.is_set():
            return
        try:
            self.webhooks.run_once(should_stop=self._stop.is_set)
        except Exception:  # noqa: BLE001 - a store hiccup must not end the loop
            logger.exception("webhook pass failed; the next tick tries again")

    def stop(self) -> None:
        self._stop.set()
