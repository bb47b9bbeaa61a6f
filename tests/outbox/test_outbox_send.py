"""Approved replies reach the platform exactly once, or end failed with a reason."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from agent.config import Loaded, load_catalog
from agent.outbox import Outbox
from agent.runtime import Runtime, open_runtime
from agent.scaffold import init_home
from agent.store import Item, ItemCreate, OutboxEntry, Takeover, add_item
from agent.sweep import SweepResult
from sandbox.testing import RunningSandbox
from tests.outbox.conftest import approve, outbox_entries
from workspaces.paths import Home

ACME = "sandbox-acme-web"


def _dm_item(rt: Runtime, sandbox: RunningSandbox, author: str, text: str) -> Item:
    """A customer DM on the sandbox and its stored item (as a sweep would store it)."""
    msg = sandbox.client.post_message(account="acme", kind="dm", author=author, text=text)
    with rt.store.session() as s:
        item, _ = add_item(
            s,
            ItemCreate(
                workspace=ACME,
                platform="sandbox",
                account="@acme",
                thread=f"/inbox/{msg['container_id']}",
                kind="dm",
                message_id=msg["id"],
                author=author,
                text=text,
            ),
        )
    return item


def _comment_item(
    rt: Runtime, sandbox: RunningSandbox, post_id: str, author: str, text: str
) -> tuple[Item, dict[str, Any]]:
    """A customer comment on a sandbox post and its stored item."""
    msg = sandbox.client.post_message(
        account="acme", kind="comment", author=author, text=text, thread=post_id
    )
    with rt.store.session() as s:
        item, _ = add_item(
            s,
            ItemCreate(
                workspace=ACME,
                platform="sandbox",
                account="@acme",
                thread=f"/posts/{post_id}",
                kind="comment",
                message_id=msg["id"],
                author=author,
                text=text,
            ),
        )
    return item, msg


def test_approved_reply_is_sent_once_and_a_second_send_does_nothing(
    rt: Runtime, sandbox: RunningSandbox
) -> None:
    item = _dm_item(rt, sandbox, "dana", "Where is my parcel?")
    approve(rt, item, "Hi Dana, it left our warehouse today.")
    first = Outbox(rt).send()
    assert [r.state for r in first] == ["sent"]
    assert Outbox(rt).send() == []  # nothing pending any more
    replies = sandbox.client.replies("acme")
    assert [(r["text"], r["container_id"]) for r in replies] == [
        ("Hi Dana, it left our warehouse today.", item.thread.rsplit("/", 1)[1])
    ]
    events = [e.type for e in rt.log.events(ACME)]
    assert "reply_sending" in events and "reply_sent" in events


def test_crash_between_sent_and_recorded_is_caught_by_the_thread_check(
    rt: Runtime, sandbox: RunningSandbox
) -> None:
    item = _dm_item(rt, sandbox, "eli", "Do you ship to Lisbon?")
    entry = approve(rt, item, "Yes, we ship to Portugal in 3 days.")
    assert Outbox(rt).send()[0].state == "sent"
    with rt.store.session() as s:  # as if the process died before recording "sent"
        row = s.get(OutboxEntry, entry.id)
        assert row is not None
        row.state = "sending"
        s.add(row)
    again = Outbox(rt).send()
    assert again[0].state == "sent" and again[0].already_posted
    assert len(sandbox.client.replies("acme")) == 1


def test_private_data_in_a_public_comment_reply_is_blocked(
    rt: Runtime, sandbox: RunningSandbox
) -> None:
    post = sandbox.client.add_post("acme", "Launch day")
    item, _ = _comment_item(rt, sandbox, post["id"], "fay", "How do I reach you?")
    approve(rt, item, "Email our manager at jane.doe@acme.example or call +1 415 555 0100")
    result = Outbox(rt).send()[0]
    assert result.state == "failed" and "private_data" in (result.error or "")
    assert sandbox.client.replies("acme") == []


def test_comment_reply_lands_under_the_right_comment(rt: Runtime, sandbox: RunningSandbox) -> None:
    post = sandbox.client.add_post("acme", "Autumn collection")
    other = sandbox.client.post_message(
        account="acme", kind="comment", author="gus", text="nice", thread=post["id"]
    )
    item, msg = _comment_item(rt, sandbox, post["id"], "hal", "Is the red one back in stock?")
    approve(rt, item, "It is, in all sizes!")
    assert Outbox(rt).send()[0].state == "sent"
    (reply,) = sandbox.client.replies("acme")
    assert reply["in_reply_to"] == msg["id"] != other["id"]


def test_a_taken_over_workspace_is_left_alone(rt: Runtime, sandbox: RunningSandbox) -> None:
    item = _dm_item(rt, sandbox, "ivy", "hello?")
    approve(rt, item, "Hi Ivy!")
    with rt.store.session() as s:
        s.add(Takeover(workspace=ACME, user="ann"))
    result = Outbox(rt).send()[0]
    assert result.state == "approved" and "taken over by ann" in (result.error or "")
    assert sandbox.client.replies("acme") == []
    assert rt.sweeper().sweep(ACME).stop_reason == "taken_over"


def test_a_failing_reply_is_retried_then_marked_failed(
    rt: Runtime, sandbox: RunningSandbox
) -> None:
    item = _dm_item(rt, sandbox, "jo", "refund?")
    approve(rt, item, "Let me check.")
    sandbox.client.fault("acme", "rate_limited")
    outbox = Outbox(rt, max_attempts=2)
    assert outbox.send()[0].state == "approved"  # first failure: kept for a retry
    final = outbox.send()[0]
    assert final.state == "failed" and "rate_limited" in (final.error or "")
    (entry,) = outbox_entries(rt)
    assert entry.state == "failed" and entry.attempts == 2 and entry.last_error
    assert sandbox.client.replies("acme") == []


# A reply flow whose DM branch forgot its send_reply step.
COMMENTS_ONLY_SEND = """\
id: sandbox-reply
kind: reply
handles: [dm, comment]
steps:
  - open: "{start_url}{thread}"
  - if_visible:
      selector: post_detail
      then:
        - send_reply:
            target: reply_target_comment
            open_composer: reply_open
            composer: reply_input
            send: reply_send
            own_replies: own_comment_replies
      else:
        - screenshot: no-send
"""


def test_a_reply_flow_that_sends_nothing_names_the_branch_it_took(
    rt: Runtime, sandbox: RunningSandbox
) -> None:
    flows = rt.home.config_dir("flows")
    flows.mkdir(exist_ok=True)
    (flows / "sandbox-reply.yaml").write_text(COMMENTS_ONLY_SEND)  # replaces the built-in
    rt.catalog = load_catalog(rt.home).raise_for_problems()
    item = _dm_item(rt, sandbox, "kai", "is it in stock?")
    approve(rt, item, "Yes, it is.")
    result = Outbox(rt).send()[0]
    reason = (
        "the reply flow 'sandbox-reply' ran no send_reply step for a dm item: check its "
        "if_visible branches (if_visible 'post_detail' (step 2): not shown, the else branch ran)"
    )
    assert (result.state, result.error) == ("approved", reason)
    (entry,) = outbox_entries(rt)
    assert entry.last_error == reason
    assert sandbox.client.replies("acme") == []


def test_an_entry_its_reply_flow_cannot_answer_fails_before_the_browser_starts(
    rt: Runtime, sandbox: RunningSandbox
) -> None:
    """Approved before the configuration changed: the outbox checks ``handles`` again."""
    loaded = rt.catalog.flows["sandbox-reply"]
    dm_only = loaded.model.model_copy(update={"handles": ["dm"]})
    rt.catalog.flows["sandbox-reply"] = Loaded(dm_only, loaded.doc, loaded.builtin)
    post = sandbox.client.add_post("acme", "Spring sale")
    item, _ = _comment_item(rt, sandbox, post["id"], "lou", "Any discount?")
    approve(rt, item, "20% off all week!")
    result = Outbox(rt).send()[0]
    assert result.state == "failed"
    assert result.error == (
        f"reply flow 'sandbox-reply' of workspace {ACME} cannot answer comment items "
        "(it handles: dm)"
    )
    assert sandbox.client.replies("acme") == []
    assert not [e for e in rt.log.events(ACME) if e.type == "reply_sending"]


def test_every_send_failure_names_its_cause(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    init_home(home)
    runtime = open_runtime(home)
    outbox = Outbox(runtime, sweeper=object())  # type: ignore[arg-type]  # nothing is sent
    flow = runtime.catalog.flows["sandbox-reply"].model
    item = Item(workspace=ACME, platform="sandbox", account="@acme", thread="/inbox/1",
                kind="dm", author="mo", text="hi")  # fmt: skip

    def reason(**result: Any) -> str:
        return outbox._failure_reason(SweepResult(ACME, None, **result), flow, item)

    assert reason(status="stopped", stop_reason="rate_limited", message="slow down") == (
        "rate_limited: slow down"
    )
    assert reason(status="stopped", stop_reason="timeout", message="") == "timeout: no message"
    assert reason(status="failed") == "the reply flow ended failed without a stop reason"
    assert reason(status="ok") == (
        "the reply flow 'sandbox-reply' ran no send_reply step for a dm item: "
        "check its if_visible branches"
    )
    runtime.store.close()


def _send_process(home: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "from agent.cli import main; main()", "--home", home, "send"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ},
    )


@pytest.mark.browser
def test_killing_the_sender_at_random_points_never_sends_twice_or_loses_a_reply(
    rt: Runtime, sandbox: RunningSandbox
) -> None:
    """50 trials: a sender is SIGKILLed (with its browser) at a random moment of a send."""
    rng = random.Random(20261123)
    trials = 50
    texts = []
    for i in range(trials):
        item = _dm_item(rt, sandbox, f"customer{i}", f"question number {i}")
        text = f"Answer {i}: thanks for asking!"
        texts.append(text)
        approve(rt, item, text)
        proc = _send_process(str(rt.home.root))
        try:
            proc.wait(timeout=rng.uniform(0.3, 3.0))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    # Let the kernel reap the killed browsers before the final, uninterrupted send.
    deadline = time.monotonic() + 30
    final = None
    while time.monotonic() < deadline:
        final = subprocess.run(
            [
                sys.executable,
                "-c",
                "from agent.cli import main; main()",
                "--home",
                str(rt.home.root),
                "send",
            ],
            capture_output=True,
            timeout=600,
        )
        if not Outbox(rt).pending():
            break
    assert final is not None
    sent = Counter(r["text"] for r in sandbox.client.replies("acme"))
    entries = {e.text: e for e in outbox_entries(rt)}
    assert set(entries) == set(texts)
    for text in texts:
        entry = entries[text]
        assert sent[text] <= 1, f"{text!r} was sent {sent[text]} times"
        if entry.state == "sent":
            assert sent[text] == 1, f"{text!r} marked sent but never reached the platform"
        else:
            assert entry.state == "failed" and entry.last_error, entry
            assert sent[text] == 0 or "already" not in (entry.last_error or "")
    assert sum(1 for e in entries.values() if e.state == "sent") >= trials * 0.9


def test_a_reply_to_the_oldest_of_200_messages_loads_older_ones_and_is_sent_once(
    rt: Runtime, sandbox: RunningSandbox
) -> None:
    item = _dm_item(rt, sandbox, "olga", "My first message: where is order 17?")
    for n in range(199):  # newer messages push it off the thread's first screens
        sandbox.client.post_message(account="acme", kind="dm", author="olga", text=f"ping {n}")
    approve(rt, item, "Hi Olga, order 17 ships tomorrow.")
    result = Outbox(rt).send()
    assert [r.state for r in result] == ["sent"], [r.error for r in result]
    replies = sandbox.client.replies("acme")
    assert [(r["text"], r["container_id"]) for r in replies] == [
        ("Hi Olga, order 17 ships tomorrow.", item.thread.rsplit("/", 1)[1])
    ]
    assert Outbox(rt).send() == []
