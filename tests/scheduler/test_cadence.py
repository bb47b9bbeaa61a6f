"""When a workspace is due: the schedule, the SLA cadence, hours, jitter and spacing,
driven by a clock the test moves in ticks (no sleeps, no browser)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from agent.scheduler.cadence import Cadence
from workspaces.models import Schedule

TICK = timedelta(seconds=10)
T0 = datetime(2030, 3, 4, 0, 0, tzinfo=UTC)  # a Monday


def cadence(
    sla: float | None = 15, spacing_s: float = 0, tz: str = "UTC", **schedule: object
) -> Cadence:
    return Cadence.of(
        "ws-1",
        Schedule.model_validate(schedule),
        tz,
        tightest_sla_minutes=sla,
        spacing_s=spacing_s,
    )


def simulate(
    c: Cadence, hours: float, *, open_p1: bool = False, start: datetime = T0
) -> list[datetime]:
    """Sweep starts over ``hours``: the scheduler ticks every TICK and starts what is due."""
    starts: list[datetime] = []
    anchor = None
    now = start
    while now < start + timedelta(hours=hours):
        if c.next_due(anchor, now, open_p1=open_p1, slack=TICK) <= now:
            starts.append(now)
            anchor = now
        now += TICK
    return starts


def gaps(starts: list[datetime]) -> list[timedelta]:
    return [b - a for a, b in zip(starts, starts[1:], strict=False)]


def test_a_15_minute_sla_is_never_left_longer_than_5_minutes() -> None:
    starts = simulate(cadence(sla=15, every_minutes=15), hours=6)
    assert max(gaps(starts)) <= timedelta(minutes=5)
    assert min(gaps(starts)) >= timedelta(minutes=4)  # and not much more often either


def test_without_the_sla_cadence_the_interval_alone_holds() -> None:
    starts = simulate(cadence(sla=15, every_minutes=15, sla_cadence=False), hours=6)
    assert max(gaps(starts)) > timedelta(minutes=14)
    assert max(gaps(starts)) <= timedelta(minutes=15)


def test_the_fraction_of_the_sla_is_configurable() -> None:
    starts = simulate(cadence(sla=60, every_minutes=60, sla_fraction=0.5), hours=6)
    assert max(gaps(starts)) <= timedelta(minutes=30)
    assert max(gaps(starts)) > timedelta(minutes=25)


def test_open_p1_items_tighten_the_cadence() -> None:
    calm = simulate(cadence(sla=15, every_minutes=15), hours=2)
    urgent = simulate(cadence(sla=15, every_minutes=15), hours=2, open_p1=True)
    assert max(gaps(urgent)) <= timedelta(minutes=2.5)
    assert len(urgent) > 1.8 * len(calm)
    fixed = simulate(
        cadence(sla=15, every_minutes=15, open_p1_every_minutes=1), hours=1, open_p1=True
    )
    assert max(gaps(fixed)) <= timedelta(minutes=1)


def test_platform_spacing_is_a_floor_even_against_the_sla() -> None:
    c = cadence(sla=15, every_minutes=15, spacing_s=600)
    starts = simulate(c, hours=4, open_p1=True)
    assert min(gaps(starts)) >= timedelta(minutes=10)
    assert not c.sla_met()
    assert cadence(sla=15, every_minutes=15, spacing_s=120).sla_met()


def test_quiet_hours_in_the_workspaces_timezone_hold_no_sweep_and_end_with_one() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    c = cadence(
        sla=None,
        tz="Europe/Berlin",
        every_minutes=30,
        quiet_hours={"start": "23:00", "end": "06:00"},
    )
    starts = simulate(c, hours=48)
    local = [s.astimezone(berlin).time() for s in starts]
    assert not [t for t in local if t >= time(23) or t < time(6)]
    at_six = [s for s in starts if s.astimezone(berlin).time() == time(6)]
    assert len(at_six) == 2  # one sweep as each night ends: the night's runs coalesce
    assert starts[0] == at_six[0]  # it started at 01:00 Berlin, in quiet hours: waited
    nights = [b - a for a, b in zip(starts, starts[1:], strict=False) if b - a > timedelta(hours=1)]
    assert len(nights) == 1
    assert timedelta(hours=7) <= nights[0] <= timedelta(hours=7, minutes=30)


def test_jitter_starts_early_within_bounds_never_late_and_the_same_for_a_standby() -> None:
    plain = cadence(sla=None, every_minutes=20)
    jittery = cadence(sla=None, every_minutes=20, jitter_seconds=120)
    anchors = [T0 + timedelta(minutes=7 * k, seconds=k) for k in range(60)]
    early = []
    for anchor in anchors:
        base = plain.next_due(anchor, anchor, open_p1=False, slack=TICK)
        moved = jittery.next_due(anchor, anchor, open_p1=False, slack=TICK)
        assert base - timedelta(seconds=120) <= moved <= base
        assert moved == jittery.next_due(anchor, anchor, open_p1=False, slack=TICK)
        early.append((base - moved).total_seconds())
    assert len(set(early)) > 30  # spread over the window, not one fixed offset
    assert max(early) > 60


def test_business_hours_slow_the_cadence_outside_them() -> None:
    c = cadence(
        sla=15,
        every_minutes=15,
        business_hours={"start": "09:00", "end": "17:00", "outside_every_minutes": 60},
    )
    starts = simulate(c, hours=48)  # Monday and Tuesday
    inside = [s for s in starts if time(9) <= s.time() < time(17)]
    outside = [s for s in starts if not time(9) <= s.time() < time(17)]
    assert max(gaps(inside[:40])) <= timedelta(minutes=5)
    night = [s for s in outside if s < T0 + timedelta(hours=9)]  # Monday before 09:00
    assert len(night) == 9
    assert all(timedelta(minutes=55) <= g <= timedelta(minutes=60) for g in gaps(night))
    assert any(s.time() == time(9) for s in starts)  # business hours start with a sweep


def test_without_an_outside_cadence_nothing_runs_outside_business_hours() -> None:
    c = cadence(
        sla=15, every_minutes=15, business_hours={"days": ["mon"], "start": "09:00", "end": "10:00"}
    )
    starts = simulate(c, hours=72)
    assert starts and all(s.weekday() == 0 and time(9) <= s.time() < time(10) for s in starts)


def test_a_cron_schedule_fires_on_its_times_and_the_sla_still_caps_it() -> None:
    starts = simulate(cadence(sla=None, cron="*/20 * * * *"), hours=3)
    assert all(s.minute in (0, 20, 40) and s.second == 0 for s in starts[1:])
    capped = simulate(cadence(sla=15, cron="0 * * * *"), hours=3)
    assert max(gaps(capped)) <= timedelta(minutes=5)


def test_a_bad_cron_line_is_refused_at_validation() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="cron"):
        Schedule.model_validate({"cron": "every tuesday"})
    with pytest.raises(ValidationError, match="exactly one"):
        Schedule.model_validate({"cron": "* * * * *", "every_minutes": 5})
