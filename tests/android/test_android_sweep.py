"""sandbox-acme-android sweeps end to end: every customer DM and comment once, a repeat
sweep collects nothing, OCR-only rows arrive with their text, and every dialog and fault
the phone can show ends in its own named stop (or is dismissed, as the pack says)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from agent.runtime import Runtime
from agent.sweep import SweepResult
from sandbox.device.ocr import is_ocr_only
from sandbox.testing import RunningSandbox
from tests.android.conftest import SERIAL, WS, customer_messages, fresh_home, stored


def _events(rt: Runtime, run_id: str | None, type_: str) -> list[dict[str, object]]:
    return [
        {**e.data, "type": e.type}
        for e in rt.log.events(WS)
        if e.type == type_ and (run_id is None or e.run_id == run_id)
    ]


def _levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


@pytest.fixture(scope="module")
def swept(
    tmp_path_factory: pytest.TempPathFactory, sandbox: RunningSandbox
) -> tuple[Runtime, SweepResult, SweepResult]:
    """The seeded account swept once on the phone, then again (shared by the tests that
    only read what those two sweeps did: a seeded sweep takes half a minute here)."""
    # Twelve comments a post (not the seed's thirty): the same screens, half the sweep.
    rt = fresh_home(tmp_path_factory.mktemp("swept"), sandbox, comments_per_post=12)
    first = rt.sweeper().sweep(WS)
    again = rt.sweeper().sweep(WS)
    return rt, first, again


def test_a_sweep_collects_every_customer_message_once_and_a_repeat_collects_none(
    swept: tuple[Runtime, SweepResult, SweepResult], sandbox: RunningSandbox
) -> None:
    rt, first, again = swept
    # The seeded inbox holds two conversations with partners of one name: without ids on
    # screen they are one thread to the app, and the sweep says so (drift), naming them.
    assert first.status == "drift", first.message
    (report,) = _events(rt, first.run_id, "items_unreadable")
    assert report["missing"] == {"thread (not unique)": 1}
    names = Counter(t.participant for t, _, _ in sandbox.state.threads_of("acme"))
    assert [n for n, k in names.items() if k > 1] == [report["sample"]["thread"]]  # type: ignore[index]
    items = stored(rt)
    customers = [i for i in items if i.status != "resolved"]  # own replies are context
    got = Counter((i.kind, i.author, i.text) for i in customers if not i.ocr_fields)
    want = customer_messages(sandbox.state)
    ocr_read = [i for i in customers if i.ocr_fields]
    # Every message the tree holds arrives exactly as written; OCR-read ones are counted
    # (their text is checked in the OCR test): together they are every customer message.
    assert sum(got.values()) + len(ocr_read) == sum(want.values())
    assert not (got - want), f"collected but not on the platform: {got - want}"
    assert len({i.key for i in items}) == len(items)
    kinds = Counter(i.kind for i in customers)
    assert kinds["dm"] > 0 and kinds["comment"] > 0
    assert all(i.screenshot and i.crop for i in customers)  # each with its evidence
    assert first.screens == len({i.screenshot for i in items})  # phone screens kept, once each

    assert again.new_items == 0, again.message
    assert len(stored(rt)) == len(items)


def test_rows_drawn_only_into_pixels_arrive_with_their_text_by_ocr(
    swept: tuple[Runtime, SweepResult, SweepResult], sandbox: RunningSandbox
) -> None:
    """Character accuracy over every OCR-only row the sandbox draws for the account."""
    rt = swept[0]
    truth = [
        m
        for m in sandbox.state.messages.values()
        if m.account == "acme" and not m.from_brand and is_ocr_only(m)
    ]
    assert len(truth) >= 10  # the measurement means something
    items = [i for i in stored(rt) if i.ocr_fields]
    assert all(i.ocr_fields == "text" and i.ocr_confidence is not None for i in items)
    errors = chars = 0
    unmatched = []
    pool = list(items)
    for m in truth:
        # The item of this message: same kind and author, the nearest text.
        candidates = [i for i in pool if i.kind == m.kind and i.author == m.author]
        if not candidates:
            unmatched.append(m.text)
            errors += len(m.text)
            chars += len(m.text)
            continue
        best = min(candidates, key=lambda i: _levenshtein(i.text, m.text))
        pool.remove(best)
        errors += _levenshtein(best.text, m.text)
        chars += len(m.text)
    accuracy = 1 - errors / chars
    assert not unmatched, f"OCR-only rows never collected: {unmatched}"
    assert not pool, f"OCR items matching no OCR-only row: {[i.text for i in pool]}"
    assert accuracy >= 0.97, f"character accuracy {accuracy:.4f} over {len(truth)} rows"


def test_new_messages_after_a_sweep_are_exactly_what_the_next_one_collects(
    swept: tuple[Runtime, SweepResult, SweepResult], sandbox: RunningSandbox
) -> None:
    rt = swept[0]  # the last test to use it (file order): it adds messages to the account
    before = {i.key for i in stored(rt)}
    threads = sandbox.state.threads_of("acme")
    old_thread = threads[-1][0]  # the least recent conversation: far down the inbox
    posts = sandbox.state.posts_of("acme")
    new = [
        ("dm", old_thread.participant, "Is the blue one back in stock?", old_thread.id),
        ("dm", "new.customer", "Hello, first time writing: do you ship to Oslo?", None),
        ("comment", "pat.q", "Love this post, where was it taken?", posts[0].id),
    ]
    for kind, author, text, container in new:
        sandbox.client.post_message(
            account="acme", kind=kind, author=author, text=text, thread=container
        )
    result = rt.sweeper().sweep(WS)
    assert result.status in ("ok", "drift"), result.message
    fresh = [i for i in stored(rt) if i.key not in before]
    assert sorted((i.kind, i.author, i.text) for i in fresh) == sorted(
        (k, a, t) for k, a, t, _ in new
    )
    assert result.new_items == 3


DIALOGS = [
    ("rate_limit", "rate_limited", "rate_limit_dialog"),
    ("update", "update_required", "update_dialog"),
    ("survey", "unexpected_dialog", "rating_prompt"),
]


@pytest.mark.parametrize(("kind", "reason", "marker"), DIALOGS)
def test_each_dialog_the_pack_does_not_dismiss_is_its_own_named_stop(
    tmp_path: Path, sandbox: RunningSandbox, kind: str, reason: str, marker: str
) -> None:
    rt = fresh_home(tmp_path, sandbox, seed=None)
    sandbox.client.raise_dialog(SERIAL, kind)
    result = rt.sweeper().sweep(WS)
    assert (result.status, result.stop_reason) == ("stopped", reason), result.message
    (stop,) = _events(rt, result.run_id, "stop")
    assert stop["reason"] == reason
    # Evidence: the screen and the screen tree the stop was decided on.
    assert stop["screenshot"] and Path(str(stop["screenshot"])).is_file()
    tree = Path(str(stop["screen_tree"])).read_text()
    assert marker in tree


def test_the_notification_prompt_the_pack_lists_is_dismissed_and_the_sweep_goes_on(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    rt = fresh_home(tmp_path, sandbox, seed=None)
    sandbox.client.post_message(account="acme", kind="dm", author="dana.k", text="Hello?")
    sandbox.client.raise_dialog(SERIAL, "notifications")
    result = rt.sweeper().sweep(WS)
    assert result.status in ("ok", "drift"), result.message
    dismissed = _events(rt, result.run_id, "dialog_dismissed")
    assert [d["dialog"] for d in dismissed] == ["notification_permission"]
    assert result.new_items == 1
    assert not sandbox.client.device(SERIAL)["dialogs"]


FAULTS = [
    ("session_expired", "login_required"),
    ("challenge", "challenge"),
    ("wrong_account", "wrong_account"),
    ("server_error", "platform_error"),
]


@pytest.mark.parametrize(("fault", "reason"), FAULTS)
def test_each_fault_of_the_account_stops_the_phone_sweep_with_its_reason(
    tmp_path: Path, sandbox: RunningSandbox, fault: str, reason: str
) -> None:
    rt = fresh_home(tmp_path, sandbox, seed=None)
    sandbox.client.fault("acme", fault)
    try:
        result = rt.sweeper().sweep(WS)
    finally:
        sandbox.client.fault("acme", "none")
    assert (result.status, result.stop_reason) == ("stopped", reason), result.message
    (stop,) = _events(rt, result.run_id, "stop")
    assert stop["screen_tree"] and Path(str(stop["screen_tree"])).is_file()
    assert stored(rt) == []


def test_an_untested_app_version_is_reported_by_selectors_check(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    from agent.selector_check import check_selectors

    rt = fresh_home(tmp_path, sandbox, seed=None)
    post = sandbox.client.add_post("acme", "A post")
    sandbox.client.post_message(
        account="acme", kind="comment", author="li", text="Nice", thread=post["id"]
    )
    sandbox.client.post_message(account="acme", kind="dm", author="dana.k", text="Hello?")
    sandbox.client.set_app_version(SERIAL, "3.3.0")
    assert rt.sweeper().login(WS).status == "ok"  # installing stops the app
    report = check_selectors(rt, WS)
    assert (report.app_version, report.app_tested) == ("3.3.0", False)
    sandbox.client.set_app_version(SERIAL, "3.2.7")
    report = check_selectors(rt, WS)
    assert (report.app_version, report.app_tested) == ("3.2.7", True)
    assert report.ok, [r for r in report.rows if r.status == "missing"]
    rows = {r.selector: r.status for r in report.rows}
    assert rows["message_row"] == "primary" and rows["comment_entry"] == "primary"
    json.dumps([r.__dict__ for r in report.rows])  # reportable as JSON
