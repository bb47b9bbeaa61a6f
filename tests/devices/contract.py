"""The Android driver contract: what every ``AndroidDriver`` must do on a screen it is shown.

A reusable suite. A test module subclasses ``AndroidDriverContract`` and gives it
one fixture, ``contract_case``, yielding a ``ContractCase``: a started driver on a
known screen, the ``KnownScreen`` that says what is on it (which selectors of
each locator kind exist there, how many elements they match, their text and
their bounds, which element can be tapped, which items a list holds) and a way
to read back where the device was tapped. Nothing about any particular screen
or backend is written here; the Appium module describes real recorded screens
served by Appium's fake driver, the sandbox module its own screens.

Waiting verbs run on the case's ``FakeClock`` when the driver was built with it
(``clock=clock, sleep=clock.sleep``), so "not found within 5 s" takes no 5 s.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pytest
from lxml import etree
from PIL import Image

from devices.driver import Driver, FieldQuery
from devices.errors import ElementNotFound, SelectorInvalid
from devices.selectors import Locator, Selector

Box = tuple[float, float, float, float]  # x, y, width, height in screen pixels

# Every screen describes one element for each of these ways of locating it.
LOCATOR_CASES = ("resource_id", "resource_id_short", "content_desc", "text", "xpath")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NO_SUCH_VIEW = Locator(resource_id="inbox_agent_contract_no_such_view")
BROKEN_XPATH = "//node[@resource-id="


@dataclass(frozen=True)
class Known:
    """One locator that matches on the screen: how many elements, and the first one's
    bounds and text (what ``read_text`` gives: its own, else its descendants')."""

    locator: Locator
    count: int
    box: Box
    text: str
    visible: bool = True  # False: it matches, but nothing it matches has a size


@dataclass(frozen=True)
class KnownItems:
    """A list on the screen: the item locator, the fields read from each item and what
    each item holds (fields, and its bounds), in screen order."""

    item: Locator
    fields: tuple[FieldQuery, ...]
    expected: tuple[tuple[Mapping[str, str | None], Box], ...]


@dataclass(frozen=True)
class BoxlessLabel:
    """A label with no bounds of its own (a tab's text) inside an element that has them:
    tapping the label taps the centre of ``tap_box``."""

    locator: Locator
    tap_box: Box


@dataclass(frozen=True)
class KnownScreen:
    name: str
    by_kind: Mapping[str, Known]  # one Known for every name in LOCATOR_CASES
    tappable: Known
    items: KnownItems
    boxless: BoxlessLabel | None = None
    missing: Locator = NO_SUCH_VIEW

    def __post_init__(self) -> None:
        lacking = [k for k in LOCATOR_CASES if k not in self.by_kind]
        if lacking:
            raise ValueError(f"screen {self.name}: describe an element for {lacking}")
        for case, known in self.by_kind.items():
            kind = "resource_id" if case == "resource_id_short" else case
            if known.locator.kind != kind:
                raise ValueError(f"screen {self.name}: the {case} element needs a {kind} locator")
        full = self.by_kind["resource_id"].locator.value
        short = self.by_kind["resource_id_short"].locator.value
        if ":id/" not in full or ":id/" in short:
            raise ValueError(f"screen {self.name}: give a full id (pkg:id/name) and a short one")


@dataclass
class FakeClock:
    """A clock for the driver's waits: ``sleep`` moves it on and records the pause."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class ContractCase:
    driver: Driver  # a started AndroidDriver
    screen: KnownScreen
    taps: Callable[[], list[tuple[int, int]]]  # where the device was tapped so far, in order
    clock: FakeClock | None = None  # the driver's clock, when it was given one


def one(name: str, locator: Locator) -> Selector:
    return Selector(name=name, alternatives=(locator,))


def centre(box: Box) -> tuple[int, int]:
    x, y, w, h = box
    return int(x + w / 2), int(y + h / 2)


class AndroidDriverContract:
    """The suite. Subclass it in a ``Test…`` class that defines ``contract_case``."""

    # -- locating, by each kind -----------------------------------------------
    @pytest.mark.parametrize("kind", LOCATOR_CASES)
    def test_find_reports_the_primary_and_the_count(
        self, contract_case: ContractCase, kind: str
    ) -> None:
        known = contract_case.screen.by_kind[kind]
        match = contract_case.driver.find(one(kind, known.locator), timeout_s=0)
        assert (match.selector, match.index, match.count) == (kind, 0, known.count)
        assert match.locator == known.locator.describe()
        assert not match.fell_back

    @pytest.mark.parametrize("kind", LOCATOR_CASES)
    def test_count_matches_the_screen(self, contract_case: ContractCase, kind: str) -> None:
        known = contract_case.screen.by_kind[kind]
        match = contract_case.driver.count(one(kind, known.locator))
        assert match is not None
        assert (match.index, match.count) == (0, known.count)

    @pytest.mark.parametrize("kind", LOCATOR_CASES)
    def test_is_visible_only_with_a_size(self, contract_case: ContractCase, kind: str) -> None:
        known = contract_case.screen.by_kind[kind]
        match = contract_case.driver.is_visible(one(kind, known.locator))
        if known.visible:
            assert match is not None and (match.index, match.count) == (0, known.count)
        else:
            assert match is None

    @pytest.mark.parametrize("kind", LOCATOR_CASES)
    def test_a_failing_primary_falls_back(self, contract_case: ContractCase, kind: str) -> None:
        known = contract_case.screen.by_kind[kind]
        selector = Selector(name=kind, alternatives=(contract_case.screen.missing, known.locator))
        match = contract_case.driver.find(selector, timeout_s=0)
        assert (match.index, match.count, match.fell_back) == (1, known.count, True)
        assert match.locator == known.locator.describe()
        counted = contract_case.driver.count(selector)
        assert counted is not None and counted.index == 1

    def test_a_missing_selector_is_not_found_within_its_timeout(
        self, contract_case: ContractCase
    ) -> None:
        missing = one("nowhere", contract_case.screen.missing)
        clock = contract_case.clock
        timeout = 5.0 if clock is not None else 0.05
        started_real = time.monotonic()
        started = clock() if clock is not None else started_real
        with pytest.raises(ElementNotFound) as caught:
            contract_case.driver.find(missing, timeout_s=timeout)
        assert caught.value.evidence.selector == "nowhere"
        assert "nowhere" in str(caught.value)
        if clock is not None:
            assert clock() - started >= timeout  # it waited the timeout out, on its clock
            assert clock.sleeps  # polling, not one look
            assert time.monotonic() - started_real < timeout  # and not on the wall clock
        assert contract_case.driver.count(missing) is None
        assert contract_case.driver.is_visible(missing) is None

    def test_an_invalid_xpath_names_selector_and_alternative(
        self, contract_case: ContractCase
    ) -> None:
        selector = Selector(
            name="broken_xpath",
            alternatives=(contract_case.screen.missing, Locator(xpath=BROKEN_XPATH)),
        )
        with pytest.raises(SelectorInvalid) as caught:
            contract_case.driver.find(selector, timeout_s=5.0)
        message = str(caught.value)
        assert "broken_xpath" in message
        assert "alternative 2" in message
        assert BROKEN_XPATH in message
        if contract_case.clock is not None:
            assert contract_case.clock.sleeps == []  # refused at once, not waited on

    # -- reading ----------------------------------------------------------------
    @pytest.mark.parametrize("kind", LOCATOR_CASES)
    def test_read_text(self, contract_case: ContractCase, kind: str) -> None:
        known = contract_case.screen.by_kind[kind]
        text, match = contract_case.driver.read_text(one(kind, known.locator), timeout_s=0)
        assert text == known.text
        assert match.index == 0

    @pytest.mark.parametrize("kind", LOCATOR_CASES)
    def test_boxes_are_the_dump_bounds(self, contract_case: ContractCase, kind: str) -> None:
        known = contract_case.screen.by_kind[kind]
        extraction = contract_case.driver.extract(one(kind, known.locator), [])
        assert len(extraction.items) == known.count
        assert extraction.items[0].box == tuple(float(v) for v in known.box)

    def test_extract_reads_fields_and_the_dump_bounds(self, contract_case: ContractCase) -> None:
        items = contract_case.screen.items
        extraction = contract_case.driver.extract(one("item", items.item), list(items.fields))
        got = [(dict(item.fields), item.box) for item in extraction.items]
        want = [(dict(fields), tuple(float(v) for v in box)) for fields, box in items.expected]
        assert got == want
        assert extraction.match.index == 0
        assert extraction.match.count == len(items.expected)

    def test_screen_tree_is_the_screen(self, contract_case: ContractCase) -> None:
        tree = etree.fromstring(contract_case.driver.screen_tree().encode("utf-8"))
        xpath = contract_case.screen.by_kind["xpath"]
        assert xpath.locator.xpath is not None
        assert len(tree.xpath(xpath.locator.xpath)) == xpath.count

    def test_screenshot_is_a_png(self, contract_case: ContractCase) -> None:
        png = contract_case.driver.screenshot()
        assert png.startswith(PNG_SIGNATURE)
        with Image.open(io.BytesIO(png)) as image:
            image.verify()
            assert image.format == "PNG"
            assert image.size[0] > 0 and image.size[1] > 0

    # -- touching ---------------------------------------------------------------
    def test_tap_hits_the_centre(self, contract_case: ContractCase) -> None:
        known = contract_case.screen.tappable
        before = len(contract_case.taps())
        match = contract_case.driver.tap(one("tappable", known.locator), timeout_s=0)
        assert (match.selector, match.index, match.count) == ("tappable", 0, known.count)
        assert contract_case.taps()[before:] == [centre(known.box)]

    def test_tap_on_a_boxless_label_hits_its_box(self, contract_case: ContractCase) -> None:
        label = contract_case.screen.boxless
        if label is None:
            pytest.skip(f"{contract_case.screen.name} has no label without bounds")
        assert contract_case.driver.is_visible(one("label", label.locator)) is None
        before = len(contract_case.taps())
        contract_case.driver.tap(one("label", label.locator), timeout_s=0)
        assert contract_case.taps()[before:] == [centre(label.tap_box)]

    def test_tap_on_a_missing_selector_taps_nothing(self, contract_case: ContractCase) -> None:
        before = len(contract_case.taps())
        with pytest.raises(ElementNotFound):
            contract_case.driver.tap(one("nowhere", contract_case.screen.missing), timeout_s=0)
        assert len(contract_case.taps()) == before
