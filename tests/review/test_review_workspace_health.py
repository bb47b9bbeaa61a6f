"""The workspace page's Health section: last week's sweeps, stop reasons, drift and login
state, for a granted reviewer (and nothing of an ungranted workspace)."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from review_world import ACME, GLOBEX, World
from test_review_schedule_status import sweep

Clients = Callable[[str], TestClient]


def health(html: str) -> str:
    match = re.search(r'<section class="card health".*?</section>', html, flags=re.S)
    assert match is not None, "no Health section"
    return match.group(0)


def test_the_workspace_page_shows_its_health(world: World, client_for: Clients) -> None:
    sweep(world, ACME, "ok", minutes_ago=300)
    sweep(world, ACME, "drift", minutes_ago=200)
    sweep(world, ACME, "stopped", minutes_ago=10, stop_reason="login_required")
    alice = client_for("alice")
    section = health(alice.get(f"/workspaces/{ACME}").text)
    assert "needs a person (login_required)" in section
    assert "Sign the profile in again" in section
    assert "ok 1" in section and "drift 1" in section and "stopped 1" in section
    assert "login_required 1" in section
    sweep(world, ACME, "ok", minutes_ago=1)
    again = health(alice.get(f"/workspaces/{ACME}").text)
    assert "signed in" in again and "Sign the profile in again" not in again
    assert alice.get(f"/workspaces/{GLOBEX}").status_code == 404
