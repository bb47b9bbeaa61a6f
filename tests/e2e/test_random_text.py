"""Random text through the whole path: sandbox platform -> sweep in Chromium -> store ->
review pages -> approved reply -> the platform.

Hypothesis draws message and reply texts from all of Unicode (lone surrogates included),
from raw bytes that are not UTF-8, and from the characters that break naive code: NUL and
other controls, CR, right-to-left overrides, combining marks, markup. Each example checks:

- what the sweep stored is what the platform holds for that message (the sandbox keeps text
  as a browser shows it: lone surrogates and NUL as U+FFFD);
- the queue, the item page and the item's API answer, and the item page shows the text the
  one way the review UI shows untrusted text (``inert``: escaped, controls made visible);
- an approved reply reaches the platform exactly once, as it was approved.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, reject, settings
from hypothesis import strategies as st
from sqlmodel import select

from agent.outbox import Outbox
from agent.review import create_app
from agent.review.auth import add_user
from agent.review.context import inert
from agent.runtime import Runtime, open_runtime
from agent.scaffold import init_home
from agent.store import Item, OutboxEntry
from sandbox.errors import SandboxRequestError
from sandbox.testing import RunningSandbox
from tests.e2e.conftest import sandbox_for_homes
from tests.review.review_world import PASSWORD, login
from workspaces.paths import Home

pytestmark = pytest.mark.browser
ACME = "sandbox-acme-web"

AWKWARD = [
    "\x00", "\x01", "\x1b", "\x7f", "\r", "\r\n", "\n", "\t", "\x0c", "\u0085", "\u2028",
    "\u202e", "\u202c", "\u2066", "\u200b", "\u200f", "\ufeff", "\ufffe", "\uffff",
    "\u0301", "\u0645\u0631\u062d\u0628\u0627", "\U0001f9e8", "\U0001f469\u200d\U0001f4bb",
    "\ud800", "\udfff", "\ud83d", "<", ">", "&amp;", "<script>alert(1)</script>", '"', "'",
    "{{ 7*7 }}", "${x}", " ", "  ",
]  # fmt: skip

_piece = st.one_of(
    st.text(st.characters(exclude_categories=()), min_size=1, max_size=8),  # surrogates too
    st.binary(min_size=1, max_size=8).map(lambda b: b.decode("utf-8", "surrogateescape")),
    st.sampled_from(AWKWARD),
)
RANDOM_TEXT = st.lists(_piece, min_size=1, max_size=12).map("".join)


def _refusal(reply: str) -> str | None:
    """Why the review API refuses ``reply`` as a reply, or None when it takes it."""
    if any("\ud800" <= ch <= "\udfff" for ch in reply):
        return "text: Input should be a valid string"  # JSON can carry it; no store can
    if "\x00" in reply.strip():
        return "NUL character"
    if not reply.replace("\r\n", "\n").strip():
        return "empty"
    return None


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningSandbox, Runtime]]:
    with sandbox_for_homes() as sb:
        home = Home(tmp_path_factory.mktemp("random-text") / "home")
        init_home(home)
        rt = open_runtime(home)
        assert rt.sweeper().login(ACME).status == "ok"
        with rt.store.session() as s:
            add_user(s, "root", "admin", PASSWORD)
        yield sb, rt
        rt.store.close()


@pytest.fixture(scope="module")
def admin(world: tuple[RunningSandbox, Runtime]) -> Iterator[TestClient]:
    with TestClient(create_app(world[1]), base_url="https://testserver") as client:
        yield login(client, "root")


_authors = itertools.count(1)


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,  # the same examples on every run: a red CI can be reproduced here
    # no shrinking: each step is a sweep in Chromium (shrinking took over 5 minutes);
    # the failing example is printed whole
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(dm=RANDOM_TEXT, comment=RANDOM_TEXT, reply=RANDOM_TEXT)
def test_random_text_is_stored_as_shown_shown_safely_and_replied_as_approved(
    world: tuple[RunningSandbox, Runtime], admin: TestClient, dm: str, comment: str, reply: str
) -> None:
    sb, rt = world
    n = next(_authors)
    post = sb.client.add_post("acme", f"Post {n}")["id"]
    try:
        posted = [
            sb.client.post_message("acme", "dm", f"dm{n}", dm)["id"],
            sb.client.post_message("acme", "comment", f"c{n}", comment, thread=post)["id"],
        ]
    except SandboxRequestError as exc:  # like the real platforms, it refuses a blank message
        assert "only blanks" in str(exc) and not (dm.strip() and comment.strip()), exc
        reject()
    shown = {m["id"]: m["text"] for m in sb.client.state()["messages"] if m["id"] in posted}

    result = rt.sweeper().sweep(ACME)
    assert result.status == "ok", result.message
    with rt.store.session() as s:
        items = {
            i.message_id: i
            for i in s.exec(select(Item).where(Item.message_id.in_(posted))).all()  # type: ignore[union-attr]
        }
    assert {m: items[m].text for m in posted} == shown  # stored exactly as the platform shows

    assert admin.get("/").status_code == 200
    for message_id, item in items.items():
        page = admin.get(f"/items/{item.id}")
        assert page.status_code == 200, (message_id, page.text[:300])
        assert str(inert(item.text)) in page.text
        assert "<script>alert(1)" not in page.text  # the payload is escaped, never markup
        assert admin.get(f"/api/items/{item.id}").json()["text"] == item.text

    (dm_item,) = [i for i in items.values() if i.kind == "dm"]
    api = admin.get(f"/api/items/{dm_item.id}").json()
    csrf = {"X-CSRF-Token": admin.get("/api/me").json()["csrf_token"]}
    approved = admin.post(
        f"/api/items/{dm_item.id}/approve",
        # ASCII-escaped JSON, so a lone surrogate reaches the server as a script could send it
        content=json.dumps({"text": reply, "draft_hash": api["draft_hash"]}),
        headers={**csrf, "Content-Type": "application/json"},
    )
    refusal = _refusal(reply)
    if refusal:  # a clear 400 naming the problem, never a 500 or an empty reply sent
        assert approved.status_code == 400 and refusal in approved.text, approved.text
        return
    expected = reply.replace("\r\n", "\n").strip()  # as the review actions keep it
    assert approved.status_code == 200, approved.text
    before = len(sb.client.replies("acme"))
    results = Outbox(rt).send(ACME)
    again = Outbox(rt).send(ACME)
    assert [r.state for r in results] == ["sent"], [r.to_dict() for r in results]
    assert again == []
    replies = sb.client.replies("acme")[before:]
    assert [r["text"] for r in replies] == [expected]
    with rt.store.session() as s:
        entry = s.exec(select(OutboxEntry).where(OutboxEntry.item_id == dm_item.id)).one()
    assert entry.text == expected and entry.state == "sent"


def test_the_strategy_reaches_the_awkward_characters() -> None:
    """The property above is only as good as what it draws: surrogates, NUL, CR and bytes
    that are not UTF-8 must all be drawn, or the test proves little."""
    seen: set[str] = set()

    @settings(max_examples=300, derandomize=True, database=None)
    @given(RANDOM_TEXT)
    def draw(text: str) -> None:
        for ch in text:
            if "\ud800" <= ch <= "\udfff":
                seen.add("surrogate")
            elif ch == "\x00":
                seen.add("nul")
            elif ch == "\r":
                seen.add("cr")
            elif ch == "\u202e":
                seen.add("rtl override")

    draw()
    assert seen == {"surrogate", "nul", "cr", "rtl override"}
