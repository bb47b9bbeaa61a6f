"""A case's one approval sends one reply per customer, each exactly once, through the real
sandbox and a real Chromium, with the sender SIGKILLed at random moments (issue 18).

The 20 customers post on the sandbox (6 DMs, 14 comments on two posts); their messages
are stored as a sweep stores them and triaged by the sweep's triage, so the case, its
members and their decisions are the real ones. The kill harness is the outbox's own
(``test_outbox_send``): a ``send`` subprocess in its own process group, killed with its
browser after a random wait, then uninterrupted sends until nothing is pending.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections import Counter

import pytest
from sqlmodel import select

from agent.outbox import Outbox
from agent.review import cases
from agent.review.auth import add_user, grant
from agent.review.queries import QueueFilter, queue
from agent.runtime import Runtime
from agent.store import Item, ItemCreate, add_item
from sandbox.testing import RunningSandbox
from tests.outbox.conftest import ACME, outbox_entries
from tests.outbox.test_outbox_send import _send_process

OUTAGE = "Site is down for me."
REPLY_DM = "Sorry! We are on it and will write here as soon as the site is back."
REPLY_COMMENT = "Sorry, everyone! We are on it: updates on our status page."


def _post_twenty(rt: Runtime, sandbox: RunningSandbox) -> dict[int, str]:
    """The 20 customers' messages, stored and triaged: item id -> where its reply goes
    (a DM's conversation, a comment's own id: a reply under that comment)."""
    posts = [sandbox.client.add_post("acme", caption)["id"] for caption in ("Launch", "Sale")]
    wanted = [("dm", f"dm{n}", None) for n in range(6)]
    wanted += [("comment", f"c{n}", posts[n % 2]) for n in range(14)]
    message_of: dict[int, str] = {}
    with rt.store.session() as s:
        for kind, author, post in wanted:
            msg = sandbox.client.post_message(
                account="acme", kind=kind, author=author, text=OUTAGE, thread=post
            )
            thread = f"/posts/{post}" if post else f"/inbox/{msg['container_id']}"
            item, _ = add_item(
                s,
                ItemCreate(
                    workspace=ACME, platform="sandbox", account="@acme", thread=thread,
                    kind=kind, message_id=msg["id"], author=author, text=OUTAGE,
                ),
            )  # fmt: skip
            message_of[item.id or 0] = msg["container_id"] if kind == "dm" else msg["id"]
    with rt.store.session() as s:
        items = list(s.exec(select(Item).order_by(Item.id)).all())  # type: ignore[arg-type]
    rt.triage().batch(items)
    return message_of


@pytest.mark.browser
def test_one_case_approval_sends_twenty_replies_once_each_under_twenty_random_kills(
    rt: Runtime, sandbox: RunningSandbox
) -> None:
    message_of = _post_twenty(rt, sandbox)
    with rt.store.session() as s:
        user = add_user(s, "pat", "approver", "correct horse battery staple")
        grant(s, user, ACME)
    with rt.store.session() as s:
        rows = queue(s, QueueFilter(), {ACME}).rows
    (row,) = rows  # one case, shown once
    assert row.case is not None and row.case.members == 20
    assert row.decision is not None and row.decision.priority == "P1"
    with rt.store.session() as s:
        case = cases.load(s, row.item.id or 0, {ACME})
    done = cases.approve(
        rt.store, case.case_id, user, {"dm": REPLY_DM, "comment": REPLY_COMMENT},
        seen_case_hash=case.hash, catalog=rt.catalog, log=rt.log,
    )  # fmt: skip
    assert len(done.entries) == 20

    rng = random.Random(20261218)
    for _ in range(20):
        proc = _send_process(str(rt.home.root))
        try:
            proc.wait(timeout=rng.uniform(0.3, 4.0))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    # The kernel reaps the killed browsers before the last, uninterrupted sends (as in
    # test_outbox_send: a bounded number of tries, each a whole ``send``).
    for _ in range(5):
        subprocess.run(
            [sys.executable, "-c", "from agent.cli import main; main()", "--home",
             str(rt.home.root), "send"],
            capture_output=True, timeout=900, env={**os.environ},
        )  # fmt: skip
        if not Outbox(rt).pending():
            break
    replies = sandbox.client.replies("acme")
    per_message = Counter(
        r["container_id"] if r["kind"] == "dm" else r["in_reply_to"] for r in replies
    )
    entries = outbox_entries(rt)
    assert len(entries) == 20
    for entry in entries:
        message = message_of[entry.item_id]
        assert per_message[message] <= 1, f"item {entry.item_id} got {per_message[message]}"
        if entry.state == "sent":
            assert per_message[message] == 1, f"item {entry.item_id} marked sent, never posted"
        else:
            assert entry.state == "failed" and entry.last_error, entry
    assert set(per_message) <= set(message_of.values())  # no reply to anyone else
    sent = [e for e in entries if e.state == "sent"]
    assert len(sent) >= 18, [(e.item_id, e.state, e.last_error) for e in entries]
    by_text = Counter(r["text"] for r in replies)
    assert set(by_text) <= {REPLY_DM, REPLY_COMMENT}
