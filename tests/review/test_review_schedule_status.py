"""The scheduler's status in the review UI: the /schedule page and the workspace page's
"Schedule" section show what ``inbox-agent status`` shows, for granted workspaces only."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from review_world import ACME, GLOBEX, World, workspace_yaml

from agent.config import load_catalog
from agent.review.pages import span
from agent.scheduler.pauses import pause_workspace
from agent.scheduler.planner import tightest_sla_minutes
from agent.scheduler.ticks import plan_tick
from agent.store import TickKind, finish_run, start_run, utcnow

Clients = Callable[[str], TestClient]


def schedule(world: World, workspace: str, every_minutes: float | None = 15) -> None:
    """(Re)write the workspace's file, with a schedule (None: none), and reload the catalog."""
    text = workspace_yaml(workspace)
    if every_minutes is not None:
        text += f"schedule:\n  every_minutes: {every_minutes:g}\n"
    (world.home.config_dir("workspaces") / f"{workspace}.yaml").write_text(text)
    world.runtime.catalog = load_catalog(world.home)
    assert world.runtime.catalog.problems == []


def sweep(
    world: World,
    workspace: str,
    status: str,
    *,
    minutes_ago: float,
    stop_reason: str | None = None,
    new_items: int = 0,
) -> None:
    """A finished sweep run that started ``minutes_ago``."""
    with world.store.session() as s:
        run = start_run(s, workspace)
        finish_run(s, run.id, status, stop_reason=stop_reason, new_items=new_items)
        run.started_at = utcnow() - timedelta(minutes=minutes_ago)
        s.add(run)


def body(html: str) -> str:
    """The page without its inline stylesheet (whose class names would match anything)."""
    return re.sub(r"<style>.*?</style>", "", html, flags=re.S)


def row(html: str, workspace: str) -> str | None:
    """The /schedule page's table row of ``workspace`` (None: not shown)."""
    match = re.search(
        rf'<tr[^>]*>\s*<td data-label="Workspace"><a href="/workspaces/{re.escape(workspace)}">'
        r".*?</tr>",
        html,
        flags=re.S,
    )
    return match.group(0) if match else None


def section(html: str) -> str:
    """The workspace page's "Schedule" section."""
    match = re.search(r'<section class="card schedule".*?</section>', html, flags=re.S)
    assert match, "no Schedule section on the workspace page"
    return match.group(0)


def test_schedule_page_shows_only_granted_workspaces(world: World, client_for: Clients) -> None:
    schedule(world, ACME)
    schedule(world, GLOBEX, every_minutes=None)  # manual: no schedule
    alice, eve, root = client_for("alice"), client_for("eve"), client_for("root")

    page = alice.get("/schedule")
    assert page.status_code == 200
    mine = row(page.text, ACME)
    assert mine is not None and "every 15 min" in mine
    assert row(page.text, GLOBEX) is None
    assert GLOBEX not in body(page.text)  # not a link, not a name, nothing
    assert 'href="/schedule"' in alice.get("/").text  # linked from the header

    theirs = eve.get("/schedule").text
    assert row(theirs, ACME) is None and ACME not in body(theirs)
    manual = row(theirs, GLOBEX)
    assert manual is not None
    assert "manual (no schedule)" in manual and "nothing planned" in manual

    everything = root.get("/schedule").text  # an admin sees every workspace
    assert row(everything, ACME) is not None and row(everything, GLOBEX) is not None

    assert alice.get(f"/workspaces/{GLOBEX}").status_code == 404  # as for one that is absent
    assert "every 15 min" in section(alice.get(f"/workspaces/{ACME}").text)

    world.item("retired-web", "an item of a workspace no longer configured")
    retired = section(root.get("/workspaces/retired-web").text)  # an admin sees it
    assert "not in this home's configuration" in retired
    assert row(root.get("/schedule").text, "retired-web") is None  # nothing is scheduled

    world.user("nobody", "reviewer")  # granted nothing: an empty page, not everything
    empty = body(client_for("nobody").get("/schedule").text)
    assert "is granted to you" in empty and ACME not in empty and GLOBEX not in empty


def test_schedule_needs_a_session(app: FastAPI) -> None:
    with TestClient(app, base_url="https://testserver") as anonymous:
        r = anonymous.get("/schedule", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


def test_finished_sweep_shows_its_result(world: World, client_for: Clients) -> None:
    schedule(world, ACME)
    alice = client_for("alice")
    before = row(alice.get("/schedule").text, ACME)
    assert before is not None and "never" in before and "drift" not in before

    sweep(world, ACME, "drift", minutes_ago=3, stop_reason="max_items", new_items=3)
    after = row(alice.get("/schedule").text, ACME)
    assert after is not None
    assert '<span class="pill warn">drift</span>' in after
    assert "stopped: max_items" in after and "3 new items" in after
    assert "3m ago" in after and "never" not in after
    ws = section(alice.get(f"/workspaces/{ACME}").text)
    assert "drift" in ws and "stopped: max_items" in ws and "3m ago" in ws

    sweep(world, ACME, "ok", minutes_ago=1, new_items=1)  # the latest sweep is shown
    latest = row(alice.get("/schedule").text, ACME)
    assert latest is not None
    assert '<span class="pill good">ok</span>' in latest and "1 new item<" in latest
    assert "drift" not in latest


def test_paused_workspace_shows_paused(world: World, client_for: Clients) -> None:
    schedule(world, ACME)
    alice = client_for("alice")
    before = row(alice.get("/schedule").text, ACME)
    assert before is not None
    assert '<span class="pill">idle</span>' in before and ">paused<" not in before

    reason = "client asked <b>stop</b>\u202e"
    pause_workspace(world.store, world.runtime.log, ACME, by="carol", reason=reason)
    page = alice.get("/schedule").text
    after = row(page, ACME)
    assert after is not None
    assert '<span class="pill warn">paused</span>' in after
    assert "by carol: client asked &lt;b&gt;stop&lt;/b&gt;\u27e8U+202E\u27e9" in after
    assert "skipped while paused" in after
    assert "<b>stop</b>" not in page and "\u202e" not in page  # escaped, the override inert
    ws = section(alice.get(f"/workspaces/{ACME}").text)
    assert '<span class="pill warn">paused</span>' in ws and "by carol" in ws


def test_running_sweep_shows_queued_and_no_next_time(world: World, client_for: Clients) -> None:
    schedule(world, ACME)
    alice = client_for("alice")
    now = utcnow()
    tick = plan_tick(
        world.store, ACME, TickKind.SWEEP, now, now=now, planned_by="scheduler-1", queue=""
    )
    assert tick is not None
    after = row(alice.get("/schedule").text, ACME)
    assert after is not None
    assert '<span class="pill info">queued</span>' in after
    assert f"sweep run {tick.id}" in after and "after the current run" in after


def test_workspace_behind_its_tightest_sla_is_highlighted(
    world: World, client_for: Clients
) -> None:
    schedule(world, ACME)
    schedule(world, GLOBEX)
    sla = tightest_sla_minutes(world.home, world.runtime.catalog.workspace(ACME))
    assert sla is not None
    sweep(world, ACME, "ok", minutes_ago=sla + 25)  # 25 minutes past the SLA
    sweep(world, GLOBEX, "ok", minutes_ago=1)  # well within it
    page = client_for("root").get("/schedule").text

    late, fine = row(page, ACME), row(page, GLOBEX)
    assert late is not None and fine is not None
    assert late.startswith('<tr class="behind">')
    assert '<span class="pill bad">behind by 25m</span>' in late
    assert "behind" not in fine and '<span class="pill good">within</span>' in fine

    alice = client_for("alice")
    ws = section(alice.get(f"/workspaces/{ACME}").text)
    assert "Behind its tightest SLA by 25m" in ws and "behind by 25m" in ws
    eve = client_for("eve")
    assert "behind" not in section(eve.get(f"/workspaces/{GLOBEX}").text).lower()


def test_platform_spacing_longer_than_the_sla_cadence_is_noted(
    world: World, client_for: Clients
) -> None:
    schedule(world, ACME)
    sla = tightest_sla_minutes(world.home, world.runtime.catalog.workspace(ACME))
    assert sla is not None
    cadence = span(sla * 60 / 3)  # the default SLA cadence: a third of the tightest SLA
    alice = client_for("alice")
    note = f"spacing (1h 00m) is longer than the SLA cadence ({cadence})"
    assert "is longer than the SLA cadence" not in body(alice.get("/schedule").text)

    (world.home.root / "scheduler.yaml").write_text("min_spacing_minutes:\n  sandbox: 60\n")
    world.runtime.catalog = load_catalog(world.home)
    assert world.runtime.catalog.problems == []
    after = row(alice.get("/schedule").text, ACME)
    assert after is not None
    assert note in after
    ws = section(alice.get(f"/workspaces/{ACME}").text)
    assert f"The platform's {note}: sweeps cannot keep up with the SLA." in ws


def test_a_triage_file_that_does_not_load_is_a_note_naming_nobody(
    world: World, client_for: Clients
) -> None:
    schedule(world, ACME)
    (world.home.root / "globex-triage.yaml").write_text("routing: [1, 2\n")
    text = workspace_yaml(GLOBEX) + "triage: globex-triage.yaml\nschedule:\n  every_minutes: 15\n"
    (world.home.config_dir("workspaces") / f"{GLOBEX}.yaml").write_text(text)
    world.runtime.catalog = load_catalog(world.home)
    alice = client_for("alice")
    page = alice.get("/schedule")
    assert page.status_code == 200
    assert "The schedule cannot be worked out" in page.text and row(page.text, ACME) is None
    assert "globex" not in body(page.text).lower()  # not the file, not the workspace
    ws = alice.get(f"/workspaces/{ACME}")
    assert ws.status_code == 200 and "The schedule cannot be worked out" in section(ws.text)
