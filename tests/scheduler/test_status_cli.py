"""``inbox-agent status``: every workspace's last sweep, state, next sweep and SLA exposure,
as a table and as JSON, from a real store (no browser)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from agent.cli import app
from agent.runtime import open_runtime
from agent.scaffold import init_home
from agent.scheduler.pauses import pause_workspace
from agent.store import finish_run, start_run, utcnow
from workspaces.paths import Home

runner = CliRunner()


def test_status_shows_last_sweep_pause_next_sweep_and_how_far_behind_the_sla(
    tmp_path: Path,
) -> None:
    home = Home(tmp_path / "home")
    init_home(home)
    rt = open_runtime(home)
    with rt.store.session() as s:
        old = start_run(s, "sandbox-acme-web")
        old.started_at = utcnow() - timedelta(minutes=40)
        s.add(old)
        finish_run(s, old.id, "stopped", stop_reason="login_required", new_items=3)
        fresh = start_run(s, "sandbox-globex-web")
        finish_run(s, fresh.id, "ok", new_items=7)
    pause_workspace(rt.store, rt.log, "sandbox-initech-web", by="ops", reason="on hold")

    result = runner.invoke(app, ["--home", str(home.root), "status", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["workspace"]: r for r in map(json.loads, result.output.splitlines())}
    assert set(rows) == {
        "sandbox-acme-web",
        "sandbox-globex-web",
        "sandbox-initech-web",
        "sandbox-acme-android",
    }
    acme, globex, initech = (
        rows["sandbox-acme-web"],
        rows["sandbox-globex-web"],
        rows["sandbox-initech-web"],
    )
    assert acme["last_status"] == "stopped" and acme["last_stop_reason"] == "login_required"
    assert acme["tightest_sla_min"] == 15
    assert 24 * 60 < acme["behind_sla_s"] < 26 * 60  # unseen for 40 minutes, SLA 15
    assert globex["last_new_items"] == 7 and globex["behind_sla_s"] == 0
    assert initech["state"] == "paused" and "on hold" in initech["state_detail"]
    assert rows["sandbox-acme-android"]["last_started"] is None  # never swept: due now
    assert "(in-process)" in acme["where"]

    table = runner.invoke(app, ["--home", str(home.root), "status"])
    assert table.exit_code == 0
    line = next(ln for ln in table.output.splitlines() if "sandbox-acme-web" in ln)
    assert "behind by 25 min" in line and "login_required" in line
    assert "paused" in next(ln for ln in table.output.splitlines() if "sandbox-initech-web" in ln)
