"""A recorded screen as a device: one saved uiautomator dump (and its screenshot) served as-is.

``RecordedScreen`` implements ``DeviceBackend`` over a dump file such as
``whatsapp_chat_list.xml``. It serves the dump's XML unchanged, the screenshot
saved beside it (same name, ``.png``) or, when there is none, a blank PNG of the
dump's screen size, and reports the dump's app as the one in front. Nothing
navigates: taps, typing, swipes, back and app starts are recorded in
``events`` (so a test can assert what a flow did) and the screen stays what was
recorded, unless the caller shows another one (``show``). It is for tests, and
for ``selectors check`` against recorded screens of real apps.

The screen size is the screenshot's when there is one: a dump's root nodes can
stop short of the display (the real WhatsApp and TikTok dumps end at y=1483 on a
720x1600 screen, the navigation bar excluded), while both share the top-left
origin, so the dump's bounds are screenshot pixels. Without a screenshot the size
is the union of the top-level windows' bounds (status bar, app, launcher).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from lxml import etree
from PIL import Image

from devices.android.backend import DeviceInfo, Foreground
from devices.errors import DriverCrashed, DriverError, Evidence

__all__ = ["RecordedEvent", "RecordedScreen", "dump_package", "dump_size"]

EventKind = Literal[
    "tap", "type_text", "clear_text", "swipe", "back", "app_start", "app_stop", "open_url"
]
_BOUNDS = re.compile(r"\[(-?\d+),(-?\d+)\]\[(-?\d+),(-?\d+)\]")
_SYSTEM_PACKAGES = ("com.android.systemui", "android")


@dataclass(frozen=True)
class RecordedEvent:
    """One thing done to the recorded screen: what, and its arguments."""

    kind: EventKind
    args: tuple[object, ...] = ()


def _top_windows(xml: bytes) -> list[etree._Element]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise DriverError(f"the recorded screen is not XML: {exc}") from exc
    return [n for n in root if isinstance(n.tag, str)]


def _box(node: etree._Element) -> tuple[int, int, int, int] | None:
    found = _BOUNDS.fullmatch((node.get("bounds") or "").strip())
    if found is None:
        return None
    x1, y1, x2, y2 = (int(v) for v in found.groups())
    return (x1, y1, x2, y2) if x2 > x1 and y2 > y1 else None


def dump_size(xml: bytes) -> tuple[int, int]:
    """The screen a dump covers: the right and bottom edges of its top-level windows."""
    boxes = [b for b in (_box(n) for n in _top_windows(xml)) if b is not None]
    if not boxes:
        raise DriverError("the recorded screen has no window with bounds")
    return max(b[2] for b in boxes), max(b[3] for b in boxes)


def dump_package(xml: bytes) -> str:
    """The app in front: the package of the largest top-level window that is not the
    system's own (a status bar or launcher window is drawn over or beside the app)."""
    best: tuple[int, str] | None = None
    for node in _top_windows(xml):
        pkg = node.get("package") or ""
        box = _box(node)
        if not pkg or box is None or pkg in _SYSTEM_PACKAGES:
            continue
        area = (box[2] - box[0]) * (box[3] - box[1])
        if best is None or area > best[0]:
            best = (area, pkg)
    if best is None:
        raise DriverError("the recorded screen names no app package")
    return best[1]


def _blank_png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (255, 255, 255)).save(out, format="PNG")
    return out.getvalue()


@dataclass
class RecordedScreen:
    """A ``DeviceBackend`` that serves one recorded screen and records what is done to it.

    ``version`` is what ``app_version`` reports for the dump's package (a dump does
    not say which app version drew it); ``screenshot`` overrides the PNG found
    beside the dump.
    """

    path: Path
    version: str | None = None
    screenshot_path: Path | None = None
    events: list[RecordedEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self.closed = False
        self.show(self.path, self.screenshot_path)

    # -- what is shown -----------------------------------------------------------
    def show(self, path: Path, screenshot: Path | None = None) -> None:
        """Serve another recorded screen from now on (a test's next screen)."""
        path = Path(path)
        try:
            xml = path.read_bytes()
        except OSError as exc:
            raise DriverError(
                f"cannot read the recorded screen {path}: {exc}", Evidence(screen_tree=str(path))
            ) from exc
        package = dump_package(xml)
        png_path = screenshot or path.with_suffix(".png")
        png: bytes | None = None
        if png_path.is_file():
            png = png_path.read_bytes()
        elif screenshot is not None:
            raise DriverError(f"no screenshot at {screenshot}")
        if png is not None:
            with Image.open(io.BytesIO(png)) as img:
                size = img.size
        else:
            size = dump_size(xml)
        self.path, self.screenshot_path = path, png_path if png is not None else None
        self._xml = xml.decode("utf-8")
        self._package = package
        self._png = png
        self._size = size

    @property
    def package(self) -> str:
        return self._package

    @property
    def has_screenshot(self) -> bool:
        """Whether a real screenshot was recorded with the dump (else a blank one is served)."""
        return self._png is not None

    def taps(self) -> list[tuple[int, int]]:
        """Where the screen was tapped, in order."""
        return [(int(str(e.args[0])), int(str(e.args[1]))) for e in self.events if e.kind == "tap"]

    def typed(self) -> list[str]:
        return [str(e.args[0]) for e in self.events if e.kind == "type_text"]

    def _live(self) -> None:
        if self.closed:
            raise DriverCrashed(f"the recorded screen {self.path.name} was closed")

    def _record(self, kind: EventKind, *args: object) -> None:
        self._live()
        self.events.append(RecordedEvent(kind, args))

    # -- DeviceBackend -------------------------------------------------------------
    def dump(self) -> str:
        self._live()
        return self._xml

    def screenshot(self) -> bytes:
        self._live()
        if self._png is None:
            self._png = _blank_png(self._size)
        return self._png

    def window_size(self) -> tuple[int, int]:
        self._live()
        return self._size

    def tap(self, x: int, y: int) -> None:
        self._record("tap", x, y)

    def type_text(self, text: str) -> None:
        self._record("type_text", text)

    def clear_text(self) -> None:
        self._record("clear_text")

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_s: float) -> None:
        self._record("swipe", x1, y1, x2, y2, duration_s)

    def back(self) -> None:
        self._record("back")

    def app_start(self, package: str, activity: str | None = None) -> None:
        self._record("app_start", package, activity)

    def app_stop(self, package: str) -> None:
        self._record("app_stop", package)

    def open_url(self, url: str) -> None:
        self._record("open_url", url)

    def foreground(self) -> Foreground:
        self._live()
        return Foreground(self._package)

    def app_version(self, package: str) -> str | None:
        self._live()
        return self.version if package == self._package else None

    def info(self) -> DeviceInfo:
        return DeviceInfo(
            serial=f"recorded:{self.path.name}",
            state="offline" if self.closed else "device",
            screen_on=not self.closed,
            locked=False,
            model="recorded screen",
        )

    def close(self) -> None:
        self.closed = True
