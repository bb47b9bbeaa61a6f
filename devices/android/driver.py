"""AndroidDriver: the Driver verbs over any device backend (uiautomator2, Appium, sandbox).

The screen is read as a hierarchy dump and selectors are matched on the client
(``devices.android.tree``), so every backend behaves alike. Waiting verbs poll the
dump until their timeout, on an injectable clock.

Lists on a phone are virtualised: scrolling removes rows from the tree. The
driver keeps a page position (how far the list has scrolled, estimated from
the rows two dumps share), reports boxes in page pixels like a browser does,
and keeps the screenshot of every screen it read items from, so an item read
three screens ago still has the screen it was on as evidence (``screen_at``).

Text a custom view draws only into its pixels (an element with bounds and no
text, or a field marked ``ocr``) is read from the screenshot by the ``ocr``
reader; its confidence travels with the item.
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable
from typing import Any, Literal, Protocol

from lxml import etree
from PIL import Image

from devices.android.backend import SYSTEM_DIALOGS, DeviceBackend, Foreground
from devices.android.tree import Box, Screen, bounds_of, find_all, first_match, has_area, text_of
from devices.driver import ExtractedItem, Extraction, FieldQuery, Match
from devices.errors import DriverError, DriverTimeout, ElementNotFound, Evidence
from devices.selectors import Selector

APP_URL_SCHEME = "android-app://"
SCROLL_SHARE = 0.6  # a swipe moves this share of the list's height
MAX_SCREENS_KEPT = 64  # screenshots kept for evidence (each a screen's PNG)
SYSTEM_BARS = frozenset({"com.android.systemui"})  # status and navigation bars


class OcrReader(Protocol):
    def read(self, png: bytes, box: Box) -> tuple[str, float]:
        """The text in ``box`` of the screenshot, and a confidence in 0..1."""
        ...


class AndroidDriver:
    """One Android device (or the sandbox device, or a recorded screen), driven by its dumps."""

    def __init__(
        self,
        backend: DeviceBackend,
        *,
        package: str | None = None,
        ocr: OcrReader | None = None,
        poll_s: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        launch: bool = True,
    ) -> None:
        self.backend = backend
        self.package = package
        self.ocr = ocr
        self.poll_s = poll_s
        self.clock = clock
        self.sleep = sleep
        self.launch = launch
        self.deadline: float | None = None
        self._screen: Screen | None = None
        self._shot: bytes | None = None  # screenshot of the current screen, when taken
        self._offset = 0.0  # page position of the screen's top edge
        # screens items were read on: (page offset, png, visible top, visible bottom in page px)
        self._kept: list[tuple[float, bytes, float, float]] = []
        self.ocr_reads = 0
        self._window: tuple[int, int] | None = None  # the screen's size, asked once

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> AndroidDriver:
        if self.package and self.launch and self.backend.foreground().package != self.package:
            self.backend.app_start(self.package)
            self._changed()
        return self

    def __enter__(self) -> AndroidDriver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.backend.close()

    def set_deadline(self, at: float | None) -> None:
        self.deadline = at

    def viewport(self) -> tuple[float, float]:
        width, height = self.window_size()
        return float(width), float(height)

    def app_in_front(self) -> str | None:
        """The package of what is in front: a system dialog (a permission prompt) whatever its
        size, else another package covering half the screen or more (another app, the
        launcher), else the app itself. A launcher's strip or the status bar is not in front."""
        screen = self.screen()
        packages = screen.packages()
        width, height = self.window_size()
        for pkg in packages:
            if pkg in SYSTEM_DIALOGS and pkg != self.package:
                return pkg
        large = [
            (area, pkg)
            for pkg, area in packages.items()
            if pkg != self.package and pkg not in SYSTEM_BARS and area >= 0.5 * width * height
        ]
        if large:
            return max(large)[1]
        if self.package in packages:
            return self.package
        return self.backend.foreground().package

    # -- the screen ----------------------------------------------------------------
    def _changed(self, *, reset_page: bool = True) -> None:
        self._screen = None
        self._shot = None
        if reset_page:
            self._offset = 0.0
            self._kept.clear()

    def screen(self) -> Screen:
        """The current dump (read once per change of the screen)."""
        if self._screen is None:
            self._check_deadline("read the screen")
            self._screen = Screen.parse(self.backend.dump())
        return self._screen

    def _refresh(self) -> Screen:
        self._screen = None
        self._shot = None
        return self.screen()

    def _png(self) -> bytes:
        if self._shot is None:
            self._shot = self.backend.screenshot()
        return self._shot

    def _check_deadline(self, what: str) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise DriverTimeout(f"{what}: the run is past its deadline")

    def foreground(self) -> Foreground:
        return self.backend.foreground()

    def dialog_in_front(self) -> bool:
        """The active window is a dialog: its root covers less than 90% of the screen (a
        uiautomator dump holds the active window; an app's own page fills the screen)."""
        windows = [bounds_of(n) for n in self.screen().root.iterchildren("node")]
        areas = [b[2] * b[3] for b in windows if b is not None and has_area(b)]
        width, height = self.window_size()
        return bool(areas) and max(areas) < 0.9 * width * height

    def window_size(self) -> tuple[int, int]:
        """The screen's size in pixels (asked once; the dump's extent if the device cannot say)."""
        if self._window is None:
            size = self.backend.window_size()
            if not (size[0] and size[1]):
                size = self.screen().size() or size
            self._window = size
        return self._window

    def app_version(self, package: str) -> str | None:
        return self.backend.app_version(package)

    # -- matching ------------------------------------------------------------------
    def _present(self, selector: Selector, screen: Screen) -> tuple[Match, list[Any]] | None:
        found = first_match(screen.root, selector)
        if found is None:
            return None
        index, nodes = found
        loc = selector.alternatives[index]
        return Match(selector.name, index, len(nodes), loc.describe()), nodes

    def _resolve(self, selector: Selector, timeout_s: float) -> tuple[Match, list[Any]]:
        end = self.clock() + timeout_s
        screen = self.screen()
        while True:
            found = self._present(selector, screen)
            if found is not None:
                return found
            if self.clock() >= end:
                raise ElementNotFound(
                    f"no alternative of selector {selector.name!r} matched within {timeout_s:g}s",
                    Evidence(selector=selector.name, url=self.current_url()),
                )
            self._check_deadline(f"find {selector.name}")
            self.sleep(self.poll_s)
            screen = self._refresh()

    # -- verbs ---------------------------------------------------------------------
    def open(self, url: str, *, timeout_s: float, wait_until: str = "load") -> int | None:
        """Start the app (``android-app://PACKAGE``) or open a deep link in it."""
        if url.startswith(APP_URL_SCHEME):
            package = url[len(APP_URL_SCHEME) :].split("/", 1)[0] or self.package
            if not package:
                raise DriverError(f"cannot open {url}: no app package")
            self.backend.app_start(package)
        else:
            self.backend.open_url(url)
        self._changed()
        return None

    def current_url(self) -> str:
        try:
            fg = self.backend.foreground()
        except DriverError:
            return f"{APP_URL_SCHEME}{self.package or ''}"
        return f"{APP_URL_SCHEME}{fg.package}/{(fg.activity or '').lstrip('.')}"

    def find(self, selector: Selector, *, timeout_s: float) -> Match:
        return self._resolve(selector, timeout_s)[0]

    def is_visible(self, selector: Selector) -> Match | None:
        found = self._present(selector, self.screen())
        if found is None:
            return None
        match, nodes = found
        return match if any(has_area(bounds_of(n)) for n in nodes) else None

    def count(self, selector: Selector) -> Match | None:
        found = self._present(selector, self.screen())
        return found[0] if found else None

    def _centre(self, node: Any, selector: Selector) -> tuple[int, int]:
        box = bounds_of(node)
        target = node
        # A label with no box of its own (TikTok's tab text): its clickable parent is what
        # a finger hits.
        while not has_area(box) and target.getparent() is not None:
            target = target.getparent()
            box = bounds_of(target)
        if box is None or not has_area(box):
            raise ElementNotFound(
                f"{selector.name!r} has no size on screen; nothing to tap",
                Evidence(selector=selector.name),
            )
        x, y, w, h = box
        return int(x + w / 2), int(y + h / 2)

    def tap(self, selector: Selector, *, nth: int = 0, timeout_s: float) -> Match:
        match, nodes = self._resolve(selector, timeout_s)
        if nth >= len(nodes):
            raise ElementNotFound(
                f"{selector.name!r} matched {len(nodes)} elements, not {nth + 1}",
                Evidence(selector=selector.name),
            )
        x, y = self._centre(nodes[nth], selector)
        self.backend.tap(x, y)
        self._changed()
        return match

    def type_text(self, selector: Selector, text: str, *, clear: bool, timeout_s: float) -> Match:
        match, nodes = self._resolve(selector, timeout_s)
        x, y = self._centre(nodes[0], selector)
        self.backend.tap(x, y)  # focus it
        if clear:
            self.backend.clear_text()
        self.backend.type_text(text)
        self._changed(reset_page=False)
        return match

    def read_text(self, selector: Selector, *, timeout_s: float) -> tuple[str, Match]:
        match, nodes = self._resolve(selector, timeout_s)
        node = nodes[0]
        text = text_of(node)
        if not text.strip() and self.ocr is not None and has_area(bounds_of(node)):
            text, _ = self._ocr(node)
        return text, match

    def wait_for_count(self, selector: Selector, more_than: int, *, timeout_s: float) -> bool:
        end = self.clock() + timeout_s
        screen = self.screen()
        while True:
            found = self._present(selector, screen)
            if found is not None and found[0].count > more_than:
                return True
            if self.clock() >= end:
                return False
            self._check_deadline(f"wait for more {selector.name}")
            self.sleep(self.poll_s)
            screen = self._refresh()

    # -- reading items -----------------------------------------------------------
    def extract(
        self,
        selector: Selector,
        fields: list[FieldQuery],
        *,
        group: Selector | None = None,
        start: int = 0,
    ) -> Extraction:
        screen = self.screen()
        roots_selector = group or selector
        found = self._present(roots_selector, screen)
        if found is None:
            return Extraction(groups=[], match=Match(selector.name, -1, 0, ""))
        match, roots = found
        roots = roots[start:]
        used: dict[str, int] = {}
        via_fallback: dict[str, int] = {}
        groups: list[list[ExtractedItem]] = []
        empty: list[Box | None] = []
        item_alt = -1
        for root in roots:
            if group is None:
                groups.append([self._read(root, fields, screen, used, via_fallback)])
                continue
            hit = first_match(root, selector, include_self=True)
            if hit is None:
                empty.append(self._page_box(bounds_of(root)))
                groups.append([])
                continue
            item_alt = max(item_alt, hit[0])
            members = []
            for node in hit[1]:
                x = self._read(node, fields, screen, used, via_fallback)
                x.is_group = node is root
                members.append(x)
            groups.append(members)
        if group is not None:
            used[selector.name] = item_alt
            used[group.name] = match.index
            groups = [g for g in groups if g]
        else:
            used[selector.name] = match.index
        if match.index > 0 and groups:
            via_fallback[match.selector] = len(groups)
        area = self._scroll_area(screen)
        for g in groups:
            for x in g:
                x.cut = _cut(x.box, area, self._offset)
        if any(g for g in groups):
            self._keep_screen(area)
        return Extraction(
            groups=groups,
            match=match,
            field_matches=used,
            fallback_counts=via_fallback,
            empty_groups=empty,
        )

    def _read(
        self,
        el: Any,
        fields: list[FieldQuery],
        screen: Screen,
        used: dict[str, int],
        via_fallback: dict[str, int],
    ) -> ExtractedItem:
        out = ExtractedItem(fields={}, box=self._page_box(bounds_of(el)))
        for f in fields:
            base = el
            if f.relation is not None and f.relation_selector is not None:
                base = self._related(el, f.relation, f.relation_selector, screen)
                used[f.relation_selector.name] = max(
                    used.get(f.relation_selector.name, -1), 0 if base is not None else -1
                )
            target = base
            alt = 0
            if base is not None and f.selector is not None:
                target = None
                for i in range(len(f.selector.alternatives)):
                    hits = find_all(base, f.selector, i, include_self=f.include_self)
                    if hits:
                        target, alt = hits[0], i
                        break
                name = f.selector.name
                used[name] = max(used.get(name, -1), alt if target is not None else -1)
                if target is not None and alt > 0:
                    via_fallback[name] = via_fallback.get(name, 0) + 1
            value: str | None = None
            if target is not None and f.presence:
                value = ""
            elif target is not None:
                if f.attr is not None:
                    value = target.get(f.attr)
                else:
                    value = text_of(target)
                    box = bounds_of(target)
                    if (f.ocr or not value.strip()) and self.ocr is not None and has_area(box):
                        value, confidence = self._ocr(target)
                        out.ocr[f.name] = confidence
            out.fields[f.name] = value
        return out

    def _related(self, el: Any, relation: str, selector: Selector, screen: Screen) -> Any:
        held = list(el.iterancestors())  # held: lxml keeps one proxy (one id) per live element
        ancestors = {id(a) for a in held}
        for index in range(len(selector.alternatives)):
            candidates = screen.everywhere(selector, index)
            if relation == "closest":
                for n in reversed(candidates):  # the nearest ancestor comes last in doc order
                    if id(n) in ancestors:
                        return n
                continue
            mine = screen.position(el)
            before = [n for n in candidates if screen.position(n) < mine and id(n) not in ancestors]
            if before:
                return before[-1]
        return None

    def _ocr(self, node: Any) -> tuple[str, float]:
        assert self.ocr is not None
        box = bounds_of(node)
        assert box is not None
        self.ocr_reads += 1
        return self.ocr.read(self._png(), box)

    # -- pages, scrolling and evidence -------------------------------------------
    def _page_box(self, box: Box | None) -> Box | None:
        if box is None:
            return None
        x, y, w, h = box
        return x, y + self._offset, w, h

    def _keep_screen(self, area: Box) -> None:
        png = self._png()
        kept = (self._offset, png, area[1] + self._offset, area[1] + area[3] + self._offset)
        if self._kept and self._kept[-1][0] == self._offset:
            self._kept[-1] = kept
        else:
            self._kept.append(kept)
        del self._kept[:-MAX_SCREENS_KEPT]

    def _scroll_area(self, screen: Screen) -> Box:
        """The largest scrollable element's box (the list), else the screen."""
        best: Box | None = None
        for node in screen.nodes:
            if node.get("scrollable") != "true":
                continue
            box = bounds_of(node)
            if has_area(box) and (best is None or box[2] * box[3] > best[2] * best[3]):  # type: ignore[index]
                best = box
        if best is not None:
            return best
        w, h = self.window_size()
        return 0.0, 0.0, float(w), float(h)

    def _swipe(self, dy: int) -> tuple[Screen, Screen]:
        """Swipe the list by ``dy`` pixels (positive: content moves up, showing what is below)."""
        before = self.screen()
        x, y, w, h = self._scroll_area(before)
        cx = int(x + w / 2)
        mid = y + h / 2
        half = abs(dy) / 2
        down, up = int(mid + half), int(mid - half)
        y_from, y_to = (down, up) if dy > 0 else (up, down)
        self.backend.swipe(cx, y_from, cx, y_to, 0.3)
        self._screen = None
        self._shot = None
        return before, self.screen()

    def scroll(self, *, up: bool = False) -> bool:
        """Swipe one share of the list down (or up: older messages above a chat); False when
        nothing moved (the end)."""
        area = self._scroll_area(self.screen())
        distance = int(area[3] * SCROLL_SHARE)
        shown = self._shot  # the list's pixels before, when this screen was captured
        before, after = self._swipe(-distance if up else distance)
        # The same tree can still have moved: inside a row taller than the list only the
        # pixels change. Compare the list's own area (not the clock above it).
        if before.signature() == after.signature() and (
            shown is None or _area_pixels(shown, area) == _area_pixels(self._png(), area)
        ):
            return False
        if up:
            self._offset -= _moved(after, before, distance)
        else:
            self._offset += _moved(before, after, distance)
        return True

    def back(self, *, timeout_s: float) -> None:
        self.backend.back()
        self._changed()

    def reload(self, *, timeout_s: float) -> None:
        """Pull to refresh: a long swipe down from the top of the list."""
        x, y, w, h = self._scroll_area(self.screen())
        cx = int(x + w / 2)
        self.backend.swipe(cx, int(y + h * 0.2), cx, int(y + h * 0.9), 0.4)
        self._changed()

    def screenshot(
        self, *, full_page: bool = False, clip: tuple[float, float, float, float] | None = None
    ) -> bytes:
        png = self._png()
        if clip is None:
            return png
        x, y, w, h = clip
        top = y - self._offset
        with Image.open(io.BytesIO(png)) as img:
            box = (
                max(0, int(x)),
                max(0, int(top)),
                min(img.width, int(x + w)),
                min(img.height, int(top + h)),
            )
            if box[2] <= box[0] or box[3] <= box[1]:
                return png
            out = io.BytesIO()
            img.crop(box).save(out, format="PNG")
            return out.getvalue()

    def screen_showing(self, box: tuple[float, float, float, float]) -> tuple[bytes, float] | None:
        """The kept screen that showed the whole box (the one it sits most centred on)."""
        _, y, _, h = box
        whole = [k for k in self._kept if k[2] <= y and y + h <= k[3]]
        if not whole:
            return None
        off, png, top, bottom = min(whole, key=lambda k: abs((k[2] + k[3]) / 2 - (y + h / 2)))
        return png, off

    def screen_at(self, y: float) -> tuple[bytes, float]:
        """The kept screen on which page position ``y`` was shown, else the current one; and
        the page position of that screen's top edge."""
        showing = [k for k in self._kept if k[2] <= y + 40 < k[3]]
        if showing:
            off, png, _, _ = max(showing, key=lambda k: k[0])
            return png, off
        return self._png(), self._offset

    def screen_tree(self) -> str:
        return etree.tostring(self.screen().root, encoding="unicode", pretty_print=True)


def _area_pixels(png: bytes, area: Box) -> bytes:
    with Image.open(io.BytesIO(png)) as img:
        x, y, w, h = (int(v) for v in area)
        return img.crop((x, y, x + w, y + h)).tobytes()


def _cut(box: Box | None, area: Box, offset: float) -> Literal["top", "bottom", "both"] | None:
    """Which edge of the scrolling list (screen pixels) a row's box (page pixels) touches,
    when it is shorter than the list: the list may have cut it there. A row as tall as the
    list is never shown whole ("both"): it is read as it is."""
    if box is None:
        return None
    if box[3] >= area[3] - 2:
        return "both"
    top, bottom = box[1] - offset, box[1] + box[3] - offset
    if top <= area[1] + 1:
        return "top"
    if bottom >= area[1] + area[3] - 1:
        return "bottom"
    return None


def _moved(before: Screen, after: Screen, fallback: int) -> float:
    """How far the content moved up between two dumps: the median shift of the rows both
    show (same id, text and description); the swipe distance when none is shared."""

    def keyed(screen: Screen) -> dict[tuple[str, str, str, str], float]:
        seen: dict[tuple[str, str, str, str], list[float]] = {}
        for n in screen.nodes:
            box = bounds_of(n)
            key = (
                n.get("class") or "",
                n.get("resource-id") or "",
                n.get("text") or "",
                n.get("content-desc") or "",
            )
            if has_area(box) and (key[2] or key[3]):
                seen.setdefault(key, []).append(box[1] + box[3])  # type: ignore[index]
        return {k: v[0] for k, v in seen.items() if len(v) == 1}  # unique on the screen

    old, new = keyed(before), keyed(after)
    shifts = [old[k] - new[k] for k in old.keys() & new.keys() if old[k] != new[k]]
    if not shifts:
        return float(fallback)
    return float(statistics.median(shifts))
