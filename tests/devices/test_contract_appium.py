"""The driver contract on a real Appium 3 server, its fake driver serving real recorded screens.

``AndroidDriver(AppiumBackend(...))`` against Appium's ``@appium/fake-driver``,
whose app is a raw uiautomator dump from ``../shared/data/android_ui`` loaded as
it is (FACTS.md). The fake driver serves the page source and logs W3C pointer
actions; taps are read back from that log, so "the tap hit the centre" is checked
on what reached the server. What each screen holds was read off the dump files
by hand (counts, bounds, text), not from the driver.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devices.android.appium_backend import AppiumBackend
from devices.android.driver import AndroidDriver
from devices.driver import FieldQuery
from devices.selectors import Locator, Selector
from tests.devices.conftest import AppiumServer
from tests.devices.contract import (
    AndroidDriverContract,
    BoxlessLabel,
    ContractCase,
    FakeClock,
    Known,
    KnownItems,
    KnownScreen,
)


def fake_caps(app: Path) -> dict[str, Any]:
    return {"platformName": "Fake", "appium:automationName": "Fake", "appium:app": str(app)}


def fake_driver_taps(session: Any) -> list[tuple[int, int]]:
    """The taps in the fake driver's action log: a move, then a press, then a release."""
    taps: list[tuple[int, int]] = []
    for performed in session.get_log("actions"):
        for source in performed:
            steps = [a for a in source.get("actions", []) if a["type"] != "pause"]
            kinds = [a["type"] for a in steps]
            if kinds == ["pointerMove", "pointerDown", "pointerUp"]:
                taps.append((int(steps[0]["x"]), int(steps[0]["y"])))
    return taps


def _field(name: str, resource_id: str | None = None, attr: str | None = None) -> FieldQuery:
    selector = (
        None
        if resource_id is None
        else Selector(name=name, alternatives=(Locator(resource_id=resource_id),))
    )
    return FieldQuery(name=name, selector=selector, attr=attr)


def _box(x1: int, y1: int, x2: int, y2: int) -> tuple[float, float, float, float]:
    """A box from a dump's ``bounds="[x1,y1][x2,y2]"``."""
    return float(x1), float(y1), float(x2 - x1), float(y2 - y1)


WHATSAPP_THREAD = KnownScreen(
    name="whatsapp_chat_thread",
    by_kind={
        "resource_id": Known(
            Locator(resource_id="com.whatsapp:id/entry"), 1, _box(69, 1465, 504, 1483), "Mensagem"
        ),
        "resource_id_short": Known(
            Locator(resource_id="entry"), 1, _box(69, 1465, 504, 1483), "Mensagem"
        ),
        "content_desc": Known(Locator(content_desc="Anexar"), 1, _box(504, 1455, 573, 1483), ""),
        "text": Known(
            Locator(text="Mensagem para mim"), 1, _box(104, 92, 270, 115), "Mensagem para mim"
        ),
        "xpath": Known(
            Locator(xpath="//node[@resource-id='com.whatsapp:id/message_text']"),
            7,
            _box(417, 174, 610, 216),
            "1000000000000",
        ),
    },
    tappable=Known(Locator(content_desc="Anexar"), 1, _box(504, 1455, 573, 1483), ""),
    items=KnownItems(
        item=Locator(resource_id="conversation_text_row"),
        fields=(_field("text", "message_text"), _field("time", "date")),
        expected=tuple(
            ({"text": text, "time": at}, _box(414, top, 696, top + 47))
            for text, at, top in [
                ("1000000000000", "23:48", 172),
                ("1000000000000", "23:48", 314),
                ("1000000000000", "23:48", 456),
                ("1000000000000", "23:48", 598),
                ("4000000000000", "20:39", 1019),
                ("4000000000000", "20:39", 1161),
                ("4000000000000", "20:40", 1303),
            ]
        ),
    ),
)

_CHAT_DATES = [
    ("22:30", "22:30"),
    ("19:05", "19:05"),
    ("16:31", "16:31"),
    ("15:37", "15:37"),
    ("15:00", "15:00"),
    ("07:30", "07:30"),
    ("Ontem", "Ontem"),
    ("Ontem", "Ontem"),
    ("Ontem", "Ontem"),
    ("20/01/2025", "20 de janeiro de 2025"),
    ("20/01/2025", "20 de janeiro de 2025"),
]
WHATSAPP_LIST = KnownScreen(
    name="whatsapp_chat_list",
    by_kind={
        "resource_id": Known(
            Locator(resource_id="com.whatsapp:id/fab"), 1, _box(616, 1311, 697, 1392), ""
        ),
        "resource_id_short": Known(
            Locator(resource_id="search_text"), 1, _box(82, 153, 203, 185), "Pesquisar…"
        ),
        "content_desc": Known(Locator(content_desc="Mais opções"), 1, _box(662, 54, 720, 123), ""),
        "text": Known(Locator(text="Ontem", exact=True), 3, _box(640, 907, 697, 930), "Ontem"),
        "xpath": Known(
            Locator(xpath="//node[@resource-id='com.whatsapp:id/conversations_row_date']"),
            11,
            _box(647, 253, 697, 276),
            "22:30",
        ),
    },
    tappable=Known(Locator(content_desc="Nova conversa"), 1, _box(616, 1311, 697, 1392), ""),
    items=KnownItems(
        item=Locator(resource_id="contact_row_container"),
        fields=(
            _field("date", "conversations_row_date"),
            _field("spoken_date", "conversations_row_date", attr="content-desc"),
        ),
        expected=tuple(
            ({"date": date, "spoken_date": spoken}, _box(0, 228 + 109 * i, 720, 337 + 109 * i))
            for i, (date, spoken) in enumerate(_CHAT_DATES[:-1])
        )
        + (
            (
                {"date": "20/01/2025", "spoken_date": "20 de janeiro de 2025"},
                _box(0, 1318, 720, 1415),
            ),
        ),
    ),
    # The bottom tab's label has bounds [0,0][0,0]; its tab has the box.
    boxless=BoxlessLabel(Locator(text="Conversas", exact=True), _box(0, 1416, 180, 1483)),
)

TIKTOK = KnownScreen(
    name="tiktok_foryou_feed",
    by_kind={
        "resource_id": Known(
            Locator(resource_id="com.zhiliaoapp.musically:id/title"),
            1,
            _box(17, 1221, 167, 1253),
            "ESPN Brasil",
        ),
        "resource_id_short": Known(
            Locator(resource_id="cp3"), 1, _box(659, 1159, 693, 1186), "329"
        ),
        "content_desc": Known(
            Locator(content_desc="Caixa de entrada"),
            1,
            _box(432, 1461, 576, 1483),
            "1 Caixa de entrada",  # no text of its own: its labels' texts
        ),
        "text": Known(
            Locator(text="Personalizar feed"), 1, _box(17, 1389, 290, 1441), "Personalizar feed"
        ),
        "xpath": Known(
            Locator(xpath="//node[@resource-id='com.zhiliaoapp.musically:id/duu']"),
            2,
            _box(633, 1005, 720, 1091),
            "28,3\xa0mil",
        ),
    },
    tappable=Known(
        Locator(content_desc="Perfil", exact=True), 1, _box(576, 1461, 720, 1483), "Perfil"
    ),
    items=KnownItems(
        item=Locator(xpath="//node[@resource-id='com.zhiliaoapp.musically:id/jrq']/node"),
        fields=(_field("tab", attr="content-desc"),),
        expected=tuple(
            ({"tab": tab}, _box(144 * i, 1461, 144 * (i + 1), 1483))
            for i, tab in enumerate(["Início", "Amigos", "Criar", "Caixa de entrada", "Perfil"])
        ),
    ),
    # FACTS.md: the "Caixa de entrada" text node has bounds [0,0][0,0].
    boxless=BoxlessLabel(Locator(text="Caixa de entrada", exact=True), _box(432, 1461, 576, 1483)),
)

INSTAGRAM = KnownScreen(
    name="instagram_home_feed",
    by_kind={
        "resource_id": Known(
            Locator(resource_id="com.instagram.android:id/action_bar_inbox_button"),
            1,
            _box(639, 48, 708, 128),
            "",
        ),
        "resource_id_short": Known(
            Locator(resource_id="row_feed_button_comment"), 1, _box(131, 1307, 166, 1373), ""
        ),
        "content_desc": Known(Locator(content_desc="Comentar"), 1, _box(131, 1307, 166, 1373), ""),
        "text": Known(Locator(text="Seu story"), 1, _box(37, 267, 108, 290), "Seu story"),
        "xpath": Known(
            Locator(xpath="//node[@resource-id='com.instagram.android:id/username']"),
            5,
            _box(37, 267, 108, 290),
            "Seu story",
        ),
    },
    tappable=Known(Locator(resource_id="action_bar_inbox_button"), 1, _box(639, 48, 708, 128), ""),
    items=KnownItems(
        item=Locator(resource_id="outer_container"),
        fields=(_field("name", "username"),),
        expected=tuple(
            ({"name": name}, _box(left, 128, right, 302))
            for name, left, right in [
                ("Seu story", 0, 145),
                ("user_a", 145, 290),
                ("user_b", 290, 435),
                ("user_c", 435, 580),
                ("user_d", 580, 720),
            ]
        ),
    ),
)

SCREENS = [WHATSAPP_THREAD, WHATSAPP_LIST, TIKTOK, INSTAGRAM]


class TestAppiumFakeDriverContract(AndroidDriverContract):
    @pytest.fixture(params=SCREENS, ids=[s.name for s in SCREENS])
    def contract_case(
        self, request: pytest.FixtureRequest, appium_server: AppiumServer, android_ui: Path
    ) -> Iterator[ContractCase]:
        screen: KnownScreen = request.param
        dump = android_ui / f"{screen.name}.xml"
        if not dump.is_file():
            pytest.skip(f"recorded screen {dump} is missing")
        backend = AppiumBackend(appium_server.url, fake_caps(dump), timeout_s=30)
        clock = FakeClock()
        driver = AndroidDriver(backend, clock=clock, sleep=clock.sleep).start()
        try:
            yield ContractCase(
                driver=driver,
                screen=screen,
                taps=lambda: fake_driver_taps(backend.session),
                clock=clock,
            )
        finally:
            driver.close()
