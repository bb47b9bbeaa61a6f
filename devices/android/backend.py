"""The device backend: the few raw operations a device offers, below the driver's verbs.

Each backend (uiautomator2, Appium, the sandbox device, a recorded screen) implements
this protocol and nothing more; ``AndroidDriver`` builds every verb from it. Coordinates
are screen pixels. Backends translate their library's errors into ``devices.errors``
(``raise ... from exc``): ``DriverCrashed`` when the device or server went away,
``DriverTimeout`` when a call did not answer in time, ``DriverError`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

# Windows Android itself raises over an app (a permission prompt, a system alert).
SYSTEM_DIALOGS = frozenset(
    {"android", "com.android.permissioncontroller", "com.google.android.permissioncontroller"}
)


@dataclass(frozen=True)
class Foreground:
    """What is in front: the app's package and activity (activity may be unknown)."""

    package: str
    activity: str | None = None


@dataclass(frozen=True)
class DeviceInfo:
    """What a device says about itself (for ``devices doctor``)."""

    serial: str
    state: str  # "device" (ready), "offline", "unauthorized", "unknown"
    screen_on: bool | None = None
    locked: bool | None = None
    model: str | None = None
    android: str | None = None  # Android release, e.g. "14"


class DeviceBackend(Protocol):
    def dump(self) -> str:
        """The screen's uiautomator hierarchy XML (``<hierarchy><node …>``, or Appium's page
        source with class-named elements: the driver normalises both)."""
        ...

    def screenshot(self) -> bytes:
        """A PNG of the screen."""
        ...

    def window_size(self) -> tuple[int, int]: ...

    def tap(self, x: int, y: int) -> None: ...

    def type_text(self, text: str) -> None:
        """Type into the focused input (the driver taps it first)."""
        ...

    def clear_text(self) -> None:
        """Clear the focused input."""
        ...

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_s: float) -> None: ...

    def back(self) -> None: ...

    def app_start(self, package: str, activity: str | None = None) -> None: ...

    def app_stop(self, package: str) -> None: ...

    def open_url(self, url: str) -> None:
        """Open a deep link (an ACTION_VIEW intent), e.g. ``sandbox://inbox``."""
        ...

    def foreground(self) -> Foreground: ...

    def app_version(self, package: str) -> str | None:
        """The installed version name of a package; None when it is not installed."""
        ...

    def info(self) -> DeviceInfo: ...

    def close(self) -> None: ...
