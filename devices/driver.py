"""The Driver protocol: a short list of verbs over one environment.

Every verb takes a ``Selector`` value object (never a raw string) and reports
which alternative matched, so a fallback is visible to the caller. Drivers
translate their library's errors into ``devices.errors`` at this boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from devices.selectors import Selector


@dataclass(frozen=True)
class Match:
    """Which alternative of a selector matched (0 = primary), and how many elements."""

    selector: str
    index: int
    count: int
    locator: str

    @property
    def fell_back(self) -> bool:
        return self.index > 0


Relation = Literal["closest", "preceding"]


@dataclass(frozen=True)
class FieldQuery:
    """One field to read from every item: a selector inside the item (or the item), text or attr.

    With ``relation`` the field is read inside another element: the nearest
    ancestor of the item matching ``relation_selector`` (``closest``) or the
    nearest element before it in the page (``preceding``). Text is the element's
    text with image emoji read from their ``alt``.
    """

    name: str
    selector: Selector | None = None
    attr: str | None = None
    relation: Relation | None = None
    relation_selector: Selector | None = None
    include_self: bool = False  # the item's own element may be the one the selector matches
    ocr: bool = False  # read the element's pixels (devices whose custom views have no text)
    presence: bool = False  # only whether it is there: "" when found, None when not


@dataclass
class ExtractedItem:
    """The fields of one on-screen item, and where it is on the full-page screenshot."""

    fields: dict[str, str | None]
    box: tuple[float, float, float, float] | None = None  # x, y, width, height in page pixels
    is_group: bool = False  # the group's own element: the items nested in it reply to it
    ocr: dict[str, float] = field(default_factory=dict)  # field -> OCR confidence (0-1), if read so
    # touches that edge of a scrolling list; "both": taller than the list, never shown whole
    cut: Literal["top", "bottom", "both"] | None = None


@dataclass
class Extraction:
    """Items read from the screen, in screen order, in groups (a comment and its replies).

    Without a group selector every item is its own group. ``empty_groups`` holds
    the boxes of groups in which no item matched: elements the list could not
    turn into items, reported rather than skipped.
    """

    groups: list[list[ExtractedItem]]
    match: Match
    field_matches: dict[str, int] = field(default_factory=dict)  # field -> alternative used
    fallback_counts: dict[str, int] = field(default_factory=dict)  # selector -> items via fallback
    empty_groups: list[tuple[float, float, float, float] | None] = field(default_factory=list)

    @property
    def items(self) -> list[ExtractedItem]:
        return [item for group in self.groups for item in group]


class Driver(Protocol):
    def open(self, url: str, *, timeout_s: float, wait_until: str = "load") -> int | None:
        """Navigate; the HTTP status of the page, when the environment has one."""
        ...

    def current_url(self) -> str: ...

    def find(self, selector: Selector, *, timeout_s: float) -> Match: ...

    def is_visible(self, selector: Selector) -> Match | None: ...

    def tap(self, selector: Selector, *, nth: int = 0, timeout_s: float) -> Match: ...

    def type_text(
        self, selector: Selector, text: str, *, clear: bool, timeout_s: float
    ) -> Match: ...

    def read_text(self, selector: Selector, *, timeout_s: float) -> tuple[str, Match]: ...

    def count(self, selector: Selector) -> Match | None: ...

    def extract(
        self,
        selector: Selector,
        fields: list[FieldQuery],
        *,
        group: Selector | None = None,
        start: int = 0,
    ) -> Extraction: ...

    def wait_for_count(self, selector: Selector, more_than: int, *, timeout_s: float) -> bool: ...

    def scroll(self, *, up: bool = False) -> bool:
        """Scroll one screen down (or up); False when already at the bottom (top)."""
        ...

    def back(self, *, timeout_s: float) -> None: ...

    def reload(self, *, timeout_s: float) -> None: ...

    def screenshot(
        self, *, full_page: bool = False, clip: tuple[float, float, float, float] | None = None
    ) -> bytes:
        """A PNG of the screen, of the whole page (``full_page``) or of a page area (x, y, w, h)."""
        ...

    def screen_at(self, y: float) -> tuple[bytes, float]:
        """The screen scrolled so page position ``y`` is at its top (or as near as the page
        allows), and the page position of the image's top edge."""
        ...

    def screen_showing(self, box: tuple[float, float, float, float]) -> tuple[bytes, float] | None:
        """Devices: a kept screen on which the whole page area ``box`` was shown, and the page
        position of its top edge (a phone's list drops rows it scrolled away). Browsers: None
        (the page keeps every row: ``screen_at`` scrolls to it)."""
        ...

    def screen_tree(self) -> str: ...

    def viewport(self) -> tuple[float, float]:
        """The screen's width and height in page pixels (evidence windows are one screen)."""
        ...

    def app_in_front(self) -> str | None:
        """Devices: the package of the window in front (a dialog's, when one covers the app).
        Browsers: None."""
        ...

    def dialog_in_front(self) -> bool:
        """Devices: a dialog window (smaller than the screen) is in front. Browsers: False."""
        ...

    def app_version(self, package: str) -> str | None:
        """Devices: the installed version name of an app (None: not installed). Browsers: None."""
        ...

    def set_deadline(self, at: float | None) -> None:
        """The run's deadline (``time.monotonic()``): a call still running past it is stopped."""
        ...

    def close(self) -> None: ...
