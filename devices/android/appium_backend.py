"""The Appium backend: a device behind an Appium server (a local one, or a grid).

``AppiumBackend`` opens one session and moves bytes and fingers through it
(``DeviceBackend``): the page source as the screen's tree, a PNG, W3C pointer
actions for taps and swipes, keys to the focused input, app start and stop. It
never asks the server to find or read an element: ``AndroidDriver`` matches
selectors on the page source itself, which is also all that Appium's fake driver
supports (see FACTS.md). A capability dict whose automation name is UiAutomator2
goes through ``UiAutomator2Options``; any other (the fake driver's ``Fake``) is
sent as it is.

A grid token (read by the caller from the environment variable the device entry
names) is sent as an ``Authorization`` header, never in the URL, so it is not in
any logged request line: a ``user:key`` token is HTTP Basic (BrowserStack, Sauce
Labs), any other a Bearer token. Library errors become ``devices.errors`` here:
the server unreachable or the session gone is ``DriverCrashed``, no answer in
time is ``DriverTimeout``, anything else ``DriverError``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

from selenium.common import exceptions as wd
from selenium.webdriver.common.actions import interaction
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.actions.mouse_button import MouseButton
from selenium.webdriver.common.actions.pointer_input import PointerInput
from urllib3 import exceptions as http

from devices.android.backend import DeviceInfo, Foreground
from devices.android.tree import Screen
from devices.errors import DriverCrashed, DriverError, DriverTimeout

__all__ = ["AppiumBackend"]

T = TypeVar("T")

# What a server says when the device behind a live session went away.
_DEVICE_GONE_MARKERS = (
    "instrumentation process is not running",
    "socket hang up",
    "ECONNREFUSED",
    "ECONNRESET",
    "device offline",
    "device not found",
    "Could not find a connected Android device",
)
_VERSION_NAME = re.compile(r"versionName=(\S+)")
_TAP_HOLD_S = 0.05


def _first_line(exc: BaseException) -> str:
    text = (getattr(exc, "msg", None) or str(exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class AppiumBackend:
    """One Appium session. ``timeout_s`` bounds every HTTP call to the server."""

    def __init__(
        self,
        url: str,
        capabilities: dict[str, Any],
        *,
        token: str | None = None,
        timeout_s: float = 120.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.capabilities = dict(capabilities)
        self._closed = False
        self._window_size_unsupported = False
        self.session: Any = self._start(token, timeout_s)

    def __repr__(self) -> str:  # never the token
        return f"AppiumBackend(url={self.url!r})"

    def _start(self, token: str | None, timeout_s: float) -> Any:
        from appium import webdriver
        from appium.webdriver.client_config import AppiumClientConfig

        config = AppiumClientConfig(
            self.url,
            timeout=timeout_s,
            # No urllib3 retries: a GET (the page source) would be retried three times
            # on a read timeout, quadrupling the wait; errors surface as they happen.
            init_args_for_pool_manager={"init_args_for_pool_manager": {"retries": False}},
            **_auth(token),
        )
        with self._mapped(f"start an Appium session at {self.url}"):
            return webdriver.Remote(self.url, options=self._options(), client_config=config)

    def _options(self) -> Any:
        from appium.options.android import UiAutomator2Options
        from appium.options.common import AppiumOptions

        caps = self.capabilities
        automation = str(caps.get("appium:automationName", caps.get("automationName", "")))
        options = UiAutomator2Options() if automation.lower() == "uiautomator2" else AppiumOptions()
        return options.load_capabilities(caps)

    # -- error translation --------------------------------------------------

    @contextmanager
    def _mapped(self, action: str) -> Iterator[None]:
        try:
            yield
        except DriverError:
            raise
        except wd.InvalidSessionIdException as exc:
            raise DriverCrashed(
                f"{action}: the Appium session is gone ({_first_line(exc)})"
            ) from exc
        except wd.TimeoutException as exc:
            raise DriverTimeout(f"{action}: {_first_line(exc)}") from exc
        except wd.WebDriverException as exc:
            message = _first_line(exc)
            if any(marker in str(exc) for marker in _DEVICE_GONE_MARKERS):
                raise DriverCrashed(f"{action}: the device went away ({message})") from exc
            raise DriverError(f"{action}: {type(exc).__name__}: {message}") from exc
        except (http.NewConnectionError, http.ProtocolError, ConnectionError) as exc:
            # NewConnectionError is a ConnectTimeoutError to urllib3: it comes first.
            raise DriverCrashed(
                f"{action}: the Appium server at {self.url} is unreachable ({_first_line(exc)})"
            ) from exc
        except (http.TimeoutError, TimeoutError) as exc:
            raise DriverTimeout(
                f"{action}: the Appium server at {self.url} did not answer in time"
            ) from exc
        except http.HTTPError as exc:
            raise DriverError(f"{action}: {type(exc).__name__}: {_first_line(exc)}") from exc

    def _call(self, action: str, fn: Callable[[], T]) -> T:
        with self._mapped(action):
            return fn()

    def _first_supported(self, action: str, *attempts: Callable[[], T]) -> T:
        """The first attempt the server supports; a refusal moves on to the next one."""
        last: DriverError | None = None
        for attempt in attempts:
            try:
                return self._call(action, attempt)
            except (DriverCrashed, DriverTimeout):
                raise
            except DriverError as exc:
                last = exc
        assert last is not None
        raise last

    def _pointer(self) -> tuple[ActionBuilder, PointerInput]:
        finger = PointerInput(interaction.POINTER_TOUCH, "finger")
        return ActionBuilder(self.session, mouse=finger, duration=0), finger

    # -- DeviceBackend ------------------------------------------------------

    def dump(self) -> str:
        return str(self._call("read the page source", lambda: self.session.page_source))

    def screenshot(self) -> bytes:
        return bytes(self._call("screenshot", self.session.get_screenshot_as_png))

    def window_size(self) -> tuple[int, int]:
        if not self._window_size_unsupported:
            try:
                size = self._call("window size", self.session.get_window_size)
                return int(size["width"]), int(size["height"])
            except (DriverCrashed, DriverTimeout):
                raise
            except DriverError:
                # The fake driver cannot size a raw dump: the dump's root bounds can.
                self._window_size_unsupported = True
        found = Screen.parse(self.dump()).size()
        if found is None:
            raise DriverError("window size: the server cannot tell, and the screen has no bounds")
        return found

    def tap(self, x: int, y: int) -> None:
        builder, finger = self._pointer()
        finger.create_pointer_move(duration=0, x=x, y=y, origin="viewport")
        finger.create_pointer_down(button=MouseButton.LEFT)
        finger.create_pause(_TAP_HOLD_S)
        finger.create_pointer_up(MouseButton.LEFT)
        self._call(f"tap at {x},{y}", builder.perform)

    def type_text(self, text: str) -> None:
        self._first_supported(
            "type text",
            lambda: self.session.switch_to.active_element.send_keys(text),
            lambda: self.session.execute_script("mobile: type", {"text": text}),
        )

    def clear_text(self) -> None:
        self._call("clear text", lambda: self.session.switch_to.active_element.clear())

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_s: float) -> None:
        builder, finger = self._pointer()
        finger.create_pointer_move(duration=0, x=x1, y=y1, origin="viewport")
        finger.create_pointer_down(button=MouseButton.LEFT)
        finger.create_pointer_move(
            duration=max(0, int(duration_s * 1000)), x=x2, y=y2, origin="viewport"
        )
        finger.create_pointer_up(MouseButton.LEFT)
        self._call(f"swipe {x1},{y1} -> {x2},{y2}", builder.perform)

    def back(self) -> None:
        self._call("back", self.session.back)

    def app_start(self, package: str, activity: str | None = None) -> None:
        if activity:
            intent = {"intent": f"{package}/{activity}"}
            self._call(
                f"start {package}",
                lambda: self.session.execute_script("mobile: startActivity", intent),
            )
        else:
            self._call(f"start {package}", lambda: self.session.activate_app(package))

    def app_stop(self, package: str) -> None:
        self._call(f"stop {package}", lambda: self.session.terminate_app(package))

    def open_url(self, url: str) -> None:
        args: dict[str, Any] = {"url": url}
        package = self.capabilities.get("appium:appPackage")
        if package:
            args["package"] = package
        self._first_supported(
            f"open {url}",
            lambda: self.session.execute_script("mobile: deepLink", args),
            lambda: self.session.get(url),
        )

    def foreground(self) -> Foreground:
        package = self._call("read the foreground app", lambda: self.session.current_package)
        try:
            activity = self._call(
                "read the foreground activity", lambda: self.session.current_activity
            )
        except (DriverCrashed, DriverTimeout):
            raise
        except DriverError:
            activity = None
        return Foreground(package=str(package), activity=str(activity) if activity else None)

    def app_version(self, package: str) -> str | None:
        """The version name from ``dumpsys package`` (needs the server's ``adb_shell``
        feature); None when the package is not installed or the server will not say."""
        try:
            output = self._call(
                f"read the version of {package}",
                lambda: self.session.execute_script(
                    "mobile: shell", {"command": "dumpsys", "args": ["package", package]}
                ),
            )
        except (DriverCrashed, DriverTimeout):
            raise
        except DriverError:
            return None
        found = _VERSION_NAME.search(str(output))
        return found.group(1) if found and found.group(1) != "null" else None

    def info(self) -> DeviceInfo:
        serial = str(self.capabilities.get("appium:udid") or self.url)
        try:
            details = self._call(
                "read the device info",
                lambda: self.session.execute_script("mobile: deviceInfo", {}),
            )
        except DriverCrashed:
            return DeviceInfo(serial=serial, state="offline")
        except DriverTimeout:
            return DeviceInfo(serial=serial, state="unknown")
        except DriverError:
            details = {}  # the server answered but cannot say (the fake driver)
        details = details if isinstance(details, dict) else {}
        try:
            locked: bool | None = bool(self._call("is locked", self.session.is_locked))
        except DriverError:
            locked = None
        return DeviceInfo(
            serial=serial,
            state="device",
            locked=locked,
            model=details.get("model"),
            android=details.get("platformVersion"),
        )

    def close(self) -> None:
        """End the session; a server already gone is not an error."""
        if self._closed:
            return
        self._closed = True
        with suppress(DriverCrashed, DriverTimeout):
            self._call("end the Appium session", self.session.quit)


def _auth(token: str | None) -> dict[str, Any]:
    from selenium.webdriver.remote.client_config import AuthType

    if not token:
        return {}
    if ":" in token:
        username, password = token.split(":", 1)
        return {"auth_type": AuthType.BASIC, "username": username, "password": password}
    return {"auth_type": AuthType.BEARER, "token": token}
