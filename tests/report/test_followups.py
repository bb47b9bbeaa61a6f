"""Follow-up dates: a review action (grants, roles, validation, a history row and an
activity-log event), the JSON API (CSRF, 400 and 404 as for the other actions), the due
list, and the item's record over the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from report_world import ACME_WEB, GLOBEX, Script, signed_in
from sqlmodel import col, select

from agent.review import create_app
from agent.review.auth import get_user
from agent.review.errors import NotAllowed, NotFound, ReviewError
from agent.review.followups import follow_ups_due, parse_day, set_follow_up
from agent.store import Item, Review, User


def _user(script: Script, name: str) -> User:
    with script.store.session() as s:
        user = get_user(s, name)
    assert user is not None
    return user


def _item(script: Script, key: str) -> Item:
    with script.store.session() as s:
        item = s.get(Item, script.ids[key])
    assert item is not None
    return item


def test_setting_and_clearing_leaves_history_and_log(script: Script) -> None:
    today = script.now.date()
    item_id = script.ids["a4"]
    log = script.runtime.log
    ann = _user(script, "ann")
    set_follow_up(script.store, item_id, ann, today + timedelta(days=7), note="  wait for\nphotos ",
                  log=log)  # fmt: skip
    assert _item(script, "a4").follow_up_on == today + timedelta(days=7)
    set_follow_up(script.store, item_id, ann, None, log=log)
    assert _item(script, "a4").follow_up_on is None
    with script.store.session() as s:
        history = s.exec(
            select(Review).where(Review.item_id == item_id, Review.action == "follow_up")
            .order_by(col(Review.id))
        ).all()  # fmt: skip
    assert [(r.reviewer, r.note) for r in history] == [
        ("ann", f"follow up on {today + timedelta(days=7)}: wait for photos"),
        ("ann", "follow-up cleared"),
    ]
    events = [e for e in log.events(ACME_WEB) if e.data.get("action") == "follow_up"]
    mine = [e for e in events if e.data["item"] == item_id]
    assert [(e.type, e.actor, e.data["follow_up"], e.data["before"]) for e in mine] == [
        ("review", "user:ann", (today + timedelta(days=7)).isoformat(), None),
        ("review", "user:ann", None, (today + timedelta(days=7)).isoformat()),
    ]


def test_refusals(script: Script) -> None:
    today = script.now.date()
    a4 = script.ids["a4"]
    with pytest.raises(NotFound):  # rob has globex only: an acme item looks absent
        set_follow_up(script.store, a4, _user(script, "rob"), today)
    with pytest.raises(NotAllowed, match="reviewer role"):
        set_follow_up(script.store, a4, _user(script, "vic"), today)
    ann = _user(script, "ann")
    with pytest.raises(ReviewError, match="is in the past"):
        set_follow_up(script.store, a4, ann, today - timedelta(days=2))
    with pytest.raises(ReviewError, match="more than a year ahead"):
        set_follow_up(script.store, a4, ann, today + timedelta(days=400))
    with pytest.raises(ReviewError, match="NUL"):
        set_follow_up(script.store, a4, ann, today, note="a\x00b")
    with pytest.raises(ReviewError, match="'2026-02-30' is not a date"):
        parse_day("2026-02-30")
    assert parse_day(" ") is None
    assert _item(script, "a4").follow_up_on is None  # nothing was stored by any of them


@pytest.fixture
def app(script: Script) -> FastAPI:
    return create_app(script.runtime)


def test_the_api(script: Script, app: FastAPI) -> None:
    today = script.now.date()
    ann = signed_in(app, "ann")
    csrf = ann.get("/api/me").json()["csrf_token"]
    url = f"/api/items/{script.ids['g3']}/follow-up"
    assert ann.post(url, json={"date": today.isoformat()}).status_code == 403  # no CSRF header
    r = ann.post(url, json={"date": today.isoformat(), "note": "call back"},
                 headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert r.status_code == 200 and r.json() == {
        "ok": True, "item": script.ids["g3"], "follow_up": today.isoformat()
    }  # fmt: skip
    bad = ann.post(url, json={"date": "next week"}, headers={"X-CSRF-Token": csrf})
    assert bad.status_code == 400 and "is not a date" in bad.json()["error"]
    rob = signed_in(app, "rob")
    rob_csrf = rob.get("/api/me").json()["csrf_token"]
    theirs = rob.post(f"/api/items/{script.ids['a1']}/follow-up", json={"date": None},
                      headers={"X-CSRF-Token": rob_csrf})  # fmt: skip
    assert theirs.status_code == 404
    # due today: g3 (just set); a12's is three days ahead. rob sees globex only.
    due = ann.get("/api/follow-ups").json()
    assert [i["id"] for i in due["items"]] == [script.ids["g3"]]
    with script.store.session() as s:
        later = follow_ups_due(s, None, today + timedelta(days=3))
        assert [i.id for i in later] == [script.ids["g3"], script.ids["a12"]]
        assert [i.id for i in follow_ups_due(s, {ACME_WEB}, today + timedelta(days=3))] == [
            script.ids["a12"]
        ]
    assert [i["id"] for i in rob.get("/api/follow-ups").json()["items"]] == [script.ids["g3"]]
    record = ann.get(f"/api/items/{script.ids['g3']}/record").json()
    assert record["follow_up"] == today.isoformat() and record["workspace"] == GLOBEX
    assert record["final_action"] == "escalated" and "not recovered yet" in record["recovery_note"]
    assert rob.get(f"/api/items/{script.ids['a1']}/record").status_code == 404
