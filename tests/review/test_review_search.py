"""Search and views: full-text search over text and author (FTS5 / tsvector), the queue's
"assigned to me", author and date filters, page size and page, and per-user saved views.

Every test runs on SQLite and on PostgreSQL (``db_url``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from review_world import ACME, GLOBEX, SECRET, World
from sqlmodel import col, select

from agent.review import actions, queries
from agent.review.queries import BadFilter, QueueFilter, latest_decision, queue, search_words
from agent.review.views import delete_view, get_view, save_view, view_href, views_of
from agent.store import Decision, Item, ItemCreate, add_item, open_store

Client = Callable[[str], TestClient]


def _texts(client: TestClient, query: str) -> list[str]:
    r = client.get(f"/api/items?{query}")
    assert r.status_code == 200, r.text
    return sorted(i["text"] for i in r.json()["items"])


def _search(world: World, q: str, visible: set[str] | None = None) -> list[str]:
    with world.store.session() as s:
        return sorted(r.item.text for r in queue(s, QueueFilter(q=q, status="all"), visible).rows)


def test_a_word_in_the_text_finds_that_item_and_no_other(world: World, client_for: Client) -> None:
    world.item(ACME, "my parcel never arrived")
    world.item(ACME, "where is the refund for order 42")
    world.item(ACME, "lovely colours, thank you")
    alice = client_for("alice")
    assert _texts(alice, "q=refund") == ["where is the refund for order 42"]
    assert _texts(alice, "q=REFUND") == ["where is the refund for order 42"]  # case folded
    assert _texts(alice, "q=refu") == ["where is the refund for order 42"]  # a word's start
    assert _texts(alice, "q=parcel+arrived") == ["my parcel never arrived"]  # every word
    assert _texts(alice, "q=parcel+refund") == []  # no item holds both
    assert _texts(alice, "q=fund") == []  # only a word's start, not its middle
    assert len(_texts(alice, "q=")) == 3  # empty input: no search


def test_an_author_finds_theirs(world: World, client_for: Client) -> None:
    world.item(ACME, "first", author="@sam.lee")
    world.item(ACME, "second", author="@ana")
    world.item(ACME, "third mentions ana in the text", author="@bo")
    world.item(ACME, "fourth", author="@Éva")
    alice = client_for("alice")
    assert _texts(alice, "q=sam") == ["first"]  # search reads the author too
    assert _texts(alice, "q=ana") == ["second", "third mentions ana in the text"]
    assert _texts(alice, "author=%40ana") == ["second"]  # the filter: that author only
    assert _texts(alice, "author=%40ANA") == ["second"]
    assert _texts(alice, "author=ana") == []  # exact, not a search
    assert _texts(alice, "author=%40%C3%89va") == ["fourth"]  # as written, in any script
    assert _texts(alice, "author=%40ana&q=second") == ["second"]
    assert _texts(alice, "author=%40ana&q=third") == []
    r = alice.get("/api/items", params={"author": "@ana\x00"})
    assert r.status_code == 400 and "control characters" in r.json()["error"]
    r = alice.get("/api/items", params={"author": "@" + "a" * 300})
    assert r.status_code == 400 and "longer than 255" in r.json()["error"]


def test_search_never_returns_an_ungranted_workspace(world: World, client_for: Client) -> None:
    world.item(GLOBEX, f"internal {SECRET} plans", author="@globex-insider")
    world.item(ACME, "acme public question")
    alice, eve, root = client_for("alice"), client_for("eve"), client_for("root")
    assert _texts(alice, f"q={SECRET}") == []
    assert _texts(alice, "q=insider") == []
    assert _texts(alice, "q=internal+plans&status=all") == []
    r = alice.get(f"/api/items?q={SECRET}&workspace={GLOBEX}")
    assert r.status_code == 404  # an ungranted workspace looks absent, searched or not
    assert _texts(eve, f"q={SECRET}") == [f"internal {SECRET} plans"]
    assert _texts(eve, "q=acme") == []
    assert _texts(root, "q=plans") == [f"internal {SECRET} plans"]  # an admin sees all
    assert _search(world, "plans", {ACME}) == []
    assert _search(world, "plans", set()) == []


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ('"NEAR', ["he wrote NEAR the end"]),
        ("NEAR(wrote end)", ["he wrote NEAR the end"]),
        ("near*", ["he wrote NEAR the end"]),
        ("-wrote", ["he wrote NEAR the end"]),
        ("text:wrote", []),  # "text" and "wrote": no item holds both
        ("col:on", ["price col:on x"]),
        ("wrote AND OR NOT", []),  # words, not operators: no item holds "and", "or", "not"
        ("'; DROP TABLE items; --", []),
        ("^price", ["price col:on x"]),
        ("price +col", ["price col:on x"]),
        ("\\ '' \" * : - ( ) ^ {}", None),  # no word at all: no search, every item
        ("***", None),
    ],
)
def test_search_syntax_in_the_input_is_read_as_words(
    world: World, client_for: Client, q: str, found: list[str] | None
) -> None:
    world.item(ACME, "he wrote NEAR the end")
    world.item(ACME, "price col:on x")
    world.item(ACME, "nothing here")
    r = client_for("alice").get("/api/items", params={"q": q})
    assert r.status_code == 200, r.text
    texts = sorted(i["text"] for i in r.json()["items"])
    assert texts == (found if found is not None else sorted(
        ["he wrote NEAR the end", "price col:on x", "nothing here"]
    ))  # fmt: skip


def test_other_scripts_and_accents(world: World) -> None:
    world.item(ACME, "東京タワーに行きました")
    world.item(ACME, "مرحبا بالعالم شكرا")
    world.item(ACME, "un café crème, s'il vous plaît")
    world.item(ACME, "नमस्ते दुनिया")
    assert _search(world, "東京") == ["東京タワーに行きました"]  # a run's start
    assert _search(world, "タワー") == []  # written without spaces: one word per run
    assert _search(world, "شكرا") == ["مرحبا بالعالم شكرا"]
    assert _search(world, "नमस्ते") == ["नमस्ते दुनिया"]  # combining marks are part of words
    assert _search(world, "café") == ["un café crème, s'il vous plaît"]
    assert _search(world, "CAFÉ") == ["un café crème, s'il vous plaît"]  # case folded
    assert _search(world, "cafe") == []  # accents are kept: "cafe" is another word
    assert _search(world, "plaît") == ["un café crème, s'il vous plaît"]
    assert _search(world, "🙂 ☃") == _search(world, "")  # symbols only: no search


def test_an_item_stored_later_is_found_and_an_update_moves_it(world: World) -> None:
    with world.store.session() as s:
        row, _ = add_item(
            s,
            ItemCreate(workspace=ACME, platform="sandbox", account="@brand", thread="t9",
                       author="@late", text="zeppelin tickets"),
        )  # fmt: skip
        row.status = "in_review"
        item_id = row.id
    assert _search(world, "zeppelin") == ["zeppelin tickets"]
    with world.store.session() as s:
        item = s.get(Item, item_id)
        assert item is not None
        item.text, item.author = "balloon tickets", "@early"
    assert _search(world, "zeppelin") == []
    assert _search(world, "balloon") == ["balloon tickets"]
    assert _search(world, "late") == [] and _search(world, "early") == ["balloon tickets"]
    with world.store.session() as s:
        item = s.get(Item, item_id)
        assert item is not None
        item.status = "resolved"  # a change that is not text or author keeps the index
    assert _search(world, "balloon") == ["balloon tickets"]
    with world.store.session() as s:
        s.execute(sa.delete(Item).where(col(Item.id) == item_id))
    assert _search(world, "balloon") == []


def test_the_migration_indexes_the_items_already_stored(db_url: str) -> None:
    with open_store(db_url, migrate=False) as store:
        store.upgrade("0008")
        with store.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO items (workspace, platform, account, thread, kind, author,"
                    " text, key, seen_at, status, truncated, evidence_capped)"
                    " VALUES ('acme', 'sandbox', 'a', 't', 'comment', '@old', 'gramophone repair',"
                    " 'k-old', :t, 'in_review', false, false)"
                ),
                {"t": datetime(2025, 1, 1, tzinfo=UTC)},
            )
    with open_store(db_url) as store, store.session() as s:
        found = queue(s, QueueFilter(q="gramophone"), None)
        assert [r.item.key for r in found.rows] == ["k-old"]
        assert queue(s, QueueFilter(q="old"), None).total == 1  # the author, too
        assert queue(s, QueueFilter(q="violin"), None).total == 0


def test_assigned_to_me(world: World, client_for: Client) -> None:
    mine = world.item(ACME, "for alice")
    world.item(ACME, "for the team")
    assert _texts(client_for("alice"), "mine=1") == []  # triage's owner is a team
    actions.assign(world.store, mine, world.get_user("bob"), "alice")
    assert _texts(client_for("alice"), "mine=1") == ["for alice"]
    assert _texts(client_for("alice"), "mine=0") == ["for alice", "for the team"]
    assert _texts(client_for("bob"), "mine=1") == []  # bob assigned it; alice owns it
    assert _texts(client_for("alice"), "mine=1&q=alice") == ["for alice"]
    assert _texts(client_for("alice"), "mine=1&q=team") == []
    r = client_for("alice").get("/api/items?mine=maybe")
    assert r.status_code == 400 and "mine" in r.json()["error"]
    with world.store.session() as s, pytest.raises(BadFilter, match="signed-in"):
        queue(s, QueueFilter(mine=True), None)


def _seen(world: World, item_id: int, when: datetime) -> None:
    with world.store.session() as s:
        item = s.get(Item, item_id)
        assert item is not None
        item.seen_at = when


def test_since_and_until_are_utc_days_on_seen_at_both_included(
    world: World, client_for: Client
) -> None:
    _seen(world, world.item(ACME, "late on the 9th"), datetime(2026, 3, 9, 23, 59, tzinfo=UTC))
    _seen(world, world.item(ACME, "start of the 10th"), datetime(2026, 3, 10, 0, 0, tzinfo=UTC))
    _seen(world, world.item(ACME, "end of the 11th"), datetime(2026, 3, 11, 23, 59, tzinfo=UTC))
    _seen(world, world.item(ACME, "the 12th"), datetime(2026, 3, 12, 0, 0, 1, tzinfo=UTC))
    alice = client_for("alice")
    assert _texts(alice, "since=2026-03-10&until=2026-03-11") == [
        "end of the 11th",
        "start of the 10th",
    ]
    assert _texts(alice, "since=2026-03-12") == ["the 12th"]
    assert _texts(alice, "until=2026-03-09") == ["late on the 9th"]
    assert _texts(alice, "since=2026-03-10&until=2026-03-10") == ["start of the 10th"]
    for bad, word in (("since=yesterday", "since"), ("until=2026-13-01", "until")):
        r = alice.get(f"/api/items?{bad}")
        assert r.status_code == 400 and word in r.json()["error"], r.text
    r = alice.get("/api/items?since=2026-03-12&until=2026-03-10")
    assert r.status_code == 400 and "after it ends" in r.json()["error"]


def test_page_size_and_jumping_to_a_page(world: World, client_for: Client) -> None:
    for n in range(60):
        world.item(ACME, f"item {n:02d}", sla_minutes=n + 1)  # the queue's order is n's
    alice = client_for("alice")
    first = alice.get("/api/items?page_size=25").json()
    assert (first["total"], first["page"], first["pages"], first["page_size"]) == (60, 1, 3, 25)
    assert [i["text"] for i in first["items"]] == [f"item {n:02d}" for n in range(25)]
    third = alice.get("/api/items?page_size=25&page=3").json()
    assert [i["text"] for i in third["items"]] == [f"item {n:02d}" for n in range(50, 60)]
    past = alice.get("/api/items?page_size=25&page=99").json()
    assert past["page"] == 3 and len(past["items"]) == 10  # past the end: the last page
    default = alice.get("/api/items?page=2").json()
    assert (default["page_size"], default["pages"], len(default["items"])) == (50, 2, 10)
    big = alice.get("/api/items?page_size=100").json()
    assert (big["pages"], len(big["items"])) == (1, 60)
    searched = alice.get("/api/items?q=item&page_size=25&page=2").json()
    assert (searched["total"], searched["pages"], len(searched["items"])) == (60, 3, 25)


@pytest.mark.parametrize("size", ["10", "0", "-50", "1000", "abc", "50.0"])
def test_a_bad_page_size_is_a_clear_400(world: World, client_for: Client, size: str) -> None:
    r = client_for("alice").get("/api/items", params={"page_size": size})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert "page size" in error and size in error, error
    if size.lstrip("-").isdigit():
        assert "25, 50, 100, 200" in error


def test_saved_views_are_per_user(world: World) -> None:
    with world.store.session() as s:
        mine = save_view(s, "alice", "  my refunds ", {"q": "refund", "mine": "yes", "page": "4"})
        save_view(s, "alice", "breached", {"sla": "breached", "page_size": "100"})
        bobs = save_view(s, "bob", "my refunds", {"q": "parcel"})
    assert mine.name == "my refunds" and mine.params == {"q": "refund", "mine": "1"}  # no page
    assert view_href(mine) == "/?q=refund&mine=1"
    with world.store.session() as s:
        assert [v.name for v in views_of(s, "alice")] == ["breached", "my refunds"]
        assert [(v.name, v.params) for v in views_of(s, "bob")] == [("my refunds", {"q": "parcel"})]
        assert views_of(s, "eve") == []
        assert mine.id is not None and bobs.id is not None
        assert get_view(s, "bob", mine.id) is None  # another's view is absent
        assert delete_view(s, "bob", mine.id) is False
        assert get_view(s, "alice", mine.id) is not None
        again = save_view(s, "alice", "my refunds", {"q": "refunds please"})
        assert again.id == mine.id and again.params == {"q": "refunds please"}  # replaced
        assert delete_view(s, "alice", mine.id) is True
        assert delete_view(s, "alice", mine.id) is False
        assert [v.name for v in views_of(s, "alice")] == ["breached"]
        assert [v.params for v in views_of(s, "bob")] == [{"q": "parcel"}]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"password": "x"}, "only queue filters"),
        ({"page_size": "7"}, "page size 7"),
        ({"since": "soon"}, "not a date"),
        ({"mine": "perhaps"}, "yes or no"),
        ({"q": "x" * 501}, "longer than"),
    ],
)
def test_a_view_holds_only_known_filters(world: World, params: dict, message: str) -> None:
    with world.store.session() as s, pytest.raises(BadFilter, match=message):
        save_view(s, "alice", "bad", params)
    with world.store.session() as s:
        assert views_of(s, "alice") == []
        with pytest.raises(BadFilter, match="needs a name"):
            save_view(s, "alice", "   ", {"q": "x"})


def test_search_words_are_plain_text() -> None:
    assert search_words('say "hi" NEAR(x) -y:z *') == ["say", "hi", "NEAR", "x", "y", "z"]
    assert search_words("  ") == [] and search_words(None) == []
    assert search_words("a a b") == ["a", "b"]
    assert len(search_words(" ".join(f"w{n}" for n in range(40)))) == 16


@pytest.mark.parametrize("early_scan", [10_000, 7])
def test_every_page_is_the_queue_order_whichever_way_it_is_read(
    world: World, monkeypatch: pytest.MonkeyPatch, early_scan: int
) -> None:
    """Pages are read by walking the deadlines (the first ones), by sorting, or by sorting
    from the far end (past the middle): together they are the queue, once, in order."""
    monkeypatch.setattr(queries, "EARLY_SCAN", early_scan)  # 7: the walk stops early
    ids = []
    for n in range(23):
        minutes = None if n % 5 == 0 else [30, 30, 45, 90][n % 4]  # ties and no deadlines
        ids.append(world.item(ACME, f"n{n}", sla_minutes=minutes))
    with world.store.session() as s:  # equal deadlines: the order falls to seen_at, then id
        for d in s.exec(select(Decision)):
            if d.sla_minutes is not None:
                d.sla_due_at = datetime(2030, 1, 1, tzinfo=UTC) + timedelta(minutes=d.sla_minutes)
    with world.store.session() as s:  # one item decided twice: its newest decision counts
        s.add(Decision(item_id=ids[3], action="review", sla_minutes=None, sla_due_at=None))
        bare, _ = add_item(
            s,
            ItemCreate(workspace=ACME, platform="sandbox", account="@brand", thread="t2",
                       author="@new", text="no decision yet"),
        )  # fmt: skip
        bare.status = "in_review"
    with world.store.session() as s:
        expected = []
        for item in s.exec(select(Item).where(Item.workspace == ACME)):
            d = latest_decision(s, item.id or 0)
            due = d.sla_due_at if d else None
            expected.append(((due is None, due or item.seen_at, item.seen_at, item.id), item.id))
        want = [i for _, i in sorted(expected)]
        assert len(want) == 24
        for size in (1, 25):
            got = []
            pages = queue(s, QueueFilter(), {ACME}, page_size=size).pages
            for page in range(1, pages + 1):
                got += [
                    r.item.id for r in queue(s, QueueFilter(page=page), {ACME}, page_size=size).rows
                ]
            assert got == want, size
        assert [
            r.item.id for r in queue(s, QueueFilter(page=3), {ACME}, page_size=10).rows
        ] == want[20:]
