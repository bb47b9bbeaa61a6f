"""The item page: "Approve and next" and "Resolve and next" follow the filtered queue the
reviewer came from (``?from=<the queue's query string>``), a refused action shows its
reason on the item's own page with what was typed kept, and the conversation shows the
whole thread, the brand's own replies included."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, quote, urlsplit

from fastapi.testclient import TestClient
from review_world import ACME, GLOBEX, World, csrf_of
from sqlmodel import select

from agent.review.queries import latest_decision
from agent.store import Item, Review


def _hash_of(html: str) -> str:
    match = re.search(r'name="draft_hash" value="([0-9a-f]+)"', html)
    assert match
    return match.group(1)


def _form(page: str, **fields: str) -> dict[str, str]:
    return {"csrf_token": csrf_of(page), "draft_hash": _hash_of(page), **fields}


def _where(location: str) -> tuple[str, dict[str, str]]:
    url = urlsplit(location)
    return url.path, {k: v[-1] for k, v in parse_qs(url.query).items()}


def _mixed_queue(world: World) -> dict[str, list[int]]:
    """Order issues and praise interleaved by SLA (the queue's order), in both workspaces."""
    out: dict[str, list[int]] = {"order": [], "praise": [], "globex": []}
    for n in range(4):
        out["order"].append(
            world.item(ACME, f"order {n}", intent="order_issue", sla_minutes=10 + 10 * n)
        )
        out["praise"].append(
            world.item(ACME, f"praise {n}", intent="praise", sla_minutes=15 + 10 * n)
        )
        out["globex"].append(world.item(GLOBEX, f"globex {n}", sla_minutes=12 + 10 * n))
    return out


def test_approve_and_next_goes_to_the_next_item_of_the_same_filter(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    ids = _mixed_queue(world)
    first, second = ids["order"][:2]  # a praise item sits between them in the queue
    alice = client_for("alice")
    carried = quote("intent=order_issue")
    page = alice.get(f"/items/{first}?from={carried}").text
    assert 'name="from" value="intent=order_issue"' in page
    assert 'id="to-queue" href="/?intent=order_issue"' in page
    assert "1 of 4" in page
    assert f'rel="next" href="/items/{second}?from={carried}"' in page
    r = alice.post(
        f"/items/{first}/approve",
        data=_form(page, text="On its way!", then="next", **{"from": "intent=order_issue"}),
        follow_redirects=False,
    )
    assert r.status_code == 303
    path, params = _where(r.headers["location"])
    assert path == f"/items/{second}"
    assert params == {"done": "approve", "after": str(first), "from": "intent=order_issue"}
    landed = alice.get(r.headers["location"]).text
    assert f"Item {first}</a>: Approved" in landed and "1 of 3" in landed
    assert [(e.item_id, e.text) for e in world.outbox()] == [(first, "On its way!")]
    assert world.get_item(first).status == "approved"


def test_approve_and_next_follows_a_workspace_filter(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    ids = _mixed_queue(world)
    root = client_for("root")  # an admin sees both workspaces: the next one is globex's
    start = ids["globex"][1]
    page = root.get(f"/items/{start}?from={quote(f'workspace={GLOBEX}')}").text
    r = root.post(
        f"/items/{start}/approve",
        data=_form(page, text="Thanks!", then="next", **{"from": f"workspace={GLOBEX}"}),
        follow_redirects=False,
    )
    path, params = _where(r.headers["location"])
    assert path == f"/items/{ids['globex'][2]}" and params["from"] == f"workspace={GLOBEX}"
    # without a carried queue, "next" is the next pending item of the default queue
    page = root.get(f"/items/{ids['order'][0]}").text
    r = root.post(
        f"/items/{ids['order'][0]}/approve",
        data=_form(page, text="Thanks!", then="next"),
        follow_redirects=False,
    )
    assert (
        r.headers["location"] == f"/items/{ids['globex'][0]}?done=approve&after={ids['order'][0]}"
    )


def test_resolve_and_next_and_the_last_item_goes_back_to_the_queue(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    ids = _mixed_queue(world)
    alice = client_for("alice")
    carried = {"from": "intent=praise"}
    third, last = ids["praise"][2:]
    page = alice.get(f"/items/{third}?from=intent%3Dpraise").text
    r = alice.post(
        f"/items/{third}/resolve",
        data=_form(page, note="nothing to say", then="next", **carried),
        follow_redirects=False,
    )
    path, params = _where(r.headers["location"])
    assert (path, params["done"], params["after"]) == (f"/items/{last}", "resolve", str(third))
    assert world.get_item(third).status == "resolved"
    page = alice.get(r.headers["location"]).text
    assert "Resolved without a reply" in page and 'rel="next"' not in page
    r = alice.post(
        f"/items/{last}/approve",
        data=_form(page, text="Thank you!", then="next", **carried),
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == f"/?intent=praise&done=approve&after={last}"
    assert alice.get(r.headers["location"]).status_code == 200
    # a plain "Approve reply" / "Resolve without reply" stays on the item, queue carried
    other = ids["order"][3]
    page = alice.get(f"/items/{other}?from=intent%3Dorder_issue").text
    r = alice.post(
        f"/items/{other}/resolve",
        data=_form(page, **{"from": "intent=order_issue"}),
        follow_redirects=False,
    )
    assert r.headers["location"] == f"/items/{other}?done=resolve&from=intent%3Dorder_issue"


def test_previous_and_next_follow_the_queue_order(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    ids = _mixed_queue(world)
    alice = client_for("alice")
    middle = ids["praise"][1]
    page = alice.get(f"/items/{middle}?from=intent%3Dpraise").text
    assert f'rel="prev" href="/items/{ids["praise"][0]}?from=intent%3Dpraise"' in page
    assert f'rel="next" href="/items/{ids["praise"][2]}?from=intent%3Dpraise"' in page
    # the default queue (pending, both kinds): the neighbours in SLA order
    page = alice.get(f"/items/{middle}").text
    assert f'rel="prev" href="/items/{ids["order"][1]}"' in page
    assert f'rel="next" href="/items/{ids["order"][2]}"' in page
    assert 'id="to-queue" href="/"' in page


def test_a_carried_queue_that_does_not_parse_or_is_not_granted_is_dropped(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    ids = _mixed_queue(world)
    eve = client_for("eve")  # globex only
    item = ids["globex"][0]
    for carried in (f"workspace={ACME}", "status=bogus", "page=abc", "x" * 3000):
        page = eve.get(f"/items/{item}?from={quote(carried)}")
        assert page.status_code == 200
        assert 'id="to-queue" href="/"' in page.text and 'name="from"' not in page.text
        assert ACME not in page.text
    # whatever is carried, the way back is this site's queue, re-encoded from its filter
    page = eve.get(f"/items/{item}?from={quote('//evil.example/?x=1&status=all&q=a b')}").text
    assert 'id="to-queue" href="/?status=all&amp;q=a+b"' in page


def test_an_empty_reply_is_refused_on_the_item_page(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    item = world.item(ACME, "Where is my parcel?", draft=None)
    alice = client_for("alice")
    page = alice.get(f"/items/{item}").text
    r = alice.post(f"/items/{item}/approve", data=_form(page, text="   ", then="next"))
    assert r.status_code == 400
    assert '<header class="top">' in r.text and "alice · reviewer" in r.text  # the header
    assert f"<h1>Item {item}" in r.text and "Where is my parcel?" in r.text  # the item
    assert re.search(r'role="alert" id="refused"><b>Not done:</b> the reply is empty', r.text)
    assert world.outbox() == [] and world.get_item(item).status == "in_review"


def test_a_stale_draft_is_refused_on_the_page_and_the_typed_text_is_kept(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    item = world.item(ACME, "Refund?")
    alice, bob = client_for("alice"), client_for("bob")
    alice_page = alice.get(f"/items/{item}").text
    bob_page = bob.get(f"/items/{item}").text
    saved = bob.post(f"/items/{item}/draft", data=_form(bob_page, text="Bob's draft"))
    assert saved.status_code == 200
    mine = "Sorry! A refund is on its way <b>today</b>."
    r = alice.post(f"/items/{item}/approve", data=_form(alice_page, text=mine, then="next"))
    assert r.status_code == 409
    assert "changed since you opened it" in r.text and '<header class="top">' in r.text
    textarea = re.search(r'<textarea name="text"[^>]*>(.*?)</textarea>', r.text, re.S)
    assert (
        textarea and textarea.group(1) == "Sorry! A refund is on its way &lt;b&gt;today&lt;/b&gt;."
    )
    assert "The draft stored now reads" in r.text and "Bob&#39;s draft" in r.text
    assert world.outbox() == []
    # the page now carries the current hash: approving the kept text works
    ok = alice.post(f"/items/{item}/approve", data=_form(r.text, text=mine), follow_redirects=False)
    assert ok.status_code == 303
    assert [e.text for e in world.outbox()] == [mine]


def test_a_role_that_may_not_is_refused_on_the_page_with_the_reason_kept(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    world.user("vic", "viewer", ACME)
    item = world.item(ACME, "Broken zip")
    vic = client_for("vic")
    page = vic.get(f"/items/{item}").text
    r = vic.post(f"/items/{item}/reject", data=_form(page, reason="too vague"))
    assert r.status_code == 403
    assert "needs the reviewer role (you are viewer)" in r.text and "vic · viewer" in r.text
    reason = re.search(r'<input [^>]*id="reject-reason"[^>]*>', r.text)
    assert reason and 'value="too vague"' in reason.group(0)
    with world.store.session() as s:
        assert s.exec(select(Review)).all() == []
    # a P1 item needs an approver: refused on the page for a reviewer, typed text kept
    urgent = world.item(ACME, "Checkout is down", priority="P1")
    alice = client_for("alice")
    page = alice.get(f"/items/{urgent}").text
    r = alice.post(f"/items/{urgent}/approve", data=_form(page, text="We are on it!"))
    assert r.status_code == 403 and "needs the approver role" in r.text
    assert ">We are on it!</textarea>" in r.text


def test_the_forms_still_need_the_csrf_token(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    item = world.item(ACME, "hello")
    alice = client_for("alice")
    page = alice.get(f"/items/{item}").text
    for action, fields in (
        ("approve", {"text": "Hi", "then": "next"}),
        ("resolve", {"then": "next"}),
    ):
        data = {**_form(page, **fields), "csrf_token": "forged"}
        r = alice.post(f"/items/{item}/{action}", data=data, follow_redirects=False)
        assert r.status_code == 403
        assert "security token" in r.text and "alice · reviewer" in r.text  # with the header
    assert world.outbox() == [] and world.get_item(item).status == "in_review"


def test_a_missing_grant_is_a_plain_not_found_with_the_header(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    theirs = world.item(GLOBEX, "globex secret words")
    alice = client_for("alice")
    page = alice.get(f"/items/{world.item(ACME, 'mine')}").text
    r = alice.post(f"/items/{theirs}/approve", data=_form(page, text="x", then="next"))
    assert r.status_code == 404 and "Not found." in r.text and "globex secret" not in r.text
    assert "alice · reviewer" in r.text and "Sign out" in r.text
    missing = alice.get("/items/999999")
    assert missing.status_code == 404 and "Sign out" in missing.text


def test_the_conversation_shows_the_thread_in_order_with_the_brands_reply(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    asked = world.item(ACME, "Do you ship to Norway?", thread="dm-9", status="replied")
    ours = world.item(
        ACME, "Yes, in 3-5 days!", thread="dm-9", author="@brand", status="resolved", draft=None
    )
    item = world.item(ACME, "Great, and returns?", thread="dm-9", intent="order_issue")
    world.item(ACME, "another thread entirely", thread="dm-10")
    html = client_for("alice").get(f"/items/{item}").text
    conversation = html[html.index('id="conversation"') : html.index('id="evidence"')]
    order = [
        conversation.index(t) for t in ("Do you ship", "Yes, in 3-5 days!", "Great, and returns?")
    ]
    assert order == sorted(order) and "another thread" not in conversation
    turns = re.findall(r'<li class="turn([^"]*)"', conversation)
    assert turns == ["", " own", " current"]
    assert "our reply" in conversation and f'href="/items/{ours}"' in conversation
    assert f'href="/items/{asked}"' in conversation and "3 messages" in conversation
    assert "order_issue" in conversation and "product_question" in conversation
    with world.store.session() as s:  # nothing on the page changed the decisions
        decision = latest_decision(s, item)
        assert decision is not None and decision.intent == "order_issue"
    assert world.outbox() == []


def test_the_whole_screen_outlines_the_item_where_its_crop_was_cut(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    placed = world.item(ACME, "Is the lid dishwasher safe?", screenshot=True)
    older = world.item(ACME, "Stored before boxes were", screenshot=True, thread="t2")
    with world.store.session() as s:  # an item stored before the place was recorded
        row = s.get(Item, older)
        assert row is not None
        row.evidence_box = None
        s.add(row)
    alice = client_for("alice")
    html = alice.get(f"/items/{placed}").text
    evidence = html[html.index('id="evidence"') :]
    # The screen review_world draws is 480 x 320; the crop was cut at (16, 60), 448 x 80.
    assert 'viewBox="0 0 480 320"' in evidence
    assert re.search(
        r'<rect class="item-outline" id="item-outline" x="16" y="60" width="448" height="80"',
        evidence,
    )
    assert f'href="/items/{placed}/evidence/screen"' in evidence
    assert "the message outlined" in evidence
    html = alice.get(f"/items/{older}").text
    evidence = html[html.index('id="evidence"') :]
    assert "item-outline" not in evidence and '<img class="screen"' in evidence
    assert "Where the message sits on it is not recorded" in evidence
