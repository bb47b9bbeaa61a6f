"""A scripted device: screens as node trees, taps that move between them, every call recorded.

It implements the ``DeviceBackend`` protocol, so ``AndroidDriver`` and the flow runner
run on it without a browser, a phone or a server. A screen is a list of nodes
(``id``, ``text``, ``desc``, ``class``, ``bounds`` [x1, y1, x2, y2], ``children``;
``tap: SCREEN`` moves there; ``package`` for another window in front). A screen
may hold one virtualised ``list``: rows laid out below each other, of which only
those inside its viewport are in the dump, scrolled by swipes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import quoteattr

from PIL import Image

from devices.android.backend import DeviceInfo, Foreground

PACKAGE = "com.example.app"
SIZE = (720, 1280)


@dataclass
class FakeDevice:
    screens: dict[str, dict[str, Any]]
    current: str
    package: str = PACKAGE
    events: list[str] = field(default_factory=list)
    typed: dict[str, str] = field(default_factory=dict)  # input id -> text in it
    focused: str | None = None
    scroll: int = 0
    history: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)

    # -- rendering -------------------------------------------------------------
    def _render(self) -> tuple[str, list[tuple[dict[str, Any], tuple[int, int, int, int]]]]:
        """The current screen's nodes as nested XML, and every node with its box (flat)."""
        flat: list[tuple[dict[str, Any], tuple[int, int, int, int]]] = []

        def walk(nodes: list[dict[str, Any]], dy: int, clip: tuple[int, int] | None) -> str:
            out = []
            for n in nodes:
                x1, y1, x2, y2 = n.get("bounds", [0, 0, 0, 0])
                y1, y2 = y1 - dy, y2 - dy
                if clip is not None:
                    if y2 <= clip[0] or y1 >= clip[1]:
                        continue
                    y1, y2 = max(y1, clip[0]), min(y2, clip[1])
                flat.append((n, (x1, y1, x2, y2)))
                rid = f"{self.package}:id/{n['id']}" if n.get("id") else ""
                attrs = {
                    "class": n.get("class", "android.widget.TextView"),
                    "package": n.get("package", self.package),
                    "resource-id": rid,
                    "text": self.typed.get(n.get("id", ""), n.get("text", "")),
                    "content-desc": n.get("desc", ""),
                    "clickable": "true" if n.get("tap") or n.get("send") else "false",
                    "bounds": f"[{x1},{y1}][{x2},{y2}]",
                }
                inner = walk(n.get("children", []), dy, clip)
                head = "<node " + " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items())
                out.append(f"{head}>{inner}</node>" if inner else f"{head}/>")
            return "".join(out)

        screen = self.screens[self.current]
        body = walk(screen.get("nodes", []), 0, None)
        lst = screen.get("list")
        if lst is not None:
            top, bottom = lst["viewport"]
            rows = walk(lst["rows"], self.scroll, (top, bottom))
            body += (
                f'<node class="androidx.recyclerview.widget.RecyclerView" '
                f'package="{self.package}" scrollable="true" resource-id="{self.package}:id/list"'
                f' text="" content-desc="" bounds="[0,{top}][{SIZE[0]},{bottom}]">{rows}</node>'
            )
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?><hierarchy rotation="0">'
            f'<node class="android.widget.FrameLayout" package="{self.package}" text="" '
            f'resource-id="" content-desc="" bounds="[0,0][{SIZE[0]},{SIZE[1]}]">{body}</node>'
            "</hierarchy>"
        )
        return xml, flat

    def _nodes(self) -> list[tuple[dict[str, Any], tuple[int, int, int, int]]]:
        return self._render()[1]

    def dump(self) -> str:
        self.events.append("dump")
        return self._render()[0]

    def screenshot(self) -> bytes:
        self.events.append("screenshot")
        out = io.BytesIO()
        Image.new("RGB", SIZE, "white").save(out, format="PNG")
        return out.getvalue()

    def window_size(self) -> tuple[int, int]:
        return SIZE

    # -- fingers -----------------------------------------------------------------
    def tap(self, x: int, y: int) -> None:
        hit = None
        for n, (x1, y1, x2, y2) in self._nodes():
            if x1 <= x < x2 and y1 <= y < y2 and (n.get("tap") or n.get("input") or n.get("send")):
                hit = n
        self.events.append(f"tap {hit.get('id') or hit.get('desc') if hit else None}")
        if hit is None:
            return
        if hit.get("input"):
            self.focused = hit["id"]
        if hit.get("send"):
            box = hit["send"]
            self.sent.append(self.typed.pop(box, ""))
        if hit.get("tap"):
            self.history.append(self.current)
            self.current = hit["tap"]
            self.scroll = 0

    def type_text(self, text: str) -> None:
        self.events.append(f"type {text}")
        if self.focused is not None:
            self.typed[self.focused] = self.typed.get(self.focused, "") + text

    def clear_text(self) -> None:
        self.events.append("clear")
        if self.focused is not None:
            self.typed[self.focused] = ""

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_s: float) -> None:
        lst = self.screens[self.current].get("list")
        self.events.append(f"swipe {y1 - y2:+d}")
        if lst is None:
            return
        top, bottom = lst["viewport"]
        end = max(r["bounds"][3] for r in lst["rows"]) if lst["rows"] else top
        limit = max(0, end - bottom)
        self.scroll = max(0, min(limit, self.scroll + (y1 - y2)))

    def back(self) -> None:
        self.events.append("back")
        if self.history:
            self.current = self.history.pop()
            self.scroll = 0

    def app_start(self, package: str, activity: str | None = None) -> None:
        self.events.append(f"start {package}")

    def app_stop(self, package: str) -> None:
        self.events.append(f"stop {package}")

    def open_url(self, url: str) -> None:
        self.events.append(f"open {url}")
        target = url.rsplit("/", 1)[-1]
        if target in self.screens:
            self.current = target

    def foreground(self) -> Foreground:
        return Foreground(self.package, f".{self.current.title()}Activity")

    def app_version(self, package: str) -> str | None:
        return "1.0.0" if package == self.package else None

    def info(self) -> DeviceInfo:
        return DeviceInfo(serial="fake-1", state="device", screen_on=True, locked=False)

    def close(self) -> None:
        self.events.append("close")
