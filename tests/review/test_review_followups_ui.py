"""The escalation record on the item page, its follow-up form, the queue's "follow-ups due"
filter and the Report link: what a reviewer sees and does in the browser's HTML."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from review_world import ACME, GLOBEX, World, csrf_of
from sqlmodel import col, select

from agent.store import Item, OutboxEntry, Review, utcnow


def _record(page: str) -> dict[str, str]:
    card = re.search(r'<div class="card record" id="record">(.*?)</form>', page, re.S)
    assert card, "no record card on the page"
    pairs = re.findall(r"<dt>([^<]+)</dt><dd[^>]*>(.*?)</dd>", card.group(1), re.S)
    return {k: re.sub(r"<[^>]+>", "", v).strip() for k, v in pairs}


def _follow_up(
    client: TestClient, item: int, page: str, **fields: str
) -> tuple[int, str, str | None]:
    data = {"csrf_token": csrf_of(page), **fields}
    r = client.post(f"/items/{item}/follow-up", data=data, follow_redirects=False)
    return r.status_code, r.text, r.headers.get("location")


def test_the_item_page_shows_the_record_of_the_item(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    item = world.item(ACME, "Where is my parcel?", author="@mei", kind="dm", thread="dm-mei")
    record = _record(client_for("alice").get(f"/items/{item}").text)
    assert record["Platform"] == "sandbox · dm"
    assert record["Account"] == "@brand" and record["Handle"] == "@mei"
    assert record["Owner"] == f"{ACME}-support"
    assert record["Draft"] == "proposed" and record["Review"] == "in review"
    assert record["Final action"] == "awaiting review" and record["Follow up"] == "—"


def test_a_failed_reply_shows_a_recovery_note_on_the_page(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    item = world.item(ACME, "Broken zip", status="approved")
    with world.store.session() as s:
        s.add(
            OutboxEntry(
                item_id=item, workspace=ACME, thread="t1", text="Sorry!", text_hash="h",
                approved_by="alice", state="failed", last_error="login wall <b>on send</b>",
            )
        )  # fmt: skip
    page = client_for("alice").get(f"/items/{item}").text
    assert _record(page)["Final action"] == "reply failed"
    note = re.search(r'<div class="note warn" id="recovery-note">(.*?)</div>', page, re.S)
    assert note and "Reply not sent: login wall &lt;b&gt;on send&lt;/b&gt;." in note.group(1)


def test_setting_a_follow_up_on_the_page_and_finding_it_due_in_the_queue(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    today = utcnow().date()
    soon = world.item(ACME, "Send photos of the damage", intent="complaint")
    later = world.item(ACME, "Invoice next month please")
    resolved = world.item(ACME, "Refund done, check in a week", status="resolved")
    alice = client_for("alice")
    went = {}
    for item, day in ((soon, today), (later, today + timedelta(days=9)), (resolved, today)):
        page = alice.get(f"/items/{item}").text
        status, _, location = _follow_up(
            alice, item, page, follow_up=day.isoformat(), note=" waiting \n for photos "
        )
        assert status == 303 and location and "done=follow_up" in location
        went[item] = location
    after = alice.get(went[soon]).text
    assert "Follow-up saved" in after
    assert _record(after)["Follow up"] == f"{today.isoformat()} due"
    assert (
        _record(alice.get(f"/items/{later}").text)["Follow up"]
        == (today + timedelta(days=9)).isoformat()
    )
    with world.store.session() as s:
        notes = s.exec(
            select(Review.note).where(Review.item_id == soon, Review.action == "follow_up")
        ).all()
    assert notes == [f"follow up on {today}: waiting for photos"]

    queue = alice.get("/").text
    note = re.search(r'<div class="note info" id="follow-ups-due">(.*?)</div>', queue, re.S)
    assert note and note.group(1).startswith("2 follow-ups due")  # today's two, not next week's
    href = re.search(r'href="([^"]+)"', note.group(1))
    assert href
    due_page = alice.get(href.group(1).replace("&amp;", "&")).text
    shown = {int(n) for n in re.findall(r'href="/items/(\d+)', due_page)}
    assert shown == {soon, resolved}  # every status: a resolved item may need a look too
    assert 'id="follow-ups-due"' not in due_page  # the note is not shown on its own list
    # the pending queue keeps its default statuses with the filter on
    pending = {int(n) for n in re.findall(r'href="/items/(\d+)', alice.get("/?due=1").text)}
    assert pending == {soon}
    api = alice.get("/api/items", params={"due": "1", "status": "all"}).json()
    assert {i["id"] for i in api["items"]} == {soon, resolved}
    assert alice.get("/api/items", params={"due": "maybe"}).status_code == 400


def test_clearing_a_follow_up_and_the_refusals_on_the_page(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    today = utcnow().date()
    item = world.item(ACME, "Call me back Monday")
    alice = client_for("alice")
    page = alice.get(f"/items/{item}").text
    status, text, _ = _follow_up(alice, item, page, follow_up="2026-02-30", note="keep me")
    assert status == 400 and "follow-up date" in text and "2026-02-30" in text
    assert 'value="2026-02-30"' in text and 'value="keep me"' in text  # what was typed is kept
    status, text, _ = _follow_up(alice, item, page, follow_up="", note="")
    assert status == 400 and "choose a follow-up date, or clear it" in text
    far = (today + timedelta(days=400)).isoformat()
    status, text, _ = _follow_up(alice, item, page, follow_up=far)
    assert status == 400 and "more than a year ahead" in text
    assert world.get_item(item).follow_up_on is None

    _follow_up(alice, item, page, follow_up=(today + timedelta(days=2)).isoformat())
    page = alice.get(f"/items/{item}").text
    assert 'name="clear"' in page
    status, _, _ = _follow_up(alice, item, page, follow_up="", clear="1")
    assert status == 303 and world.get_item(item).follow_up_on is None
    assert _record(alice.get(f"/items/{item}").text)["Follow up"] == "—"

    # a viewer may not; a forged token is refused; another client's item is not found
    world.user("vic", "viewer", ACME)
    vic = client_for("vic")
    status, text, _ = _follow_up(vic, item, vic.get(f"/items/{item}").text, follow_up=str(today))
    assert status == 403 and "needs the reviewer role" in text
    forged = alice.post(
        f"/items/{item}/follow-up", data={"csrf_token": "forged", "follow_up": str(today)}
    )
    assert forged.status_code == 403
    theirs = world.item(GLOBEX, "globex only")
    status, _, _ = _follow_up(alice, theirs, page, follow_up=str(today))
    assert status == 404
    with world.store.session() as s:
        days = s.exec(select(Item.follow_up_on).where(col(Item.id).in_([item, theirs]))).all()
    assert days == [None, None]


def test_the_report_link_is_in_the_header_for_admins_only(
    world: World, client_for: Callable[[str], TestClient]
) -> None:
    world.item(ACME, "hello")
    assert 'href="/report"' in client_for("root").get("/").text
    page = client_for("alice").get("/").text
    assert 'href="/report"' not in page and "alice · reviewer" in page
