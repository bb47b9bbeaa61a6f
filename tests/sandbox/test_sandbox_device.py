"""The sandbox's Android device, driven through ``SandboxDeviceBackend`` over HTTP: screens,
sending, scrolling, dialogs, faults, OCR-only rows, and one state with the web app."""

from __future__ import annotations

import io
import re
import shutil
import socket
import time
from collections.abc import Iterator
from difflib import SequenceMatcher

import httpx
import pytest
from PIL import Image

from devices.android.sandbox_backend import SandboxDeviceBackend
from devices.errors import DriverCrashed, DriverError, DriverTimeout
from sandbox.device import is_ocr_only
from sandbox.testing import RunningSandbox, running_sandbox
from tests.sandbox.device_helpers import (
    APP,
    ATTRIBUTES,
    View,
    by_text,
    chat_texts,
    find,
    find_all,
    parse,
    sign_in,
    tap,
    tap_text,
    texts,
    views,
)

PERMISSIONS = "com.android.permissioncontroller"


@pytest.fixture
def phone(sb: RunningSandbox, request: pytest.FixtureRequest) -> Iterator[SandboxDeviceBackend]:
    """A fresh device for this test (at the launcher, app installed, signed out)."""
    serial = "t-" + re.sub(r"[^A-Za-z0-9._-]", "-", request.node.name)[:50]
    sb.client.add_device(serial)
    backend = SandboxDeviceBackend(sb.url, serial)
    yield backend
    backend.close()


def open_thread(phone: SandboxDeviceBackend, sb: RunningSandbox, index: int = 0) -> str:
    """Sign in, open the inbox's ``index``-th conversation; its thread id."""
    sign_in(phone)
    thread_id = sb.state.threads_of("acme")[index][0].id
    tap(phone, "thread_row", index)
    return thread_id


# -- starting, signing in, sending -------------------------------------------------------


def test_device_starts_at_the_launcher_signed_out(phone: SandboxDeviceBackend) -> None:
    info = phone.info()
    assert (info.serial, info.state, info.screen_on, info.locked) == (
        phone.serial,
        "device",
        True,
        False,
    )
    assert info.android == "14" and phone.window_size() == (720, 1280)
    assert phone.foreground().package == "com.android.launcher3"
    assert phone.app_version(APP) == "3.2.0" and phone.app_version("com.example.none") is None
    tap_text(phone, "Sandbox Social")
    fg = phone.foreground()
    assert (fg.package, fg.activity) == (APP, ".LoginActivity")
    assert find(phone.dump(), "login_password").attrs["password"] == "true"


def test_wrong_password_is_refused_on_the_login_screen(phone: SandboxDeviceBackend) -> None:
    sign_in(phone, password="nope")
    xml = phone.dump()
    assert find(xml, "login_error").text == "Incorrect username or password."
    assert phone.foreground().activity == ".LoginActivity"


def test_reply_sent_from_a_thread_is_stored_and_shown_as_outgoing(
    phone: SandboxDeviceBackend, sb: RunningSandbox
) -> None:
    sign_in(phone)
    xml = phone.dump()
    assert phone.foreground().activity == ".InboxActivity"
    assert find(xml, "account_handle").text == "@acme"
    thread = sb.state.threads_of("acme")[0][0]
    assert texts(xml, "thread_name")[0] == thread.participant
    tap(phone, "thread_row")
    assert phone.foreground().activity == ".ThreadActivity"
    assert find(phone.dump(), "toolbar_title").text == thread.participant

    tap(phone, "composer_input")
    phone.type_text("Thanks, we are ")
    phone.type_text("on it")
    assert find(phone.dump(), "composer_input").text == "Thanks, we are on it"
    tap(phone, "send_button")

    reply = sb.client.replies("acme")[-1]
    assert (reply["kind"], reply["container_id"], reply["text"], reply["in_reply_to"]) == (
        "dm",
        thread.id,
        "Thanks, we are on it",
        None,
    )
    assert sb.state.messages[reply["message_id"]].from_brand
    xml = phone.dump()
    rows = find_all(xml, "message_row")
    newest = rows[-1]
    assert newest.inside("message_bubble_out") and not newest.inside("message_bubble_in")
    shown = chat_texts(phone, sb.client)
    assert shown[-1] == "Thanks, we are on it"
    assert find(xml, "composer_input").text == "Message"  # emptied: the hint shows


def test_typed_text_stays_in_the_composer_until_sent(
    phone: SandboxDeviceBackend, sb: RunningSandbox
) -> None:
    open_thread(phone, sb)
    tap(phone, "composer_input")
    phone.type_text("draft")
    tap(phone, "toolbar_title")  # not clickable: nothing happens
    assert find(phone.dump(), "composer_input").text == "draft"
    phone.clear_text()
    assert find(phone.dump(), "composer_input").text == "Message"
    tap(phone, "send_button")  # nothing to send
    assert sb.client.replies("acme") == []


def test_comment_reply_lands_as_a_reply_to_the_tapped_comment(
    phone: SandboxDeviceBackend, sb: RunningSandbox
) -> None:
    sign_in(phone)
    tap(phone, "tab_posts")
    assert phone.foreground().activity == ".PostsActivity"
    post = sb.state.posts_of("acme")[0]
    assert texts(phone.dump(), "post_caption")[0] == post.caption
    tap(phone, "post_comments_button")
    assert phone.foreground().activity == ".CommentsActivity"
    second = sb.state.comment_threads(post)[1][0]  # the second thread's top-level comment
    xml = phone.dump()
    rows = find_all(xml, "comment_row")
    assert rows[1].desc == f"Comment by {second.author}"
    phone.tap(*rows[1].inside("reply_button")[0].center)
    assert find(phone.dump(), "replying_to").text == f"Replying to {second.author}"
    phone.type_text("Happy to help!")
    tap(phone, "comment_send")

    reply = sb.client.replies("acme")[-1]
    assert (reply["kind"], reply["container_id"], reply["in_reply_to"]) == (
        "comment",
        post.id,
        second.id,
    )
    stored = sb.state.messages[reply["message_id"]]
    assert stored.parent_id == second.id and stored.root_id == second.id
    # The reply lifted its thread to the top, where the sheet now shows it, indented.
    xml = phone.dump()
    assert find_all(xml, "comment_row")[0].desc == f"Comment by {second.author}"
    mine = find(xml, "reply_row")
    assert mine.desc == f"Reply by acme to {second.author}"
    assert mine.inside("brand_badge") and mine.bounds[0] == 0
    assert mine.inside("comment_author")[0].bounds[0] > find(xml, "comment_author").bounds[0]
    assert not find_all(xml, "replying_to")


# -- the dump ------------------------------------------------------------------------------


def test_dump_is_uiautomator_xml_without_ids(
    phone: SandboxDeviceBackend, sb: RunningSandbox
) -> None:
    open_thread(phone, sb)
    thread_xml = phone.dump()
    phone.open_url(f"sandbox://posts/{sb.state.posts_of('acme')[0].id}")
    comments_xml = phone.dump()
    ids = set(sb.state.messages) | set(sb.state.threads) | set(sb.state.posts)
    for xml in (thread_xml, comments_xml):
        assert xml.startswith("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>")
        root = parse(xml)
        assert root.tag == "hierarchy" and root.get("rotation") == "0"
        nodes = views(xml)
        assert len(nodes) > 20
        for v in nodes:
            assert list(v.element.attrib) == ATTRIBUTES
            left, top, right, bottom = v.bounds
            assert 0 <= left < right <= 720 and 0 <= top < bottom <= 1280
            tokens = set(re.findall(r"\w+", " ".join(v.attrs.values())))
            assert not tokens & ids, f"an id in {v.attrs}"
        assert {v.attrs["package"] for v in nodes} == {APP}
        assert [v.element.get("index") for v in nodes[:2]] == ["0", "0"]
    scrollers = [v for v in views(comments_xml) if v.attrs["scrollable"] == "true"]
    assert [v.rid for v in scrollers] == [f"{APP}:id/comment_list"]


def test_tap_on_nothing_does_nothing(phone: SandboxDeviceBackend, sb: RunningSandbox) -> None:
    sign_in(phone)
    before = phone.dump()
    phone.tap(400, 70)  # the toolbar, between the title and the handle
    phone.tap(5000, 5000)
    assert phone.dump() == before


# -- scrolling -----------------------------------------------------------------------------


def test_chat_opens_at_the_newest_and_scrolls_back_to_the_oldest(
    phone: SandboxDeviceBackend, sb: RunningSandbox
) -> None:
    for i in range(30):  # a new thread, every text unique
        sb.client.post_message("acme", "dm", "history.buff", f"Note {i:02d} about order {i * 7}")
    thread = sb.state.threads_of("acme")[0][0]
    chronological = [m.text for m in reversed(sb.state.thread_messages(thread))]
    assert len(set(chronological)) == 30
    sign_in(phone)
    phone.open_url(f"sandbox://inbox/{thread.id}")
    xml = phone.dump()
    viewport = find(xml, "message_list")
    assert viewport.attrs["scrollable"] == "true"
    shown = chat_texts(phone, sb.client)
    assert shown == chronological[-len(shown) :]  # oldest at the top, newest at the bottom
    assert len(find_all(xml, "message_row")) < len(chronological)  # virtualised

    seen_first = [shown[0]]
    for _ in range(60):
        before = phone.dump()
        phone.swipe(360, 300, 360, 1000, 0.3)  # finger down: older messages come in
        if phone.dump() == before:
            break
        seen_first.append(chat_texts(phone, sb.client)[0])
        _assert_clipped_to(phone.dump(), "message_list")
    else:
        pytest.fail("the chat never reached its first message")
    assert seen_first[-1] == chronological[0]
    positions = [chronological.index(t) for t in seen_first]
    assert positions == sorted(positions, reverse=True) and positions[0] > positions[-1]


def _assert_clipped_to(xml: str, list_name: str) -> None:
    """Every view inside the list lies within the list's viewport."""
    box = find(xml, list_name)
    left, top, right, bottom = box.bounds
    inner = [View(dict(e.attrib), e) for e in box.element.iterdescendants("node")]
    assert inner
    for v in inner:
        vl, vt, vr, vb = v.bounds
        assert left <= vl and top <= vt and vr <= right and vb <= bottom, v.attrs


def test_inbox_scroll_stops_at_the_end(phone: SandboxDeviceBackend, sb: RunningSandbox) -> None:
    for i in range(12):
        sb.client.post_message("acme", "dm", f"buyer{i}", f"Hello number {i}")
    sign_in(phone)
    first = texts(phone.dump(), "thread_name")
    assert first[0] == "buyer11"
    phone.swipe(360, 1100, 360, 361, 0.3)  # up by 739 px
    moved = phone.dump()
    assert texts(moved, "thread_name")[0] != first[0]
    rows = find_all(moved, "thread_row")
    assert (
        rows[0].bounds[1] == 240 and rows[0].bounds[3] - rows[0].bounds[1] < 132
    )  # cut at the top
    _assert_clipped_to(moved, "thread_list")
    phone.swipe(360, 1100, 360, 100, 0.3)
    phone.swipe(360, 1100, 360, 100, 0.3)
    end = phone.dump()
    oldest = sb.state.threads_of("acme")[-1][0].participant
    assert texts(end, "thread_name")[-1] == oldest
    phone.swipe(360, 1100, 360, 100, 0.3)
    assert phone.dump() == end


# -- dialogs -------------------------------------------------------------------------------

DIALOGS = {
    "rate_limit": (APP, "rate_limit_dialog", "Try Again Later"),
    "update": (APP, "update_dialog", "Update available"),
    "notifications": (
        PERMISSIONS,
        "grant_dialog",
        "Allow Sandbox Social to send you notifications?",
    ),
    "survey": (APP, "rating_prompt", "Enjoying Sandbox Social?"),
}


@pytest.mark.parametrize("kind", sorted(DIALOGS))
def test_each_dialog_shows_in_front_and_back_closes_it(
    phone: SandboxDeviceBackend, sb: RunningSandbox, kind: str
) -> None:
    sign_in(phone)
    package, panel, words = DIALOGS[kind]
    sb.client.raise_dialog(phone.serial, kind)
    xml = phone.dump()
    assert find(xml, panel, package)
    assert by_text(xml, words)
    assert not find_all(xml, "thread_list")  # the dump is the dialog's window
    assert phone.foreground().package == package
    phone.back()
    xml = phone.dump()
    assert not find_all(xml, panel, package) and find(xml, "thread_list")
    assert phone.foreground().activity == ".InboxActivity"


@pytest.mark.parametrize(
    ("kind", "button"),
    [
        ("update", "Not now"),
        ("notifications", "Don't allow"),
        ("rate_limit", "OK"),
        ("survey", "Maybe later"),
    ],
)
def test_dialog_buttons_dismiss_it(
    phone: SandboxDeviceBackend, sb: RunningSandbox, kind: str, button: str
) -> None:
    sign_in(phone)
    sb.client.raise_dialog(phone.serial, kind)
    phone.tap(150, 150)  # outside the dialog: nothing
    assert sb.client.device(phone.serial)["dialogs"] == [kind]
    tap_text(phone, button)
    assert sb.client.device(phone.serial)["dialogs"] == []
    assert find(phone.dump(), "thread_list")


def test_an_untested_app_version_can_be_installed(
    phone: SandboxDeviceBackend, sb: RunningSandbox
) -> None:
    sign_in(phone)
    sb.client.set_app_version(phone.serial, "3.3.0-beta")
    assert phone.app_version(APP) == "3.3.0-beta"
    assert phone.foreground().package == "com.android.launcher3"  # installing stops the app
    phone.app_start(APP)
    assert phone.foreground().activity == ".InboxActivity"  # the session survived the update
    sb.client.set_app_version(phone.serial, None)
    assert phone.app_version(APP) is None
    assert not [v for v in views(phone.dump()) if v.text == "Sandbox Social"]
    with pytest.raises(DriverError, match="not installed"):
        phone.app_start(APP)


# -- faults --------------------------------------------------------------------------------


def test_session_expired_shows_the_login_screen_even_after_logging_in(
    phone: SandboxDeviceBackend, sb: RunningSandbox
) -> None:
    sign_in(phone)
    sb.client.fault("acme", "session_expired")
    xml = phone.dump()
    assert phone.foreground().activity == ".LoginActivity"
    assert find(xml, "session_expired_notice").text.startswith("Your session has expired")
    sign_in(phone)
    assert find(phone.dump(), "session_expired_notice")
    sb.client.fault("acme", "none")
    assert phone.foreground().activity == ".InboxActivity"


def test_rate_limited_shows_the_notice_over_every_page_and_refuses_replies(
    phone: SandboxDeviceBackend, sb: RunningSandbox
) -> None:
    open_thread(phone, sb)
    tap(phone, "composer_input")
    phone.type_text("blocked?")
    send = find(phone.dump(), "send_button").center
    sb.client.fault("acme", "rate_limited")
    xml = phone.dump()
    assert find(xml, "rate_limit_dialog")
    assert find(xml, "android:id/alertTitle").text == "Try Again Later"
    phone.tap(*send)
    tap(phone, "android:id/button1")  # OK: the notice comes straight back
    phone.back()
    assert find(phone.dump(), "rate_limit_dialog")
    assert sb.client.replies("acme") == []
    sb.client.fault("acme", "none")
    assert find(phone.dump(), "composer_input").text == "blocked?"


def test_wrong_account_shows_the_impostor(phone: SandboxDeviceBackend, sb: RunningSandbox) -> None:
    sign_in(phone)
    sb.client.fault("acme", "wrong_account")
    xml = phone.dump()
    assert find(xml, "account_handle").text == "@globex"
    shown = texts(xml, "thread_name")
    globex = [t.participant for t, _, _ in sb.state.threads_of("globex")]
    assert shown and shown == globex[: len(shown)]
    assert shown != [t.participant for t, _, _ in sb.state.threads_of("acme")][: len(shown)]


def test_challenge_shows_the_code_screen_and_the_code_lifts_it(
    phone: SandboxDeviceBackend, sb: RunningSandbox
) -> None:
    sign_in(phone)
    sb.client.fault("acme", "challenge")
    xml = phone.dump()
    assert phone.foreground().activity == ".ChallengeActivity"
    assert find(xml, "challenge_code").text == "4721"
    tap(phone, "challenge_input")
    phone.type_text("1111")
    tap(phone, "challenge_submit")
    assert find(phone.dump(), "challenge_error")
    tap(phone, "challenge_input")
    phone.clear_text()
    phone.type_text("4721")
    tap(phone, "challenge_submit")
    assert sb.state.account("acme").fault == "none"
    assert phone.foreground().activity == ".InboxActivity"


def test_server_error_shows_something_went_wrong(
    phone: SandboxDeviceBackend, sb: RunningSandbox
) -> None:
    sign_in(phone)
    sb.client.fault("acme", "server_error")
    xml = phone.dump()
    assert find(xml, "error_title").text == "Something went wrong"
    assert not find_all(xml, "thread_list")
    tap(phone, "retry_button")
    assert find(phone.dump(), "error_title")
    sb.client.fault("acme", "none")  # the next screen asks the platform again, as a page load
    assert find(phone.dump(), "thread_list")


# -- the image and OCR-only rows ----------------------------------------------------------


def test_screenshot_is_a_png_of_the_window_size(phone: SandboxDeviceBackend) -> None:
    image = Image.open(io.BytesIO(phone.screenshot()))
    assert image.format == "PNG" and image.size == phone.window_size()


def test_ocr_only_rows_have_empty_text_and_their_ink_in_their_bounds(
    phone: SandboxDeviceBackend, sb: RunningSandbox
) -> None:
    thread = sb.state.threads_of("acme")[0][0]
    for i in range(4):  # at least one new message gets an id divisible by 4
        sb.client.post_message("acme", "dm", thread.participant, f"Parcel {i} is late, order 55{i}")
    sign_in(phone)
    phone.open_url(f"sandbox://inbox/{thread.id}")
    rows = [r for r in sb.client.ocr_rows(phone.serial) if not r["clipped"]]
    assert rows
    image = Image.open(io.BytesIO(phone.screenshot())).convert("L")
    custom = {
        v.bounds: v
        for v in find_all(phone.dump(), "message_text")
        if v.attrs["class"] == "android.view.View"
    }
    for row in rows:
        msg = sb.state.messages[row["message_id"]]
        assert is_ocr_only(msg) and int(msg.id[1:]) % 4 == 0 and row["text"] == msg.text
        view = custom[tuple(row["bounds"])]
        assert view.text == "" and view.desc == ""
        dark = sum(image.crop(view.bounds).histogram()[:100])
        assert dark > 50 * len(row["lines"]), "no text drawn inside the view's bounds"
    plain = [
        v
        for v in find_all(phone.dump(), "message_text")
        if v.attrs["class"] == "android.widget.TextView"
    ]
    assert plain and all(v.text for v in plain)


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed")
def test_ocr_only_text_is_legible(phone: SandboxDeviceBackend, sb: RunningSandbox) -> None:
    import pytesseract

    thread = sb.state.threads_of("acme")[0][0]
    for i in range(4):
        sb.client.post_message(
            "acme", "dm", thread.participant, f"Where is my refund for order 88{i}?"
        )
    sign_in(phone)
    phone.open_url(f"sandbox://inbox/{thread.id}")
    row = next(r for r in sb.client.ocr_rows(phone.serial) if not r["clipped"])
    left, top, right, bottom = row["bounds"]
    crop = Image.open(io.BytesIO(phone.screenshot())).crop(
        (left - 8, top - 8, right + 8, bottom + 8)
    )
    read = pytesseract.image_to_string(crop, config="--psm 6").strip()
    assert SequenceMatcher(None, " ".join(read.split()), row["text"]).ratio() > 0.9, read


# -- one state with the web app; determinism; navigation ---------------------------------


def test_a_message_posted_through_the_admin_api_shows_in_the_next_dump(
    phone: SandboxDeviceBackend, sb: RunningSandbox
) -> None:
    open_thread(phone, sb, index=2)
    thread = sb.state.threads_of("acme")[2][0]
    sb.client.post_message("acme", "dm", thread.participant, "Is anyone there? It's urgent")
    assert chat_texts(phone, sb.client)[-1] == "Is anyone there? It's urgent"
    phone.back()
    assert texts(phone.dump(), "thread_name")[0] == thread.participant  # moved to the top


def test_same_state_and_verbs_give_the_same_screen(sb: RunningSandbox) -> None:
    shots = []
    for serial in ("twin-a", "twin-b"):
        sb.client.add_device(serial)
        with_backend = SandboxDeviceBackend(sb.url, serial)
        sign_in(with_backend)
        tap(with_backend, "thread_row", 1)
        with_backend.swipe(360, 400, 360, 600, 0.2)
        shots.append((with_backend.dump(), with_backend.screenshot()))
        with_backend.close()
    assert shots[0] == shots[1]


def test_deep_links_back_and_app_lifecycle(phone: SandboxDeviceBackend, sb: RunningSandbox) -> None:
    post = sb.state.posts_of("acme")[1]
    phone.open_url(f"sandbox://posts/{post.id}")
    assert phone.foreground().activity == ".LoginActivity"  # signed out: log in first
    sign_in(phone)
    assert phone.foreground().activity == ".CommentsActivity"
    assert find(phone.dump(), "post_caption").text == post.caption
    for activity in (".PostsActivity", ".InboxActivity"):
        phone.back()
        assert phone.foreground().activity == activity
    phone.back()
    assert phone.foreground().package == "com.android.launcher3"
    phone.app_start(APP)
    assert phone.foreground().activity == ".InboxActivity"
    phone.app_stop(APP)
    assert phone.foreground().package == "com.android.launcher3"
    phone.app_start(APP, ".PostsActivity")
    assert phone.foreground().activity == ".PostsActivity"  # still signed in
    with pytest.raises(DriverError, match="opens"):
        phone.open_url("https://example.com/")
    phone.open_url("sandbox://inbox/t999")  # an unknown thread: the inbox
    assert phone.foreground().activity == ".InboxActivity"


# -- the backend's errors and the guard --------------------------------------------------


def test_backend_maps_transport_failures(sb: RunningSandbox) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    refused = SandboxDeviceBackend(f"http://127.0.0.1:{port}", "sandbox-1")
    with pytest.raises(DriverCrashed) as crashed:
        refused.dump()
    assert isinstance(crashed.value.__cause__, httpx.ConnectError)

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection, never answers
    try:
        slow = SandboxDeviceBackend(
            f"http://127.0.0.1:{silent.getsockname()[1]}", "x", timeout_s=0.3
        )
        with pytest.raises(DriverTimeout) as timed_out:
            slow.info()
        assert isinstance(timed_out.value.__cause__, httpx.TimeoutException)
    finally:
        silent.close()

    gone = SandboxDeviceBackend(sb.url, "never-attached")
    with pytest.raises(DriverCrashed, match="never-attached"):
        gone.tap(1, 1)
    sb.client.add_device("short-lived")
    dying = SandboxDeviceBackend(sb.url, "short-lived")
    assert dying.dump()
    sb.client.remove_device("short-lived")
    with pytest.raises(DriverCrashed):
        dying.dump()


def test_device_routes_need_the_token_when_one_is_set() -> None:
    with running_sandbox(seed=1, token="s3cret") as sb:
        anonymous = SandboxDeviceBackend(sb.url, "sandbox-1")
        with pytest.raises(DriverError, match="token"):
            anonymous.dump()
        assert httpx.get(f"{sb.url}/admin/devices").status_code == 403
        trusted = SandboxDeviceBackend(sb.url, "sandbox-1", token="s3cret")
        assert trusted.foreground().package == "com.android.launcher3"
        trusted.close()
        anonymous.close()


def test_unshowable_characters_keep_the_dump_parseable(
    phone: SandboxDeviceBackend, sb: RunningSandbox
) -> None:
    sent = sb.client.post_message(
        "acme", "dm", "ctrl.freak", "bell\x07 esc\x1b csi\x9b nel\x85 \u202eevil"
    )
    sign_in(phone)
    phone.open_url(f"sandbox://inbox/{sent['container_id']}")
    shown = chat_texts(phone, sb.client)
    # XML cannot hold C0 controls and C1 ones but NEL: "." like Android's dumper writes them
    assert shown == ["bell. esc. csi. nel\x85 \u202eevil"]


@pytest.mark.parametrize("mode", ["never_loads", "changed_dom", "slow"])
def test_other_faults_have_their_device_form(
    phone: SandboxDeviceBackend, sb: RunningSandbox, mode: str
) -> None:
    sign_in(phone)
    sb.client.fault("acme", mode, slow_ms=400)
    started = time.monotonic()
    xml = phone.dump()
    took = time.monotonic() - started
    if mode == "never_loads":
        assert find(xml, "loading").attrs["class"] == "android.widget.ProgressBar"
        assert not find_all(xml, "thread_list")
    elif mode == "changed_dom":
        assert not find_all(xml, "thread_list") and find(xml, "x2_thread_list")
        assert find(xml, "x2_account_handle").text == "@acme"
    else:
        assert took >= 0.4 and find(xml, "thread_list")


def test_typing_without_a_focused_input_is_an_error(phone: SandboxDeviceBackend) -> None:
    with pytest.raises(DriverError, match="no input has focus"):
        phone.type_text("lost")
    with pytest.raises(DriverError, match="no input has focus"):
        phone.clear_text()
