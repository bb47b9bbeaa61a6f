"""Scheduler benchmarks (``agent/scheduler``), each a ratio against a baseline measured in this run.

(a) tick overhead: one ``Planner.tick`` over 1,000 workspaces (copies of the example
    ``sandbox-acme-web``, each ``every_minutes: 15``) against a SQLite store holding a
    history for each (20 finished planned runs, 20 finished sweeps, 10 triaged items;
    an open P1 item in 10% of them), on a fake clock, with a dispatcher that only
    records what it is handed (no sweep runs). Ticks: nothing due (the common case); all
    1,000 due and planned (a row inserted, a line logged and a hand-off each; planned for
    Celery queues, since in-process ``caps.host`` (at most 256) would let only that many
    through), also the first such tick of a day (each workspace's log day file created);
    and an in-process backlog: all due, the host's pool full, nothing planned. The
    baseline is ``read_facts(store)`` alone, the store reads every tick must do, timed
    just before each tick on the same store; wall and CPU time are both shown.
(b) concurrency: sweeps per minute of N = 1, 2 and 4 sandbox web workspaces (one
    account each, 30 new items each per sweep) run by the scheduler (``Planner.tick``
    handing them to the in-process dispatcher with N threads, waited for with
    ``close(wait=True)``), against the same N sweeps run one after another by one
    ``Sweeper``. Fresh items are posted before every timed round, so both sweep the same
    amount of new content. The sandbox runs in its own process (not in this one's GIL),
    with a fourth account, umbrella, whose workspace is globex's file renamed. Each
    sweep starts its own headless Chromium; on a machine with fewer cores than sweeps
    the speed-up is bounded by the CPU, and that is what is shown.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from agent.config import Catalog, Loaded
from agent.runtime import Runtime, open_runtime
from agent.scaffold import init_home
from agent.scheduler.dispatch import InProcess
from agent.scheduler.planner import Planner
from agent.scheduler.ticks import read_facts
from agent.store import Decision, Item, Run, SweepTick, TickState
from bench.bench_sweep import sandbox as sweep_sandbox
from sandbox.client import SandboxClient
from workspaces.models import Workspace
from workspaces.paths import Home

# A weekday noon in Berlin (the example schedule's quiet hours are 23:00-06:00 there).
NOON = datetime(2030, 6, 12, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)

# -- (a) --------------------------------------------------------------------------------
WORKSPACES = 1000
HISTORY = 20  # finished planned runs and sweeps per workspace
ITEMS = 10  # triaged items per workspace
P1_EVERY = 10  # every 10th workspace has an open P1 item
IDLE_RUNS = 20
DUE_RUNS = 3

# -- (b) --------------------------------------------------------------------------------
ACCOUNTS = ("acme", "globex", "initech", "umbrella")  # umbrella: the fourth, made here
EXTRA = "umbrella"
PER_SWEEP = 30  # new items per account before each timed round (half DMs, half comments)
SIZES = (1, 2, 4)
ROUNDS = 2  # timed rounds per N (each: baseline and scheduler, alternating); the best


def show(rows: list[str], row: str) -> None:
    rows.append(row)
    print(row, flush=True)


def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


class Pair:
    """Interleaved timings of a tick and of its baseline, each on the same store state."""

    def __init__(self, name: str):
        self.name = name
        self.tick: list[tuple[float, float]] = []
        self.base: list[tuple[float, float]] = []

    def row(self) -> str:
        tick_wall, base_wall = min(w for w, _ in self.tick), min(w for w, _ in self.base)
        tick_cpu, base_cpu = min(c for _, c in self.tick), min(c for _, c in self.base)
        median = statistics.median(w for w, _ in self.tick)
        return (
            f"(a) tick, {self.name:<26} {tick_wall * 1000:7.1f} ms  read_facts "
            f"{base_wall * 1000:5.1f} ms  ratio {tick_wall / base_wall:5.2f}x "
            f"(CPU {tick_cpu * 1000:6.1f} / {base_cpu * 1000:4.1f} ms, {tick_cpu / base_cpu:5.2f}x)"
            f"  {tick_wall / WORKSPACES * 1000:.3f} ms/workspace"
            f"  (median {median * 1000:.1f} ms, best of {len(self.tick)})"
        )


class Recorder:
    """A dispatcher that only records the runs it is handed."""

    def __init__(self) -> None:
        self.ticks: list[SweepTick] = []

    def dispatch(self, tick: SweepTick) -> None:
        self.ticks.append(tick)


# -- (a) tick overhead ------------------------------------------------------------------


def thousand(catalog: Catalog, n: int) -> Catalog:
    """The catalog with ``n`` copies of ``sandbox-acme-web`` (own id, profile and account)
    as its only workspaces."""
    template = catalog.workspaces["sandbox-acme-web"]
    assert template.model.schedule is not None and template.model.schedule.every_minutes == 15
    workspaces: dict[str, Loaded[Workspace]] = {}
    for i in range(n):
        ws_id = f"bench-{i:04d}"
        env = template.model.environment.model_copy(
            update={"profile": ws_id, "expected_account": f"@bench{i:04d}"}
        )
        model = template.model.model_copy(update={"id": ws_id, "environment": env})
        workspaces[ws_id] = Loaded(model=model, doc=template.doc)
    return replace(catalog, workspaces=workspaces)


def fill_history(rt: Runtime, ids: list[str], gap_of: Callable[[str], timedelta]) -> None:
    """For each workspace: ``HISTORY`` planned runs and their sweeps, ``gap_of(ws)`` apart,
    the last a minute before ``NOON`` (so nothing is due then); ``ITEMS`` items with their
    decisions, one of them an open P1 in every ``P1_EVERY``-th workspace."""
    ticks: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for w, ws in enumerate(ids):
        gap = gap_of(ws)
        for k in range(HISTORY):
            at = NOON - timedelta(minutes=1) - k * gap
            run_id = f"bench-{ws}-{k}"
            runs.append({
                "id": run_id, "workspace": ws, "kind": "sweep", "host": "bench", "pid": 1,
                "started_at": at + timedelta(seconds=1), "finished_at": at + timedelta(seconds=20),
                "status": "ok", "new_items": 3, "seen_items": 40, "screenshots": 4,
                "unreadable": 0, "missed": 0,
            })  # fmt: skip
            ticks.append({
                "workspace": ws, "kind": "sweep", "due_at": at, "planned_at": at,
                "planned_by": "bench", "queue": "", "state": TickState.DONE.value, "attempts": 1,
                "started_at": at + timedelta(seconds=1), "finished_at": at + timedelta(seconds=20),
                "worker": "bench", "run_id": run_id, "result": "ok", "outcome": None,
            })  # fmt: skip
        for j in range(ITEMS):
            p1_open = w % P1_EVERY == 0 and j == 0
            items.append({
                "key": f"bench-{ws}-item-{j}", "workspace": ws, "platform": "sandbox",
                "account": "@bench", "thread": "/posts/p1", "kind": "comment",
                "message_id": f"m{j}", "author": f"author{j}", "text": f"comment {j}",
                "run_id": f"bench-{ws}-{j % HISTORY}", "seen_at": NOON - timedelta(hours=j),
                "status": "new" if p1_open or j % 3 else "resolved",
                "truncated": False, "evidence_capped": False,
            })  # fmt: skip
    with rt.store.session() as s:
        s.execute(sa.insert(Run), runs)
        s.execute(sa.insert(SweepTick), ticks)
        s.execute(sa.insert(Item), items)
    with rt.store.session() as s:
        stored = s.exec(select(Item.id, Item.key)).all()
    decisions: list[dict[str, Any]] = []
    for item_id, key in stored:
        ws_index, j = int(key.split("-")[2]), int(key.rsplit("-", 1)[1])
        p1 = (ws_index % P1_EVERY == 0 and j == 0) or j in (3, 6)  # open, or resolved
        decisions.append({
            "item_id": item_id, "action": "review", "intent": "general",
            "priority": "P1" if p1 else "P3", "queue": "default", "owner": "acme-support",
            "sla_minutes": 15 if p1 else 240, "sla_due_at": NOON + timedelta(minutes=15),
            "confidence": 0.9, "pause_reasons": [], "why": [], "created_at": NOON,
        })  # fmt: skip
    with rt.store.session() as s:
        s.execute(sa.insert(Decision), decisions)


def close_open(rt: Runtime) -> None:
    """Mark every planned run done (as if all had run), so the next tick can plan again."""
    with rt.store.session() as s:
        s.execute(
            sa.update(SweepTick)
            .where(col(SweepTick.state) == TickState.QUEUED.value)
            .values(state=TickState.DONE.value, finished_at=NOON, result="ok")
        )


def bench_ticks(tmp: Path) -> list[str]:
    rows: list[str] = []
    home = Home(tmp / "ticks")
    init_home(home)
    rt = open_runtime(home)
    catalog = thousand(rt.catalog, WORKSPACES)
    clock = [NOON]
    started = time.perf_counter()
    # Distributed (runs go to Celery queues): no host's thread pool caps a tick, so all
    # 1,000 can be planned at once (in-process, ``caps.host`` is at most 256).
    fleet = Planner(
        home, catalog, rt.store, rt.log, name="bench", now=lambda: clock[0], distributed=True
    )
    built_s = time.perf_counter() - started
    local = Planner(home, catalog, rt.store, rt.log, name="bench", now=lambda: clock[0])
    ids = sorted(fleet.cadences)
    assert len(ids) == WORKSPACES

    def gap_of(ws: str) -> timedelta:
        gap = fleet.cadences[ws].longest_gap(open_p1=int(ws.split("-")[1]) % P1_EVERY == 0)
        assert gap is not None
        return gap

    started = time.perf_counter()
    fill_history(rt, ids, gap_of)
    fill_s = time.perf_counter() - started
    facts = read_facts(rt.store)
    assert len(facts.anchors) == WORKSPACES and len(facts.open_p1) == WORKSPACES // P1_EVERY
    with rt.store.session() as s:
        counts = {
            t.__tablename__: s.exec(select(sa.func.count()).select_from(t)).one()
            for t in (SweepTick, Run, Item, Decision)
        }
    stored = ", ".join(f"{n:,} {t}" for t, n in counts.items())
    show(rows, f"(a) {WORKSPACES} workspaces, store: {stored} "
                f"(filled in {fill_s:.1f}s; planner built in {built_s * 1000:.0f} ms)")  # fmt: skip

    def tick(planner: Planner, planned: int, capped: int) -> None:
        report = planner.tick(Recorder())
        assert len(report.planned) == planned and len(report.capped) == capped, report
        assert not report.lost and not report.skipped, report

    def measure(pair: Pair, planner: Planner, planned: int, capped: int) -> None:
        pair.base.append(timed(lambda: read_facts(rt.store)))
        pair.tick.append(timed(lambda: tick(planner, planned, capped)))

    tick(fleet, 0, 0)  # warm-up (the first tick compiles the queries)
    idle = Pair("nothing due")
    for _ in range(IDLE_RUNS):
        measure(idle, fleet, 0, 0)

    # The first tick of a (log) day also creates every workspace's day file of the
    # activity log; later ones append to it.
    clock[0] += HOUR  # every workspace due again
    first = Pair(f"all {WORKSPACES} due, first of day")
    measure(first, fleet, WORKSPACES, 0)
    close_open(rt)
    due = Pair(f"all {WORKSPACES} due, planned")
    for _ in range(DUE_RUNS):
        clock[0] += HOUR
        measure(due, fleet, WORKSPACES, 0)
        close_open(rt)

    # A backlog in-process: all due and the host's pool (caps.host) full, so each tick
    # weighs every workspace and plans none of them.
    clock[0] += HOUR
    host_cap = local.config.caps.host if local.config else 4
    tick(local, host_cap, WORKSPACES - host_cap)
    backlog = Pair(f"all due, {host_cap} running")
    for _ in range(IDLE_RUNS):
        measure(backlog, local, 0, WORKSPACES - host_cap)
    close_open(rt)

    for pair in (idle, due, first, backlog):
        show(rows, pair.row())
    rt.store.close()
    return rows


# -- (b) concurrency ----------------------------------------------------------------------


@contextmanager
def sandbox(accounts: tuple[str, ...]) -> Iterator[tuple[str, SandboxClient]]:
    """An empty sandbox with ``accounts``, in its own process (bench_sweep's)."""
    with sweep_sandbox(accounts) as (url, client, _pid):
        yield url, client


def workspace_of(account: str) -> str:
    return f"sandbox-{account}-web"


def web_home(root: Path) -> Runtime:
    """The example home plus a fourth sandbox web workspace (globex's file, renamed)."""
    home = Home(root)
    init_home(home)
    source = home.config_dir("workspaces") / "sandbox-globex-web.yaml"
    text = source.read_text().replace("globex", EXTRA).replace("Globex", EXTRA.capitalize())
    (home.config_dir("workspaces") / f"{workspace_of(EXTRA)}.yaml").write_text(text)
    return open_runtime(home)


class Inbox:
    """One post and one DM thread per account; ``fresh`` adds new items to both."""

    def __init__(self, client: SandboxClient, accounts: tuple[str, ...]):
        self.client = client
        self.places: dict[str, tuple[str, str]] = {}
        for acc in accounts:
            post = client.add_post(acc, "Bench post")["id"]
            thread = client.post_message(acc, "dm", "bench.dm", "first")["container_id"]
            self.places[acc] = (post, thread)
        self.seed = 0

    def fresh(self, accounts: tuple[str, ...]) -> None:
        for acc in accounts:
            post, thread = self.places[acc]
            self.seed += 1
            self.client.bulk(acc, "comment", PER_SWEEP // 2, seed=self.seed, thread=post)
            self.seed += 1
            self.client.bulk(acc, "dm", PER_SWEEP // 2, seed=self.seed, thread=thread)


def sequential(rt: Runtime, ids: list[str], expect: int) -> float:
    sweeper = rt.sweeper()
    started = time.perf_counter()
    results = [sweeper.sweep(ws) for ws in ids]
    took = time.perf_counter() - started
    for r in results:
        assert r.status == "ok" and r.new_items == expect, r
    return took


def scheduled(rt: Runtime, planner: Planner, clock: list[datetime], expect: int) -> float:
    clock[0] += HOUR  # every workspace due again
    dispatcher = InProcess(rt, len(planner.cadences), name="bench")
    started = time.perf_counter()
    report = planner.tick(dispatcher)
    dispatcher.close(wait=True)
    took = time.perf_counter() - started
    assert len(report.planned) == len(planner.cadences), report
    assert len(dispatcher.outcomes) == len(report.planned), dispatcher.outcomes
    run_ids = [o.run_id for o in dispatcher.outcomes if o.result == "ok"]
    assert len(run_ids) == len(report.planned), dispatcher.outcomes
    with rt.store.session() as s:
        new = s.exec(select(Run.new_items).where(col(Run.id).in_(run_ids))).all()
    assert list(new) == [expect] * len(run_ids), new
    return took


def bench_concurrency(tmp: Path) -> list[str]:
    rows: list[str] = []
    with sandbox(ACCOUNTS) as (url, client):
        os.environ["INBOX_AGENT_SANDBOX_URL"] = url
        os.environ.setdefault("SANDBOX_PASSWORD", "sandbox")  # the sandbox's practice password
        rt = web_home(tmp / "web")
        all_ids = [workspace_of(acc) for acc in ACCOUNTS]
        for ws in all_ids:  # sign each profile in once
            result = rt.sweeper().login(ws)
            if result.status != "ok":
                raise RuntimeError(f"login of {ws} failed: {result.stop_reason}: {result.message}")
        inbox = Inbox(client, ACCOUNTS)
        inbox.fresh(ACCOUNTS)
        sequential(rt, all_ids, PER_SWEEP + 1)  # warm-up: the model, the pages, the caches
        clock = [NOON]
        for n in SIZES:
            accounts, ids = ACCOUNTS[:n], all_ids[:n]
            subset = {ws: rt.catalog.workspaces[ws] for ws in ids}
            planner = Planner(
                rt.home,
                replace(rt.catalog, workspaces=subset),
                rt.store,
                rt.log,
                name="bench",
                now=lambda: clock[0],
            )
            base_s = sched_s = float("inf")
            for r in range(ROUNDS):  # which goes first alternates, round by round
                for which in ("base", "sched") if r % 2 == 0 else ("sched", "base"):
                    inbox.fresh(accounts)
                    if which == "base":
                        base_s = min(base_s, sequential(rt, ids, PER_SWEEP))
                    else:
                        sched_s = min(sched_s, scheduled(rt, planner, clock, PER_SWEEP))
            base_rate, sched_rate = n / base_s * 60, n / sched_s * 60
            show(rows, f"(b) N={n}  one after another {base_s:6.2f}s ({base_rate:5.1f} sweeps/min)"
                        f"  scheduler, {n} worker(s) {sched_s:6.2f}s ({sched_rate:5.1f} sweeps/min)"
                        f"  speed-up {base_s / sched_s:4.2f}x")  # fmt: skip
        rt.store.close()
    cores = os.cpu_count() or 1
    show(rows, f"(b) {cores} core(s); {PER_SWEEP} new items per sweep; best of {ROUNDS} round(s)")
    load = os.getloadavg()[0]
    if load > cores:
        show(rows, f"note: load average {load:.1f} on {cores} cores: other work shared the "
                    "CPU, so times and speed-ups are noisier than on a quiet machine")  # fmt: skip
    return rows


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-scheduler-"))
    try:
        bench_ticks(tmp)
        bench_concurrency(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
