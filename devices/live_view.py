"""A workspace's environment opened for a person: its screen streamed, their input sent back.

A takeover's live view (``agent.review.takeover_live``) opens the workspace's own
environment through :func:`open_live` and never names a class: a browser profile becomes a
:class:`LiveBrowser`, an Android device a :class:`LiveDevice`. Both speak the same short
list of verbs (:class:`LiveScreen`): frames come to a callback, input goes in as mouse,
wheel, key and text events, and the address-bar verbs (go, back, reload) and the title and
URL are there for a browser.

A browser profile is opened exactly as its sweeps open it (the same persistent profile
folder, Chromium, locale, time zone, viewport, user agent and proxy; for ``isolation:
context`` a context loaded from and saved back to the profile's ``state.json``), with the
async Playwright API, since it lives in the review server's event loop. Frames are
Chromium's DevTools screencast (``Page.startScreencast``, JPEG): Chromium sends the next
frame only after the last one is acknowledged (``Page.screencastFrameAck``), and the
caller acknowledges a frame once it has gone out, so a slow link gets fewer frames, never
a backlog. Input is DevTools input (``Input.dispatchMouseEvent``, ``dispatchKeyEvent``,
``insertText``). A device has no screencast: its screen is captured at a steady rate and
taps, swipes and typing go through its backend, in worker threads (device backends are
blocking).

What a person types passes through here and nowhere else: nothing in this module logs or
keeps it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import anyio.to_thread

from devices.errors import DriverCrashed, DriverError
from devices.shared_browser import read_state, write_state

if TYPE_CHECKING:
    from devices.android.backend import DeviceBackend
    from devices.playwright_driver import BrowserSettings

FRAME_QUALITY = 70  # JPEG quality of screencast frames: text stays sharp, a frame ~60-120 kB
DEVICE_FRAME_SECONDS = 0.5  # a device's screen is captured this often
NAVIGATION_TIMEOUT_MS = 30_000

# Keys that are not characters: DevTools needs their Windows virtual key code, or the
# page sees the event but nothing happens (Enter submits nothing, Backspace deletes nothing).
KEY_CODES = {
    "Backspace": 8,
    "Tab": 9,
    "Enter": 13,
    "Shift": 16,
    "Control": 17,
    "Alt": 18,
    "Escape": 27,
    "PageUp": 33,
    "PageDown": 34,
    "End": 35,
    "Home": 36,
    "ArrowLeft": 37,
    "ArrowUp": 38,
    "ArrowRight": 39,
    "ArrowDown": 40,
    "Delete": 46,
    "Meta": 91,
}
ANDROID_KEYS = {"Enter": 66, "Backspace": 67, "Tab": 61, "Escape": 111}


@dataclass(frozen=True)
class Frame:
    """One picture of the screen: JPEG or PNG bytes and the screen size it shows."""

    data: bytes
    width: int
    height: int
    mime: str = "image/jpeg"


FrameSink = Callable[[Frame], Awaitable[None]]


def allowed_url(url: str) -> str:
    """An address a person may open in the live view: http or https only (``file:``,
    ``chrome:`` and ``javascript:`` would reach the host or run code); a bare host gets
    https. Anything else is a :class:`DriverError` that says why."""
    text = url.strip()
    if not text or len(text) > 4000:
        raise DriverError("an address is 1 to 4000 characters")
    if "://" not in text and not text.lower().startswith(("javascript:", "data:", "file:")):
        text = f"https://{text}"
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DriverError(f"only http and https addresses can be opened (not {parts.scheme!r})")
    return text


class LiveScreen(Protocol):
    """An environment open for a person."""

    kind: str  # "browser" | "device"
    size: tuple[int, int]  # the screen in the coordinates input uses

    async def start(self, on_frame: FrameSink) -> None: ...

    async def frame_sent(self) -> None:
        """The last frame went out: the next may come (the screencast's acknowledgement)."""
        ...

    async def mouse(
        self, action: str, x: float, y: float, button: str, clicks: int, modifiers: int
    ) -> None: ...

    async def wheel(self, x: float, y: float, dx: float, dy: float) -> None: ...

    async def key(self, action: str, key: str, code: str, modifiers: int) -> None: ...

    async def text(self, text: str) -> None: ...

    async def go(self, url: str) -> None: ...

    async def back(self) -> None: ...

    async def reload(self) -> None: ...

    async def location(self) -> tuple[str, str]:
        """The page's URL and title ("" for a device)."""
        ...

    async def screenshot(self) -> bytes:
        """A PNG of the screen now (the activity log's evidence of a navigation)."""
        ...

    def on_navigation(self, callback: Callable[[str], None]) -> None:
        """``callback(url)`` after each main-frame navigation (a browser only)."""
        ...

    async def close(self) -> None: ...


class LiveBrowser:
    """A browser profile, opened with the settings its sweeps use, screencast over CDP."""

    kind = "browser"

    def __init__(self, settings: BrowserSettings, start_url: str | None = None) -> None:
        self.settings = settings
        self.start_url = start_url
        self.size = settings.viewport
        self._pw: Any = None
        self._browser: Any = None
        self._context: Any = None
        self._page: Any = None
        self._cdp: Any = None
        self._on_frame: FrameSink | None = None
        self._pending: int | None = None  # the screencast session id of the unacked frame
        self._navigated: list[Callable[[str], None]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, on_frame: FrameSink) -> None:
        from playwright.async_api import Error as PlaywrightError
        from playwright.async_api import async_playwright

        from devices.playwright_driver import chromium_path, context_options, launch_args

        s = self.settings
        s.profile_dir.mkdir(parents=True, exist_ok=True)
        options = context_options(s)
        self._on_frame = on_frame
        try:
            self._pw = await async_playwright().start()
            exe = chromium_path(s.headless)
            if s.isolation == "context":
                self._browser = await self._pw.chromium.launch(
                    executable_path=exe, headless=s.headless, args=launch_args()
                )
                self._context = await self._browser.new_context(
                    storage_state=read_state(s.profile_dir), **options
                )
            else:
                self._context = await self._pw.chromium.launch_persistent_context(
                    str(s.profile_dir),
                    executable_path=exe,
                    headless=s.headless,
                    args=launch_args(),
                    **options,
                )
            pages = self._context.pages
            self._page = pages[0] if pages else await self._context.new_page()
            self._page.on("framenavigated", self._framenavigated)
            self._cdp = await self._context.new_cdp_session(self._page)
            self._cdp.on("Page.screencastFrame", self._frame)
            if self.start_url and self._page.url in ("", "about:blank"):
                with contextlib.suppress(PlaywrightError):
                    await self._page.goto(self.start_url, timeout=NAVIGATION_TIMEOUT_MS)
            await self._cdp.send(
                "Page.startScreencast",
                {
                    "format": "jpeg",
                    "quality": FRAME_QUALITY,
                    "maxWidth": s.viewport[0],
                    "maxHeight": s.viewport[1],
                },
            )
        except PlaywrightError as exc:
            await self.close()
            if "ProcessSingleton" in str(exc) or "SingletonLock" in str(exc):
                raise DriverError(f"profile {s.profile_dir} is open in another browser") from exc
            raise DriverCrashed(f"Chromium did not start: {str(exc).splitlines()[0]}") from exc

    def _frame(self, event: dict[str, Any]) -> None:
        self._pending = int(event["sessionId"])
        meta = event.get("metadata", {})
        frame = Frame(
            base64.b64decode(event["data"]),
            int(meta.get("deviceWidth", self.size[0])),
            int(meta.get("deviceHeight", self.size[1])),
        )
        if self._on_frame is not None:
            self._spawn(self._on_frame(frame))

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def frame_sent(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None and self._cdp is not None:
            await self._send("Page.screencastFrameAck", {"sessionId": pending})

    def _framenavigated(self, frame: Any) -> None:
        if frame.parent_frame is None:
            for callback in self._navigated:
                callback(frame.url)

    def on_navigation(self, callback: Callable[[str], None]) -> None:
        self._navigated.append(callback)

    async def _send(self, method: str, params: dict[str, Any]) -> None:
        from playwright.async_api import Error as PlaywrightError

        try:
            await self._cdp.send(method, params)
        except PlaywrightError as exc:
            raise DriverError(f"{method}: {str(exc).splitlines()[0]}") from exc

    async def mouse(
        self, action: str, x: float, y: float, button: str, clicks: int, modifiers: int
    ) -> None:
        kind = {"down": "mousePressed", "up": "mouseReleased", "move": "mouseMoved"}[action]
        params = {"type": kind, "x": x, "y": y, "modifiers": modifiers}
        if action != "move":
            params |= {"button": button, "clickCount": clicks}
        await self._send("Input.dispatchMouseEvent", params)

    async def wheel(self, x: float, y: float, dx: float, dy: float) -> None:
        params = {"type": "mouseWheel", "x": x, "y": y, "deltaX": dx, "deltaY": dy}
        await self._send("Input.dispatchMouseEvent", params)

    async def key(self, action: str, key: str, code: str, modifiers: int) -> None:
        params: dict[str, Any] = {"key": key, "code": code, "modifiers": modifiers}
        if key in KEY_CODES:
            params["windowsVirtualKeyCode"] = KEY_CODES[key]
            if key == "Enter" and action == "down":
                params["text"] = "\r"
        elif len(key) == 1 and action == "down" and not modifiers & ~8:  # 8: shift only
            params["text"] = key
            params["unmodifiedText"] = key
        elif len(key) == 1:
            params["windowsVirtualKeyCode"] = ord(key.upper())
        kind = "rawKeyDown" if action == "down" and "text" not in params else action
        params["type"] = {"down": "keyDown", "up": "keyUp"}.get(kind, kind)
        await self._send("Input.dispatchKeyEvent", params)

    async def text(self, text: str) -> None:
        await self._send("Input.insertText", {"text": text})

    async def go(self, url: str) -> None:
        await self._navigate(
            lambda: self._page.goto(allowed_url(url), timeout=NAVIGATION_TIMEOUT_MS)
        )

    async def back(self) -> None:
        await self._navigate(lambda: self._page.go_back(timeout=NAVIGATION_TIMEOUT_MS))

    async def reload(self) -> None:
        await self._navigate(lambda: self._page.reload(timeout=NAVIGATION_TIMEOUT_MS))

    async def _navigate(self, step: Callable[[], Awaitable[Any]]) -> None:
        from playwright.async_api import Error as PlaywrightError

        try:
            await step()
        except PlaywrightError as exc:  # a page that does not load is the person's to see
            raise DriverError(str(exc).splitlines()[0]) from exc

    async def location(self) -> tuple[str, str]:
        from playwright.async_api import Error as PlaywrightError

        try:
            return self._page.url, await self._page.title()
        except PlaywrightError:
            return self._page.url, ""

    async def screenshot(self) -> bytes:
        from playwright.async_api import Error as PlaywrightError

        try:
            data: bytes = await self._page.screenshot(type="png")
        except PlaywrightError as exc:
            raise DriverError(f"screenshot: {str(exc).splitlines()[0]}") from exc
        return data

    async def close(self) -> None:
        from playwright.async_api import Error as PlaywrightError

        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(PlaywrightError):
            if self._cdp is not None:
                await self._cdp.send("Page.stopScreencast")
        try:
            if self._context is not None:
                if self._browser is not None:  # context isolation: keep the session
                    write_state(
                        self.settings.profile_dir,
                        await self._context.storage_state(indexed_db=True),
                    )
                await self._context.close()
            if self._browser is not None:
                await self._browser.close()
        except PlaywrightError:
            pass
        finally:
            self._context = self._browser = self._cdp = None
            if self._pw is not None:
                await self._pw.stop()
                self._pw = None


class LiveDevice:
    """An Android device's screen captured at a steady rate; taps, swipes and typing back."""

    kind = "device"

    def __init__(
        self, backend: DeviceBackend, *, frame_seconds: float = DEVICE_FRAME_SECONDS
    ) -> None:
        self.backend = backend
        self.frame_seconds = frame_seconds
        self.size = (0, 0)
        self._pump: asyncio.Task[None] | None = None
        self._sent = asyncio.Event()
        self._down: tuple[float, float] | None = None

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await anyio.to_thread.run_sync(fn, *args)

    async def start(self, on_frame: FrameSink) -> None:
        self.size = await self._call(self.backend.window_size)
        self._sent.set()
        self._pump = asyncio.create_task(self._capture(on_frame))

    async def _capture(self, on_frame: FrameSink) -> None:
        while True:
            await self._sent.wait()  # the last frame went out first: no backlog
            self._sent.clear()
            try:
                png = await self._call(self.backend.screenshot)
            except DriverError:
                png = None  # the device is busy or gone for a moment: the next tick tries
            if png is not None:
                await on_frame(Frame(png, self.size[0], self.size[1], "image/png"))
            else:
                self._sent.set()
            await asyncio.sleep(self.frame_seconds)

    async def frame_sent(self) -> None:
        self._sent.set()

    async def mouse(
        self, action: str, x: float, y: float, button: str, clicks: int, modifiers: int
    ) -> None:
        # A press and a release become a tap where they are close, a swipe where not.
        if action == "down":
            self._down = (x, y)
        elif action == "up" and self._down is not None:  # a move between: only the ends count
            (x0, y0), self._down = self._down, None
            if abs(x - x0) + abs(y - y0) < 12:
                await self._call(self.backend.tap, int(x), int(y))
            else:
                await self._call(self.backend.swipe, int(x0), int(y0), int(x), int(y), 0.3)

    async def wheel(self, x: float, y: float, dx: float, dy: float) -> None:
        distance = max(-self.size[1] // 2, min(self.size[1] // 2, int(-dy)))
        y2 = max(1, min(self.size[1] - 1, int(y) + distance))
        await self._call(self.backend.swipe, int(x), int(y), int(x), y2, 0.3)

    async def key(self, action: str, key: str, code: str, modifiers: int) -> None:
        if action != "down":
            return
        if key == "Escape":
            await self._call(self.backend.back)
        elif key == "Backspace":
            await self._call(self.backend.clear_text)
        elif len(key) == 1:
            await self._call(self.backend.type_text, key)

    async def text(self, text: str) -> None:
        await self._call(self.backend.type_text, text)

    async def go(self, url: str) -> None:
        raise DriverError("a device has no address bar: use its screen")

    async def back(self) -> None:
        await self._call(self.backend.back)

    async def reload(self) -> None:
        await self.frame_sent()  # a fresh capture now

    async def location(self) -> tuple[str, str]:
        return "", ""

    async def screenshot(self) -> bytes:
        data: bytes = await self._call(self.backend.screenshot)
        return data

    def on_navigation(self, callback: Callable[[str], None]) -> None:
        return None

    async def close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        await self._call(self.backend.close)
