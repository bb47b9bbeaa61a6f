"""AppiumBackend at its boundary: what goes over the wire, and how failures come back.

Two servers: the real Appium 3 with its fake driver (a raw dump as the app), and a
stub W3C server in this file for what the fake driver cannot show (a grid's
Authorization header, a device that vanished, a server that stops answering).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.common.exceptions import InvalidSessionIdException, UnknownMethodException

from devices.android.appium_backend import AppiumBackend
from devices.errors import DriverCrashed, DriverError, DriverTimeout
from tests.devices.conftest import AppiumServer
from tests.devices.test_contract_appium import fake_caps

TOKEN = "s3cr3t-grid-token-4711"


@pytest.fixture
def thread_dump(android_ui: Path) -> Path:
    dump = android_ui / "whatsapp_chat_thread.xml"
    if not dump.is_file():
        pytest.skip(f"recorded screen {dump} is missing")
    return dump


@pytest.fixture
def fake(appium_server: AppiumServer, thread_dump: Path) -> Iterator[AppiumBackend]:
    backend = AppiumBackend(appium_server.url, fake_caps(thread_dump), timeout_s=30)
    try:
        yield backend
    finally:
        backend.close()


# -- against the real fake driver ----------------------------------------------------


def test_dump_is_the_recorded_screen(fake: AppiumBackend, thread_dump: Path) -> None:
    assert fake.dump() == thread_dump.read_text(encoding="utf-8")


RECORDED = [
    "facebook_home_feed",
    "instagram_home_feed",
    "instagram_profile_business",
    "instagram_profile_contact_sheet",
    "tiktok_foryou_feed",
    "whatsapp_chat_list",
    "whatsapp_chat_thread",
]


@pytest.mark.parametrize("name", RECORDED)
def test_every_recorded_screen_loads_as_it_is(
    appium_server: AppiumServer, android_ui: Path, name: str
) -> None:
    dump = android_ui / f"{name}.xml"
    if not dump.is_file():
        pytest.skip(f"recorded screen {dump} is missing")
    backend = AppiumBackend(appium_server.url, fake_caps(dump), timeout_s=30)
    try:
        assert backend.dump() == dump.read_text(encoding="utf-8")
        # Server-side XPath sees the same nodes (it is what FACTS.md measured).
        assert len(backend.session.find_elements("xpath", "//node")) == dump.read_text(
            encoding="utf-8"
        ).count("<node ")
    finally:
        backend.close()


def test_window_size_falls_back_to_the_dump_bounds(fake: AppiumBackend) -> None:
    # The fake driver errors on window size for a raw dump; the root node is 720x1483.
    with pytest.raises(Exception, match="tagName"):
        fake.session.get_window_size()
    assert fake.window_size() == (720, 1483)
    assert fake.window_size() == (720, 1483)


def test_tap_and_swipe_are_w3c_touch_actions(fake: AppiumBackend) -> None:
    fake.tap(100, 200)
    fake.swipe(360, 1000, 360, 400, 0.3)
    logged = [source for performed in fake.session.get_log("actions") for source in performed]
    assert [s["parameters"]["pointerType"] for s in logged] == ["touch", "touch"]
    tap, swipe = ([(a["type"], a.get("x"), a.get("y")) for a in s["actions"]] for s in logged)
    assert tap == [
        ("pointerMove", 100, 200),
        ("pointerDown", None, None),
        ("pause", None, None),
        ("pointerUp", None, None),
    ]
    assert swipe == [
        ("pointerMove", 360, 1000),
        ("pointerDown", None, None),
        ("pointerMove", 360, 400),
        ("pointerUp", None, None),
    ]
    assert logged[1]["actions"][2]["duration"] == 300


def test_screenshot_is_png(fake: AppiumBackend) -> None:
    assert fake.screenshot().startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(
    "call",
    [
        lambda b: b.back(),
        lambda b: b.app_start("com.whatsapp"),
        lambda b: b.app_start("com.whatsapp", ".Main"),
        lambda b: b.app_stop("com.whatsapp"),
        lambda b: b.open_url("whatsapp://send"),
        lambda b: b.foreground(),
        lambda b: b.type_text("olá"),
        lambda b: b.clear_text(),
    ],
    ids=["back", "start", "start_activity", "stop", "open_url", "foreground", "type", "clear"],
)
def test_what_the_fake_driver_lacks_is_a_driver_error(
    fake: AppiumBackend, call: Callable[[AppiumBackend], object]
) -> None:
    with pytest.raises(DriverError) as caught:
        call(fake)
    assert type(caught.value) is DriverError  # not a crash: the server answered
    assert isinstance(caught.value.__cause__, UnknownMethodException)
    fake.dump()  # and the session is still usable


def test_version_and_info_degrade_to_unknown(
    fake: AppiumBackend, appium_server: AppiumServer
) -> None:
    assert fake.app_version("com.whatsapp") is None
    info = fake.info()
    assert (info.serial, info.state, info.model, info.locked) == (
        appium_server.url,
        "device",
        None,
        None,
    )


def test_a_session_ended_elsewhere_is_a_crash(
    fake: AppiumBackend, appium_server: AppiumServer
) -> None:
    httpx.delete(f"{appium_server.url}/session/{fake.session.session_id}").raise_for_status()
    with pytest.raises(DriverCrashed) as caught:
        fake.dump()
    assert isinstance(caught.value.__cause__, InvalidSessionIdException)
    assert fake.info().state == "offline"
    fake.close()  # ending a gone session is not an error
    fake.close()


def test_a_missing_app_file_is_a_driver_error(appium_server: AppiumServer, tmp_path: Path) -> None:
    with pytest.raises(DriverError) as caught:
        AppiumBackend(appium_server.url, fake_caps(tmp_path / "nope.xml"), timeout_s=30)
    assert type(caught.value) is DriverError
    assert appium_server.url in str(caught.value)


def test_no_server_is_a_crash_at_once(tmp_path: Path) -> None:
    with StubAppium() as stub:
        url = stub.url
    started = time.monotonic()
    with pytest.raises(DriverCrashed, match="unreachable"):
        AppiumBackend(url, fake_caps(tmp_path / "app.xml"), timeout_s=30)
    assert time.monotonic() - started < 5


# -- against a stub W3C server -----------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


Reply = tuple[int, Any]


@dataclass
class StubAppium:
    """A W3C server on a free port. ``session`` answers ``POST /session`` (a session
    opens by default); other routes answer from ``routes`` (``(method, path suffix) ->
    reply``); ``hold`` keeps a route's reply until the stub is closed."""

    routes: dict[tuple[str, str], Reply] = field(default_factory=dict)
    hold: set[tuple[str, str]] = field(default_factory=set)
    session: Reply = (200, {"sessionId": "s1", "capabilities": {"platformName": "Android"}})
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.release = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                stub.seen.append(Seen(self.command, self.path, dict(self.headers), body))
                status, value = stub.reply(self.command, self.path)
                payload = json.dumps({"value": value}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def reply(self, method: str, path: str) -> Reply:
        if method == "POST" and path == "/session":
            return self.session
        for (want_method, suffix), answer in self.routes.items():
            if method == want_method and path.endswith(suffix):
                if (want_method, suffix) in self.hold:
                    self.release.wait(timeout=60)
                return answer
        if method == "DELETE":
            return 200, None
        return 404, {"error": "unknown method", "message": f"no route {method} {path}"}

    def __enter__(self) -> StubAppium:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_a_token_is_a_bearer_header_and_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with StubAppium(routes={("GET", "/source"): (200, "<hierarchy/>")}) as stub:
        backend = AppiumBackend(stub.url, {"platformName": "Android"}, token=TOKEN)
        assert backend.dump() == "<hierarchy/>"
        backend.close()
    assert [s.path for s in stub.seen] == ["/session", "/session/s1/source", "/session/s1"]
    assert {s.headers.get("Authorization") for s in stub.seen} == {f"Bearer {TOKEN}"}
    assert all(TOKEN not in s.path for s in stub.seen)
    assert "/session/s1/source" in caplog.text  # requests were logged, the token not
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(backend)


def test_a_user_key_token_is_http_basic() -> None:
    with StubAppium() as stub:
        AppiumBackend(stub.url, {"platformName": "Android"}, token="alice:k3y").close()
    # base64("alice:k3y")
    assert stub.seen[0].headers.get("Authorization") == "Basic YWxpY2U6azN5"


def test_no_token_no_header() -> None:
    with StubAppium() as stub:
        AppiumBackend(stub.url, {"platformName": "Android"}).close()
    assert "Authorization" not in stub.seen[0].headers


def test_an_error_never_carries_the_token() -> None:
    refusal = (500, {"error": "session not created", "message": "no device attached"})
    with StubAppium(session=refusal) as stub, pytest.raises(DriverError) as caught:
        AppiumBackend(stub.url, {"platformName": "Android"}, token=TOKEN)
    assert "no device attached" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_uiautomator2_capabilities_are_sent_as_w3c() -> None:
    caps = {
        "platformName": "Android",
        "appium:automationName": "UiAutomator2",
        "appium:udid": "emulator-5554",
        "appium:noReset": True,
    }
    with StubAppium() as stub:
        AppiumBackend(stub.url, caps).close()
    sent = stub.seen[0].body["capabilities"]["alwaysMatch"]
    assert {k: sent[k] for k in caps} == caps


def test_a_device_that_went_away_is_a_crash() -> None:
    gone = (
        500,
        {
            "error": "unknown error",
            "message": "'POST /source' cannot be proxied to UiAutomator2 server because the "
            "instrumentation process is not running (probably crashed)",
        },
    )
    with StubAppium(routes={("GET", "/source"): gone}) as stub:
        backend = AppiumBackend(stub.url, {"platformName": "Android"})
        with pytest.raises(DriverCrashed, match="device went away"):
            backend.dump()


def test_a_server_that_stops_answering_is_a_timeout() -> None:
    route = ("GET", "/source")
    with StubAppium(routes={route: (200, "<hierarchy/>")}, hold={route}) as stub:
        backend = AppiumBackend(stub.url, {"platformName": "Android"}, timeout_s=1)
        started = time.monotonic()
        with pytest.raises(DriverTimeout):
            backend.dump()
        elapsed = time.monotonic() - started
    assert 0.9 < elapsed < 3  # one read timeout: the GET was not retried
    assert [s.path for s in stub.seen].count("/session/s1/source") == 1


def test_a_server_that_went_away_is_a_crash() -> None:
    with StubAppium() as stub:
        backend = AppiumBackend(stub.url, {"platformName": "Android"})
    with pytest.raises(DriverCrashed, match="unreachable"):
        backend.dump()
    backend.close()  # nothing left to end: not an error


def test_open_url_falls_back_to_navigation() -> None:
    routes: dict[tuple[str, str], Reply] = {
        ("POST", "/execute/sync"): (404, {"error": "unknown method", "message": "no deepLink"}),
        ("POST", "/url"): (200, None),
    }
    with StubAppium(routes=routes) as stub:
        backend = AppiumBackend(
            stub.url, {"platformName": "Android", "appium:appPackage": "com.whatsapp"}
        )
        backend.open_url("whatsapp://send?phone=1")
    executed, navigated = (s for s in stub.seen if s.method == "POST" and s.path != "/session")
    assert executed.body == {
        "script": "mobile: deepLink",
        "args": [{"url": "whatsapp://send?phone=1", "package": "com.whatsapp"}],
    }
    assert navigated.path == "/session/s1/url"
    assert navigated.body == {"url": "whatsapp://send?phone=1"}


def test_app_version_reads_dumpsys() -> None:
    dumpsys = "Packages:\n  Package [com.whatsapp] (1a2b):\n    versionCode=231 minSdk=21\n"
    dumpsys += "    versionName=2.24.9.78\n"
    with StubAppium(routes={("POST", "/execute/sync"): (200, dumpsys)}) as stub:
        backend = AppiumBackend(stub.url, {"platformName": "Android"})
        assert backend.app_version("com.whatsapp") == "2.24.9.78"
    assert stub.seen[-1].body == {
        "script": "mobile: shell",
        "args": [{"command": "dumpsys", "args": ["package", "com.whatsapp"]}],
    }
