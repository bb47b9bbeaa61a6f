"""The escalation record: ``inbox-agent export items`` writes every item once with every
field (CSV and JSON Lines round-trip), each field as the store and the script say, and
the recovery note of the items a stop caught open (reason, evidence, what to do, and
whether the workspace recovered)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from report_world import ACME_IG, ACME_WEB, CLIENTS, GLOBEX, LOGIN_SHOT, Script, as_utc

from agent.cli import main
from agent.report.records import RECORD_FIELDS

# What the script did to each item: (draft status, final action).
OUTCOMES = {
    "a1": ("proposed", "replied"), "a2": ("edited", "reply_failed"),
    "a3": ("edited", "reply_queued"), "a4": ("rejected", "awaiting_review"),
    "a5": ("none", "resolved"), "a6": ("none", "escalated"), "a7": ("none", "resolved"),
    "a8": ("none", "paused"), "a9": ("none", "paused"), "a10": ("none", "awaiting_review"),
    "a11": ("none", "dropped"), "a12": ("proposed", "awaiting_review"),
    "a13": ("written", "replied"), "a14": ("proposed", "replied"),
    "i1": ("proposed", "reply_queued"), "i2": ("proposed", "awaiting_review"),
    "g1": ("proposed", "replied"), "g2": ("written", "reply_queued"),
    "g3": ("none", "escalated"), "g4": ("none", "resolved"),
}  # fmt: skip
# Open when acme-web's send stopped on the login wall (recovered since), or when
# globex-web's last sweep failed (not recovered); the others were closed, or never stopped.
LOGIN_WALL = {"a2", "a3", "a4", "a6", "a8", "a9", "a10", "a12"}
CRASHED = {"g2", "g3"}


def _export(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(["--home", str(home), "export", "items", *args])
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


def _stored(day: Script) -> dict[int, dict[str, object]]:
    """Each item's fields, read with plain SQL (the latest decision's owner and tags)."""
    with day.store.engine.connect() as conn:
        items = conn.execute(sa.text(
            "SELECT id, workspace, platform, account, kind, author, author_handle, thread,"
            " seen_at, status, follow_up_on FROM items"
        )).all()  # fmt: skip
        latest = conn.execute(sa.text(
            "SELECT item_id, intent, priority, owner FROM decisions d WHERE id ="
            " (SELECT max(id) FROM decisions e WHERE e.item_id = d.item_id)"
        )).all()  # fmt: skip
    tags = {i: (intent, prio, owner) for i, intent, prio, owner in latest}
    out: dict[int, dict[str, object]] = {}
    for i, ws, platform, account, kind, author, handle, thread, seen, status, due in items:
        intent, prio, owner = tags[i]
        out[i] = {
            "id": i, "workspace": ws, "client": CLIENTS[ws], "platform": platform,
            "account": account, "message_type": kind, "handle": handle or author,
            "thread": thread, "seen_at": as_utc(seen), "intent": intent, "priority": prio,
            "owner": owner, "review_status": status, "follow_up": str(due) if due else None,
        }  # fmt: skip
    return out


def test_every_item_once_with_every_field(
    day: Script, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    home = day.runtime.home.root
    stored = _stored(day)
    key_of = {v: k for k, v in day.ids.items()}
    rc, out, _ = _export(capsys, home)
    assert rc == 0
    reader = csv.DictReader(io.StringIO(out))
    assert tuple(reader.fieldnames or ()) == RECORD_FIELDS
    rows = list(reader)
    assert sorted(int(r["id"]) for r in rows) == sorted(stored)  # every item, once
    rc, _, err = _export(capsys, home, "--jsonl", "--output", str(tmp_path / "items.jsonl"))
    assert rc == 0 and f"wrote {len(stored)} items" in err
    lines = [json.loads(x) for x in (tmp_path / "items.jsonl").read_text().splitlines()]
    assert [r["id"] for r in lines] == sorted(stored)
    for row, line in zip(sorted(rows, key=lambda r: int(r["id"])), lines, strict=True):
        assert set(line) == set(RECORD_FIELDS)
        assert {k: "" if v is None else str(v) for k, v in line.items()} == row  # same record
        want = stored[line["id"]]
        got = dict(line, seen_at=as_utc(line["seen_at"]))
        assert {k: got[k] for k in want} == want
        key = key_of[line["id"]]
        assert (line["draft_status"], line["final_action"]) == OUTCOMES[key], key
        note = line["recovery_note"]
        if key in LOGIN_WALL:
            assert "send stopped at" in note and "login_required (the login page was shown)" in note
            assert f"evidence: screenshot {LOGIN_SHOT}" in note
            assert "do: sign the profile in again: inbox-agent login acme-web" in note
            assert "recovered: a run at" in note, note
        elif key in CRASHED:
            assert "sweep failed at" in note and "crashed (the browser did not start)" in note
            assert "not recovered yet" in note and "evidence: run " in note
        else:
            assert note is None, (key, note)
    a2 = next(r for r in lines if r["id"] == day.ids["a2"])
    assert a2["recovery_note"].startswith(
        "Reply not sent: after 3 attempts: login_required: the login page was shown."
    )
    a12 = next(r for r in lines if r["id"] == day.ids["a12"])
    assert a12["follow_up"] == day.due


def test_one_workspace_and_bad_input(day: Script, capsys: pytest.CaptureFixture[str]) -> None:
    home = day.runtime.home.root
    rc, out, _ = _export(capsys, home, "--jsonl", "-w", ACME_IG, "-w", GLOBEX)
    assert rc == 0
    assert {json.loads(x)["workspace"] for x in out.splitlines()} == {ACME_IG, GLOBEX}
    assert len(out.splitlines()) == sum(1 for k in day.ids if k[0] in "ig")
    rc, out, err = _export(capsys, home, "-w", "nope")
    assert rc == 1 and out == "" and "unknown workspace 'nope' (known: acme-insta, acme-web" in err
    rc, out, err = _export(capsys, home, "--csv", "--jsonl")
    assert rc == 1 and "choose one of --csv and --jsonl" in err and "Traceback" not in err
    assert ACME_WEB in CLIENTS
