"""The device inventory: each device entry with the workspaces that run on it and what
their selector packs expect of the app, and what adb sees attached to this host.

The entries come from already-validated models (``agent.config`` loads them).
``AdbServer`` asks the adb server (through adbutils, every call bounded) which
devices are attached and in what state, and reads screen, lock and app versions
with ``adb shell dumpsys``, without installing anything on the device (unlike the
uiautomator2 backend). ``devices.doctor`` checks the devices this describes.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from devices.android.backend import DeviceInfo
from devices.errors import DriverCrashed, DriverTimeout
from devices.models import DeviceEntry
from devices.selectors import App, SelectorPack
from workspaces.env import expand_env
from workspaces.models import AndroidDevice, Workspace

SANDBOX_URL_ENV = "INBOX_AGENT_SANDBOX_URL"
SANDBOX_TOKEN_ENV = "INBOX_AGENT_SANDBOX_TOKEN"  # noqa: S105 - the name of a variable
DEFAULT_SANDBOX_URL = "http://127.0.0.1:8765"

__all__ = [
    "DEFAULT_SANDBOX_URL",
    "SANDBOX_TOKEN_ENV",
    "SANDBOX_URL_ENV",
    "AdbDevice",
    "AdbServer",
    "DeviceUse",
    "InventoryDevice",
    "build_inventory",
    "sandbox_url",
    "screen_locked",
    "screen_on",
    "version_name",
]


@dataclass(frozen=True)
class DeviceUse:
    """A workspace that runs on a device: its app, account and the pack written for the app."""

    workspace: str
    app_package: str
    expected_account: str
    pack: str
    app: App | None  # what the pack says it was written for (None: it names no app)


@dataclass(frozen=True)
class InventoryDevice:
    entry: DeviceEntry
    uses: tuple[DeviceUse, ...] = ()
    file: str | None = None

    @property
    def id(self) -> str:
        return self.entry.id

    @property
    def workspaces(self) -> list[str]:
        return [use.workspace for use in self.uses]

    def endpoint(self) -> str:
        """Where the device is reached: its adb serial, Appium URL or sandbox URL."""
        entry = self.entry
        if entry.driver == "uiautomator2":
            return f"adb {entry.serial}"
        if entry.driver == "appium":
            on = f" (udid {entry.serial})" if entry.serial else ""
            return f"appium {entry.appium_url}{on}"
        return f"sandbox {sandbox_url(entry)} (device {entry.serial or entry.id})"

    def describe(self) -> dict[str, Any]:
        """The entry and its uses as plain data (``--json``); never a secret's value."""
        return {
            **self.entry.model_dump(mode="json"),
            "file": self.file,
            "workspaces": [
                {
                    "id": use.workspace,
                    "app_package": use.app_package,
                    "pack": use.pack,
                    "pack_versions": list(use.app.versions) if use.app else None,
                }
                for use in self.uses
            ],
        }


def sandbox_url(entry: DeviceEntry) -> str:
    """The sandbox platform a ``sandbox`` device lives on: its ``sandbox_url`` (with
    ``${VAR:-default}`` expanded), else ``$INBOX_AGENT_SANDBOX_URL``, else the default,
    as ``devices.factory`` reads it."""
    default = f"${{{SANDBOX_URL_ENV}:-{DEFAULT_SANDBOX_URL}}}"
    return expand_env(entry.sandbox_url or default).rstrip("/")


def build_inventory(
    devices: Mapping[str, DeviceEntry],
    workspaces: Iterable[Workspace],
    packs: Mapping[str, SelectorPack],
    files: Mapping[str, str] | None = None,
) -> list[InventoryDevice]:
    """Every device, in id order, with the workspaces whose environment names it."""
    uses: dict[str, list[DeviceUse]] = {key: [] for key in devices}
    for ws in sorted(workspaces, key=lambda w: w.id):
        env = ws.environment
        if not isinstance(env, AndroidDevice) or env.device not in uses:
            continue
        pack = packs.get(ws.selectors)
        uses[env.device].append(
            DeviceUse(
                workspace=ws.id,
                app_package=env.app_package,
                expected_account=env.expected_account,
                pack=ws.selectors,
                app=pack.app if pack is not None else None,
            )
        )
    files = files or {}
    return [
        InventoryDevice(devices[key], tuple(uses[key]), files.get(key)) for key in sorted(devices)
    ]


# -- what adb sees -------------------------------------------------------------------------


class AdbServer:
    """The adb server on this host, through adbutils, every call bounded.

    The server is started when nothing listens on its port (``adb start-server`` with a
    timeout); every socket read has ``timeout_s``. adbutils errors become
    ``DriverTimeout`` / ``DriverCrashed`` with ``raise … from``.
    """

    def __init__(
        self,
        *,
        host: str | None = None,
        port: int | None = None,
        timeout_s: float = 10.0,
        start_timeout_s: float = 20.0,
    ) -> None:
        self.host = host or os.environ.get("ANDROID_ADB_SERVER_HOST") or "127.0.0.1"
        self.port = port or int(os.environ.get("ANDROID_ADB_SERVER_PORT") or 5037)
        self.timeout_s = timeout_s
        self.start_timeout_s = start_timeout_s

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def _listening(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1.0):
                return True
        except OSError:
            return False

    def _start(self) -> None:
        if self._listening():
            return
        if self.host not in ("127.0.0.1", "localhost", "::1"):
            raise DriverCrashed(
                "no adb server listens there (a remote one is not started from here)"
            )
        from adbutils import adb_path

        try:  # no pipes: the daemon adb forks would hold them open
            subprocess.run(
                [adb_path(), "-P", str(self.port), "start-server"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=self.start_timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise DriverTimeout(
                f"`adb start-server` did not finish in {self.start_timeout_s:g} s"
            ) from exc
        except OSError as exc:
            raise DriverCrashed(f"cannot run adb: {exc}") from exc
        if not self._listening():  # else adbutils would start a server of its own choosing
            raise DriverCrashed("`adb start-server` ran, but no server listens there")

    def _client(self) -> Any:
        import adbutils

        return adbutils.AdbClient(self.host, self.port, socket_timeout=self.timeout_s)

    def devices(self) -> dict[str, str]:
        """Serial -> state (``device``, ``offline``, ``unauthorized``, ``no permissions``…)."""
        from adbutils.errors import AdbError, AdbTimeout

        self._start()
        try:
            listed = self._client().list()
        except AdbTimeout as exc:
            raise DriverTimeout(f"no answer in {self.timeout_s:g} s") from exc
        except (AdbError, OSError) as exc:
            raise DriverCrashed(str(exc) or type(exc).__name__) from exc
        return {d.serial: "no permissions" if d.state == "no" else d.state for d in listed}

    def probe(self, serial: str) -> AdbDevice:
        return AdbDevice(self._client().device(serial), serial, self.timeout_s)


class AdbDevice:
    """What ``adb shell`` tells about one device: screen, lock, model, app versions."""

    def __init__(self, device: Any, serial: str, timeout_s: float) -> None:
        self._device = device
        self.serial = serial
        self.timeout_s = timeout_s

    def _shell(self, *args: str) -> str:
        from adbutils.errors import AdbError, AdbTimeout

        try:
            return str(self._device.shell(list(args), timeout=self.timeout_s))
        except AdbTimeout as exc:
            raise DriverTimeout(f"`adb shell {' '.join(args)}` did not answer in time") from exc
        except (AdbError, OSError) as exc:
            raise DriverCrashed(f"`adb shell {' '.join(args)}`: {exc}") from exc

    def info(self) -> DeviceInfo:
        return DeviceInfo(
            serial=self.serial,
            state="device",
            screen_on=screen_on(self._shell("dumpsys", "power")),
            locked=screen_locked(self._shell("dumpsys", "window")),
            model=self._shell("getprop", "ro.product.model") or None,
            android=self._shell("getprop", "ro.build.version.release") or None,
        )

    def app_version(self, package: str) -> str | None:
        return version_name(self._shell("dumpsys", "package", package))

    def close(self) -> None:
        """Nothing is held between calls."""


_WAKEFULNESS = re.compile(r"mWakefulness=(\w+)")
_DISPLAY_POWER = re.compile(r"Display Power: state=(\w+)")
_LOCK_FLAGS = re.compile(
    r"\b(mDreamingLockscreen|mShowingLockscreen|isStatusBarKeyguard|mKeyguardShowing)="
    r"(true|false)"
)
_VERSION_NAME = re.compile(r"versionName=(\S+)")


def screen_on(power_dump: str) -> bool | None:
    """From ``dumpsys power``: True when awake, False asleep or dozing, None if not said."""
    wake = _WAKEFULNESS.search(power_dump)
    if wake:
        return wake.group(1) == "Awake"
    display = _DISPLAY_POWER.search(power_dump)
    return display.group(1) == "ON" if display else None


def screen_locked(window_dump: str) -> bool | None:
    """From ``dumpsys window``: whether the keyguard shows (None if no flag is there)."""
    flags = [value == "true" for _, value in _LOCK_FLAGS.findall(window_dump)]
    return any(flags) if flags else None


def version_name(package_dump: str) -> str | None:
    """From ``dumpsys package PKG``: its version name; None when it is not installed."""
    found = _VERSION_NAME.search(package_dump)
    return found.group(1) if found and found.group(1) != "null" else None
