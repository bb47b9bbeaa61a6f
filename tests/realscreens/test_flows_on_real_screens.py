"""The built-in Android flows run by the real FlowRunner on recorded screens.

A recorded phone only shows what was recorded: ``Phone`` swaps the WhatsApp chat
list for the open chat when a chat row is tapped, and back again on back (the
app's ordinary navigation; the two screens were recorded on the same phone).
The flows' results are compared with ``truth.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from devices.android.recorded import RecordedScreen
from devices.selectors import SelectorPack
from flows.context import Box, Evidenced, RunContext, Unreadable
from flows.errors import FlowStop
from flows.models import Flow
from flows.runner import FlowRunner

from . import truth
from .conftest import driver_on

OWN_NUMBER = "+55 00 0000-0001"


@dataclass
class Hooks:
    """Runner hooks that keep what they are given (nothing is stored yet: all is new)."""

    batches: list[list[Evidenced]] = field(default_factory=list)
    unreadable_reports: list[Unreadable] = field(default_factory=list)
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    fallbacks: list[tuple[str, int]] = field(default_factory=list)
    screenshots: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def step_started(self, path: str, kind: str, detail: dict[str, Any]) -> None:
        pass

    def step_ok(self, path: str, kind: str, duration_s: float, detail: dict[str, Any]) -> None:
        pass

    def step_failed(
        self, path: str, kind: str, duration_s: float, error: str, attempt: int
    ) -> None:
        self.failures.append((path, kind, error))

    def fallback(self, selector: str, index: int, locator: str) -> None:
        self.fallbacks.append((selector, index))

    def dismissed(self, dialog: str, selector: str) -> None:
        self.dialogs.append(dialog)

    def screenshot(self, name: str, png: bytes) -> str:
        self.screenshots.append(name)
        return name

    def known_keys(self, keys: list[str]) -> set[str]:
        return set()

    def unreadable(self, report: Unreadable) -> None:
        self.unreadable_reports.append(report)

    def evidence_captured(self, screen: bytes, boxes: list[Box]) -> None:
        pass

    def store(self, batch: list[Evidenced]) -> list[bool]:
        self.batches.append(batch)
        return [True for _ in batch]


class Phone(RecordedScreen):
    """The recorded WhatsApp chat list; a tap on a chat row opens the recorded chat."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.rows = [c.row for c in truth.whatsapp_chats()]
        super().__init__(folder / truth.WHATSAPP_LIST)

    def tap(self, x: int, y: int) -> None:
        super().tap(x, y)
        on_list = self.path.name == truth.WHATSAPP_LIST
        if on_list and any(r[0] <= x < r[2] and r[1] <= y < r[3] for r in self.rows):
            self.show(self.folder / truth.WHATSAPP_THREAD)

    def back(self) -> None:
        super().back()
        self.show(self.folder / truth.WHATSAPP_LIST)


def _context(**variables: str) -> RunContext:
    return RunContext(
        platform="whatsapp",
        account=OWN_NUMBER,
        variables={"start_url": "", "workspace": "acme-whatsapp", "account": OWN_NUMBER}
        | variables,
        timeout_s=5.0,
        timezone="America/Sao_Paulo",
        locale="pt-BR",
    )


@pytest.fixture
def phone(android_ui: Path) -> Iterator[Phone]:
    yield Phone(android_ui)


def _inside(point: tuple[int, int], b: truth.Bounds) -> bool:
    return b[0] <= point[0] < b[2] and b[1] <= point[1] < b[3]


def _centre(b: truth.Bounds) -> tuple[int, int]:
    return int(b[0] + (b[2] - b[0]) / 2), int(b[1] + (b[3] - b[1]) / 2)


def test_whatsapp_chats_visits_every_chat_and_reads_its_bubbles_in_chat_order(
    packs: dict[str, SelectorPack], flows: dict[str, Flow], phone: Phone
) -> None:
    hooks = Hooks()
    runner = FlowRunner(driver_on(phone), packs["whatsapp-android"], hooks, _context())
    stats = runner.run(flows["whatsapp-chats"])
    chats = truth.whatsapp_chats()
    # Every chat row tapped once, at its centre, in the list's order.
    row_taps = [t for t in phone.taps() if any(_inside(t, c.row) for c in chats)]
    assert row_taps == [_centre(c.row) for c in chats]
    assert [e.kind for e in phone.events].count("back") == len(chats)
    # One batch per chat, its thread named by the chat, its bubbles oldest first.
    assert len(hooks.batches) == len(chats) == 11
    seen = list(truth.WHATSAPP_THREAD_SEEN)
    for chat, batch in zip(chats, hooks.batches, strict=True):
        assert {e.item.thread.rsplit("#", 1)[-1] for e in batch} == {chat.name}
        assert [(e.item.text, e.item.posted_text) for e in batch] == seen
        # The recorded chat is the account's chat with itself: every bubble has ticks.
        assert all(e.item.own and e.item.author == OWN_NUMBER for e in batch)
        assert all(e.item.kind == "dm" for e in batch)
    # The bubble cut by the list's top edge is never an item. A recording cannot scroll, so
    # the collect takes the chat as at its end, where a row at the edge is whole: the cut
    # bubble (no text on screen) is reported unreadable, once per chat, never dropped.
    assert [r.missing for r in hooks.unreadable_reports] == [{"text": 1}] * len(chats)
    assert stats.unreadable == len(chats)
    assert not hooks.fallbacks and not hooks.failures and not hooks.dialogs
    assert stats.resolved["message"] == 0 and stats.resolved["own_message"] == 0


def test_whatsapp_reply_sends_nothing_when_the_reply_is_already_in_the_chat(
    packs: dict[str, SelectorPack], flows: dict[str, Flow], phone: Phone
) -> None:
    own = next(c for c in truth.whatsapp_chats() if c.name.endswith(" (você)"))
    ctx = _context(thread=f"/#{own.name}", reply_text="4000000000000")
    stats = FlowRunner(driver_on(phone), packs["whatsapp-android"], Hooks(), ctx).run(
        flows["whatsapp-reply"]
    )
    assert stats.reply == {"already_posted": True}
    assert phone.typed() == []
    # Only the item's own chat was opened.
    rows = [c.row for c in truth.whatsapp_chats()]
    chat_taps = [t for t in phone.taps() if any(_inside(t, r) for r in rows)]
    assert chat_taps == [_centre(own.row)]


def test_whatsapp_reply_types_into_the_composer_then_stops_at_the_unrecorded_send_button(
    packs: dict[str, SelectorPack], flows: dict[str, Flow], phone: Phone
) -> None:
    own = next(c for c in truth.whatsapp_chats() if c.name.endswith(" (você)"))
    ctx = _context(thread=f"/#{own.name}", reply_text="Olá! Já verificamos.")
    with pytest.raises(FlowStop) as stop:
        FlowRunner(driver_on(phone), packs["whatsapp-android"], Hooks(), ctx).run(
            flows["whatsapp-reply"]
        )
    # The recorded chat has an empty composer, so no send button: the flow stops there,
    # by name, after typing into the real composer.
    assert stop.value.reason == "selector_missing"
    assert "send_button" in stop.value.message
    _, composer = truth.whatsapp_composer()
    kinds = [e.kind for e in phone.events]
    assert kinds[-3:] == ["tap", "clear_text", "type_text"]
    assert phone.taps()[-1] == _centre(composer)
    assert phone.typed() == ["Olá! Já verificamos."]


@pytest.mark.parametrize("flow_id", ["instagram-dm-inbox", "instagram-dm-thread"])
def test_instagram_dm_flows_check_the_account_and_open_the_inbox_then_need_a_dm_recording(
    packs: dict[str, SelectorPack], flows: dict[str, Flow], android_ui: Path, flow_id: str
) -> None:
    handle, _ = truth.instagram_own_story()
    backend = RecordedScreen(android_ui / truth.INSTAGRAM_FEED)
    ctx = RunContext(
        platform="instagram", account=f"@{handle}", variables={"start_url": ""}, timeout_s=2.0
    )
    with pytest.raises(FlowStop) as stop:
        FlowRunner(driver_on(backend), packs["instagram-android"], Hooks(), ctx).run(flows[flow_id])
    # The account matched and the inbox button was tapped; then the DM list, which no
    # recording shows, is missing: these flows are not verified beyond this point.
    assert stop.value.reason == "selector_missing"
    assert "dm_thread_row" in stop.value.message
    inbox = truth.bounds(truth.instagram_inbox_button())
    (tap,) = backend.taps()
    assert _inside(tap, inbox)


def test_instagram_dm_inbox_stops_on_another_account(
    packs: dict[str, SelectorPack], flows: dict[str, Flow], android_ui: Path
) -> None:
    backend = RecordedScreen(android_ui / truth.INSTAGRAM_FEED)
    ctx = RunContext(
        platform="instagram", account="@someone_else", variables={"start_url": ""}, timeout_s=2.0
    )
    with pytest.raises(FlowStop) as stop:
        FlowRunner(driver_on(backend), packs["instagram-android"], Hooks(), ctx).run(
            flows["instagram-dm-inbox"]
        )
    assert stop.value.reason == "wrong_account"
    assert "owner_account" in stop.value.message
    assert backend.taps() == []
