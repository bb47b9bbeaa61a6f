"""Helpers for the sandbox device tests: read a dump, find views by resource-id, tap them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from devices.android.sandbox_backend import SandboxDeviceBackend
from sandbox.client import SandboxClient

APP = "com.sandbox.social"
ATTRIBUTES = [
    "index",
    "text",
    "resource-id",
    "class",
    "package",
    "content-desc",
    "checkable",
    "checked",
    "clickable",
    "enabled",
    "focusable",
    "focused",
    "scrollable",
    "long-clickable",
    "password",
    "selected",
    "bounds",
]
_BOUNDS = re.compile(r"^\[(-?\d+),(-?\d+)\]\[(-?\d+),(-?\d+)\]$")


@dataclass(frozen=True)
class View:
    attrs: dict[str, str]
    element: etree._Element

    @property
    def rid(self) -> str:
        return self.attrs["resource-id"]

    @property
    def text(self) -> str:
        return self.attrs["text"]

    @property
    def desc(self) -> str:
        return self.attrs["content-desc"]

    @property
    def bounds(self) -> tuple[int, int, int, int]:
        m = _BOUNDS.match(self.attrs["bounds"])
        assert m, f"bad bounds {self.attrs['bounds']!r}"
        left, top, right, bottom = (int(g) for g in m.groups())
        return left, top, right, bottom

    @property
    def center(self) -> tuple[int, int]:
        left, top, right, bottom = self.bounds
        return (left + right) // 2, (top + bottom) // 2

    def inside(self, name: str, package: str = APP) -> list[View]:
        """Descendants with resource-id ``name``."""
        want = rid(name, package)
        return [_view(e) for e in self.element.iter("node") if e.get("resource-id") == want]


def rid(name: str, package: str = APP) -> str:
    return name if ":" in name else f"{package}:id/{name}"


def _view(element: etree._Element) -> View:
    return View(dict(element.attrib), element)


def parse(xml: str) -> etree._Element:
    return etree.fromstring(xml.encode("utf-8"))


def views(xml: str) -> list[View]:
    return [_view(e) for e in parse(xml).iter("node")]


def find_all(xml: str, name: str, package: str = APP) -> list[View]:
    want = rid(name, package)
    return [v for v in views(xml) if v.rid == want]


def find(xml: str, name: str, package: str = APP) -> View:
    found = find_all(xml, name, package)
    assert found, f"no {rid(name, package)} on screen"
    return found[0]


def texts(xml: str, name: str, package: str = APP) -> list[str]:
    return [v.text for v in find_all(xml, name, package)]


def by_text(xml: str, text: str) -> View:
    found = [v for v in views(xml) if v.text == text]
    assert found, f"no view with text {text!r} on screen"
    return found[0]


def tap(phone: SandboxDeviceBackend, name: str, index: int = 0, package: str = APP) -> None:
    phone.tap(*find_all(phone.dump(), name, package)[index].center)


def tap_text(phone: SandboxDeviceBackend, text: str) -> None:
    phone.tap(*by_text(phone.dump(), text).center)


def sign_in(phone: SandboxDeviceBackend, account: str = "acme", password: str = "sandbox") -> None:
    """From the launcher (or the login screen): open the app and log in through the form."""
    if phone.foreground().package != APP:
        phone.tap(*by_text(phone.dump(), "Sandbox Social").center)
    tap(phone, "login_username")
    phone.type_text(account)
    tap(phone, "login_password")
    phone.type_text(password)
    tap(phone, "login_button")


def chat_texts(phone: SandboxDeviceBackend, client: SandboxClient) -> list[str]:
    """Message texts on screen, top to bottom; an OCR-only bubble's text (empty in the dump)
    is taken from the sandbox's OCR truth for the view at the same bounds."""
    truth = {tuple(r["bounds"]): r["text"] for r in client.ocr_rows(phone.serial)}
    out = []
    for v in find_all(phone.dump(), "message_text"):
        out.append(truth[v.bounds] if v.attrs["class"] == "android.view.View" else v.text)
    return out
