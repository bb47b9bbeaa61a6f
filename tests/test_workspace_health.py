"""A workspace's health over the last week (sweeps, stop reasons, drift, login state), in
``inbox-agent workspaces show`` and on the review UI's workspace page, from a real store."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from agent.cli import app
from agent.health import workspace_health
from agent.runtime import Runtime, open_runtime
from agent.scaffold import init_home
from agent.store import Takeover, finish_run, start_run, utcnow
from workspaces.paths import Home

ACME = "sandbox-acme-web"


def sweep(
    rt: Runtime, status: str, *, ago_h: float, reason: str | None = None, **counts: int
) -> None:
    with rt.store.session() as s:
        run = start_run(s, ACME)
        run.started_at = utcnow() - timedelta(hours=ago_h)
        s.add(run)
        finish_run(s, run.id, status, stop_reason=reason, **counts)


def home(tmp_path: Path) -> Runtime:
    h = Home(tmp_path / "home")
    init_home(h)
    return open_runtime(h)


def test_the_week_is_counted_and_the_login_state_follows_the_latest_sweep(tmp_path: Path) -> None:
    rt = home(tmp_path)
    sweep(rt, "ok", ago_h=24 * 9)  # older than the week: not counted
    sweep(rt, "ok", ago_h=50)
    sweep(rt, "drift", ago_h=30, unreadable=4, missed=1)
    sweep(rt, "stopped", ago_h=2, reason="rate_limited")
    sweep(rt, "stopped", ago_h=1, reason="login_required")
    h = workspace_health(rt.store, ACME)
    assert h.sweeps == 4 and h.by_status == {"ok": 1, "drift": 1, "stopped": 2}
    assert h.stop_reasons == {"rate_limited": 1, "login_required": 1}
    assert h.drift == 1 and h.unreadable == 4 and h.missed == 1
    assert h.login == "needs a person (login_required)" and h.last_stop_reason == "login_required"
    sweep(rt, "ok", ago_h=0.1)  # signed in again
    assert workspace_health(rt.store, ACME).login == "signed in"
    sweep(rt, "stopped", ago_h=0.05, reason="rate_limited")  # says nothing about the session
    assert workspace_health(rt.store, ACME).login == "signed in"


def test_workspaces_show_prints_the_health(tmp_path: Path) -> None:
    rt = home(tmp_path)
    sweep(rt, "stopped", ago_h=1, reason="challenge")
    with rt.store.session() as s:
        s.add(Takeover(workspace=ACME, user="rita"))
    out = CliRunner().invoke(app, ["--home", str(rt.home.root), "workspaces", "show", ACME])
    assert out.exit_code == 0, out.output
    assert "login: needs a person (challenge)" in out.output
    assert "stop reasons: challenge 1" in out.output and "taken over by rita" in out.output
    js = CliRunner().invoke(
        app, ["--home", str(rt.home.root), "workspaces", "show", ACME, "--json"]
    )
    data = json.loads(js.output)
    assert data["health"]["stop_reasons"] == {"challenge": 1}
    assert data["schedule_status"]["state"] == "taken_over"
