"""Cases (issue 18): near-duplicates from many customers are one case in the queue, each
customer an item of their own, one approval queues one reply per customer.

Items are stored as a sweep stores them and triaged by the sweep's own triage
(``SweepTriage.batch``: the real pipeline, the real decision rows), then read through
the queue, the API, the CLI and the pages.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from review_world import ACME, GLOBEX, World, csrf_of
from sqlmodel import select
from typer.testing import CliRunner

from agent.cli import app as cli_app
from agent.review import actions, cases
from agent.review.errors import InvalidState, NotAllowed, NotFound, StaleDraft
from agent.review.queries import QueueFilter, queue, status_counts
from agent.store import Item, ItemCreate, OutboxEntry, Review, add_item, text_hash, utcnow

OUTAGE = "Site is down for me."
REPLY_DM = "Sorry! We are on it and will write here as soon as the site is back."
REPLY_COMMENT = "Sorry, everyone! We are on it: updates on our status page."


def _store(world: World, rows: list[tuple[str, str, str, str]]) -> list[int]:
    """(author, kind, thread, text) stored as new items, then triaged as a sweep does."""
    ids = []
    with world.store.session() as s:
        for n, (author, kind, thread, text) in enumerate(rows):
            item, _ = add_item(
                s,
                ItemCreate(
                    workspace=ACME, platform="sandbox", account="@brand", thread=thread,
                    kind=kind, author=author, text=text, message_id=f"m{len(ids)}-{n}",
                    posted_at=utcnow() - timedelta(minutes=30 - n),
                ),
            )  # fmt: skip
            ids.append(item.id or 0)
    with world.store.session() as s:
        items = list(s.exec(select(Item).where(Item.id.in_(ids)).order_by(Item.id)).all())  # type: ignore[union-attr]
    world.runtime.triage().batch(items)
    return ids


def _twenty(world: World) -> list[int]:
    """20 customers: 6 DMs, 7 comments on each of two posts."""
    rows = [(f"dm{n}", "dm", f"/inbox/dm{n}", OUTAGE) for n in range(6)]
    rows += [(f"c{n}", "comment", f"/posts/p{n % 2}", OUTAGE) for n in range(14)]
    return _store(world, rows)


def _statuses(world: World, ids: list[int]) -> dict[int, str]:
    return {i: world.get_item(i).status for i in ids}


def test_twenty_customers_are_one_p1_case_with_twenty_members(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    ids = _twenty(world)
    first = ids[0]
    statuses = _statuses(world, ids)
    assert statuses[first] == "triaged"
    assert {statuses[i] for i in ids[1:]} == {"in_case"}
    assert {world.get_item(i).case_id for i in ids} == {first}
    with world.store.session() as s:
        page = queue(s, QueueFilter(), {ACME})
    assert [r.item.id for r in page.rows] == [first]  # the case is shown once
    (row,) = page.rows
    assert row.decision is not None and row.decision.priority == "P1"
    assert row.case.members == 20 and row.case.threads == 8 and row.case.platforms == ["sandbox"]
    assert row.case.kinds == {"dm": 6, "comment": 14}
    with world.store.session() as s:  # the members themselves, under their own filter
        members = queue(s, QueueFilter(status="in_case", page_size=50), {ACME}).rows
        counts = status_counts(s, {ACME})
    assert sorted(r.item.id for r in members) == sorted(ids[1:])
    assert counts["in_case"] == 19 and counts["pending"] == 1

    alice = client_for("alice")
    api = alice.get("/api/items").json()
    assert [i["id"] for i in api["items"]] == [first]
    assert api["items"][0]["case"]["members"] == 20
    detail = alice.get(f"/api/cases/{first}").json()
    assert sorted(m["id"] for m in detail["members"]) == sorted(ids)
    html = alice.get("/").text
    assert "Case · 20 customers" in html and f'href="/cases/{first}"' in html
    case_page = alice.get(f"/cases/{first}")
    assert case_page.status_code == 200
    assert case_page.text.count('data-member="') == 20
    assert "Approve for 20 customers" in case_page.text


def test_one_approval_queues_one_reply_per_member_bound_to_its_thread(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    world.user("pat", "approver", ACME)
    ids = _twenty(world)
    first = ids[0]
    alice = client_for("alice")
    case = alice.get(f"/api/cases/{first}").json()
    me = alice.get("/api/me").json()
    body = {"texts": {"dm": REPLY_DM, "comment": REPLY_COMMENT}, "case_hash": case["hash"]}
    refused = alice.post(
        f"/api/cases/{first}/approve", json=body, headers={"X-CSRF-Token": me["csrf_token"]}
    )
    assert refused.status_code == 403  # a P1 case needs an approver
    pat = client_for("pat")
    token = pat.get("/api/me").json()["csrf_token"]
    r = pat.post(f"/api/cases/{first}/approve", json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 200, r.text
    assert len(r.json()["outbox"]) == 20 and r.json()["skipped"] == []
    entries = world.outbox()
    assert sorted(e.item_id for e in entries) == sorted(ids)
    for e in entries:
        item = world.get_item(e.item_id)
        want = REPLY_DM if item.kind == "dm" else REPLY_COMMENT
        assert (e.workspace, e.thread, e.text, e.text_hash) == (
            item.workspace, item.thread, want, text_hash(want),
        )  # fmt: skip
        assert item.status == "approved"
    again = pat.post(f"/api/cases/{first}/approve", json=body, headers={"X-CSRF-Token": token})
    assert again.status_code == 409  # the page's case hash no longer holds
    assert len(world.outbox()) == 20
    with world.store.session() as s:
        notes = s.exec(select(Review.note).where(Review.action == "approve")).all()
    assert len(notes) == 20 and all(f"case {first}" in (n or "") for n in notes)


def test_a_member_with_a_card_number_is_paused_on_its_own_and_skipped(world: World) -> None:
    world.user("pat", "approver", ACME)
    text = (
        "the site is down for me since this morning and the checkout page never loads "
        "on my phone or laptop today"
    )
    ids = _store(
        world,
        [
            ("ann", "comment", "/posts/p1", text),
            ("bob", "comment", "/posts/p1", text + " card 4111111111111111"),
            ("cy", "dm", "/inbox/cy", text),
        ],
    )
    assert _statuses(world, ids) == {ids[0]: "triaged", ids[1]: "paused", ids[2]: "in_case"}
    assert world.get_item(ids[1]).case_id == ids[0]
    with world.store.session() as s:
        rows = queue(s, QueueFilter(), {ACME}).rows
        case = cases.load(s, ids[0], {ACME})
    assert sorted(r.item.id for r in rows) == [ids[0], ids[1]]  # the paused one on its own
    assert next(r for r in rows if r.item.id == ids[0]).case.paused == 1
    done = cases.approve(
        world.store, ids[0], world.get_user("pat"), {"comment": REPLY_COMMENT, "dm": REPLY_DM},
        seen_case_hash=case.hash, catalog=world.runtime.catalog,
    )  # fmt: skip
    assert done.skipped == [ids[1]]
    assert sorted(e.item_id for e in done.entries) == [ids[0], ids[2]]
    assert world.get_item(ids[1]).status == "paused"  # until a person decides it


def test_the_same_author_twice_in_one_thread_is_one_item_to_answer(world: World) -> None:
    text = "The app keeps crashing on login every single time I open it"
    ids = _store(
        world,
        [("ann", "comment", "/posts/p1", text), ("ann", "comment", "/posts/p1", text + "!!")],
    )
    assert _statuses(world, ids) == {ids[0]: "triaged", ids[1]: "merged"}
    with world.store.session() as s:
        rows = queue(s, QueueFilter(), {ACME}).rows
        everything = queue(s, QueueFilter(status="all"), {ACME}).rows
    assert [r.item.id for r in rows] == [ids[0]]
    assert rows[0].case is None  # one customer is no case
    merged = next(r for r in everything if r.item.id == ids[1])
    assert merged.decision is not None and merged.decision.duplicate_of == str(ids[0])
    with world.store.session() as s:  # the merged repeat has a filter of its own
        assert [r.item.id for r in queue(s, QueueFilter(status="merged"), {ACME}).rows] == [ids[1]]
        assert status_counts(s, {ACME})["merged"] == 1


def test_a_copy_paste_spam_flood_from_30_accounts_still_drops(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    spam = "CHECK OUT my channel and subscribe!!! free giftcards www.x.biz"
    ids = _store(world, [(f"bot{n}", "comment", f"/posts/p{n % 2}", spam) for n in range(30)])
    assert set(_statuses(world, ids).values()) == {"dropped"}
    assert all(world.get_item(i).case_id is None for i in ids)
    alice = client_for("alice")
    assert alice.get("/api/items").json()["total"] == 0
    dropped = alice.get("/?status=dropped").text
    assert dropped.count("drop:spam.model") == 30


def test_leave_out_split_move_and_resolve(world: World) -> None:
    world.user("pat", "approver", ACME)
    ids = _store(world, [(f"u{n}", "comment", f"/posts/p{n}", OUTAGE) for n in range(5)])
    first, a, b, c, d = ids
    pat = world.get_user("pat")
    cases.split(world.store, a, pat)
    assert (world.get_item(a).status, world.get_item(a).case_id) == ("triaged", None)
    with pytest.raises(InvalidState, match="first item"):
        cases.split(world.store, first, pat)
    cases.move(world.store, a, first, pat)
    assert (world.get_item(a).status, world.get_item(a).case_id) == ("in_case", first)
    with world.store.session() as s:
        seen = cases.load(s, first, {ACME}).hash
    done = cases.approve(
        world.store, first, pat, {"comment": REPLY_COMMENT}, seen_case_hash=seen,
        catalog=world.runtime.catalog, leave_out=[b],
    )  # fmt: skip
    assert done.left_out == [b] and len(done.entries) == 4
    assert world.get_item(b).status == "triaged"  # back in the queue on its own
    resolved = cases.resolve(world.store, first, pat, note="outage over")
    assert [i.id for i in resolved] == [b]
    with world.store.session() as s:
        notes = s.exec(select(Review.note).where(Review.action == "resolve")).all()
    assert notes == ["outage over"]
    assert c and d  # members approved with the others


def test_case_actions_check_grants_roles_and_staleness(world: World) -> None:
    ids = _twenty(world)
    eve, alice = world.get_user("eve"), world.get_user("alice")
    with world.store.session() as s:
        with pytest.raises(NotFound):
            cases.load(s, ids[0], {GLOBEX})
        with pytest.raises(NotFound):
            cases.load(s, ids[1], {ACME})  # a member is no case
        seen = cases.load(s, ids[0], {ACME}).hash
    with pytest.raises(NotFound):
        cases.resolve(world.store, ids[0], eve)
    with pytest.raises(NotAllowed):
        cases.approve(
            world.store, ids[0], alice, {"dm": "x", "comment": "y"}, seen_case_hash=seen,
            catalog=world.runtime.catalog,
        )  # fmt: skip
    world.user("pat", "approver", ACME)
    cases.split(world.store, ids[5], alice)
    with pytest.raises(StaleDraft):
        cases.approve(
            world.store, ids[0], world.get_user("pat"), {"dm": "x", "comment": "y"},
            seen_case_hash=seen, catalog=world.runtime.catalog,
        )  # fmt: skip
    with world.store.session() as s:
        fresh = cases.load(s, ids[0], {ACME}).hash
    with pytest.raises(cases.ReviewError, match="comments is empty"):
        cases.approve(
            world.store, ids[0], world.get_user("pat"), {"dm": "x"}, seen_case_hash=fresh,
            catalog=world.runtime.catalog,
        )  # fmt: skip
    with pytest.raises(cases.ReviewError, match="not members"):
        cases.approve(
            world.store, ids[0], world.get_user("pat"), {"dm": "x", "comment": "y"},
            seen_case_hash=fresh, catalog=world.runtime.catalog, leave_out=[999_999],
        )  # fmt: skip
    assert world.outbox() == []


def test_member_text_is_escaped_on_the_case_page(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    hostile = "<script>alert(1)</script> the site is down for me and nothing loads at all"
    ids = _store(
        world,
        [("ann", "comment", "/posts/p1", hostile), ("<b>bob</b>", "dm", "/inbox/b", hostile)],
    )
    assert world.get_item(ids[1]).case_id == ids[0]
    html = client_for("alice").get(f"/cases/{ids[0]}").text
    assert "<script>alert(1)" not in html and "<b>bob</b>" not in html
    assert "&lt;script&gt;" in html


def test_the_case_forms_approve_and_split(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    world.user("pat", "approver", ACME)
    ids = _store(world, [(f"u{n}", "comment", f"/posts/p{n}", OUTAGE) for n in range(3)])
    pat = client_for("pat")
    page = pat.get(f"/cases/{ids[0]}").text
    token = csrf_of(page)
    r = pat.post(f"/items/{ids[2]}/split", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and world.get_item(ids[2]).case_id is None
    page = pat.get(f"/cases/{ids[0]}").text
    seen = page.split('name="case_hash" value="')[1].split('"')[0]
    r = pat.post(
        f"/cases/{ids[0]}/approve",
        data={"csrf_token": token, "case_hash": seen, "reply_comment": REPLY_COMMENT},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert sorted(e.item_id for e in world.outbox()) == ids[:2]
    no_csrf = pat.post(f"/cases/{ids[0]}/resolve", data={"note": "x"}, follow_redirects=False)
    assert no_csrf.status_code in (400, 403)


def test_review_list_json_shows_the_case(world: World) -> None:
    ids = _twenty(world)
    out = CliRunner().invoke(
        cli_app, ["--home", str(world.home.root), "review", "list", "--as", "alice", "--json"]
    )
    assert out.exit_code == 0, out.output
    rows = [json.loads(line) for line in out.output.splitlines() if line.startswith("{")]
    assert [r["id"] for r in rows] == [ids[0]]
    assert rows[0]["case"]["members"] == 20 and rows[0]["case_id"] == ids[0]
    shown = CliRunner().invoke(
        cli_app,
        ["--home", str(world.home.root), "review", "case", "show", str(ids[0]), "--as", "alice"],
    )
    assert shown.exit_code == 0 and "20 members" in shown.output


def test_triage_logs_case_membership(world: World) -> None:
    ids = _store(world, [(f"u{n}", "comment", f"/posts/p{n}", OUTAGE) for n in range(3)])
    events = [e for e in world.runtime.log.events(ACME) if e.type == "decision"]
    by_item = {e.data["item"]: e.data for e in events}
    assert by_item[ids[0]]["case"] is None
    assert by_item[ids[1]]["case"] == ids[0] and by_item[ids[2]]["case"] == ids[0]
    with world.store.session() as s:
        assert s.exec(select(OutboxEntry)).all() == []


def test_the_report_counts_cases_and_members_apart(world: World) -> None:
    _twenty(world)
    _store(world, [("solo", "comment", "/posts/p9", "does this come in a bigger size?")])
    out = CliRunner().invoke(cli_app, ["--home", str(world.home.root), "report", "--json"])
    assert out.exit_code == 0, out.output
    total = json.loads(out.output)["total"]
    assert (total["cases"], total["case_members"], total["collected"]) == (1, 20, 21)


def test_the_first_item_alone_cannot_close_a_case_its_members_wait_on(world: World) -> None:
    world.user("pat", "approver", ACME)
    ids = _store(world, [(f"u{n}", "comment", f"/posts/p{n}", OUTAGE) for n in range(3)])
    pat = world.get_user("pat")
    with pytest.raises(InvalidState, match="customers waiting"):
        actions.approve(
            world.store, ids[0], pat, REPLY_COMMENT, seen_draft_hash=world.draft_hash(ids[0]),
            catalog=world.runtime.catalog,
        )  # fmt: skip
    with pytest.raises(InvalidState, match="customers waiting"):
        actions.resolve(world.store, ids[0], pat)
    assert world.outbox() == [] and world.get_item(ids[0]).status == "triaged"


def test_a_customer_joining_a_closed_case_is_in_the_queue_on_their_own(world: World) -> None:
    ids = _store(world, [(f"u{n}", "comment", f"/posts/p{n}", OUTAGE) for n in range(2)])
    cases.resolve(world.store, ids[0], world.get_user("alice"), note="outage over")
    (late,) = _store(world, [("late", "dm", "/inbox/late", OUTAGE)])
    item = world.get_item(late)
    assert (item.case_id, item.status) == (ids[0], "triaged")
    with world.store.session() as s:
        assert [r.item.id for r in queue(s, QueueFilter(), {ACME}).rows] == [late]


def test_members_paused_for_the_cases_own_reason_are_decided_with_it(world: World) -> None:
    """Every customer charged twice trips the refund rule, the first item too: one row, one
    approval (an approver's); the one who also wrote a card number is paused on its own."""
    world.user("pat", "approver", ACME)
    text = (
        "I was charged twice this month for my subscription and the second charge is "
        "still on my bank statement today"
    )
    ids = _store(
        world,
        [
            ("ann", "comment", "/posts/p1", text),
            ("bob", "dm", "/inbox/bob", text),
            ("cy", "comment", "/posts/p2", text),
            ("dee", "comment", "/posts/p1", text + " card 4111111111111111"),
        ],
    )
    with world.store.session() as s:
        reasons = {i: cases._latest_decisions(s, [i])[i].pause_reasons for i in ids}
    assert reasons[ids[0]] and all(set(reasons[i]) == set(reasons[ids[0]]) for i in ids[1:3])
    assert "private_data.card_number" in reasons[ids[3]]
    assert _statuses(world, ids) == {
        ids[0]: "paused", ids[1]: "in_case", ids[2]: "in_case", ids[3]: "paused",
    }  # fmt: skip
    with world.store.session() as s:
        rows = queue(s, QueueFilter(), {ACME}).rows
        seen = cases.load(s, ids[0], {ACME}).hash
    assert sorted(r.item.id for r in rows) == [ids[0], ids[3]]
    with pytest.raises(NotAllowed):
        cases.approve(
            world.store, ids[0], world.get_user("alice"), {"comment": "x", "dm": "y"},
            seen_case_hash=seen, catalog=world.runtime.catalog,
        )  # fmt: skip
    done = cases.approve(
        world.store, ids[0], world.get_user("pat"), {"comment": REPLY_COMMENT, "dm": REPLY_DM},
        seen_case_hash=seen, catalog=world.runtime.catalog,
    )  # fmt: skip
    assert sorted(e.item_id for e in done.entries) == ids[:3] and done.skipped == [ids[3]]
    assert world.get_item(ids[3]).status == "paused"
