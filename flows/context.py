"""What the flow runner works with: the hooks it reports through, its context and counters.

The runner knows no platform and no file path: the sweep (or the outbox, or
``selectors check``) implements ``RunnerHooks`` to store items, write the
activity log and keep evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


class RunnerHooks(Protocol):
    def step_started(self, path: str, kind: str, detail: dict[str, Any]) -> None: ...

    def step_ok(self, path: str, kind: str, duration_s: float, detail: dict[str, Any]) -> None: ...

    def step_failed(
        self, path: str, kind: str, duration_s: float, error: str, attempt: int
    ) -> None: ...

    def fallback(self, selector: str, index: int, locator: str) -> None: ...

    def screenshot(self, name: str, png: bytes) -> str: ...

    def known_keys(self, keys: list[str]) -> set[str]: ...

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


@dataclass
class RunStats:
    new_items: int = 0
    seen_items: int = 0
    fallbacks: dict[str, int] = field(default_factory=dict)
    resolved: dict[str, int] = field(default_factory=dict)  # best alternative seen; -1 none
    reply: dict[str, Any] | None = None  # what the last send_reply found and did
