"""The driver contract on the sandbox device: ``AndroidDriver(SandboxDeviceBackend(...))``.

The screen is the app's inbox after signing in. What it holds (counts, bounds, texts)
is read from the device's own dump with plain lxml here, not through the driver; taps
are recorded at the backend boundary, on their way to the device.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from lxml import etree

from devices.android.driver import AndroidDriver
from devices.android.sandbox_backend import SandboxDeviceBackend
from devices.driver import FieldQuery
from devices.selectors import Locator, Selector
from sandbox.testing import RunningSandbox, running_sandbox
from tests.devices.contract import (
    AndroidDriverContract,
    ContractCase,
    FakeClock,
    Known,
    KnownItems,
    KnownScreen,
)

APP = "com.sandbox.social"
SERIAL = "contract-1"


class Recording(SandboxDeviceBackend):
    """The sandbox backend, remembering where it was asked to tap."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.taps: list[tuple[int, int]] = []

    def tap(self, x: int, y: int) -> None:
        self.taps.append((x, y))
        super().tap(x, y)


def _box(node: etree._Element) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in re.findall(r"-?\d+", node.get("bounds") or ""))
    return x1, y1, x2 - x1, y2 - y1


def _text(node: etree._Element) -> str:
    own = node.get("text") or ""
    if own.strip():
        return own
    return " ".join(t for t in ((n.get("text") or "").strip() for n in node.iter()) if t)


def _known(root: etree._Element, xpath: str, locator: Locator) -> Known:
    nodes = root.xpath(xpath)
    assert nodes, xpath
    return Known(locator, len(nodes), _box(nodes[0]), _text(nodes[0]))


def _rid(name: str) -> str:
    return f"{APP}:id/{name}"


def inbox_screen(xml: str) -> KnownScreen:
    root = etree.fromstring(xml.encode())
    rows = root.xpath(f"//node[@resource-id='{_rid('thread_row')}']")
    names = [r.xpath(f".//node[@resource-id='{_rid('thread_name')}']") for r in rows]
    return KnownScreen(
        name="sandbox_inbox",
        by_kind={
            "resource_id": _known(
                root,
                f"//node[@resource-id='{_rid('thread_row')}']",
                Locator(resource_id=_rid("thread_row")),
            ),
            "resource_id_short": _known(
                root,
                f"//node[@resource-id='{_rid('thread_name')}']",
                Locator(resource_id="thread_name"),
            ),
            "content_desc": _known(
                root, "//node[@content-desc='Posts']", Locator(content_desc="Posts", exact=True)
            ),
            "text": _known(root, "//node[@text='@acme']", Locator(text="@acme", exact=True)),
            "xpath": _known(
                root,
                f"//node[@resource-id='{_rid('tab_inbox')}']",
                Locator(xpath=f"//node[@resource-id='{_rid('tab_inbox')}']"),
            ),
        },
        tappable=_known(
            root, f"//node[@resource-id='{_rid('tab_posts')}']", Locator(resource_id="tab_posts")
        ),
        items=KnownItems(
            item=Locator(resource_id="thread_row"),
            fields=(
                FieldQuery(
                    "name",
                    Selector(name="name", alternatives=(Locator(resource_id="thread_name"),)),
                ),
            ),
            expected=tuple(
                ({"name": n[0].get("text") if n else None}, _box(r))
                for r, n in zip(rows, names, strict=True)
            ),
        ),
    )


@pytest.fixture(scope="module")
def signed_in() -> Iterator[tuple[RunningSandbox, str]]:
    with running_sandbox(seed=1) as sb:
        sb.client.add_device(SERIAL)
        backend = SandboxDeviceBackend(sb.url, SERIAL)
        backend.app_start(APP)
        root = etree.fromstring(backend.dump().encode())

        def centre(name: str) -> tuple[int, int]:
            (node,) = root.xpath(f"//node[@resource-id='{_rid(name)}']")
            x, y, w, h = _box(node)
            return int(x + w / 2), int(y + h / 2)

        for field, value in (("login_username", "acme"), ("login_password", "sandbox")):
            backend.tap(*centre(field))
            backend.type_text(value)
        backend.tap(*centre("login_button"))
        yield sb, backend.dump()


class TestSandboxDeviceContract(AndroidDriverContract):
    @pytest.fixture
    def contract_case(self, signed_in: tuple[RunningSandbox, str]) -> Iterator[ContractCase]:
        sb, xml = signed_in
        backend = Recording(sb.url, SERIAL)
        backend.open_url("sandbox://inbox")  # every case starts on the inbox
        clock = FakeClock()
        driver = AndroidDriver(backend, package=APP, clock=clock, sleep=clock.sleep).start()
        try:
            yield ContractCase(
                driver=driver, screen=inbox_screen(xml), taps=lambda: backend.taps, clock=clock
            )
        finally:
            driver.close()
