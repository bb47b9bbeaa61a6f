"""The one place an environment becomes a started Driver.

Everything above ``devices/`` (the sweep, the outbox, ``selectors check``,
takeover) calls ``open_environment`` (a takeover's live view: ``open_live``) and never
names a driver class: a browser profile becomes a ``PlaywrightDriver``; an Android device
entry becomes an ``AndroidDriver`` over the backend its ``driver`` names (uiautomator2 over
adb, an Appium server, the sandbox device). Libraries are imported only for the
environment that needs them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from devices.driver import Driver
from devices.errors import DriverError
from devices.models import DeviceEntry
from workspaces.env import expand_env
from workspaces.models import AndroidDevice, BrowserProfile, Workspace

if TYPE_CHECKING:
    from devices.android.backend import DeviceBackend
    from devices.live_view import LiveScreen
    from devices.playwright_driver import BrowserSettings


@dataclass(frozen=True)
class Places:
    """Where environments keep their state on this host."""

    profiles_dir: Path
    errors_dir: Path | None = None  # screenshots taken when a driver call fails


def browser_settings(places: Places, ws: Workspace) -> BrowserSettings:
    from devices.playwright_driver import BrowserSettings

    env = ws.environment
    if not isinstance(env, BrowserProfile):
        raise DriverError(f"workspace {ws.id} is not a browser workspace")
    proxy = None
    if env.proxy is not None:
        proxy = {"server": env.proxy.server}
        if env.proxy.username_env:
            proxy["username"] = os.environ.get(env.proxy.username_env, "")
        if env.proxy.password_env:
            proxy["password"] = os.environ.get(env.proxy.password_env, "")
    return BrowserSettings(
        profile_dir=places.profiles_dir / ws.profile_name,
        locale=env.locale,
        timezone=ws.timezone,
        viewport=(env.viewport.width, env.viewport.height),
        user_agent=env.user_agent,
        proxy=proxy,
        isolation=env.isolation,
    )


def sandbox_url(entry: DeviceEntry) -> str:
    """A sandbox device's platform URL, variables expanded, without a trailing slash."""
    url = entry.sandbox_url or "${INBOX_AGENT_SANDBOX_URL:-http://127.0.0.1:8765}"
    return expand_env(url).rstrip("/")


def device_backend(entry: DeviceEntry, *, package: str | None = None) -> DeviceBackend:
    """The backend a device entry names, connected."""
    if entry.driver == "sandbox":
        from devices.android.sandbox_backend import SandboxDeviceBackend

        return SandboxDeviceBackend(sandbox_url(entry), entry.serial or entry.id)
    if entry.driver == "uiautomator2":
        from devices.android.u2_backend import U2Backend

        assert entry.serial is not None  # the model requires it
        return U2Backend(entry.serial)
    from devices.android.appium_backend import AppiumBackend

    assert entry.appium_url is not None
    caps = {
        "platformName": "Android",
        "appium:automationName": "UiAutomator2",
        "appium:noReset": True,
        **({"appium:udid": entry.serial} if entry.serial else {}),
        **({"appium:appPackage": package} if package else {}),
        **entry.capabilities,
    }
    token = os.environ.get(entry.appium_token_env) if entry.appium_token_env else None
    return AppiumBackend(entry.appium_url, caps, token=token)


def open_environment(
    ws: Workspace,
    *,
    places: Places,
    devices: dict[str, DeviceEntry],
    ocr: bool = True,
) -> Driver:
    """Start the workspace's environment and return its driver (the caller closes it)."""
    env = ws.environment
    if isinstance(env, BrowserProfile):
        from devices.playwright_driver import PlaywrightDriver

        return PlaywrightDriver(
            browser_settings(places, ws), evidence_dir=places.errors_dir
        ).start()
    assert isinstance(env, AndroidDevice)
    entry = devices.get(env.device)
    if entry is None:
        raise DriverError(f"workspace {ws.id} names device {env.device!r}: not in devices/")
    from devices.android.driver import AndroidDriver

    reader = None
    if ocr:
        from devices.ocr import TesseractOcr

        reader = TesseractOcr()
    backend = device_backend(entry, package=env.app_package)
    return AndroidDriver(backend, package=env.app_package, ocr=reader).start()


def open_live(ws: Workspace, *, places: Places, devices: dict[str, DeviceEntry]) -> LiveScreen:
    """The workspace's environment for a person's live view (not started: the caller
    starts it in its event loop and closes it): its browser profile with the settings its
    sweeps use, or its device."""
    from devices.live_view import LiveBrowser, LiveDevice

    env = ws.environment
    if isinstance(env, BrowserProfile):
        return LiveBrowser(browser_settings(places, ws), expand_env(env.start_url))
    assert isinstance(env, AndroidDevice)
    entry = devices.get(env.device)
    if entry is None:
        raise DriverError(f"workspace {ws.id} names device {env.device!r}: not in devices/")
    return LiveDevice(device_backend(entry, package=env.app_package))
