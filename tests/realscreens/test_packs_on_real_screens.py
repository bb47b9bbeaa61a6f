"""The Android packs on real recorded screens, through ``AndroidDriver(RecordedScreen)``.

Every expectation comes from ``truth.py`` (plain lxml over attributes looked up by
hand) or from what the screenshots show; none from the packs themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from devices.android.driver import AndroidDriver
from devices.android.recorded import RecordedScreen
from devices.driver import FieldQuery
from devices.selectors import Locator, Selector, SelectorPack

from . import truth
from .conftest import ANDROID_PACKS, driver_on

Screen = Callable[[str], AndroidDriver]
REPO = Path(__file__).resolve().parents[2]


# Which dumps each pack was written from, and the selectors each dump shows.
def names(words: str) -> set[str]:
    return set(words.split())


RESOLVES: dict[str, dict[str, set[str]]] = {
    "whatsapp-android": {
        truth.WHATSAPP_LIST: names(
            "chats_tab chat_row chat_name chat_time chat_preview chat_preview_sender own_number"
        ),
        truth.WHATSAPP_THREAD: names(
            "own_number thread_title message message_body message_text message_time "
            "day_divider own_message outgoing_message composer thread_back"
        ),
    },
    "instagram-android": {
        truth.INSTAGRAM_FEED: names(
            "inbox_button inbox_unread feed_post_header feed_post_author_photo "
            "post_comment_button post_comment_count post_like_count post_media_summary "
            "own_story_avatar"
        ),
        truth.INSTAGRAM_PROFILE: names(
            "profile_username profile_full_name profile_category profile_bio "
            "profile_message_button profile_contact_button"
        ),
        truth.INSTAGRAM_CONTACT: names(
            "contact_sheet_title contact_option contact_option_kind contact_option_value "
            "contact_email contact_sheet_dismiss"
        ),
    },
    "tiktok-android": {
        truth.TIKTOK_FEED: names(
            "inbox_tab inbox_badge home_tab profile_tab video_comment_button "
            "video_comment_count video_like_button video_like_count video_share_count "
            "video_author video_author_avatar video_caption for_you_tab"
        ),
    },
    "facebook-android": {
        truth.FACEBOOK_FEED: names(
            "messages_button search_button own_profile_button post_composer "
            "post_author_photo post_time post_menu post_hide story"
        ),
    },
}
# Selectors no recorded screen shows (each pack's comments say so): they must
# resolve nowhere here, so a dump that starts showing one is noticed.
UNVERIFIED: dict[str, set[str]] = {
    "whatsapp-android": names("send_button incoming_message"),
    "instagram-android": names(
        "dm_thread_row dm_row_username dm_row_digest dm_row_time dm_thread_title dm_message "
        "dm_message_text dm_composer dm_send_button own_dm"
    ),
    "tiktok-android": set(),
    "facebook-android": names("post_comment_button post_comment_count"),
}


def only(pack: SelectorPack, name: str, index: int) -> Selector:
    """One alternative of a pack's selector, on its own (to check a fallback by itself)."""
    return Selector(name=name, alternatives=(pack.selectors[name][index],))


def boxes(d: AndroidDriver, selector: Selector) -> list[tuple[float, float, float, float] | None]:
    return [x.box for x in d.extract(selector, []).items]


def centre(b: truth.Bounds) -> tuple[int, int]:
    x, y, w, h = truth.as_xywh(b)
    return int(x + w / 2), int(y + h / 2)


def inside(point: tuple[int, int], b: truth.Bounds) -> bool:
    return b[0] <= point[0] < b[2] and b[1] <= point[1] < b[3]


# -- the packs load and name their app ----------------------------------------------------


@pytest.mark.parametrize("pack_id", ANDROID_PACKS)
def test_each_pack_loads_names_its_app_and_what_it_was_verified_against(
    packs: dict[str, SelectorPack], pack_id: str
) -> None:
    pack = packs[pack_id]
    raw = yaml.safe_load((REPO / "selectors" / f"{pack_id}.yaml").read_text(encoding="utf-8"))
    assert SelectorPack.model_validate(raw) == pack
    assert pack.surface == "android"
    assert pack.platform == pack_id.split("-")[0]
    assert pack.app is not None and pack.verified
    for dump in RESOLVES[pack_id]:
        assert truth.app_package(dump) == pack.app.package, dump
    # Every selector is either shown by a recorded screen or declared unverified.
    shown = set().union(*RESOLVES[pack_id].values())
    assert set(pack.selectors) == shown | UNVERIFIED[pack_id]
    assert not shown & UNVERIFIED[pack_id]


@pytest.mark.parametrize(
    ("pack_id", "dump"), [(p, d) for p, dumps in RESOLVES.items() for d in dumps]
)
def test_on_each_recorded_screen_the_pack_resolves_through_its_primary_alternatives(
    packs: dict[str, SelectorPack], screen: Screen, pack_id: str, dump: str
) -> None:
    pack, d = packs[pack_id], screen(dump)
    for name in sorted(RESOLVES[pack_id][dump]):
        match = d.count(pack.selector(name))
        assert match is not None, f"{name} resolves nowhere on {dump}"
        assert match.index == 0, f"{name} on {dump} fell back to {match.locator}"
        assert d.is_visible(pack.selector(name)) is not None, name
    for name in sorted(UNVERIFIED[pack_id]):
        assert d.count(pack.selector(name)) is None, f"{name} is on {dump}: verify it"


# -- WhatsApp ------------------------------------------------------------------------------


def test_whatsapp_chat_rows_are_every_chat_with_its_name_time_and_last_message(
    packs: dict[str, SelectorPack], screen: Screen
) -> None:
    pack, d = packs["whatsapp-android"], screen(truth.WHATSAPP_LIST)
    expected = truth.whatsapp_chats()
    assert len(expected) == 11
    read = d.extract(
        pack.selector("chat_row"),
        [
            FieldQuery("name", pack.selector("chat_name")),
            FieldQuery("time", pack.selector("chat_time")),
            FieldQuery("preview", pack.selector("chat_preview")),
        ],
    )
    got = [(x.fields["name"], x.fields["time"], x.fields["preview"], x.box) for x in read.items]
    assert got == [(c.name, c.time, c.preview, truth.as_xywh(c.row)) for c in expected]
    tab = truth.by_desc(truth.WHATSAPP_LIST, "Conversas")[0]
    assert boxes(d, pack.selector("chats_tab")) == [truth.as_xywh(truth.bounds(tab))]


def test_whatsapp_own_number_is_the_chat_the_account_has_with_itself(
    packs: dict[str, SelectorPack], screen: Screen
) -> None:
    pack = packs["whatsapp-android"]
    (own,) = [c.name for c in truth.whatsapp_chats() if c.name.endswith(" (você)")]
    for dump in (truth.WHATSAPP_LIST, truth.WHATSAPP_THREAD):
        text, _ = screen(dump).read_text(pack.selector("own_number"), timeout_s=0)
        assert text == own


def test_whatsapp_thread_bubbles_texts_times_and_ticks(
    packs: dict[str, SelectorPack], screen: Screen
) -> None:
    pack, d = packs["whatsapp-android"], screen(truth.WHATSAPP_THREAD)
    bubbles = truth.whatsapp_bubbles()
    whole = [b for b in bubbles if b.whole]
    assert len(bubbles) == 16 and len(whole) == 15
    assert [(b.text, b.time) for b in whole] == list(truth.WHATSAPP_THREAD_SEEN)
    (cut,) = [b for b in bubbles if not b.whole]
    assert cut.text is None  # the first bubble shows only "3,3 MB • JPG": nothing to read
    read = d.extract(
        pack.selector("message"),
        [
            FieldQuery("text", pack.selector("message_body")),
            FieldQuery("time", pack.selector("message_time")),
            FieldQuery("own", pack.selector("own_message"), include_self=True),
        ],
    )
    # Every bubble, the cut one marked as touching the list's top edge (the collect reads
    # it on another screen).
    assert [(x.fields["text"], x.fields["time"], x.box, x.cut) for x in read.items] == [
        (b.text, b.time, truth.as_xywh(b.box), None if b.whole else "top") for b in bubbles
    ]
    # A self-chat: every bubble is the account's own (ticks), none is received.
    assert all(b.outgoing for b in bubbles)
    assert all(x.fields["own"] is not None for x in read.items)
    outgoing = d.count(pack.selector("outgoing_message"))
    assert outgoing is not None and outgoing.count == 16
    assert d.count(pack.selector("incoming_message")) is None
    texts = d.extract(pack.selector("message_text"), []).items
    assert len(texts) == sum(1 for b in bubbles if b.is_text) == 7


def test_whatsapp_composer_is_there_and_the_send_button_is_not_yet(
    packs: dict[str, SelectorPack], screen: Screen
) -> None:
    pack, d = packs["whatsapp-android"], screen(truth.WHATSAPP_THREAD)
    hint, box = truth.whatsapp_composer()
    text, match = d.read_text(pack.selector("composer"), timeout_s=0)
    assert (text, match.index) == (hint, 0) == ("Mensagem", 0)
    assert boxes(d, pack.selector("composer")) == [truth.as_xywh(box)]
    # With the composer empty the send slot holds the voice-note button, which the
    # send selector must never take for the send button.
    assert truth.by_id(truth.WHATSAPP_THREAD, "com.whatsapp:id/voice_note_btn")
    assert not truth.by_id(truth.WHATSAPP_THREAD, "com.whatsapp:id/send")
    assert d.count(pack.selector("send_button")) is None


# -- TikTok ---------------------------------------------------------------------------------


def test_tiktok_inbox_tab_is_the_tappable_parent_not_its_boxless_label(
    packs: dict[str, SelectorPack], android_ui: Path
) -> None:
    pack = packs["tiktok-android"]
    label, tab = truth.tiktok_inbox_tab()
    assert truth.bounds(label) == (0, 0, 0, 0)
    assert tab.get("clickable") == "true" and truth.bounds(tab) == (432, 1461, 576, 1483)
    backend = RecordedScreen(android_ui / truth.TIKTOK_FEED)
    d = driver_on(backend)
    assert boxes(d, pack.selector("inbox_tab")) == [truth.as_xywh(truth.bounds(tab))]
    d.tap(pack.selector("inbox_tab"), timeout_s=0)
    assert backend.taps() == [centre(truth.bounds(tab))]
    # What a selector on the label's text would give: an element that is not visible.
    by_label = Selector(name="label", alternatives=(Locator(text="Caixa de entrada", exact=True),))
    assert d.count(by_label) is not None and d.is_visible(by_label) is None
    text, _ = d.read_text(pack.selector("inbox_badge"), timeout_s=0)
    assert text == "1"


def test_tiktok_comment_button_and_count(packs: dict[str, SelectorPack], screen: Screen) -> None:
    pack, d = packs["tiktok-android"], screen(truth.TIKTOK_FEED)
    said, label = truth.tiktok_comments()
    assert said == 329 and label.get("text") == "329"
    text, _ = d.read_text(pack.selector("video_comment_count"), timeout_s=0)
    assert text == str(said)
    assert boxes(d, pack.selector("video_comment_count")) == [truth.as_xywh(truth.bounds(label))]
    button = label.getparent()
    while button is not None and not (button.get("content-desc") or "").startswith("Leia"):
        button = button.getparent()
    assert button is not None
    assert boxes(d, pack.selector("video_comment_button")) == [truth.as_xywh(truth.bounds(button))]
    author, _ = d.read_text(pack.selector("video_author"), timeout_s=0)
    assert author == truth.tiktok_author().get("text") == "ESPN Brasil"


# -- Instagram ----------------------------------------------------------------------------


def test_instagram_inbox_button_comment_button_and_count(
    packs: dict[str, SelectorPack], android_ui: Path
) -> None:
    pack = packs["instagram-android"]
    backend = RecordedScreen(android_ui / truth.INSTAGRAM_FEED)
    d = driver_on(backend)
    inbox = truth.bounds(truth.instagram_inbox_button())
    assert boxes(d, pack.selector("inbox_button")) == [truth.as_xywh(inbox)]
    icon = truth.instagram_comment_button()
    assert boxes(d, pack.selector("post_comment_button")) == [truth.as_xywh(truth.bounds(icon))]
    said, label = truth.instagram_comment_count()
    text, _ = d.read_text(pack.selector("post_comment_count"), timeout_s=0)
    assert text == str(said) == label.get("text") == "57"
    d.tap(pack.selector("post_comment_button"), timeout_s=0)
    d.tap(pack.selector("inbox_button"), timeout_s=0)
    comment_tap, inbox_tap = backend.taps()
    parent = icon.getparent()
    assert parent is not None and parent.get("clickable") == "true"
    assert inside(comment_tap, truth.bounds(parent))  # the icon's clickable parent gets it
    assert inside(inbox_tap, inbox)


def test_instagram_signed_in_account_is_read_from_the_own_story(
    packs: dict[str, SelectorPack], screen: Screen
) -> None:
    pack, d = packs["instagram-android"], screen(truth.INSTAGRAM_FEED)
    handle, avatar = truth.instagram_own_story()
    assert handle == "owner_account"
    for index in (0, 1):
        read = d.extract(
            only(pack, "own_story_avatar", index), [FieldQuery("d", None, "content-desc")]
        )
        assert [x.fields["d"] for x in read.items] == [avatar.get("content-desc")], index


def test_instagram_profile_contact_button_and_the_contact_sheet(
    packs: dict[str, SelectorPack], android_ui: Path, screen: Screen
) -> None:
    pack = packs["instagram-android"]
    backend = RecordedScreen(android_ui / truth.INSTAGRAM_PROFILE)
    d = driver_on(backend)
    d.tap(pack.selector("profile_contact_button"), timeout_s=0)
    (label,) = [
        n
        for n in truth.by_id(truth.INSTAGRAM_PROFILE, "com.instagram.android:id/button_text")
        if n.get("text") == "Contact"
    ]
    button = label.getparent()
    assert button is not None and button.get("clickable") == "true"
    assert inside(backend.taps()[0], truth.bounds(button))
    sheet = screen(truth.INSTAGRAM_CONTACT)
    read = sheet.extract(
        pack.selector("contact_option"),
        [
            FieldQuery("kind", pack.selector("contact_option_kind")),
            FieldQuery("value", pack.selector("contact_option_value")),
        ],
    )
    expected = truth.instagram_contact_options()
    assert [(x.fields["kind"], x.fields["value"], x.box) for x in read.items] == [
        (k, v, truth.as_xywh(b)) for k, v, b in expected
    ]
    email, _ = sheet.read_text(pack.selector("contact_email"), timeout_s=0)
    assert email == dict((k, v) for k, v, _ in expected)["Email"] == "creator.example@gmail.com"


# -- Facebook ---------------------------------------------------------------------------


def test_facebook_only_content_desc_can_select_and_the_messages_button_resolves(
    packs: dict[str, SelectorPack], screen: Screen
) -> None:
    pack, d = packs["facebook-android"], screen(truth.FACEBOOK_FEED)
    ids = truth.facebook_app_ids()
    assert ids and set(ids) == {"com.facebook.katana:id/(name removed)"}
    kinds = {alt.kind for alts in pack.selectors.values() for alt in alts}
    assert "resource_id" not in kinds
    (button,) = truth.by_desc(truth.FACEBOOK_FEED, "Mensagens")
    for index in (0, 2):  # the label, and the last button beside the logo
        assert boxes(d, only(pack, "messages_button", index)) == [
            truth.as_xywh(truth.bounds(button))
        ]
    # The recorded feed shows no comment control: the comment selectors are unverified.
    assert not truth.facebook_mentions_comments()


# -- fallbacks, each on its own, find what the primary finds -------------------------------

FALLBACKS = [
    ("whatsapp-android", truth.WHATSAPP_LIST, "chats_tab", 2),
    ("whatsapp-android", truth.WHATSAPP_LIST, "chat_row", 1),
    ("whatsapp-android", truth.WHATSAPP_THREAD, "thread_title", 1),
    ("whatsapp-android", truth.WHATSAPP_THREAD, "composer", 1),
    ("whatsapp-android", truth.WHATSAPP_THREAD, "message_time", 1),
    ("whatsapp-android", truth.WHATSAPP_THREAD, "thread_back", 1),
    ("instagram-android", truth.INSTAGRAM_FEED, "inbox_button", 1),
    ("instagram-android", truth.INSTAGRAM_FEED, "post_comment_button", 1),
    ("instagram-android", truth.INSTAGRAM_FEED, "post_comment_count", 1),
    ("instagram-android", truth.INSTAGRAM_FEED, "own_story_avatar", 1),
    ("instagram-android", truth.INSTAGRAM_CONTACT, "contact_sheet_dismiss", 1),
    ("tiktok-android", truth.TIKTOK_FEED, "inbox_tab", 2),
    ("tiktok-android", truth.TIKTOK_FEED, "video_author", 1),
    ("facebook-android", truth.FACEBOOK_FEED, "messages_button", 2),
]


@pytest.mark.parametrize(("pack_id", "dump", "name", "index"), FALLBACKS)
def test_a_fallback_on_its_own_finds_the_primarys_elements(
    packs: dict[str, SelectorPack], screen: Screen, pack_id: str, dump: str, name: str, index: int
) -> None:
    pack, d = packs[pack_id], screen(dump)
    primary = boxes(d, only(pack, name, 0))
    assert primary
    assert boxes(d, only(pack, name, index)) == primary


def test_whatsapp_fallbacks_for_bubbles_and_own_marker(
    packs: dict[str, SelectorPack], screen: Screen
) -> None:
    pack, d = packs["whatsapp-android"], screen(truth.WHATSAPP_THREAD)
    bubbles = truth.whatsapp_bubbles()
    assert boxes(d, only(pack, "message", 1)) == [truth.as_xywh(b.box) for b in bubbles]
    # The right-of-centre rule marks the same bubbles as the ticks do (all of them here).
    for index in (0, 1):
        read = d.extract(
            only(pack, "message", 0),
            [FieldQuery("own", only(pack, "own_message", index), include_self=True)],
        )
        assert [x.fields["own"] is not None for x in read.items] == [b.outgoing for b in bubbles]
    # The structural text fallback reads the text messages (a document has no text row).
    read = d.extract(only(pack, "message", 0), [FieldQuery("t", only(pack, "message_body", 1))])
    assert [x.fields["t"] for x in read.items] == [b.text if b.is_text else None for b in bubbles]
