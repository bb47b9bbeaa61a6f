"""Errors raised at the driver boundary, each carrying the evidence a person needs.

Hierarchy::

    DriverError                 anything a driver reports; .evidence has url, selector, screenshot
    ├── ElementNotFound         no alternative of a selector matched in time
    ├── DriverTimeout           a page or action did not finish in time
    ├── DriverCrashed           the browser or device went away mid-run
    │   └── DriverStalled       it stopped answering; the watchdog stopped it (a timeout)
    ├── SelectorInvalid         a locator the engine cannot parse (names selector and alternative)
    └── EnvironmentBusy         the profile or device is leased by another sweep

Library exceptions (Playwright, Appium, uiautomator2) are translated into these
with ``raise ... from exc`` where they are caught; nothing above the driver
sees a library exception.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    url: str | None = None
    selector: str | None = None
    screenshot: str | None = None
    screen_tree: str | None = None

    def describe(self) -> str:
        parts = [
            f"{k}={v}"
            for k, v in (
                ("selector", self.selector),
                ("url", self.url),
                ("screenshot", self.screenshot),
            )
            if v
        ]
        return " ".join(parts)


class DriverError(Exception):
    def __init__(self, message: str, evidence: Evidence | None = None):
        self.evidence = evidence or Evidence()
        super().__init__(message)


class ElementNotFound(DriverError):
    pass


class DriverTimeout(DriverError):
    pass


class DriverCrashed(DriverError):
    pass


class DriverStalled(DriverCrashed):
    pass


class SelectorInvalid(DriverError):
    pass


class EnvironmentBusy(DriverError):
    pass
