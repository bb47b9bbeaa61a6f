"""The uiautomator2 backend: a device over adb, through the uiautomator2 library.

``U2Backend`` moves bytes and fingers and nothing more (``DeviceBackend``): the
hierarchy dump, a PNG, taps, text, swipes, keys, app start and stop. It finds the
device through adb itself, with a bounded wait, so a wrong serial or an
unplugged phone ends in one clear ``DriverCrashed`` within ``connect_timeout_s``
rather than in uiautomator2's own retry loops. Every library error is translated
here (``raise ... from exc``): adb or the on-device server gone is
``DriverCrashed``, a call that did not answer in time is ``DriverTimeout``, the
rest is ``DriverError``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import adbutils
from adbutils.errors import AdbConnectionError
from uiautomator2 import exceptions as u2_errors

from devices.android.backend import DeviceInfo, Foreground
from devices.errors import DriverCrashed, DriverError, DriverTimeout

__all__ = ["U2Backend"]

# Order matters: the timeout classes are subclasses of the crash classes.
_TIMEOUTS: tuple[type[BaseException], ...] = (
    u2_errors.HTTPTimeoutError,
    adbutils.AdbTimeout,
    TimeoutError,
)
_GONE: tuple[type[BaseException], ...] = (
    u2_errors.ConnectError,
    u2_errors.HTTPError,
    u2_errors.UiAutomationNotConnectedError,
    u2_errors.LaunchUiAutomationError,
    u2_errors.SessionBrokenError,
    AdbConnectionError,
    ConnectionError,
)
# adbutils raises AdbError for a lost device and for output it cannot parse alike:
# which one it was is asked of adb.
_ADB: tuple[type[BaseException], ...] = (adbutils.AdbError, u2_errors.AdbShellError)
_OTHER: tuple[type[BaseException], ...] = (u2_errors.BaseException,)

_REMOTE_SERIAL = re.compile(r"^[\w.-]+:\d+$")  # host:port, reached with `adb connect`
_WAKEFULNESS = re.compile(r"mWakefulness=(\w+)")
_LOCKED_MARKERS = ("mShowingLockscreen=", "mDreamingLockscreen=", "isStatusBarKeyguard=")


class U2Backend:
    """One Android device over adb. ``device`` injects an already-connected
    ``uiautomator2.Device`` (or a stand-in with the same methods, for tests)."""

    def __init__(
        self,
        serial: str,
        *,
        device: Any = None,
        adb: adbutils.AdbClient | None = None,
        connect_timeout_s: float = 10.0,
    ) -> None:
        self.serial = serial
        self._adb = adb if adb is not None else adbutils.adb
        self._closed = False
        self._d: Any = device if device is not None else self._connect(connect_timeout_s)

    def __repr__(self) -> str:
        return f"U2Backend(serial={self.serial!r})"

    # -- connecting ---------------------------------------------------------

    def _connect(self, timeout_s: float) -> Any:
        import uiautomator2 as u2

        with self._mapped("connect"):
            if _REMOTE_SERIAL.match(self.serial) and not self._listed():
                self._adb.connect(self.serial, timeout=timeout_s)
            try:
                self._adb.wait_for(self.serial, state="device", timeout=timeout_s)
            except adbutils.AdbTimeout as exc:
                raise DriverCrashed(
                    f"device {self.serial!r} is not ready after {timeout_s:g}s "
                    f"(adb sees: {self._listing()})"
                ) from exc
            # Handing uiautomator2 the adb device skips its own fixed 10 s wait-for-device
            # loop; it then pushes and starts its on-device server.
            return u2.connect(self._adb.device(self.serial))

    def _listed(self) -> bool:
        return any(info.serial == self.serial for info in self._adb.list())

    def _listing(self) -> str:
        try:
            infos = self._adb.list()
        except adbutils.AdbError:
            return "adb did not answer"
        return ", ".join(f"{i.serial} ({i.state})" for i in infos) or "no devices"

    # -- error translation --------------------------------------------------

    @contextmanager
    def _mapped(self, action: str) -> Iterator[None]:
        try:
            yield
        except DriverError:
            raise
        except _TIMEOUTS as exc:
            raise DriverTimeout(f"{action} on {self.serial}: no answer in time ({exc})") from exc
        except _GONE as exc:
            raise self._crashed(action, exc) from exc
        except _ADB as exc:
            if self._gone():
                raise self._crashed(action, exc) from exc
            raise DriverError(f"{action} on {self.serial}: {type(exc).__name__}: {exc}") from exc
        except _OTHER as exc:
            raise DriverError(f"{action} on {self.serial}: {type(exc).__name__}: {exc}") from exc

    def _crashed(self, action: str, exc: BaseException) -> DriverCrashed:
        return DriverCrashed(
            f"{action} on {self.serial}: the device or its uiautomator server went away "
            f"({type(exc).__name__}: {exc}; adb sees: {self._listing()})"
        )

    def _gone(self) -> bool:
        try:
            infos = self._adb.list()
        except adbutils.AdbError:
            return True
        return not any(i.serial == self.serial and i.state == "device" for i in infos)

    def _shell(self, action: str, args: list[str]) -> str:
        with self._mapped(action):
            response = self._d.shell(args)
        output = str(getattr(response, "output", response))
        exit_code = getattr(response, "exit_code", 0)
        if exit_code not in (0, None) or "Error" in output or "aborted" in output:
            raise DriverError(f"{action} on {self.serial}: {output.strip() or exit_code}")
        return output

    # -- DeviceBackend ------------------------------------------------------

    def dump(self) -> str:
        with self._mapped("dump the screen"):
            return str(self._d.dump_hierarchy())

    def screenshot(self) -> bytes:
        with self._mapped("screenshot"):
            image = self._d.screenshot()
        if image is None:
            raise DriverError(f"screenshot on {self.serial}: the device returned no image")
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()

    def window_size(self) -> tuple[int, int]:
        with self._mapped("window size"):
            width, height = self._d.window_size()
        return int(width), int(height)

    def tap(self, x: int, y: int) -> None:
        with self._mapped(f"tap at {x},{y}"):
            self._d.click(x, y)

    def type_text(self, text: str) -> None:
        with self._mapped("type text"):
            self._d.send_keys(text, clear=False)

    def clear_text(self) -> None:
        with self._mapped("clear text"):
            self._d.clear_text()

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_s: float) -> None:
        with self._mapped(f"swipe {x1},{y1} -> {x2},{y2}"):
            self._d.swipe(x1, y1, x2, y2, duration=duration_s)

    def back(self) -> None:
        with self._mapped("back"):
            self._d.press("back")

    def app_start(self, package: str, activity: str | None = None) -> None:
        # The same commands as uiautomator2's app_start, whose output it drops: here a
        # package that is not installed is an error, not a silent no-op.
        if activity:
            args = ["am", "start", "-a", "android.intent.action.MAIN"]
            args += ["-c", "android.intent.category.LAUNCHER", "-n", f"{package}/{activity}"]
        else:
            args = ["monkey", "-p", package, "-c", "android.intent.category.LAUNCHER", "1"]
        self._shell(f"start {package}", args)

    def app_stop(self, package: str) -> None:
        with self._mapped(f"stop {package}"):
            self._d.app_stop(package)

    def open_url(self, url: str) -> None:
        self._shell(f"open {url}", ["am", "start", "-a", "android.intent.action.VIEW", "-d", url])

    def foreground(self) -> Foreground:
        with self._mapped("read the foreground app"):
            current = self._d.app_current()
        return Foreground(package=str(current["package"]), activity=current.get("activity"))

    def app_version(self, package: str) -> str | None:
        try:
            with self._mapped(f"read the version of {package}"):
                info = self._d.app_info(package)
        except DriverError as exc:
            if isinstance(exc.__cause__, u2_errors.AppNotFoundError):
                return None
            raise
        version = info.get("versionName")
        return str(version) if version else None

    def info(self) -> DeviceInfo:
        with self._mapped("read the device state"):
            adb_device = self._d.adb_device
            state = str(adb_device.get_state())
            if state != "device":
                return DeviceInfo(serial=self.serial, state=state)
            power = str(adb_device.shell(["dumpsys", "power"]))
            window = str(adb_device.shell(["dumpsys", "window"]))
            model = str(adb_device.getprop("ro.product.model")) or None
            android = str(adb_device.getprop("ro.build.version.release")) or None
        return DeviceInfo(
            serial=self.serial,
            state=state,
            screen_on=_screen_on(power),
            locked=_locked(window),
            model=model,
            android=android,
        )

    def close(self) -> None:
        """Stop the on-device uiautomator server; a device already gone is not an error."""
        if self._closed:
            return
        self._closed = True
        stop = getattr(self._d, "stop_uiautomator", None)
        if stop is None:
            return
        with suppress(DriverCrashed, DriverTimeout), self._mapped("close"):
            stop(wait=False)


def _screen_on(dumpsys_power: str) -> bool | None:
    match = _WAKEFULNESS.search(dumpsys_power)
    if match is None:
        return None
    return match.group(1) == "Awake"


def _locked(dumpsys_window: str) -> bool | None:
    seen = [m for m in _LOCKED_MARKERS if m in dumpsys_window]
    if not seen:
        return None
    return any(f"{m}true" in dumpsys_window for m in seen)
