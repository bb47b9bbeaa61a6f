"""One scheduler tick against a real store (SQLite and PostgreSQL) on a clock the test
moves: what is planned, coalesced, capped, skipped, lost and drained, and a standby that
plans nothing twice. Runs are recorded by a dispatcher the test reads; no browser."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from agent.runtime import Runtime, open_runtime
from agent.scaffold import init_home
from agent.scheduler.config import Caps, SchedulerConfig
from agent.scheduler.pauses import pause_workspace, resume_workspace
from agent.scheduler.planner import Planner
from agent.scheduler.ticks import finish_tick, plan_tick, start_tick
from agent.store import (
    Item,
    ItemCreate,
    OutboxEntry,
    SweepTick,
    Takeover,
    TickKind,
    TickState,
    add_item,
    text_hash,
)
from workspaces.paths import Home

T0 = datetime(2030, 3, 4, 10, 0, tzinfo=UTC)  # 11:00 in Berlin, a Monday: no quiet hours
WEB = ["sandbox-acme-web", "sandbox-globex-web", "sandbox-initech-web"]
ALL = ["sandbox-acme-android", *WEB]


class Clock:
    def __init__(self, start: datetime = T0) -> None:
        self.t = start

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **delta: float) -> None:
        self.t += timedelta(**delta)


@dataclass
class Recorder:
    ticks: list[SweepTick] = field(default_factory=list)

    def dispatch(self, tick: SweepTick) -> None:
        self.ticks.append(tick)

    def take(self) -> list[SweepTick]:
        out, self.ticks = self.ticks, []
        return out


@pytest.fixture
def rt(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    monkeypatch.setenv("INBOX_AGENT_DB", db_url)
    home = Home(tmp_path / "home")
    init_home(home)
    return open_runtime(home)


def planner(rt: Runtime, clock: Clock, name: str = "scheduler-a", **config: object) -> Planner:
    return Planner(
        rt.home,
        rt.catalog,
        rt.store,
        rt.log,
        name,
        config=SchedulerConfig.model_validate(config),
        now=clock,
    )


def finish_all(rt: Runtime, ticks: list[SweepTick], clock: Clock) -> None:
    for tick in ticks:
        assert tick.id is not None
        start_tick(rt.store, tick.id, worker="test", now=clock())
        finish_tick(rt.store, tick.id, now=clock(), result="ok", run_id=None, outcome=None)


def events(rt: Runtime, workspace: str, type_: str) -> list[dict]:
    return [e.data for e in rt.log.events(workspace) if e.type == type_]


def test_every_scheduled_workspace_is_planned_once_and_never_stacked(rt: Runtime) -> None:
    clock, out = Clock(), Recorder()
    p = planner(rt, clock)
    p.tick(out)
    first = out.take()
    assert sorted(t.workspace for t in first) == ALL
    clock.advance(minutes=20)  # long past due, but still running: nothing new
    p.tick(out)
    assert out.take() == []
    finish_all(rt, first, clock)
    p.tick(out)  # due again now (the last one was planned 20 minutes ago): once each
    second = out.take()
    assert sorted(t.workspace for t in second) == ALL
    assert events(rt, "sandbox-acme-web", "sweep_planned")[-1]["tick"] == next(
        t.id for t in second if t.workspace == "sandbox-acme-web"
    )


def test_missed_runs_coalesce_into_one(rt: Runtime) -> None:
    clock, out = Clock(), Recorder()
    p = planner(rt, clock)
    p.tick(out)
    finish_all(rt, out.take(), clock)
    clock.advance(hours=3)  # the scheduler was down for 36 of acme's 5-minute gaps
    p.tick(out)
    late = out.take()
    assert sorted(t.workspace for t in late) == ALL
    finish_all(rt, late, clock)
    for _ in range(6):  # the next minute: nothing more, the missed runs were one run
        clock.advance(seconds=10)
        p.tick(out)
    assert out.take() == []


def test_the_sla_cadence_holds_over_an_hour_of_ticks(rt: Runtime) -> None:
    clock, out = Clock(), Recorder()
    p = planner(rt, clock, tick_seconds=10)
    starts: dict[str, list[datetime]] = {}
    for _ in range(360):
        p.tick(out)
        ran = out.take()
        for tick in ran:
            starts.setdefault(tick.workspace, []).append(clock())
        finish_all(rt, ran, clock)
        clock.advance(seconds=10)
    for ws in ALL:  # every example workspace's tightest SLA is 15 minutes
        gaps = [b - a for a, b in zip(starts[ws], starts[ws][1:], strict=False)]
        assert len(gaps) >= 11
        assert max(gaps) <= timedelta(minutes=5), ws


def test_a_taken_over_or_paused_workspace_is_skipped_and_logged_once(rt: Runtime) -> None:
    clock, out = Clock(), Recorder()
    with rt.store.session() as s:
        s.add(Takeover(workspace="sandbox-acme-web", user="rita", started_at=clock()))
    pause_workspace(rt.store, rt.log, "sandbox-globex-web", by="ops", reason="client offboarding")
    p = planner(rt, clock)
    report = p.tick(out)
    planned = sorted(t.workspace for t in out.take())
    assert planned == ["sandbox-acme-android", "sandbox-initech-web"]
    assert dict(report.skipped) == {
        "sandbox-acme-web": "taken over by rita",
        "sandbox-globex-web": "paused by ops: client offboarding",
    }
    for _ in range(12):  # two more minutes of ticks: the skip is logged once per due time
        clock.advance(seconds=10)
        p.tick(out)
    assert len(events(rt, "sandbox-acme-web", "sweep_skipped")) == 1
    assert events(rt, "sandbox-globex-web", "sweep_skipped")[0]["reason"].startswith("paused")
    resume_workspace(rt.store, rt.log, "sandbox-globex-web", by="ops")
    clock.advance(minutes=5)
    p.tick(out)
    assert "sandbox-globex-web" in {t.workspace for t in out.take()}


def test_caps_per_host_platform_and_device_pool(rt: Runtime) -> None:
    clock, out = Clock(), Recorder()
    p = planner(rt, clock, caps=Caps(host=2).model_dump())
    report = p.tick(out)
    first = out.take()
    assert len(first) == 2 and len(report.capped) == 2
    assert all("host:" in why for _, why in report.capped)
    finish_all(rt, first, clock)
    p.tick(out)
    assert len(out.take()) == 2  # the two that waited, now (once each)

    clock2, out2 = Clock(T0 + timedelta(days=1)), Recorder()
    p2 = planner(rt, clock2, caps={"platforms": {"sandbox": 1}})
    p2.tick(out2)
    assert len(out2.take()) == 1

    clock3, out3 = Clock(T0 + timedelta(days=2)), Recorder()
    with rt.store.session() as s:
        for t in s.exec(select(SweepTick).where(SweepTick.state == "queued")):
            t.state = TickState.DONE.value
            s.add(t)
    p3 = planner(rt, clock3, caps={"device_pools": {"sandbox": 0}})
    report3 = p3.tick(out3)
    assert "sandbox-acme-android" not in {t.workspace for t in out3.take()}
    assert ("sandbox-acme-android", "pool:sandbox at its cap of 0") in report3.capped


def test_a_standby_taking_over_plans_nothing_the_active_one_planned(rt: Runtime) -> None:
    clock, out_a, out_b = Clock(), Recorder(), Recorder()
    active, standby = planner(rt, clock, "scheduler-a"), planner(rt, clock, "scheduler-b")
    active.tick(out_a)
    planned = out_a.take()
    assert len(planned) == len(ALL)
    finish_all(rt, planned, clock)
    clock.advance(seconds=30)  # the active one dies here; the standby's first tick:
    standby.tick(out_b)
    assert out_b.take() == []
    # Two schedulers computing the same due time: the store plans it once.
    due = clock() + timedelta(minutes=1)
    kwargs = {"now": clock(), "queue": ""}
    first = plan_tick(rt.store, "sandbox-acme-web", TickKind.SWEEP, due, planned_by="a", **kwargs)
    second = plan_tick(rt.store, "sandbox-acme-web", TickKind.SWEEP, due, planned_by="b", **kwargs)
    assert first is not None and second is None


def test_a_run_that_never_finishes_is_marked_lost_and_planned_again(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INBOX_AGENT_STALE_RUN_S", "600")
    clock, out = Clock(), Recorder()
    p = planner(rt, clock)
    p.tick(out)
    stuck = {t.workspace: t for t in out.take()}["sandbox-acme-web"]
    clock.advance(minutes=9)
    p.tick(out)
    assert out.take() == []  # still within what a run may last
    clock.advance(minutes=2)
    report = p.tick(out)
    assert stuck.id in report.lost
    again = [t for t in out.take() if t.workspace == "sandbox-acme-web"]
    assert len(again) == 1 and again[0].id != stuck.id
    with rt.store.session() as s:
        assert s.get(SweepTick, stuck.id).state == TickState.LOST.value
    assert events(rt, "sandbox-acme-web", "sweep_lost")


def test_approved_replies_are_drained_between_sweeps(rt: Runtime) -> None:
    clock, out = Clock(), Recorder()
    p = planner(rt, clock)
    p.tick(out)
    finish_all(rt, out.take(), clock)
    with rt.store.session() as s:
        item, _ = add_item(
            s,
            ItemCreate(
                workspace="sandbox-globex-web",
                platform="sandbox",
                account="@globex",
                thread="t1",
                kind="dm",
                message_id="m1",
                author="dana",
                text="Where is my order?",
            ),
        )
        s.add(
            OutboxEntry(
                item_id=item.id,
                workspace="sandbox-globex-web",
                thread="t1",
                text="It ships today.",
                text_hash=text_hash("It ships today."),
                approved_by="rita",
            )
        )
    clock.advance(seconds=10)
    report = p.tick(out)
    assert [(t.workspace, t.kind) for t in report.sends] == [("sandbox-globex-web", "send")]
    clock.advance(seconds=10)
    p.tick(out)  # the send is in flight: not planned twice
    assert [t for t in out.take() if t.kind == "send" and t not in report.sends] == []
    assert isinstance(item, Item)


def test_finished_runs_older_than_the_cutoff_are_pruned_open_ones_never(rt: Runtime) -> None:
    from agent.scheduler.ticks import prune_ticks, ticks_of

    clock, out = Clock(), Recorder()
    p = planner(rt, clock)
    p.tick(out)
    old = out.take()
    finish_all(rt, old[:2], clock)  # two finish, two stay open
    clock.advance(days=8)
    assert prune_ticks(rt.store, older_than=clock() - timedelta(days=7)) == 2
    left = {t.id for t in ticks_of(rt.store)}
    assert left == {t.id for t in old[2:]}


def test_a_batch_of_planned_runs_leaves_out_those_already_planned(rt: Runtime) -> None:
    from agent.scheduler.ticks import plan_ticks

    def batch(*names: str) -> list[str]:
        wanted = [(n, TickKind.SWEEP, T0, "") for n in names]
        return [t.workspace for t in plan_ticks(rt.store, wanted, now=T0, planned_by="x")]

    assert batch("ws-a", "ws-b") == ["ws-a", "ws-b"]
    assert batch("ws-b", "ws-c") == ["ws-c"]  # ws-b's run at T0 is planned already
    assert len(batch(*[f"ws-{k}" for k in range(900)])) == 900  # in chunks of 400
