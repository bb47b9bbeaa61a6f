"""Scale-out for real: a Redis broker, a private PostgreSQL, two Celery workers on two
simulated hosts (each with its own three browser profiles) and two schedulers.

Six sandbox workspaces are swept once per planned run on their own host and their
items land in PostgreSQL. A worker SIGKILLed in the middle of a sweep has that sweep
run again by its host's replacement worker, with no item lost or stored twice; the
active scheduler SIGKILLed leaves the standby to plan on, with no run planned twice.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlmodel import col, select

from agent.runtime import open_runtime
from agent.scaffold import init_home
from agent.store import Item, Run, SweepTick, open_store
from sandbox.testing import RunningSandbox, running_sandbox
from tests.serving import free_port
from workspaces.paths import Home

pytestmark = [pytest.mark.postgres, pytest.mark.browser]

HOSTS = {"host-a": ["acme", "globex", "initech"], "host-b": ["umbrella", "hooli", "stark"]}
ACCOUNTS = tuple(a for accounts in HOSTS.values() for a in accounts)
EVERY_MINUTES = 0.5
CLI = str(Path(sys.executable).parent / "inbox-agent")

WORKSPACE = """\
id: ws-{account}
client: {account} inc
platform: sandbox
surface: web
environment:
  kind: browser_profile
  start_url: "${{INBOX_AGENT_SANDBOX_URL}}"
  expected_account: "@{account}"
  host: {host}
  login: {{username: {account}, password_env: SANDBOX_PASSWORD}}
flows: {{inbox: sandbox-inbox, reply: sandbox-reply, login: sandbox-login}}
selectors: sandbox-web
schedule: {{every_minutes: {every}}}
"""


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server not found: install the apt package redis-server (make test does)")
    port = free_port()
    proc = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def six_accounts() -> Iterator[RunningSandbox]:
    with running_sandbox(empty=True, accounts=ACCOUNTS) as sb:
        yield sb


class Fleet:
    """The processes of the test; every one is killed at the end, whatever happened."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str, **extra: str) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [CLI, *args],
            env={**self.env, **extra},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a kill takes its children too
        )
        self.procs[name] = proc
        return proc

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)


def wait_for(what: str, check: Callable[[], object], timeout_s: float, fleet: Fleet) -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.25)
    logs = "\n".join(f"--- {n}\n{fleet.log(n)[-3000:]}" for n in fleet.procs)
    pytest.fail(f"timed out waiting for {what}\n{logs}")


def test_two_hosts_two_schedulers_a_killed_worker_and_a_killed_scheduler(
    tmp_path: Path,
    redis_url: str,
    six_accounts: RunningSandbox,
    fresh_postgres: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sb = six_accounts
    db = fresh_postgres()
    env_vars = {
        "INBOX_AGENT_DB": db,
        "INBOX_AGENT_BROKER": redis_url,
        "INBOX_AGENT_BROKER_VISIBILITY_S": "6",
        "INBOX_AGENT_SANDBOX_URL": sb.url,
        "SANDBOX_PASSWORD": "sandbox",
    }
    for key, value in env_vars.items():
        monkeypatch.setenv(key, value)
    home = Home(tmp_path / "home")
    init_home(home)
    for example in (home.root / "workspaces").glob("*.yaml"):
        example.unlink()
    for host, accounts in HOSTS.items():
        for account in accounts:
            text = WORKSPACE.format(account=account, host=host, every=EVERY_MINUTES)
            (home.root / "workspaces" / f"ws-{account}.yaml").write_text(text)
    (home.root / "scheduler.yaml").write_text("tick_seconds: 0.5\n")
    rt = open_runtime(home)
    for account in ACCOUNTS:  # each profile signed in once, by its login flow
        assert rt.sweeper().login(f"ws-{account}").status == "ok"
        sb.client.bulk(account, "dm", 30, seed=1)
    sb.client.fault(
        "acme", "slow", slow_ms=700
    )  # host-a's acme sweep lasts long enough to be killed

    env = {**os.environ, **env_vars, "INBOX_AGENT_HOME": str(home.root)}
    fleet = Fleet(env, tmp_path)
    store = open_store(db)
    try:
        fleet.start("worker-a", "worker", "--host", "host-a", "--concurrency", "2")
        fleet.start("worker-b", "worker", "--host", "host-b", "--concurrency", "2")
        fleet.start("scheduler-1", "run")

        def ticks() -> list[SweepTick]:
            with store.session() as s:
                return list(s.exec(select(SweepTick).order_by(col(SweepTick.id))).all())

        wait_for("the first scheduler to plan six runs", lambda: len(ticks()) >= 6, 60, fleet)
        fleet.start("scheduler-2", "run")  # the standby
        first = {t.workspace: t for t in ticks()[:6]}
        active = first["ws-acme"].planned_by
        assert {t.planned_by for t in first.values()} == {active}

        def acme_running() -> bool:
            with store.session() as s:
                run = s.exec(
                    select(Run).where(Run.workspace == "ws-acme", Run.status == "running")
                ).first()
                if run is None:
                    return False
                return bool(s.exec(select(Item).where(Item.workspace == "ws-acme")).first())

        wait_for("acme's sweep to be collecting on host-a", acme_running, 90, fleet)
        fleet.kill("worker-a")  # in the middle of the sweep, its Chromium with it
        fleet.kill("scheduler-1")  # and the active scheduler
        fleet.start("worker-a2", "worker", "--host", "host-a", "--concurrency", "2")
        sb.client.fault("acme", "none")

        def second_round_done() -> bool:
            done: dict[str, int] = {}
            for t in ticks():
                if t.state == "done":
                    done[t.workspace] = done.get(t.workspace, 0) + 1
            return len(done) == 6 and min(done.values()) >= 2

        for account in ACCOUNTS:  # new items for the next round
            sb.client.bulk(account, "comment", 5, seed=2)
        wait_for("every workspace's second run", second_round_done, 240, fleet)
    finally:
        fleet.stop_all()

    all_ticks = ticks()
    by_ws: dict[str, list[SweepTick]] = {}
    for t in all_ticks:
        by_ws.setdefault(t.workspace, []).append(t)
    queue_of = {f"ws-{a}": f"host.{h}" for h, accounts in HOSTS.items() for a in accounts}
    for ws, planned in by_ws.items():
        dues = [t.due_at for t in planned]
        assert len(set(dues)) == len(dues), f"{ws}: a run planned twice"
        for before, after in zip(planned, planned[1:], strict=False):  # never two at once
            assert before.finished_at is not None and after.planned_at >= before.finished_at, ws
        assert {t.queue for t in planned} == {queue_of[ws]}
        host = queue_of[ws].removeprefix("host.")
        assert all(t.worker and t.worker.startswith(host) for t in planned if t.state == "done")
    later = [t for t in all_ticks if t.id not in {f.id for f in first.values()}]
    assert later and {t.planned_by for t in later} != {active}  # the standby planned them

    killed = first["ws-acme"]
    with store.session() as s:
        rerun = s.get(SweepTick, killed.id)
        assert rerun.state == "done" and rerun.attempts == 2 and rerun.result == "ok"
        runs = list(s.exec(select(Run).where(Run.workspace == "ws-acme", Run.kind == "sweep")))
        assert "crashed" in {r.status for r in runs}  # the killed one, closed by the rerun
        assert all(r.host == "host-a" for r in runs)
        for account in ACCOUNTS:
            rows = list(s.exec(select(Item).where(Item.workspace == f"ws-{account}")))
            posted = {m.id for m in sb.state.messages.values() if m.account == account}
            assert {r.message_id for r in rows} == posted, account  # nothing lost
            assert len(rows) == len(posted) == 35, account  # nothing stored twice
