"""Runs end: a run left ``running`` by a process that died is closed as ``crashed``, with
its end event, by the next sweep, ``inbox-agent log`` and ``inbox-agent db status``."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from agent.cli import app
from agent.runtime import home_log
from agent.store import Run, RunStatus, Store, close_stale_runs, open_store, process_alive
from agent.store.runs import DEFAULT_MARGIN_S, STALE_AFTER_ENV, stale_limit, unended_runs
from runlogs import LOG_KEY_ENV, ActivityLog
from workspaces.paths import DB_ENV, Home

HOST = socket.gethostname()

# A sweep's first steps, then it is killed: the row says running, the log has only the start.
CHILD = textwrap.dedent(
    """
    import sys, time
    from agent.runtime import home_log
    from agent.store import open_store, start_run
    from workspaces.paths import Home

    home = Home.resolve(sys.argv[1])
    store = open_store(home.db_url)
    with store.session() as s:
        run_id = start_run(s, "acme").id
    home_log(home, store).append("acme", "run_started", run_id=run_id, flow="inbox")
    print(run_id, flush=True)
    time.sleep(3600)  # "working" until killed
    """
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LOG_KEY_ENV, raising=False)
    monkeypatch.delenv(STALE_AFTER_ENV, raising=False)


@pytest.fixture
def home(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Home:
    monkeypatch.setenv(DB_ENV, db_url)
    return Home(tmp_path / "home").ensure()


@pytest.fixture
def hstore(home: Home) -> Iterator[Store]:
    with open_store(home.db_url) as store:
        yield store


def _killed_run(home: Home, sig: signal.Signals) -> tuple[str, int]:
    """Start a run in a child process, then kill it; (run id, its pid)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(home.root)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert proc.stdout is not None
        run_id = proc.stdout.readline().strip()  # waits for the child, not for a time
        assert run_id, "the child did not start its run"
    finally:
        proc.send_signal(sig)
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -sig
    return run_id, proc.pid


def _row(store: Store, run_id: str) -> Run:
    with store.session() as s:
        run = s.get(Run, run_id)
        assert run is not None
        return run


def _events(home: Home, run_id: str) -> list[tuple[str, dict]]:
    return [
        (e.type, dict(e.data)) for e in ActivityLog(home.logs_dir).events("acme", run_id=run_id)
    ]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_run_is_closed_as_crashed_with_its_end_event(
    home: Home, hstore: Store, sig: signal.Signals
) -> None:
    run_id, pid = _killed_run(home, sig)
    assert _row(hstore, run_id).status == "running"
    assert [t for t, _ in _events(home, run_id)] == ["run_started"]

    log = home_log(home, hstore)
    closed = close_stale_runs(hstore, log, workspace="acme")

    assert [c.id for c in closed] == [run_id]
    reason = f"its process {pid} on host {HOST} is gone"
    assert closed[0].reason == reason
    run = _row(hstore, run_id)
    assert run.status == RunStatus.CRASHED == "crashed" and run.finished_at is not None
    assert run.stop_reason == "crashed"
    events = _events(home, run_id)
    assert [t for t, _ in events] == ["run_started", "run_finished"]
    assert events[1][1]["status"] == "crashed" and events[1][1]["reason"] == reason
    # Once closed, it stays closed: a second look writes nothing.
    assert close_stale_runs(hstore, log, workspace="acme") == []
    assert len(_events(home, run_id)) == 2
    assert log.verify("acme").ok


def test_a_live_run_of_this_host_is_left_alone(hstore: Store, home: Home) -> None:
    with hstore.session() as s:
        from agent.store import start_run

        run_id = start_run(s, "acme").id  # this very process: alive
    assert close_stale_runs(hstore, home_log(home, hstore)) == []
    assert _row(hstore, run_id).status == "running"


def _foreign_run(store: Store, started: datetime, workspace: str = "acme") -> str:
    from agent.store import start_run

    with store.session() as s:
        run = start_run(s, workspace, host="worker-7", pid=4242)
        run.started_at = started
        s.add(run)
        return run.id


def test_a_run_of_another_host_is_closed_only_after_the_limit(hstore: Store, home: Home) -> None:
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    run_id = _foreign_run(hstore, t0)
    log = home_log(home, hstore)
    limit = 900 + DEFAULT_MARGIN_S  # no configuration: the default flow duration plus margin
    assert stale_limit(None, "acme") == limit

    just_before = t0 + timedelta(seconds=limit)
    assert close_stale_runs(hstore, log, now=just_before) == []
    assert _row(hstore, run_id).status == "running"

    after = t0 + timedelta(seconds=limit + 1)
    closed = close_stale_runs(hstore, log, now=after)
    assert [c.id for c in closed] == [run_id]
    assert closed[0].reason == (
        f"it started {limit + 1:.0f} s ago on host worker-7 (process 4242) and has not "
        f"ended; no run lasts longer than {limit:.0f} s"
    )
    run = _row(hstore, run_id)
    assert run.status == "crashed" and run.finished_at == after
    assert [t for t, _ in _events(home, run_id)] == ["run_finished"]


def test_the_limit_follows_the_flows_and_can_be_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Model:
        def __init__(self, **kw):
            self.__dict__.update(kw)

    def loaded(**kw):
        return Model(model=Model(**kw))

    catalog = Model(
        flows={"in": loaded(max_duration_s=120), "re": loaded(max_duration_s=3600)},
        workspaces={"acme": loaded(flows=Model(inbox="in", reply="re", login=None))},
    )
    assert stale_limit(catalog, "acme") == 3600 + DEFAULT_MARGIN_S
    assert stale_limit(catalog, "unknown") == 3600 + DEFAULT_MARGIN_S  # any flow's
    monkeypatch.setenv(STALE_AFTER_ENV, "60")
    assert stale_limit(catalog, "acme") == 60


def test_two_closers_write_one_end_event(hstore: Store, home: Home) -> None:
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    run_id = _foreign_run(hstore, t0)
    log = home_log(home, hstore)
    inner: list = []

    def limit(_workspace: str) -> float:
        # While the outer closer is deciding, another one closes the run first.
        if not inner:
            inner.append(close_stale_runs(hstore, log, limit_s=1, now=t0 + timedelta(hours=1)))
        return 1

    outer = close_stale_runs(hstore, log, limit_s=limit, now=t0 + timedelta(hours=1))
    assert [c.id for c in inner[0]] == [run_id] and outer == []
    assert [t for t, _ in _events(home, run_id)] == ["run_finished"]


def test_pid_checks() -> None:
    now = datetime.now(UTC)
    assert process_alive(os.getpid(), now)
    # A process that started after the run did is not the run's (the pid was reused).
    assert not process_alive(os.getpid(), datetime(2000, 1, 1, tzinfo=UTC))
    assert not process_alive(0, now) and not process_alive(-1, now)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped: a zombie
        os.kill(child.pid, 0)  # signal 0 still reaches it…
        assert not process_alive(child.pid, now)  # …but it is not alive
    finally:
        child.wait()
    assert not process_alive(child.pid, now)


# -- where runs are found: log, db status, the next sweep --------------------------------


def _cli(home: Home, *args: str):
    return CliRunner().invoke(app, ["--home", str(home.root), *args])


def test_log_closes_dead_runs_and_names_live_ones(home: Home, hstore: Store) -> None:
    run_id, pid = _killed_run(home, signal.SIGKILL)
    from agent.store import start_run

    with hstore.session() as s:
        live = start_run(s, "acme").id
    home_log(home, hstore).append("acme", "run_started", run_id=live)

    result = _cli(home, "log", "acme", "--json")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    ends = [r for r in records if r["type"] == "run_finished"]
    assert [(r["run_id"], r["data"]["status"]) for r in ends] == [(run_id, "crashed")]
    assert ends[0]["data"]["reason"] == f"its process {pid} on host {HOST} is gone"
    assert _row(hstore, run_id).status == "crashed"

    result = _cli(home, "log", "acme")
    assert result.exit_code == 0, result.output
    assert f"run {live} is running: process {os.getpid()} on host {HOST}" in result.output
    assert f"run {run_id} is running" not in result.output


def test_log_writes_an_end_the_store_has_and_the_log_lacks(home: Home, hstore: Store) -> None:
    from agent.store import finish_run, start_run

    with hstore.session() as s:
        run_id = start_run(s, "acme").id
    log = home_log(home, hstore)
    log.append("acme", "run_started", run_id=run_id)
    with hstore.session() as s:  # the process died after finish_run, before run_finished
        finish_run(s, run_id, "ok", new_items=3)
    # Just finished: its own end event may still be on its way.
    assert unended_runs(hstore, log, "acme", [run_id]) == ([], [])
    with hstore.engine.begin() as conn:
        conn.execute(
            sa.update(Run.__table__)  # type: ignore[attr-defined]
            .where(Run.__table__.c.id == run_id)  # type: ignore[attr-defined]
            .values(finished_at=datetime.now(UTC) - timedelta(minutes=5))
        )
    result = _cli(home, "log", "acme", "--json")
    assert result.exit_code == 0, result.output
    end = json.loads(result.output.splitlines()[-1])
    assert (end["type"], end["run_id"], end["data"]["status"]) == ("run_finished", run_id, "ok")
    assert "the store recorded the run's end" in end["data"]["reason"]


def test_db_status_closes_dead_runs(home: Home, hstore: Store) -> None:
    run_id, pid = _killed_run(home, signal.SIGKILL)
    result = _cli(home, "db", "status", "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["runs"] == {
        "running": [],
        "closed": [
            {
                "id": run_id,
                "workspace": "acme",
                "reason": f"its process {pid} on host {HOST} is gone",
            }
        ],
    }
    assert _row(hstore, run_id).status == "crashed"
    assert [t for t, _ in _events(home, run_id)] == ["run_started", "run_finished"]
    result = _cli(home, "db", "status")
    assert "runs: 0 running, 0 closed now as crashed" in result.output


def test_the_next_sweep_closes_dead_runs(home: Home, hstore: Store) -> None:
    from agent.config import load_catalog
    from agent.scaffold import init_home
    from agent.sweep import Sweeper
    from devices.errors import DriverError

    init_home(home)
    catalog = load_catalog(home)  # (problems elsewhere in it do not matter here)
    ws = next(
        w for w, loaded in catalog.workspaces.items() if loaded.model.flows.inbox in catalog.flows
    )
    from agent.store import start_run

    with hstore.session() as s:
        dead = start_run(s, ws, pid=_killed_run(home, signal.SIGKILL)[1]).id

    def no_browser(_ws):
        raise DriverError("no browser in this test")

    log = home_log(home, hstore)
    result = Sweeper(home, catalog, hstore, log, driver_factory=no_browser).sweep(ws)
    assert result.status == "failed"
    assert _row(hstore, dead).status == "crashed"
    ends = [e for e in log.events(ws, run_id=dead) if e.type == "run_finished"]
    assert len(ends) == 1 and ends[0].data["status"] == "crashed"


def _webhook_events(store: Store) -> list[tuple[str, str, dict]]:
    from sqlmodel import col, select

    from agent.store.models import WebhookEvent

    with store.session() as s:
        rows = s.exec(select(WebhookEvent).order_by(col(WebhookEvent.id))).all()
        return [(e.type, e.subject, dict(e.data)) for e in rows]


def test_a_sweep_whose_process_died_tells_the_webhooks_once(home: Home, hstore: Store) -> None:
    """Nobody is left to send ``sweep.stopped`` for a killed sweep: whoever closes its run
    records it, in the closing transaction, so two looks (or two closers) record it once."""
    from agent.store import start_run

    run_id, pid = _killed_run(home, signal.SIGKILL)
    with hstore.session() as s:  # a killed reply run is not a sweep: no sweep.stopped for it
        reply = start_run(s, "acme", "reply", pid=pid, host=HOST).id

    result = _cli(home, "log", "acme")
    assert result.exit_code == 0, result.output
    assert _row(hstore, run_id).status == _row(hstore, reply).status == "crashed"

    recorded = _webhook_events(hstore)
    assert [(t, subject) for t, subject, _ in recorded] == [("sweep.stopped", f"run:{run_id}")]
    data = recorded[0][2]
    assert data["workspace"] == "acme" and data["platform"] is None  # not in this home's config
    assert data["run"]["status"] == data["run"]["stop_reason"] == "crashed"
    assert f"its process {pid} on host {HOST} is gone" in data["run"]["message"]
    assert "inbox-agent log acme" in data["what_to_do"]

    assert _cli(home, "db", "status").exit_code == 0
    assert len(_webhook_events(hstore)) == 1


def test_the_next_sweep_closes_a_crashed_sweep_and_names_its_platform(tmp_path: Path) -> None:
    from agent.runtime import open_runtime
    from agent.scaffold import init_home
    from agent.store import start_run
    from devices.errors import DriverError

    home = Home(tmp_path / "demo")
    init_home(home)
    rt = open_runtime(home)
    ws = "sandbox-acme-web"
    with rt.store.session() as s:  # a pid no process has (above Linux's pid_max): gone
        run_id = start_run(s, ws, pid=2**22 + 7, host=HOST).id

    def no_browser(_ws: object) -> object:
        raise DriverError("no browser in this test")

    result = rt.sweeper(triage=False, driver_factory=no_browser).sweep(ws)

    assert result.status == "failed"  # it did close the dead run before it needed a browser
    assert _row(rt.store, run_id).status == "crashed"
    crashed = [d for t, subject, d in _webhook_events(rt.store) if subject == f"run:{run_id}"]
    assert [d["platform"] for d in crashed] == [rt.catalog.workspace(ws).platform]
