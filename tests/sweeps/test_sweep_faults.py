"""Every fault mode ends a sweep with its named reason, a screenshot and a stop event.

No fault may produce a traceback or a silent partial success: a stopped sweep
stores nothing, and once the fault is lifted the next sweep collects everything.
``slow`` is survived; ``changed_dom`` is survived through fallbacks and reported
as drift, collecting the same items as the normal DOM.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli import app
from agent.runtime import Runtime
from sandbox.testing import RunningSandbox
from tests.sweeps.conftest import (
    ACME,
    injected_rows,
    run_events,
    signed_in_runtime,
    stored_items,
    stored_rows,
)

STOPS = [
    ("session_expired", "login_required"),
    ("challenge", "challenge"),
    ("rate_limited", "rate_limited"),
    ("wrong_account", "wrong_account"),
    ("never_loads", "timeout"),
    ("server_error", "platform_error"),  # an error page is its own stop, not wrong_account
]
STEP_TIMEOUT_S = 2.0  # never_loads would otherwise wait out the 15 s default, three times


def inject(sb: RunningSandbox) -> None:
    c = sb.client
    post = c.add_post("acme", "New collection")["id"]
    top = c.post_message("acme", "comment", "bob", "Is this vegan?", thread=post)
    c.post_message("acme", "comment", "carol", "Asking too", thread=post, parent=top["id"])
    c.post_message("acme", "dm", "dave", "Where is my parcel?")


@pytest.mark.parametrize(("mode", "reason"), STOPS)
def test_fault_stops_the_sweep_with_its_named_reason_and_evidence(
    sb: RunningSandbox, rt: Runtime, mode: str, reason: str
) -> None:
    inject(sb)
    sb.client.fault("acme", mode)

    result = rt.sweeper(step_timeout_s=STEP_TIMEOUT_S).sweep(ACME)

    assert (result.status, result.stop_reason) == ("stopped", reason), result.message
    assert result.new_items == 0 and stored_items(rt) == []  # no silent partial success
    assert result.evidence and Path(result.evidence).is_file()
    events = run_events(rt, result)
    [stop] = [e for e in events if e.type == "stop"]
    assert stop.data["reason"] == reason
    assert stop.data["screenshot"] == result.evidence
    assert stop.data["url"].startswith(sb.url)
    assert events[-1].type == "run_finished"
    assert events[-1].data["status"] == "stopped"
    assert not [e for e in events if e.type == "item_collected"]
    assert "Traceback" not in json.dumps([dict(e.data) for e in events])

    # Lifting the fault loses nothing: the next sweep collects every injected item.
    sb.client.fault("acme", "none")
    after = rt.sweeper().sweep(ACME)
    assert after.status == "ok", after.message
    assert stored_rows(rt) == injected_rows(sb, "acme")


def test_a_stopped_sweep_exits_2_with_json_and_no_traceback(
    sb: RunningSandbox, rt: Runtime
) -> None:
    sb.client.fault("acme", "rate_limited")
    home = str(rt.home.root)
    out = CliRunner().invoke(app, ["--home", home, "sweep", ACME, "--json"])
    assert out.exit_code == 2, out.output
    assert "Traceback" not in out.output
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["status"] == "stopped" and summary["stop_reason"] == "rate_limited"
    assert summary["new_items"] == 0


def test_slow_pages_still_sweep_completely(sb: RunningSandbox, rt: Runtime) -> None:
    inject(sb)
    sb.client.fault("acme", "slow", slow_ms=700)
    result = rt.sweeper().sweep(ACME)
    assert result.status == "ok", result.message
    assert result.new_items == 3
    assert stored_rows(rt) == injected_rows(sb, "acme")


def test_changed_dom_is_survived_through_fallbacks_and_reported_as_drift(
    sb: RunningSandbox, rt: Runtime, tmp_path: Path, acme_profile: Path
) -> None:
    inject(sb)
    normal = rt.sweeper().sweep(ACME)
    assert normal.status == "ok" and normal.fallbacks == {}

    drifted = signed_in_runtime(tmp_path / "drifted", acme_profile)
    sb.client.fault("acme", "changed_dom")
    result = drifted.sweeper().sweep(ACME)

    assert result.status == "ok", result.message
    assert stored_rows(drifted) == stored_rows(rt) == injected_rows(sb, "acme")
    for name in ("account_handle", "message_item", "comment_item", "comment_text"):
        assert result.fallbacks.get(name, 0) >= 1, result.fallbacks
    logged = {
        e.data["selector"] for e in run_events(drifted, result) if e.type == "selector_fallback"
    }
    assert logged == set(result.fallbacks)
