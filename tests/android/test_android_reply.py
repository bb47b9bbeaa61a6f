"""Approved replies go out through the Android reply flow exactly once, also when the
sender is SIGKILLed at random moments; a comment reply lands under the right comment."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from agent.outbox import Outbox
from agent.runtime import Runtime
from agent.store import Item
from sandbox.testing import RunningSandbox
from tests.android.conftest import WS, fresh_home, stored
from tests.outbox.conftest import approve, outbox_entries


def _swept_item(rt: Runtime, author: str, text: str) -> Item:
    result = rt.sweeper().sweep(WS)
    assert result.status in ("ok", "drift"), result.message
    (item,) = [i for i in stored(rt) if i.author == author and i.text == text]
    return item


def test_an_approved_dm_reply_is_sent_once_and_a_second_send_does_nothing(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    rt = fresh_home(tmp_path, sandbox, seed=None)
    sandbox.client.post_message(account="acme", kind="dm", author="dana.k", text="Where is it?")
    item = _swept_item(rt, "dana.k", "Where is it?")
    approve(rt, item, "It left our depot today, dana!")
    (first,) = Outbox(rt).send()
    assert first.state == "sent", first.error
    assert not first.already_posted
    assert Outbox(rt).send() == []  # nothing left to send
    sent = [r for r in sandbox.client.replies("acme") if r["kind"] == "dm"]
    assert [r["text"] for r in sent] == ["It left our depot today, dana!"]


def test_a_comment_reply_lands_under_the_right_comment(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    rt = fresh_home(tmp_path, sandbox, seed=None)
    post = sandbox.client.add_post("acme", "Spring collection")
    sandbox.client.post_message(
        account="acme", kind="comment", author="li.w", text="Lovely!", thread=post["id"]
    )
    target = sandbox.client.post_message(
        account="acme", kind="comment", author="omar", text="Is it vegan?", thread=post["id"]
    )
    item = _swept_item(rt, "omar", "Is it vegan?")
    approve(rt, item, "Yes, every piece is vegan, Omar.")
    (result,) = Outbox(rt).send()
    assert result.state == "sent", result.error
    (reply,) = sandbox.client.replies("acme")
    assert (reply["kind"], reply["in_reply_to"], reply["text"]) == (
        "comment",
        target["id"],
        "Yes, every piece is vegan, Omar.",
    )


def _send_process(home: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "from agent.cli import main; main()", "--home", home, "send"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ},
    )


def test_killing_the_sender_at_random_moments_never_sends_twice_or_loses_a_reply(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    """20 trials: the sender is SIGKILLed at a random moment of an Android send, measured
    from an uninterrupted send first (its start-up included)."""
    rng = random.Random(20261202)
    rt = fresh_home(tmp_path, sandbox, seed=None)
    trials = 20
    texts = []
    for i in range(trials + 1):
        sandbox.client.post_message(
            account="acme", kind="dm", author=f"customer{i}", text=f"question number {i}"
        )
    rt.sweeper().sweep(WS)
    killed = 0
    whole = 0.0
    for i in range(trials + 1):
        (item,) = [x for x in stored(rt) if x.author == f"customer{i}"]
        text = f"Answer {i}: thanks for asking!"
        texts.append(text)
        approve(rt, item, text)
        started = time.monotonic()
        proc = _send_process(str(rt.home.root))
        if i == 0:  # the calibration: how long one whole send takes here
            proc.wait(timeout=120)
            whole = time.monotonic() - started
            continue
        try:
            proc.wait(timeout=rng.uniform(0.1, whole))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            killed += 1
    assert killed >= trials * 0.8, f"only {killed} of {trials} sends were cut short"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # the final, uninterrupted sends
        subprocess.run(
            [sys.executable, "-c", "from agent.cli import main; main()"]
            + ["--home", str(rt.home.root), "send"],
            capture_output=True,
            timeout=600,
        )
        if not Outbox(rt).pending():
            break
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
    assert sum(1 for e in entries.values() if e.state == "sent") >= (trials + 1) * 0.9
