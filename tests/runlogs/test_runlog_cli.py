"""``inbox-agent log``: both forms (show and verify) through the real top-level app."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli import app
from agent.commands.log import summarize
from agent.errors import UserError
from runlogs import ActivityLog


@pytest.fixture
def home(tmp_path: Path) -> Path:
    times = iter(datetime(2026, 11, 23, 9, 0, s, tzinfo=UTC) for s in range(60))
    log = ActivityLog(tmp_path / "logs", clock=lambda: next(times))
    log.append("acme", "run_started", run_id="r1", flow="inbox")
    log.append("acme", "item_collected", run_id="r1", text="[bold]hi[/bold]\nsecond line")
    log.append("acme", "run_finished", run_id="r1", items=1)
    log.append("acme", "takeover", actor="user:ana")
    return tmp_path


def _run(home: Path, *args: str):
    return CliRunner().invoke(app, ["--home", str(home), "log", *args])


def test_show_prints_a_table_of_the_log(home: Path) -> None:
    result = _run(home, "acme")
    assert result.exit_code == 0, result.output
    for word in ("run_started", "item_collected", "run_finished", "takeover", "user:ana"):
        assert word in result.output
    assert "text=[bold]hi" in result.output  # markup in the data is shown, not obeyed
    assert "2026-11-23 09:00:00.000" in result.output


def test_show_json_prints_one_object_per_line(home: Path) -> None:
    result = _run(home, "acme", "--json")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["type"] for r in records] == [
        "run_started",
        "item_collected",
        "run_finished",
        "takeover",
    ]
    assert records[1]["data"]["text"] == "[bold]hi[/bold]\nsecond line"
    assert records[0]["time"] == "2026-11-23T09:00:00.000Z"
    assert records[3]["prev"] == records[2]["hash"]


def test_options_may_come_before_the_workspace(home: Path) -> None:
    result = _run(home, "--json", "--run", "r1", "acme")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["run_id"] for line in result.output.splitlines()] == ["r1"] * 3


def test_show_filters_by_run(home: Path) -> None:
    result = _run(home, "acme", "--run", "nope")
    assert result.exit_code == 0
    assert "no events for run 'nope'" in result.output


def test_verify_ok(home: Path) -> None:
    result = _run(home, "verify", "acme")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "ok: 4 lines checked"


def test_verify_names_the_edited_line(home: Path) -> None:
    path = home / "logs" / "acme" / "2026-11-23.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b"second line", b"other line")
    path.write_bytes(b"".join(lines))

    result = _run(home, "verify", "acme")
    assert result.exit_code == 1
    assert "2026-11-23.jsonl:2: line edited (hash mismatch)" in result.output


def test_unknown_workspace_is_a_user_error(home: Path) -> None:
    for args in (["nobody"], ["verify", "nobody"]):
        result = _run(home, *args)
        assert result.exit_code == 1
        assert isinstance(result.exception, UserError)
        assert "no activity log for workspace 'nobody'" in str(result.exception)


def test_bad_workspace_id_is_a_user_error(home: Path) -> None:
    result = _run(home, "../acme")
    assert isinstance(result.exception, UserError)
    assert "invalid workspace id" in str(result.exception)


def test_bare_log_shows_help_naming_both_forms(home: Path) -> None:
    result = _run(home, "--help")
    assert result.exit_code == 0
    assert "verify" in result.output and "WORKSPACE" in result.output


def test_summary_escapes_control_characters_and_is_cut() -> None:
    text = summarize({"text": "a\nb\x1b[31mred\u2028", "n": 2})
    assert text == "text=a\\nb\\x1b[31mred\\u2028 n=2"
    assert len(summarize({"text": "x" * 1000}, width=50)) == 50


def test_follow_prints_existing_then_new_events_once(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agent.commands.log as log_cmd
    from runlogs.reader import follow_events

    calls = []

    def stop() -> bool:
        calls.append(1)
        if len(calls) == 1:  # after the first poll, something new happens
            ActivityLog(home / "logs").append("acme", "handback", actor="user:ana")
            return False
        return True

    def bounded(*args, **kwargs):
        return follow_events(*args, **{**kwargs, "poll_interval": 0.01, "stop": stop})

    monkeypatch.setattr(log_cmd, "follow_events", bounded)
    result = _run(home, "acme", "--follow", "--json")
    assert result.exit_code == 0, result.output
    seqs = [json.loads(line)["seq"] for line in result.output.splitlines()]
    assert seqs == [1, 2, 3, 4, 5]
    assert json.loads(result.output.splitlines()[-1])["type"] == "handback"
