"""Reviewer corrections of triage: recorded as labels only when a value changes, a rejected
draft is one too, and the API and the item page's form work with CSRF and grants, refuse bad
values with a 400 naming the field, and show what was corrected as inert text."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from review_world import ACME, GLOBEX, World, csrf_of
from sqlmodel import select

from agent.review import actions
from agent.review.errors import NotAllowed, NotFound, ReviewError
from agent.review.queries import latest_decision
from agent.store import Decision, Review
from agent.store.corrections import corrections_for


def _labels(
    world: World, workspace: str = ACME
) -> list[tuple[int, str, str | None, str | None, str]]:
    return [
        (r.item_id, r.field, r.old_value, r.new_value, r.reviewer)
        for r in corrections_for(world.store, workspace)
    ]


def _decision(world: World, item_id: int) -> Decision:
    with world.store.session() as s:
        decision = latest_decision(s, item_id)
    assert decision is not None
    return decision


def test_correct_records_only_the_fields_that_change(world: World) -> None:
    item_id = world.item(
        ACME, "I was charged twice", status="triaged"
    )  # product_question/P3/support
    alice = world.get_user("alice")
    log = world.runtime.log
    item = actions.correct(
        world.store, item_id, alice, intent="billing_refund", priority="P3", queue="billing",
        note="it is a refund", log=log,
    )  # fmt: skip
    assert item.status == "triaged" == world.get_item(item_id).status  # stays where it was
    assert _labels(world) == [
        (item_id, "intent", "product_question", "billing_refund", "alice"),
        (item_id, "queue", "support", "billing", "alice"),
    ]
    decision = _decision(world, item_id)
    assert (decision.intent, decision.priority, decision.queue) == (
        "billing_refund",
        "P3",
        "billing",
    )
    assert decision.action == "review" and decision.draft  # nothing approved, draft kept
    assert world.outbox() == []
    with world.store.session() as s:
        reviews = s.exec(select(Review).where(Review.item_id == item_id)).all()
    assert [(r.action, r.reviewer, r.note) for r in reviews] == [
        ("correct", "alice", "it is a refund")
    ]
    events = [e for e in log.events(ACME) if e.type == "review"]
    assert [(e.actor, e.data["action"], e.data["item"]) for e in events] == [
        ("user:alice", "correct", item_id)
    ]
    assert events[0].data["changed"] == {
        "intent": {"old": "product_question", "new": "billing_refund"},
        "queue": {"old": "support", "new": "billing"},
    }
    # a second reviewer corrects the correction: the old value is the first one's new value
    actions.correct(world.store, item_id, world.get_user("bob"), priority="P2")
    assert _labels(world)[-1] == (item_id, "priority", "P3", "P2", "bob")


def test_a_correction_that_changes_nothing_is_refused_and_records_nothing(world: World) -> None:
    item_id = world.item(ACME, "Do you ship to Peru?")
    alice = world.get_user("alice")
    with pytest.raises(
        ReviewError, match="nothing to correct: item .* already has that intent, queue"
    ):
        actions.correct(world.store, item_id, alice, intent="product_question", queue="support")
    with pytest.raises(ReviewError, match="give an intent, a priority or a queue"):
        actions.correct(world.store, item_id, alice, note="just a note")
    assert _labels(world) == []
    with world.store.session() as s:
        assert s.exec(select(Review).where(Review.item_id == item_id)).all() == []
    assert list(world.runtime.log.events(ACME)) == []


def test_reject_records_a_draft_correction_naming_the_saved_reply(world: World) -> None:
    saved = world.item(ACME, "When will it ship?")
    with world.store.session() as s:  # as triage stores it: the saved reply's id
        decision = latest_decision(s, saved)
        assert decision is not None
        decision.draft_source = "shipping-times"
        s.add(decision)
    edited = world.item(ACME, "Is it waterproof?")
    empty = world.item(ACME, "hello?", draft=None)
    alice, bob = world.get_user("alice"), world.get_user("bob")
    actions.reject(world.store, saved, alice, reason="wrong tone")
    actions.save_draft(
        world.store, edited, bob, "Yes, to 30 m.", seen_draft_hash=world.draft_hash(edited)
    )
    actions.reject(world.store, edited, alice)
    actions.reject(world.store, empty, alice)  # no draft: nothing was rejected
    assert _labels(world) == [
        (saved, "draft", "shipping-times", "rejected", "alice"),
        (edited, "draft", None, "rejected", "alice"),
    ]
    assert _decision(world, saved).draft is None
    assert world.get_item(saved).status == "in_review"


def test_grants_and_roles_apply_to_corrections(world: World) -> None:
    theirs = world.item(GLOBEX, "globex only")
    ours = world.item(ACME, "acme item")
    with pytest.raises(NotFound):
        actions.correct(world.store, theirs, world.get_user("alice"), intent="praise")
    world.user("vera", "viewer", ACME)
    with pytest.raises(NotAllowed, match="reviewer"):
        actions.correct(world.store, ours, world.get_user("vera"), intent="praise")
    assert _labels(world, ACME) == [] and _labels(world, GLOBEX) == []
    actions.correct(world.store, theirs, world.get_user("root"), intent="praise")  # an admin
    assert _labels(world, GLOBEX) == [(theirs, "intent", "product_question", "praise", "root")]


def _api(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": client.get("/api/me").json()["csrf_token"]}


def test_the_api_corrects_and_lists_corrections(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    item_id = world.item(ACME, "the app crashes on login")
    alice = client_for("alice")
    url = f"/api/items/{item_id}/correct"
    assert alice.post(url, json={"intent": "bug_report"}).status_code == 403  # no CSRF header
    r = alice.post(url, json={"intent": "bug_report", "priority": "P2"}, headers=_api(alice))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is True and body["status"] == "in_review"
    assert (body["decision"]["intent"], body["decision"]["priority"]) == ("bug_report", "P2")
    shown = alice.get(f"/api/items/{item_id}").json()["corrections"]
    assert [(c["field"], c["old_value"], c["new_value"], c["reviewer"]) for c in shown] == [
        ("intent", "product_question", "bug_report", "alice"),
        ("priority", "P3", "P2", "alice"),
    ]
    again = alice.post(url, json={"intent": "bug_report"}, headers=_api(alice))
    assert again.status_code == 400 and again.json()["error"].startswith("nothing to correct")
    stale = alice.post(url, json={"queue": "product", "draft_hash": "0" * 16}, headers=_api(alice))
    assert stale.status_code == 409
    assert len(_labels(world)) == 2


def test_a_reviewer_without_a_grant_is_refused_on_the_api_and_the_page(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    item_id = world.item(ACME, "acme secret")
    eve = client_for("eve")  # globex only
    r = eve.post(f"/api/items/{item_id}/correct", json={"intent": "praise"}, headers=_api(eve))
    assert r.status_code == 404 and r.json() == {"error": "Not found."}
    csrf = csrf_of(eve.get("/").text)
    page = eve.post(f"/items/{item_id}/correct", data={"csrf_token": csrf, "intent": "praise"})
    assert page.status_code == 404 and "acme secret" not in page.text
    assert _labels(world) == []
    assert _decision(world, item_id).intent == "product_question"


BAD = [
    ({"intent": "warranty_clam"}, r"^unknown intent 'warranty_clam' \(known: product_question, "),
    ({"priority": "P9"}, r"^unknown priority 'P9' \(known: P1, P2, P3, none\)$"),
    ({"queue": "   "}, r"^the queue is empty$"),
    ({"queue": "q" * 101}, r"^the queue is 101 characters \(at most 100\)$"),
    ({"queue": "billing\u202e"}, r"^the queue holds control or invisible characters$"),
    ({"queue": "billing\nlegal"}, r"^the queue holds control or invisible characters$"),
]


@pytest.mark.parametrize(("values", "message"), BAD, ids=lambda v: str(v)[:30])
def test_a_bad_value_is_a_400_naming_the_field(
    world: World, client_for: Callable[[str], TestClient], values: dict[str, str], message: str
) -> None:
    item_id = world.item(ACME, "hello")
    alice = client_for("alice")
    # a good value beside the bad one is not applied either: the request is all or nothing
    body = {"priority": "P1", **values}
    r = alice.post(f"/api/items/{item_id}/correct", json=body, headers=_api(alice))
    assert r.status_code == 400
    assert re.search(message, r.json()["error"]), r.json()
    page = alice.get(f"/items/{item_id}").text
    form = alice.post(f"/items/{item_id}/correct", data={"csrf_token": csrf_of(page), **body})
    assert form.status_code == 400
    field = next(iter(values))
    assert f"{field} " in form.text and "<script>" not in form.text
    assert _labels(world) == []
    assert _decision(world, item_id).priority == "P3"


def test_the_item_page_form_corrects_with_csrf(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    item_id = world.item(ACME, "Can I get an invoice?", status="triaged")
    alice = client_for("alice")
    page = alice.get(f"/items/{item_id}").text
    form = re.search(r'<form method="post" action="/items/\d+/correct">.*?</form>', page, re.S)
    assert form is not None, "no Correct triage form"
    html = form.group(0)
    assert "Correct triage" in page
    assert 'name="csrf_token"' in html and 'name="draft_hash"' in html
    assert '<option value="product_question" selected>' in html  # the current values
    assert '<option value="P3" selected>' in html and '<option value="support" selected>' in html
    assert '<option value="billing">' in html and '<option value="trust-and-safety">' in html
    data = {"intent": "billing_refund", "priority": "P3", "queue": "billing", "note": "invoice"}
    refused = alice.post(f"/items/{item_id}/correct", data=data, follow_redirects=False)
    assert refused.status_code == 403
    forged = {**data, "csrf_token": "forged"}
    assert alice.post(f"/items/{item_id}/correct", data=forged).status_code == 403
    assert _labels(world) == []
    r = alice.post(
        f"/items/{item_id}/correct",
        data={**data, "csrf_token": csrf_of(page)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/items/{item_id}?done=correct"
    after = alice.get(r.headers["location"]).text
    assert "Triage corrected" in after
    assert "intent: product_question → billing_refund" in after
    assert "queue: support → billing" in after and "priority: P3" not in after
    assert '<option value="billing_refund" selected>' in after
    assert _labels(world) == [
        (item_id, "intent", "product_question", "billing_refund", "alice"),
        (item_id, "queue", "support", "billing", "alice"),
    ]
    assert world.get_item(item_id).status == "triaged"


def test_an_empty_choice_keeps_the_field(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    """An item whose decision has no queue: the select offers "keep", and keeping it is no change."""
    item_id = world.item(ACME, "hi there")
    with world.store.session() as s:
        decision = latest_decision(s, item_id)
        assert decision is not None
        decision.queue = None
        s.add(decision)
    alice = client_for("alice")
    page = alice.get(f"/items/{item_id}").text
    assert '<option value="" selected>— (keep)</option>' in page
    data = {"csrf_token": csrf_of(page), "intent": "general", "priority": "P3", "queue": ""}
    assert (
        alice.post(f"/items/{item_id}/correct", data=data, follow_redirects=False).status_code
        == 303
    )
    assert _labels(world) == [(item_id, "intent", "product_question", "general", "alice")]
    assert _decision(world, item_id).queue is None


HOSTILE = "<script>alert('q')</script>"


def test_hostile_text_stays_inert_beside_the_form(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    item_id = world.item(ACME, HOSTILE, author=HOSTILE, draft=HOSTILE)
    alice = client_for("alice")
    r = alice.post(f"/api/items/{item_id}/correct", json={"queue": HOSTILE}, headers=_api(alice))
    assert r.status_code == 200, r.text  # a printable name: allowed, and shown escaped
    page = alice.get(f"/items/{item_id}").text
    html = re.sub(r"<textarea[^>]*>.*?</textarea>", "", page, flags=re.S)
    html = re.sub(r'<script src="/static/[a-z0-9_-]+\.js" defer></script>', "", html)
    assert "<script" not in html
    assert "queue: support → &lt;script&gt;alert(&#39;q&#39;)&lt;/script&gt;" in html
    assert '<option value="" selected>&lt;script&gt;' in html  # the current queue, kept
