"""The queue and item pages and the JSON API: filters, SLA order, paging, collisions,
stale drafts, and edit-and-approve through the web."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from review_world import ACME, GLOBEX, World, csrf_of
from sqlmodel import select

from agent.store import OutboxEntry


def _hash_of(html: str) -> str:
    match = re.search(r'name="draft_hash" value="([0-9a-f]+)"', html)
    assert match
    return match.group(1)


def test_queue_is_sorted_by_sla_and_shows_time_left(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    late = world.item(ACME, "late one", sla_minutes=-15)
    soon = world.item(ACME, "soon one", sla_minutes=10)
    later = world.item(ACME, "later one", sla_minutes=240)
    none = world.item(ACME, "no sla", sla_minutes=None)
    world.item(ACME, "done already", status="resolved")
    alice = client_for("alice")
    data = alice.get("/api/items").json()
    assert [i["id"] for i in data["items"]] == [late, soon, later, none]
    assert [i["sla"] for i in data["items"]] == ["breached", "due_soon", "ok", "none"]
    html = alice.get("/").text
    assert "overdue" in html and "left" in html and "no SLA" in html
    assert html.index("late one") < html.index("soon one") < html.index("later one")
    assert "done already" not in html
    assert "done already" in alice.get("/?status=resolved").text


def test_queue_filters_and_pages(world: World, client_for: Callable[[str], TestClient]) -> None:
    for i in range(120):
        world.item(
            ACME,
            f"message {i}",
            intent="order_issue" if i % 3 == 0 else "praise",
            priority="P2" if i % 3 == 0 else "P3",
            sla_minutes=2 * i + 1,
        )
    alice = client_for("alice")
    api = alice.get("/api/items?intent=order_issue").json()
    assert api["total"] == 40 and all(
        i["decision"]["intent"] == "order_issue" for i in api["items"]
    )
    assert alice.get("/api/items?priority=P3").json()["total"] == 80
    assert alice.get("/api/items?sla=due_soon").json()["total"] == 15
    assert alice.get(f"/api/items?workspace={ACME}").json()["total"] == 120
    first, third = alice.get("/api/items").json(), alice.get("/api/items?page=3").json()
    assert (first["pages"], len(first["items"]), len(third["items"])) == (3, 50, 20)
    world.item(ACME, "spam spam", action="drop", intent="spam", status="dropped")
    world.item(GLOBEX, "their spam", action="drop", intent="spam", status="dropped")
    queue_page = alice.get("/").text  # alice sees acme only: one dropped, not two
    assert re.search(r'status=dropped">dropped <span class="mute">1</span>', queue_page)
    assert re.search(r'status=pending">pending <span class="mute">120</span>', queue_page)
    page2 = alice.get("/?page=2&intent=praise").text
    assert "page 2 of 2" in page2
    assert 'href="/?intent=praise&amp;page=1"' in page2 or "newer deadlines" in page2


def test_item_page_shows_evidence_thread_decision_and_draft(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    earlier = world.item(ACME, "first message in the thread", thread="dm-42", status="replied")
    item_id = world.item(ACME, "Where is my parcel?", thread="dm-42", screenshot=True)
    world.item(ACME, "other thread", thread="dm-7")
    html = client_for("alice").get(f"/items/{item_id}").text
    assert f'src="/items/{item_id}/evidence/crop"' in html
    assert f'<image href="/items/{item_id}/evidence/screen"' in html  # outlined
    assert "first message in the thread" in html and f"/items/{earlier}" in html
    assert "other thread" not in html
    assert "rule:intent.question" in html and "product_question" in html
    assert "saved reply: shipping-times" in html
    assert "Thanks for reaching out! We are on it." in html


def test_two_reviewers_see_each_other(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    item_id = world.item(ACME, "shared")
    alice, bob = client_for("alice"), client_for("bob")
    assert 'id="also-viewing" aria-live="polite" hidden' in alice.get(f"/items/{item_id}").text
    page = bob.get(f"/items/{item_id}").text
    assert 'Also viewing: <span id="viewers">alice</span>' in page
    assert 'Also viewing: <span id="viewers">bob</span>' in alice.get(f"/items/{item_id}").text
    assert bob.get(f"/api/items/{item_id}").json()["also_viewing"] == ["alice"]


def test_edit_and_approve_through_the_web_creates_exactly_one_entry(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    item_id = world.item(ACME, "Can I change my size?")
    alice = client_for("alice")
    page = alice.get(f"/items/{item_id}").text
    form = {
        "csrf_token": csrf_of(page),
        "draft_hash": _hash_of(page),
        "text": "Yes! Reply with it.",
    }
    r = alice.post(f"/items/{item_id}/approve", data=form, follow_redirects=False)
    assert r.status_code == 303
    assert "Approved" in alice.get(r.headers["location"]).text
    again = alice.post(f"/items/{item_id}/approve", data=form)  # a double submit
    assert again.status_code == 409 and "changed since you opened it" in again.text
    with world.store.session() as s:
        entries = s.exec(select(OutboxEntry)).all()
    assert [(e.text, e.approved_by, e.state) for e in entries] == [
        ("Yes! Reply with it.", "alice", "approved")
    ]


def test_approving_a_stale_draft_is_refused_with_a_clear_message(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    item_id = world.item(ACME, "Refund?")
    alice, bob = client_for("alice"), client_for("bob")
    alice_page = alice.get(f"/items/{item_id}").text
    bob_page = bob.get(f"/items/{item_id}").text
    r = bob.post(
        f"/items/{item_id}/draft",
        data={"csrf_token": csrf_of(bob_page), "draft_hash": _hash_of(bob_page), "text": "New"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    stale = alice.post(
        f"/items/{item_id}/approve",
        data={"csrf_token": csrf_of(alice_page), "draft_hash": _hash_of(alice_page), "text": "Old"},
    )
    assert stale.status_code == 409
    assert "changed since you opened it" in stale.text and f'href="/items/{item_id}"' in stale.text
    with world.store.session() as s:
        assert s.exec(select(OutboxEntry)).all() == []


def test_api_actions_and_takeover(world: World, client_for: Callable[[str], TestClient]) -> None:
    item_id = world.item(ACME, "api")
    alice = client_for("alice")
    csrf = {"X-CSRF-Token": alice.get("/api/me").json()["csrf_token"]}
    detail = alice.get(f"/api/items/{item_id}").json()
    assert detail["decision"]["draft"] and detail["draft_hash"]
    r = alice.post(f"/api/items/{item_id}/assign", json={"owner": "bob"}, headers=csrf)
    assert r.status_code == 200
    stale = alice.post(
        f"/api/items/{item_id}/approve",
        json={"text": "x", "draft_hash": detail["draft_hash"]},
        headers=csrf,
    )
    assert stale.status_code == 409  # the owner changed since
    fresh = alice.get(f"/api/items/{item_id}").json()["draft_hash"]
    ok = alice.post(
        f"/api/items/{item_id}/approve", json={"text": "x", "draft_hash": fresh}, headers=csrf
    )
    assert ok.status_code == 200 and ok.json()["outbox"]["state"] == "approved"
    assert alice.post(f"/api/workspaces/{ACME}/takeover", headers=csrf).status_code == 200
    assert alice.get("/api/workspaces").json()["workspaces"][0]["takeover"]["user"] == "alice"
    assert "taken over by alice" in alice.get("/").text
    page = alice.get(f"/workspaces/{ACME}").text
    r = alice.post(
        f"/workspaces/{ACME}/handback", data={"csrf_token": csrf_of(page)}, follow_redirects=False
    )
    assert r.status_code == 303
    assert alice.get(f"/api/workspaces/{ACME}").json()["takeover"] is None


def test_a_dropped_item_can_be_restored_from_its_page(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    item_id = world.item(
        ACME, "the zip on my new jacket broke already https://t.co/Qw3Er4Ty5U", action="drop",
        intent="spam", priority="none", draft=None, sla_minutes=None, status="dropped",
    )  # fmt: skip
    alice = client_for("alice")
    page = alice.get(f"/items/{item_id}").text
    assert "Not spam: put it in the queue" in page and "Approve reply" not in page
    refused = alice.post(f"/items/{item_id}/restore", data={"note": "x"})  # no CSRF token
    assert refused.status_code == 403 and world.get_item(item_id).status == "dropped"
    r = alice.post(
        f"/items/{item_id}/restore",
        data={"csrf_token": csrf_of(page), "note": "customer"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    after = alice.get(r.headers["location"]).text
    assert "back in the queue" in after and "Approve reply" in after
    assert world.get_item(item_id).status == "triaged"
    other = world.item(
        ACME, "sizes run small? https://t.co/Zx8Cv7Bn6M", action="drop", intent="spam",
        priority="none", draft=None, sla_minutes=None, status="dropped",
    )  # fmt: skip
    eve = client_for("eve")  # another client's reviewer, with a valid CSRF token
    csrf = {"X-CSRF-Token": eve.get("/api/me").json()["csrf_token"]}
    refused = eve.post(f"/api/items/{other}/restore", json={}, headers=csrf)
    assert refused.status_code == 404 and world.get_item(other).status == "dropped"
    restored = alice.post(
        f"/api/items/{other}/restore",
        json={"reason": "a customer"},
        headers={"X-CSRF-Token": alice.get("/api/me").json()["csrf_token"]},
    )
    assert restored.status_code == 200 and world.get_item(other).status == "triaged"
