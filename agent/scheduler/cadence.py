"""When a workspace is due next: a pure function of its schedule and a few facts.

The anchor is when the workspace was last swept (or last planned): the later of the
last planned run's hand-off and the last sweep's start, so a sweep someone ran by
hand counts too. From the anchor:

1. the base cadence: ``every_minutes`` after it, or the next ``cron`` time;
2. the SLA cadence caps the gap at ``sla_fraction`` × the tightest SLA of the
   workspace's routing (a 15-minute SLA and the default third: 5 minutes), and at
   ``open_p1_every_minutes`` (default: half that) while P1 items are open; the gap
   is planned one tick short, so a run handed on at the next tick still keeps it;
3. the platform's minimum spacing is a floor: an account is never swept faster than
   its platform tolerates, even when the SLA asks for more (``status`` says so);
4. outside business hours the gap is ``outside_every_minutes`` (or the next start of
   business hours); a time inside quiet hours moves to their end;
5. jitter moves the time up to ``jitter_seconds`` earlier (never later, so it never
   stretches a gap), by an amount fixed by the workspace and the time, so a standby
   scheduler plans the very same moment.

Every time is aware UTC; hours and days are read in the workspace's timezone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from workspaces.models import WEEKDAYS, BusinessHours, QuietHours, Schedule

EPSILON = timedelta(microseconds=1)


@dataclass(frozen=True)
class Cadence:
    """One workspace's schedule, resolved: every gap as a timedelta, the cron compiled."""

    workspace: str
    tz: ZoneInfo
    every: timedelta | None = None
    cron: CronTrigger | None = None
    sla: timedelta | None = None  # the SLA cadence's longest gap (fraction × tightest SLA)
    open_p1: timedelta | None = None  # the longest gap while P1 items are open
    spacing: timedelta = timedelta(0)  # the platform's minimum gap
    jitter_s: int = 0
    quiet: QuietHours | None = None
    business: BusinessHours | None = None
    tightest_sla: timedelta | None = None  # the SLA itself (status: how far behind)

    @classmethod
    def of(
        cls,
        workspace: str,
        schedule: Schedule,
        timezone: str,
        *,
        tightest_sla_minutes: float | None,
        spacing_s: float = 0.0,
    ) -> Cadence:
        tz = ZoneInfo(timezone)
        sla = None
        if schedule.sla_cadence and tightest_sla_minutes:
            sla = timedelta(minutes=tightest_sla_minutes * schedule.sla_fraction)
        if schedule.open_p1_every_minutes is not None:
            p1: timedelta | None = timedelta(minutes=schedule.open_p1_every_minutes)
        else:
            base = [g for g in (sla, _minutes(schedule.every_minutes)) if g is not None]
            p1 = min(base) / 2 if base else None
        return cls(
            workspace=workspace,
            tz=tz,
            every=_minutes(schedule.every_minutes),
            cron=CronTrigger.from_crontab(schedule.cron, timezone=tz) if schedule.cron else None,
            sla=sla,
            open_p1=p1,
            spacing=timedelta(seconds=spacing_s),
            jitter_s=schedule.jitter_seconds,
            quiet=schedule.quiet_hours,
            business=schedule.business_hours,
            tightest_sla=timedelta(minutes=tightest_sla_minutes) if tightest_sla_minutes else None,
        )

    # -- the gap ---------------------------------------------------------------
    def longest_gap(self, *, open_p1: bool) -> timedelta | None:
        """The most time allowed between two sweeps in business hours (None: cron only)."""
        gaps = [g for g in (self.every, self.sla, self.open_p1 if open_p1 else None) if g]
        if not gaps:
            return None
        return max(min(gaps), self.spacing)

    def sla_met(self) -> bool:
        """Whether the platform's spacing lets the SLA cadence hold at all."""
        return self.sla is None or self.spacing <= self.sla

    # -- the next time -------------------------------------------------------
    def next_due(
        self, anchor: datetime | None, now: datetime, *, open_p1: bool, slack: timedelta
    ) -> datetime:
        """When the next sweep is due. ``anchor``: the last sweep's start (None: never
        swept, due now); ``slack``: how late a due run may be handed on (one tick)."""
        if anchor is None:
            return self._allowed_from(now)
        floor = anchor + self.spacing
        gap = self.longest_gap(open_p1=open_p1)
        candidates = []
        if self.cron is not None:
            fire = self.cron.get_next_fire_time(None, anchor + EPSILON)
            if fire is not None:
                candidates.append(fire)
        if gap is not None:
            candidates.append(max(anchor + gap - slack, floor))
        due = max(min(candidates), floor) if candidates else floor
        if self.business is not None and not self._in_business(due):
            start = self._next_business_start(due)
            outside = self.business.outside_every_minutes
            due = min(anchor + timedelta(minutes=outside), start) if outside else start
            due = max(due, floor)
        due = self._out_of_quiet(due)
        return self._jittered(due, floor)

    def _allowed_from(self, t: datetime) -> datetime:
        """The first moment from ``t`` a sweep may run (out of quiet hours; in business
        hours unless it may run outside them)."""
        if (
            self.business is not None
            and self.business.outside_every_minutes is None
            and not self._in_business(t)
        ):
            t = self._next_business_start(t)
        return self._out_of_quiet(t)

    def allowed(self, t: datetime) -> bool:
        if self.quiet is not None and _in_window(self._local(t).time(), self.quiet):
            return False
        return not (
            self.business is not None
            and self.business.outside_every_minutes is None
            and not self._in_business(t)
        )

    def _jittered(self, due: datetime, floor: datetime) -> datetime:
        if not self.jitter_s:
            return due
        seed = hashlib.sha256(f"{self.workspace}|{due.isoformat()}".encode()).digest()
        early = timedelta(seconds=self.jitter_s * int.from_bytes(seed[:8], "big") / 2**64)
        moved = due - early
        if moved < floor or not self.allowed(moved):
            return due
        if self.business is not None and self._in_business(due) != self._in_business(moved):
            return due
        return moved

    # -- hours in the workspace's timezone ---------------------------------------------
    def _local(self, t: datetime) -> datetime:
        return t.astimezone(self.tz)

    def _at(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=self.tz)

    def _out_of_quiet(self, t: datetime) -> datetime:
        if self.quiet is None or not _in_window(self._local(t).time(), self.quiet):
            return t
        local = self._local(t)
        end = self._at(local.date(), self.quiet.end)
        if end <= local:
            end = self._at(local.date() + timedelta(days=1), self.quiet.end)
        return end.astimezone(t.tzinfo)

    def _in_business(self, t: datetime) -> bool:
        assert self.business is not None
        local = self._local(t)
        day = WEEKDAYS[local.weekday()]
        return day in self.business.days and self.business.start <= local.time() < self.business.end

    def _next_business_start(self, t: datetime) -> datetime:
        assert self.business is not None
        local = self._local(t)
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            if WEEKDAYS[day.weekday()] not in self.business.days:
                continue
            start = self._at(day, self.business.start)
            if start >= local:
                return start.astimezone(t.tzinfo)
        raise AssertionError("business hours have at least one day")  # pragma: no cover


def _minutes(value: float | None) -> timedelta | None:
    return timedelta(minutes=value) if value else None


def _in_window(t: time, window: QuietHours) -> bool:
    """Whether a local time is in ``[start, end)``, a window that may pass midnight."""
    if window.start <= window.end:
        return window.start <= t < window.end
    return t >= window.start or t < window.end
