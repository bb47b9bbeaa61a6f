"""Reviewer corrections teach triage, for real: a sweep collects 20 DMs in Chromium, a
reviewer corrects each in the review UI (the item page's form, with CSRF), `inbox-agent
triage train --workspace` learns them, and the workspace's next sweep decides messages of
that kind as the reviewer did, while an unrelated message is decided as before."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from typer.testing import CliRunner

from agent.cli import app as cli
from agent.review import create_app
from agent.review.auth import add_user, grant
from agent.runtime import open_runtime
from agent.scaffold import init_home
from agent.store import Decision, Item
from agent.store.corrections import corrections_for
from agent.triage.workspace import memory_path
from sandbox.testing import RunningSandbox
from workspaces.paths import Home

pytestmark = pytest.mark.browser
ACME = "sandbox-acme-web"
PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_DRAFT_HASH = re.compile(r'name="draft_hash" value="([^"]*)"')

# one kind of message the shipped model reads as a product question: a customer who means to
# buy in the spring sale (the label guide: sales_lead), which this workspace's reviewers send
# to the sales team. Written differently each time, as customers do (near-identical texts
# would be one case, its members hidden behind its first item).
SALE = [
    "is the spring sale still on? want to grab two of the bundles",
    "hey is the spring sale bundle still available, looking to grab a couple",
    "spring sale still running?? i want to grab the big bundle",
    "can i still get the spring sale price on the bundle if i buy today",
    "is the spring sale over already or can i still grab the bundle",
    "want to grab 3 bundles, is the spring sale price still valid",
    "spring sale question: still on this weekend? want to buy the bundle",
    "hi! does the spring sale apply to the family bundle? want to grab one",
    "is the spring sale on the bundles still going, thinking of buying two",
    "planning to grab the bundle in the spring sale, is it still on?",
    "yo is that spring sale still live, want to grab the bundle for my sister",
    "spring sale bundle still available? gonna buy a few for the office",
    "is the spring sale still valid for bundles, i'd like to order two",
    "hello, can i grab the starter bundle at the spring sale price still?",
    "spring sale still on for the gift bundle? want to buy it this week",
    "is the spring sale done? was going to grab the bundle tonight",
    "do you still do the spring sale price on bundles? want to grab four",
    "wanna grab the deluxe bundle, is the spring sale still a thing",
    "quick one, spring sale still on? i want to grab the bundle before it ends",
    "is the spring sale still happening online? want to buy two bundles",
]
LATER = [
    "is the spring sale still on for the mega bundle? want to grab it",
    "spring sale still going? thinking of grabbing two bundles for gifts",
    "can i still buy the bundle at the spring sale price tomorrow",
    "hey, spring sale still on? want to grab the travel bundle",
    "is your spring sale still running, i want to grab a bundle or two",
]
OTHERS = "do you have the blue hoodie in size M?"


def _decisions(rt: object, texts: set[str]) -> dict[str, Decision]:
    with rt.store.session() as s:  # type: ignore[attr-defined]
        rows = s.exec(select(Item, Decision).join(Decision)).all()
    return {item.text: decision for item, decision in rows if item.text in texts}


def test_corrections_change_the_next_sweep(tmp_path: Path, sandbox: RunningSandbox) -> None:
    home = Home(tmp_path / "home")
    init_home(home)
    rt = open_runtime(home)
    sweeper = rt.sweeper()
    assert sweeper.login(ACME).status == "ok"
    first = SALE
    for i, text in enumerate(first):
        sandbox.client.post_message(account="acme", kind="dm", author=f"cust{i}", text=text)
    assert sweeper.sweep(ACME).new_items == 20
    before = _decisions(rt, set(first))
    assert len(before) == 20
    # the premise: the shipped model does not already decide these as the reviewer will
    assert sum(d.intent == "sales_lead" and d.queue == "sales" for d in before.values()) < 10

    with rt.store.session() as s:
        grant(s, add_user(s, "ann", "reviewer", PASSWORD), ACME)
        ids = {i.text: i.id for i in s.exec(select(Item)).all()}
    client = TestClient(create_app(rt), base_url="https://testserver")  # secure cookies
    page = client.get("/login").text
    signed_in = client.post(
        "/login",
        data={"username": "ann", "password": PASSWORD, "csrf_token": _CSRF.search(page)[1]},  # type: ignore[index]
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    for text in first:
        item_page = client.get(f"/items/{ids[text]}").text
        r = client.post(
            f"/items/{ids[text]}/correct",
            data={
                "csrf_token": _CSRF.search(item_page)[1],  # type: ignore[index]
                "draft_hash": _DRAFT_HASH.search(item_page)[1],  # type: ignore[index]
                "intent": "sales_lead",
                "priority": "P2",
                "queue": "sales",
                "note": "a sale to close: sales",
            },
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
    labels = corrections_for(rt.store, ACME)
    assert {r.item_id for r in labels} == {ids[t] for t in first}
    assert {r.reviewer for r in labels} == {"ann"}

    result = CliRunner().invoke(cli, ["--home", str(home.root), "triage", "train", "-w", ACME])
    assert result.exit_code == 0, result.output
    assert "20 corrected item(s)" in result.output
    assert memory_path(home.root, ACME).is_file()
    evaluated = CliRunner().invoke(cli, ["--home", str(home.root), "eval", "triage", "-w", ACME])
    assert evaluated.exit_code == 0, evaluated.output
    assert "with the corrections learned" in evaluated.output

    rt2 = open_runtime(home)  # a new process would load the workspace's memory the same way
    later = LATER  # new customers
    for i, text in enumerate([*later, OTHERS]):
        sandbox.client.post_message(account="acme", kind="dm", author=f"new{i}", text=text)
    assert rt2.sweeper().sweep(ACME).new_items == 6
    after = _decisions(rt2, {*later, OTHERS})
    for text in later:
        d = after[text]
        assert (d.intent, d.priority, d.queue) == ("sales_lead", "P2", "sales"), d.why
        assert any(w.startswith("correction.like:item ") for w in d.why)
    unrelated = after[OTHERS]
    assert not any(w.startswith("correction.like") for w in unrelated.why)
    assert (unrelated.intent, unrelated.queue) == ("product_question", "support")
