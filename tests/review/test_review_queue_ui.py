"""The queue page's bulk actions, filters, paging and saved views, through the web forms.

Bulk actions are all or nothing: one item the person may not act on (another client's,
a role too low, a state the action does not apply to) refuses the whole request, with
the reason on the queue page, and changes nothing. Each item acted on gets its own
review row and its own activity-log event, as when done one by one.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date, timedelta
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from review_world import ACME, GLOBEX, SECRET, World, csrf_of
from sqlmodel import select

from agent.review import actions
from agent.review.queries import latest_decision
from agent.store import Review


def _reviews(world: World) -> list[Review]:
    with world.store.session() as s:
        return list(s.exec(select(Review).order_by(Review.id)).all())  # type: ignore[arg-type]


def _review_events(world: World, workspace: str = ACME) -> list[dict[str, object]]:
    return [
        {"actor": e.actor, **e.data}
        for e in world.runtime.log.events(workspace)
        if e.type == "review"
    ]


def _statuses(world: World, ids: list[int]) -> list[str]:
    return [world.get_item(i).status for i in ids]


def _bulk(
    client: TestClient,
    ids: list[int],
    action: str,
    *,
    back: str = "",
    csrf: str | None = None,
    **fields: str,
) -> httpx.Response:
    token = csrf_of(client.get("/").text) if csrf is None else csrf
    data: dict[str, object] = {"item": [str(i) for i in ids], "action": action, "back": back}
    if token:
        data["csrf_token"] = token
    return client.post("/bulk", data={**data, **fields}, follow_redirects=False)


def test_bulk_resolve_of_ten_items_gives_ten_reviews_and_ten_events(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    ids = [world.item(ACME, f"message number {n}", sla_minutes=10 + n) for n in range(12)]
    alice = client_for("alice")
    r = _bulk(alice, ids[:10], "resolve", back="intent=product_question&page_size=25")
    assert r.status_code == 303
    target = urlsplit(r.headers["location"])
    assert target.path == "/"
    assert dict(parse_qsl(target.query)) == {
        "intent": "product_question", "page_size": "25", "bulk": "resolve", "n": "10",
    }  # fmt: skip
    page = alice.get(r.headers["location"])
    assert page.status_code == 200
    assert "10 items resolved without a reply." in page.text
    assert _statuses(world, ids) == ["resolved"] * 10 + ["in_review"] * 2
    reviews = _reviews(world)
    assert sorted(r.item_id for r in reviews) == ids[:10]
    assert {(r.action, r.reviewer) for r in reviews} == {("resolve", "alice")}
    events = _review_events(world)
    assert sorted(int(str(e["item"])) for e in events) == ids[:10]
    assert all(e["action"] == "resolve" and e["actor"] == "user:alice" for e in events)
    # exactly what the single action writes
    actions.resolve(world.store, ids[10], world.get_user("alice"), log=world.runtime.log)
    single = _review_events(world)[-1]
    assert set(single) == set(events[0])


def test_bulk_with_one_ungranted_item_is_refused_and_changes_nothing(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    ours = [world.item(ACME, f"ours {n}") for n in range(5)]
    theirs = world.item(GLOBEX, SECRET)
    alice = client_for("alice")
    r = _bulk(alice, [*ours, theirs], "resolve", back="intent=product_question")
    assert r.status_code == 404
    assert '<header class="top">' in r.text and '<table class="queue"' in r.text
    assert f"Nothing was changed: no item {theirs}." in r.text
    assert SECRET not in r.text and GLOBEX not in r.text
    for item_id in ours:  # the selection is kept, and so are the filters
        assert re.search(rf'name="item" value="{item_id}"[^>]* checked', r.text)
    assert 'name="back" value="intent=product_question"' in r.text
    assert _statuses(world, [*ours, theirs]) == ["in_review"] * 6
    assert _reviews(world) == []
    assert _review_events(world) == [] and list(world.runtime.log.events(GLOBEX)) == []


def test_bulk_is_all_or_nothing_on_the_items_state_too(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    ids = [world.item(ACME, f"open {n}") for n in range(3)]
    done = world.item(ACME, "resolved already", status="resolved")
    r = _bulk(client_for("alice"), [*ids, done], "escalate", note="legal")
    assert r.status_code == 409
    assert f"item {done} is resolved: there is nothing to review" in r.text
    assert _statuses(world, ids) == ["in_review"] * 3
    with world.store.session() as s:
        assert {latest_decision(s, i).action for i in ids} == {"review"}  # type: ignore[union-attr]
    assert _reviews(world) == [] and _review_events(world) == []


def test_bulk_by_a_viewer_is_refused(world: World, client_for: Callable[[str], TestClient]) -> None:
    world.user("vic", "viewer", ACME)
    ids = [world.item(ACME, f"item {n}") for n in range(3)]
    vic = client_for("vic")
    page = vic.get("/").text
    assert 'name="item"' not in page and 'name="action"' not in page  # no bulk form offered
    r = _bulk(vic, ids, "resolve")
    assert r.status_code == 403
    assert "needs the reviewer role (you are viewer)" in r.text
    assert '<header class="top">' in r.text
    assert _statuses(world, ids) == ["in_review"] * 3
    assert _reviews(world) == [] and _review_events(world) == []


def test_bulk_needs_the_csrf_token(world: World, client_for: Callable[[str], TestClient]) -> None:
    ids = [world.item(ACME, f"item {n}") for n in range(2)]
    alice = client_for("alice")
    for token in ("", "not-the-token"):
        r = _bulk(alice, ids, "resolve", csrf=token)
        assert r.status_code == 403
        assert "security token" in r.text
    assert _statuses(world, ids) == ["in_review"] * 2 and _reviews(world) == []


def test_bulk_never_approves_or_sends(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    ids = [world.item(ACME, f"item {n}") for n in range(2)]
    alice = client_for("alice")
    for action in ("approve", "draft", "send"):
        r = _bulk(alice, ids, action)
        assert r.status_code == 400 and f"unknown bulk action &#39;{action}&#39;" in r.text
    assert world.outbox() == [] and _statuses(world, ids) == ["in_review"] * 2
    nothing = _bulk(alice, [], "resolve")  # nothing selected: the page says what to do
    assert nothing.status_code == 200 and "Select the items first" in nothing.text
    unchosen = _bulk(alice, ids, "")
    assert unchosen.status_code == 200 and "Choose what to do" in unchosen.text
    assert _reviews(world) == []


def test_bulk_reject_assign_escalate_and_restore(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    ids = [world.item(ACME, f"item {n}") for n in range(4)]
    alice = client_for("alice")
    assert _bulk(alice, ids[:2], "assign").status_code == 400  # the owner is required
    assert _reviews(world) == []
    assert _bulk(alice, ids[:2], "assign", owner="carol").status_code == 303
    assert _bulk(alice, ids[2:], "reject", note="too generic").status_code == 303
    assert _bulk(alice, ids, "escalate", note="VIP", owner="lead").status_code == 303
    with world.store.session() as s:
        decisions = [latest_decision(s, i) for i in ids]
    assert [d.owner for d in decisions if d] == ["lead"] * 4
    assert [d.action for d in decisions if d] == ["escalate"] * 4
    assert [d.draft for d in decisions if d][2:] == [None, None]
    assert [(r.item_id, r.action) for r in _reviews(world)] == [
        *[(i, "assign") for i in ids[:2]],
        *[(i, "reject") for i in ids[2:]],
        *[(i, "escalate") for i in ids],
    ]
    assert [e["action"] for e in _review_events(world)] == ["assign"] * 2 + ["reject"] * 2 + [
        "escalate"
    ] * 4
    dropped = [
        world.item(
            ACME,
            f"my parcel {n} arrived crushed",
            action="drop",
            intent="spam",
            priority="none",
            draft=None,
            sla_minutes=None,
            status="dropped",
        )  # fmt: skip
        for n in range(3)
    ]
    page = alice.get("/?status=dropped").text
    assert '<option value="restore"' in page and '<option value="resolve"' not in page
    r = _bulk(alice, dropped, "restore", back="status=dropped")
    assert r.status_code == 303 and "bulk=restore" in r.headers["location"]
    assert "status=dropped" in r.headers["location"]
    assert set(_statuses(world, dropped)) <= {"triaged", "in_review", "paused"}
    assert [e["action"] for e in _review_events(world)][-3:] == ["restore"] * 3
    again = _bulk(alice, dropped, "restore")  # not dropped any more: refused, as one by one
    assert again.status_code == 409 and "not dropped" in again.text


def _hrefs(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="(/[^"]*)"', page)]


def test_the_filters_round_trip_in_the_pages_links_and_forms(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    ids = [
        world.item(ACME, f"parcel late {n}", author="@dana", sla_minutes=n + 1) for n in range(60)
    ]
    world.item(ACME, "something else entirely", author="@dana")
    alice_user = world.get_user("alice")
    for item_id in ids:
        actions.assign(world.store, item_id, alice_user, "alice")
    today = date.today()
    wanted = {
        "intent": "product_question", "q": "parcel", "author": "@dana", "mine": "1",
        "since": (today - timedelta(days=1)).isoformat(),
        "until": (today + timedelta(days=1)).isoformat(), "page_size": "25",
    }  # fmt: skip
    alice = client_for("alice")
    query = "&".join(f"{k}={v}" for k, v in wanted.items())
    page = alice.get(f"/?{query}&page=2").text
    assert "page 2 of 3" in page and "parcel late" in page and "something else" not in page
    # every chip link changes one filter and keeps all the others; the pager changes none
    links = [h for h in _hrefs(page) if h.startswith("/?")]
    assert len(links) > 10
    for href in links:
        params = parse_qs(urlsplit(href).query)
        changed = {k for k, v in wanted.items() if params.get(k) != [v]}
        assert len(changed) <= 1, (href, changed)
    reload = re.search(r'id="live-reload" href="([^"]*)"', page)  # the live banner: this page
    assert reload
    here = parse_qs(urlsplit(html.unescape(reload.group(1))).query)
    assert here["page"] == ["2"] and all(here[k] == [v] for k, v in wanted.items())
    pager = [parse_qs(urlsplit(h).query) for h in links if "page=" in h]
    pager.remove(here)
    assert sorted(p.pop("page")[0] for p in pager) == ["1", "3"]
    assert all(p == {**{k: [v] for k, v in wanted.items()}, "status": ["pending"]} for p in pager)
    # the forms carry them as hidden fields (the search form all but q, the jump all)
    jump = re.search(r'<form class="jump".*?</form>', page, flags=re.S)
    assert jump is not None
    hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', jump.group(0)))
    assert {k: html.unescape(v) for k, v in hidden.items()} == wanted
    search = re.search(r'<form class="search".*?</form>', page, flags=re.S)
    assert search is not None and 'name="q" value="parcel"' in search.group(0)
    # the bulk form and the item links carry the queue, page included
    back = re.search(r'name="back" value="([^"]*)"', page)
    assert back is not None
    assert dict(parse_qsl(html.unescape(back.group(1)))) == {**wanted, "page": "2"}
    item_link = next(h for h in _hrefs(page) if h.startswith("/items/"))
    carried = parse_qs(urlsplit(item_link).query)["from"][0]
    assert dict(parse_qsl(carried)) == {**wanted, "page": "2"}
    # a bulk action from page 2 comes back to page 2 of the same queue
    r = _bulk(alice, ids[30:32], "resolve", back=html.unescape(back.group(1)))
    assert dict(parse_qsl(urlsplit(r.headers["location"]).query)) == {
        **wanted, "page": "2", "bulk": "resolve", "n": "2",
    }  # fmt: skip
    # a saved view opens these filters (not the page); it is listed, then deleted
    csrf = csrf_of(page)
    r = alice.post(
        "/views",
        data={"csrf_token": csrf, "name": "My late parcels", "back": html.unescape(back.group(1))},
        follow_redirects=False,
    )
    assert r.status_code == 303
    opened = dict(parse_qsl(urlsplit(r.headers["location"]).query))
    assert opened == {**wanted, "done": "view-saved"}
    listed = alice.get("/").text
    view = re.search(r'<a href="([^"]*)">My late parcels</a>', listed)
    assert view is not None
    assert dict(parse_qsl(urlsplit(html.unescape(view.group(1))).query)) == wanted
    view_id = re.search(r'name="view" value="(\d+)"', listed)
    assert view_id is not None
    bob = client_for("bob")  # another reviewer neither sees nor deletes alice's view
    assert "My late parcels" not in bob.get("/").text
    r = bob.post(
        "/views/delete",
        data={"csrf_token": csrf_of(bob.get("/").text), "view": view_id.group(1)},
        follow_redirects=False,
    )
    assert r.status_code == 404
    r = alice.post(
        "/views/delete",
        data={"csrf_token": csrf, "view": view_id.group(1), "back": "q=parcel"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/?q=parcel&done=view-deleted"
    assert "My late parcels" not in alice.get("/").text


def test_the_filters_fold_on_a_phone_and_the_search_box_does_not(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    world.item(ACME, "hello")
    page = client_for("alice").get("/?author=@x&priority=P3").text
    fold = page.index('<details class="fold">')
    assert page.index('id="q"') < fold < page.index('class="chips"')
    assert re.search(r"<summary>Filters <span class=\"mute\">· 2 on</span>", page)
    assert '<script src="/static/queue.js" defer></script>' in page
    assert "style=" not in page and "onclick=" not in page  # CSP: no inline anything


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("since=yesterday", "since &#39;yesterday&#39; is not a date"),
        ("page_size=7", "page size 7 is not one of 25, 50, 100, 200"),
        ("mine=maybe", "mine &#39;maybe&#39; is not yes or no"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(
    client_for: Callable[[str], TestClient], query: str, problem: str
) -> None:
    r = client_for("alice").get(f"/?{query}")
    assert r.status_code == 400 and problem in r.text


def test_empty_fields_of_a_plain_form_mean_all(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    world.item(ACME, "hello there")
    r = client_for("alice").get("/?q=&author=&since=&until=&page_size=50&workspace=&status=pending")
    assert r.status_code == 200 and "hello there" in r.text


def test_the_queue_says_when_an_and_next_found_nothing_left(
    client_for: Callable[[str], TestClient],
) -> None:
    page = client_for("alice").get("/?done=resolve&after=12").text
    assert "Item 12: Resolved without a reply." in page
    forged = client_for("bob").get("/?bulk=resolve&n=<b>9999</b>&done=<script>").text
    assert "<b>9999" not in forged and "&lt;b&gt;" not in forged and "<script>" not in forged
