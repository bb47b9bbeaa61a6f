"""What the flow runner works with: the hooks it reports through, its context and counters.

The runner knows no platform and no file path: the sweep (or the outbox, or
``selectors check``) implements ``RunnerHooks`` to store items, write the
activity log and keep evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from flows.items import CollectedItem

DEFAULT_TIMEOUT_S = 15.0

Box = tuple[float, float, float, float]


@dataclass
class Evidenced:
    """A collected item with the screen it was seen on and its box on that screen."""

    item: CollectedItem
    screen: bytes | None
    box: Box | None
    capped: bool = False  # the item is taller than the evidence cap: its start is shown


@dataclass
class Unreadable:
    """Elements a collect matched on screen but could not turn into items."""

    selector: str  # the list (or group) selector that matched them
    count: int
    missing: dict[str, int]  # field (or "item" for a group with no item) -> how many lacked it
    screen: bytes | None = None  # the screen showing the first of them
    sample: dict[str, str | None] = field(default_factory=dict)  # what was read of the first


class RunnerHooks(Protocol):
    def step_started(self, path: str, kind: str, detail: dict[str, Any]) -> None: ...

    def step_ok(self, path: str, kind: str, duration_s: float, detail: dict[str, Any]) -> None: ...

    def step_failed(
        self, path: str, kind: str, duration_s: float, error: str, attempt: int
    ) -> None: ...

    def fallback(self, selector: str, index: int, locator: str) -> None: ...

    def dismissed(self, dialog: str, selector: str) -> None:
        """A harmless dialog the pack lists was tapped away."""
        ...

    def screenshot(self, name: str, png: bytes) -> str: ...

    def known_keys(self, keys: list[str]) -> set[str]: ...

    def unreadable(self, report: Unreadable) -> None:
        """Elements seen but not read: logged with a screenshot; the sweep becomes drift."""
        ...

    def evidence_captured(self, screen: bytes, boxes: list[Box]) -> None:
        """A screen showing new items was captured (once per screen): its evidence may be
        written now, while the flow goes on. ``store`` later receives the same bytes."""
        ...

    def store(self, batch: list[Evidenced]) -> list[bool]:
        """Store a batch of items (oldest first) atomically; True for each that was new.

        Called before anything else happens to the items: logging and triage
        come after the batch is committed.
        """
        ...


@dataclass
class RunContext:
    platform: str
    account: str
    variables: dict[str, str]
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_items: int | None = None
    deadline: float | None = None
    page_width: float = 1280.0
    page_height: float = 900.0  # the viewport: evidence windows are one screen high
    probe: bool = (
        False  # `selectors check`: visit one entry per list, read one screen, store nothing
    )
    watch_screens: bool = True  # off for login flows, which expect the login wall
    timezone: str = "UTC"  # the workspace's: shown times ("on Fri") are read in it
    locale: str = "en-US"
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))  # injectable clock
    sweep_number: int = 0  # sweeps of this workspace before this one (for full_every)
    full_pass: bool = False  # `sweep --full`: no collect stops early; misses are reported


@dataclass
class RunStats:
    new_items: int = 0
    seen_items: int = 0
    fallbacks: dict[str, int] = field(default_factory=dict)
    resolved: dict[str, int] = field(default_factory=dict)  # best alternative seen; -1 none
    reply: dict[str, Any] | None = None  # what the last send_reply found and did
    fallback_items: dict[str, int] = field(default_factory=dict)  # selector -> items via fallback
    unreadable: int = 0  # elements matched on screen but not turned into items
    unreadable_times: int = 0  # items whose shown time could not be read
    missed: int = 0  # new items a full pass found where an incremental read would have stopped
    full_pass: bool = False  # some collect read its whole list
    probe_items: list[CollectedItem] = field(default_factory=list)  # probe: one item per list
    dialogs_dismissed: dict[str, int] = field(default_factory=dict)  # pack dialog -> times
    screens: int = 0  # screens kept as evidence of new items (a window, or a phone's screen)
    ocr_items: int = 0  # new items with a field read by OCR
    ocr_low: int = 0  # of those, read below the confidence threshold

    @property
    def drift(self) -> bool:
        """The sweep read the screen, but not all of it as the pack expects."""
        return bool(self.unreadable or self.unreadable_times or self.missed)
