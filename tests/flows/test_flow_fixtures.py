"""Numbered flow fixtures: each runs the real runner and AndroidDriver on a scripted device.

A fixture (``fixtures/NNN_what_it_checks.yaml``) holds a pack, the device's screens,
the flow's steps and what must come out: the stop reason (or none), the device
events in order (taps, typing, swipes, back; reads left out), the items stored,
fallbacks, dismissed dialogs, what was sent. No browser, no phone, no server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from devices.android.driver import AndroidDriver
from devices.selectors import SelectorPack
from flows.context import Box, Evidenced, RunContext, Unreadable
from flows.errors import FlowStop
from flows.models import Flow
from flows.runner import FlowRunner
from tests.flows.fake_device import PACKAGE, FakeDevice

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("[0-9][0-9][0-9]_*.yaml"))
READS = ("dump", "screenshot")


class Hooks:
    """Runner hooks that keep everything in memory."""

    def __init__(self) -> None:
        self.stored: list[Evidenced] = []
        self.captured: list[tuple[bytes, list[Box]]] = []  # screens of new items, as captured
        self.keys: set[str] = set()
        self.fallbacks: dict[str, int] = {}
        self.dismissed_dialogs: list[str] = []
        self.unreadable_reports: list[Unreadable] = []

    def step_started(self, path: str, kind: str, detail: dict[str, Any]) -> None:
        pass

    def step_ok(self, path: str, kind: str, duration_s: float, detail: dict[str, Any]) -> None:
        pass

    def step_failed(
        self, path: str, kind: str, duration_s: float, error: str, attempt: int
    ) -> None:
        pass

    def fallback(self, selector: str, index: int, locator: str) -> None:
        self.fallbacks[selector] = index

    def dismissed(self, dialog: str, selector: str) -> None:
        self.dismissed_dialogs.append(dialog)

    def screenshot(self, name: str, png: bytes) -> str:
        return name

    def known_keys(self, keys: list[str]) -> set[str]:
        return self.keys & set(keys)

    def unreadable(self, report: Unreadable) -> None:
        self.unreadable_reports.append(report)

    def evidence_captured(self, screen: bytes, boxes: list[Box]) -> None:
        self.captured.append((screen, boxes))

    def store(self, batch: list[Evidenced]) -> list[bool]:
        out = []
        for ev in batch:
            out.append(ev.item.key not in self.keys)
            if out[-1]:
                self.keys.add(ev.item.key)
                self.stored.append(ev)
        return out


class FixedOcr:
    """OCR answers by box, as the fixture scripts them."""

    def __init__(self, answers: dict[str, list[Any]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def read(self, png: bytes, box: tuple[float, float, float, float]) -> tuple[str, float]:
        key = ",".join(str(int(v)) for v in box)
        self.asked.append(key)
        text, confidence = self.answers.get(key, ["", 0.0])
        return str(text), float(confidence)


class NoClock:
    """A clock the driver's waits advance: a timeout passes without waiting for it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def run_fixture(path: Path) -> tuple[dict[str, Any], FakeDevice, Hooks, str | None, Any]:
    spec = yaml.safe_load(path.read_text())
    pack = SelectorPack.model_validate(
        {"id": "fixture", "platform": "example", "surface": "android", **spec["pack"]}
    )
    flow = Flow.model_validate({"id": "fixture", "steps": spec["flow"]})
    dev = spec["device"]
    device = FakeDevice(dev["screens"], dev["start"], package=dev.get("package", PACKAGE))
    clock = NoClock()
    ocr = FixedOcr(spec.get("ocr", {}))
    driver = AndroidDriver(
        device, package=PACKAGE, ocr=ocr, poll_s=0.25, clock=clock, sleep=clock.sleep
    ).start()
    hooks = Hooks()
    ctx = RunContext(
        platform="example", account="@acme", variables={"account": "@acme"}, timeout_s=2.0
    )
    width, height = driver.viewport()
    ctx.page_width, ctx.page_height = width, height
    stop = None
    runner = FlowRunner(driver, pack, hooks, ctx)
    try:
        runner.run(flow)
    except FlowStop as exc:
        stop = exc.reason
    return spec["expect"], device, hooks, stop, runner


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_flow_fixture(path: Path) -> None:
    expect, device, hooks, stop, runner = run_fixture(path)
    assert stop == expect.get("stop")
    if "events" in expect:
        acts = [e for e in device.events if e not in READS]
        assert acts == expect["events"]
    if "items" in expect:
        got = [{"author": ev.item.author, "text": ev.item.text} for ev in hooks.stored]
        wanted = [{"author": i["author"], "text": i["text"]} for i in expect["items"]]
        assert got == wanted
        for ev, want in zip(hooks.stored, expect["items"], strict=True):
            if "ocr_confidence" in want:
                assert ev.item.ocr_confidence == want["ocr_confidence"]
                assert ev.item.ocr_fields == want["ocr_fields"]
            else:
                assert ev.item.ocr_confidence is None
    if expect.get("all_boxed"):
        assert all(ev.screen is not None and ev.box is not None for ev in hooks.stored)
    assert hooks.fallbacks == expect.get("fallbacks", {})
    dismissed = {n: hooks.dismissed_dialogs.count(n) for n in set(hooks.dismissed_dialogs)}
    assert dismissed == expect.get("dismissed", {})
    assert device.sent == expect.get("sent", [])
    assert runner.stats.unreadable == expect.get("unreadable", 0)


def test_fixtures_are_numbered_without_gaps() -> None:
    numbers = [int(p.name[:3]) for p in FIXTURES]
    assert numbers == list(range(1, len(FIXTURES) + 1))


def test_virtualised_rows_keep_the_screen_they_were_read_on() -> None:
    """Rows the list scrolled away are boxed on the kept screen they showed on: each box
    lies inside its screen, and rows read on later screens sit lower on the page."""
    path = next(p for p in FIXTURES if p.name.startswith("006_"))
    _, device, hooks, _, _ = run_fixture(path)
    assert device.scroll > 0  # it really scrolled
    for ev in hooks.stored:
        assert ev.box is not None
        _, y, _, h = ev.box
        assert y >= 0 and y + h <= 1280  # on the evidence screen, not off its edge
    swipes = [e for e in device.events if e.startswith("swipe")]
    assert len(swipes) >= 2  # the last swipe moved nothing: that is how the end is known
    # Each kept screen is handed to the evidence writer once, with the boxes of its rows.
    announced = [id(screen) for screen, _ in hooks.captured]
    assert len(announced) == len(set(announced)) >= 2
    on_screen = {id(screen): set(boxes) for screen, boxes in hooks.captured}
    assert all(ev.box in on_screen[id(ev.screen)] for ev in hooks.stored)
