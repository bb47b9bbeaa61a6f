"""devices doctor: every failed check with its fix, through fakes; the real adb with a serial
that does not exist (bounded); a real HTTP server answering like Appium 3's /status."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from devices.android.backend import DeviceInfo
from devices.doctor import Check, CheckKind, Doctor, Reach, Status, default_reach
from devices.errors import DriverCrashed, DriverError, DriverTimeout
from devices.inventory import (
    AdbServer,
    DeviceUse,
    InventoryDevice,
    screen_locked,
    screen_on,
    version_name,
)
from devices.models import DeviceEntry
from devices.selectors import App
from tests.serving import free_port

READY = DeviceInfo("S1", "device", screen_on=True, locked=False, model="Pixel 7", android="14")
CHAT = App(package="com.example.chat", versions=["3.2.x"])


@dataclass
class FakeProbe:
    info_: DeviceInfo = READY
    versions: dict[str, str] = field(default_factory=lambda: {"com.example.chat": "3.2.1"})
    fail: DriverError | None = None
    closed: bool = False

    def info(self) -> DeviceInfo:
        if self.fail is not None:
            raise self.fail
        return self.info_

    def app_version(self, package: str) -> str | None:
        if self.fail is not None:
            raise self.fail
        return self.versions.get(package)

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeAdb:
    attached: dict[str, str] | DriverError = field(default_factory=lambda: {"S1": "device"})
    probes: dict[str, FakeProbe] = field(default_factory=lambda: {"S1": FakeProbe()})
    listed: int = 0
    where: str = "127.0.0.1:5037"

    def devices(self) -> dict[str, str]:
        self.listed += 1
        if isinstance(self.attached, DriverError):
            raise self.attached
        return self.attached

    def probe(self, serial: str) -> FakeProbe:
        return self.probes[serial]


def use(app: App | None = CHAT, package: str = "com.example.chat") -> DeviceUse:
    return DeviceUse("acme-chat", package, "@acme", "chat-android", app)


def device(driver: str = "uiautomator2", uses: tuple[DeviceUse, ...] = (), **extra: object):
    fields: dict[str, object] = {"id": "phone-1", "driver": driver, **extra}
    if driver == "uiautomator2":
        fields.setdefault("serial", "S1")
    if driver == "appium":
        fields.setdefault("appium_url", "http://appium.test:4723")
    return InventoryDevice(DeviceEntry.model_validate(fields), uses or (use(),), "phone-1.yaml")


def reach(
    adb: FakeAdb | None = None,
    status: Callable[[httpx.Request], httpx.Response] | None = None,
    backend: Callable[[DeviceEntry], FakeProbe] | None = None,
    env: dict[str, str] | None = None,
) -> Reach:
    def no_http(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"unexpected request {request.url}")

    def no_backend(entry: DeviceEntry) -> FakeProbe:
        raise AssertionError("no backend expected")

    fake = adb or FakeAdb()
    return Reach(
        adb=lambda: fake,
        http=lambda: httpx.Client(transport=httpx.MockTransport(status or no_http)),
        backend=backend or no_backend,
        env=env or {},
    )


def only(checks: list[Check], kind: CheckKind) -> Check:
    found = [c for c in checks if c.kind == kind]
    assert len(found) == 1, checks
    return found[0]


def failures(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.status is Status.FAIL]


# -- uiautomator2 over adb ---------------------------------------------------------------


def test_a_ready_phone_with_a_tested_app_passes_every_check() -> None:
    checks = Doctor(reach()).check(device())
    assert [(c.kind, c.status) for c in checks] == [
        (CheckKind.ADB, Status.OK),
        (CheckKind.STATE, Status.OK),
        (CheckKind.SCREEN, Status.OK),
        (CheckKind.APP, Status.OK),
    ]
    assert checks[2].message == "screen on and unlocked (Pixel 7, Android 14)"
    assert checks[3].message == "com.example.chat 3.2.1: pack chat-android was written for it"
    assert checks[3].workspace == "acme-chat"


def test_adb_not_answering_is_one_failure_with_its_fix() -> None:
    adb = FakeAdb(attached=DriverTimeout("no answer in 10 s"))
    checks = Doctor(reach(adb)).check(device())
    assert len(checks) == 1
    assert checks[0].status is Status.FAIL
    assert checks[0].message == "adb does not answer at 127.0.0.1:5037: no answer in 10 s"
    assert checks[0].fix is not None and "`adb kill-server`" in checks[0].fix


def test_a_serial_adb_does_not_see() -> None:
    adb = FakeAdb(attached={"OTHER": "device"})
    check = failures(Doctor(reach(adb)).check(device()))[0]
    assert check.message == "adb sees no device with serial S1"
    assert check.fix == (
        "connect it by USB and accept the debugging prompt, or `adb connect HOST:PORT` "
        "(adb sees: OTHER)"
    )


@pytest.mark.parametrize(
    ("state", "fix_part"),
    [
        ("offline", "`adb reconnect offline`"),
        ("unauthorized", "accept the 'Allow USB debugging?' prompt"),
        ("no permissions", "udev rule"),
        ("recovery", "boot it into Android and reconnect it"),
    ],
)
def test_a_device_not_ready_says_its_state_and_the_fix(state: str, fix_part: str) -> None:
    adb = FakeAdb(attached={"S1": state})
    checks = Doctor(reach(adb)).check(device())
    assert checks[-1].kind is CheckKind.STATE and checks[-1].status is Status.FAIL
    assert checks[-1].message == f"S1 is {state}"
    assert checks[-1].fix is not None and fix_part in checks[-1].fix
    assert CheckKind.SCREEN not in {c.kind for c in checks}  # nothing after a failed state


@pytest.mark.parametrize(
    ("info", "status", "message", "fix_part"),
    [
        (
            DeviceInfo("S1", "device", screen_on=False, locked=False),
            Status.FAIL,
            "the screen is off",
            "`adb -s S1 shell input keyevent KEYCODE_WAKEUP`",
        ),
        (
            DeviceInfo("S1", "device", screen_on=True, locked=True),
            Status.FAIL,
            "the screen is locked",
            "Screen lock > None",
        ),
        (
            DeviceInfo("S1", "device", screen_on=True, locked=None),
            Status.SKIP,
            "the device does not say whether it is unlocked",
            None,
        ),
    ],
)
def test_screen_checks(info: DeviceInfo, status: Status, message: str, fix_part: str | None):
    adb = FakeAdb(probes={"S1": FakeProbe(info_=info)})
    check = only(Doctor(reach(adb)).check(device()), CheckKind.SCREEN)
    assert (check.status, check.message) == (status, message)
    assert (check.fix is None) if fix_part is None else (fix_part in (check.fix or ""))


@pytest.mark.parametrize(
    ("the_use", "versions", "message", "fix_part"),
    [
        (
            use(),
            {"com.example.chat": "3.3.0"},
            "untested version 3.3.0; the pack was written for 3.2.x (pack chat-android)",
            "(`inbox-agent selectors check acme-chat`) and add 3.3.0 to its app.versions",
        ),
        (
            use(App(package="com.example.chat", versions=[])),
            {"com.example.chat": "3.2.1"},
            "untested version 3.2.1; the pack was written for no version yet (pack chat-android)",
            "add 3.2.1",
        ),
        (
            use(),
            {},
            "com.example.chat is not installed",
            "install it on the device and sign in as @acme",
        ),
        (
            use(app=None),
            {"com.example.chat": "3.2.1"},
            "com.example.chat 3.2.1 is installed, but selector pack chat-android names no app "
            "version",
            'app: {package: com.example.chat, versions: ["3.2.1"]}',
        ),
        (
            use(App(package="com.other.app", versions=["1.x"])),
            {"com.example.chat": "3.2.1"},
            "the workspace runs com.example.chat, but selector pack chat-android was written "
            "for com.other.app",
            "environment.app_package",
        ),
    ],
)
def test_app_version_checks(
    the_use: DeviceUse, versions: dict[str, str], message: str, fix_part: str
) -> None:
    adb = FakeAdb(probes={"S1": FakeProbe(versions=versions)})
    check = only(Doctor(reach(adb)).check(device(uses=(the_use,))), CheckKind.APP)
    assert check.status is Status.FAIL and check.workspace == "acme-chat"
    assert check.message == message
    assert check.fix is not None and fix_part in check.fix


def test_a_device_no_workspace_uses_skips_the_app_check() -> None:
    dev = InventoryDevice(DeviceEntry(id="spare", driver="uiautomator2", serial="S1"))
    check = only(Doctor(reach()).check(dev), CheckKind.APP)
    assert (check.status, check.message) == (Status.SKIP, "no workspace runs on this device")


def test_a_device_that_goes_away_mid_check() -> None:
    adb = FakeAdb(probes={"S1": FakeProbe(fail=DriverCrashed("closed"))})
    check = failures(Doctor(reach(adb)).check(device()))[0]
    assert check.kind is CheckKind.SCREEN and check.message == "adb shell on S1 failed: closed"


def test_adb_is_asked_once_for_every_device() -> None:
    adb = FakeAdb(attached={"S1": "device", "S2": "offline"})
    adb.probes["S2"] = FakeProbe()
    doctor = Doctor(reach(adb))
    checks = doctor.check_all([device(), device(serial="S2", id="phone-2")])
    assert adb.listed == 1
    assert [c.message for c in failures(checks)] == ["S2 is offline"]


# -- appium ------------------------------------------------------------------------------


def appium_status(body: object, code: int = 200, seen: list[httpx.Request] | None = None):
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        assert request.url.path == "/status"
        return httpx.Response(code, json=body) if body is not None else httpx.Response(code)

    return handle


APPIUM_READY = {"value": {"ready": True, "message": "ready", "build": {"version": "3.8.0"}}}


def test_appium_ready_then_the_app_checks_through_a_session() -> None:
    seen: list[httpx.Request] = []
    probe = FakeProbe()
    dev = device("appium", appium_token_env="GRID_TOKEN", serial="S1")
    doctor = Doctor(
        reach(
            status=appium_status(APPIUM_READY, seen=seen),
            backend=lambda entry: probe,
            env={"GRID_TOKEN": "s3cr3t-token"},
        )
    )
    checks = doctor.check(dev)
    assert [(c.kind, c.status) for c in checks] == [
        (CheckKind.APPIUM, Status.OK),
        (CheckKind.SESSION, Status.OK),
        (CheckKind.STATE, Status.OK),
        (CheckKind.SCREEN, Status.OK),
        (CheckKind.APP, Status.OK),
    ]
    assert checks[0].message == "Appium 3.8.0 ready at http://appium.test:4723"
    assert seen[0].headers["authorization"] == "Bearer s3cr3t-token"
    assert probe.closed


def _transport_error(error: type[httpx.TransportError]):
    def handle(request: httpx.Request) -> httpx.Response:
        raise error("boom", request=request)

    return handle


@pytest.mark.parametrize(
    ("status", "env", "message", "fix_part"),
    [
        (None, {}, "$GRID_TOKEN (appium_token_env) is not set", "export GRID_TOKEN"),
        (
            _transport_error(httpx.ConnectError),
            {"GRID_TOKEN": "s3cr3t-token"},
            "no Appium server answers at http://appium.test:4723 (ConnectError)",
            "`appium --address HOST --port PORT`",
        ),
        (
            _transport_error(httpx.ReadTimeout),
            {"GRID_TOKEN": "s3cr3t-token"},
            "Appium at http://appium.test:4723 did not answer in time",
            "correct appium_url in phone-1.yaml",
        ),
        (
            appium_status({"value": {"error": "unauthorized"}}, 401),
            {"GRID_TOKEN": "s3cr3t-token"},
            "Appium at http://appium.test:4723 refused the request (HTTP 401, token: $GRID_TOKEN)",
            "token",
        ),
        (
            appium_status(None, 404),
            {"GRID_TOKEN": "s3cr3t-token"},
            "http://appium.test:4723/status answered HTTP 404, not Appium's status",
            "base path",
        ),
        (
            appium_status({"value": {"ready": False, "message": "drivers loading"}}),
            {"GRID_TOKEN": "s3cr3t-token"},
            "Appium at http://appium.test:4723 is not ready: drivers loading",
            "see its log",
        ),
    ],
)
def test_appium_status_failures(status, env, message: str, fix_part: str) -> None:  # type: ignore[no-untyped-def]
    dev = device("appium", appium_token_env="GRID_TOKEN")
    checks = Doctor(reach(status=status, env=env)).check(dev)
    assert len(checks) == 1 and checks[0].status is Status.FAIL  # no session after a failure
    assert checks[0].message == message
    assert checks[0].fix is not None and fix_part in checks[0].fix
    assert "s3cr3t" not in checks[0].message + checks[0].fix


@pytest.mark.parametrize(
    ("backend", "status", "message"),
    [
        (
            lambda entry: (_ for _ in ()).throw(DriverCrashed("session not created: no udid")),
            Status.FAIL,
            "cannot open an Appium session: session not created: no udid",
        ),
        (
            lambda entry: (_ for _ in ()).throw(ImportError("no module appium_backend")),
            Status.SKIP,
            "no appium backend in this build: no module appium_backend",
        ),
        (
            lambda entry: FakeProbe(fail=DriverTimeout("no answer")),
            Status.FAIL,
            "an Appium session does not answer: no answer",
        ),
    ],
)
def test_appium_session_failures(backend, status: Status, message: str) -> None:  # type: ignore[no-untyped-def]
    dev = device("appium", serial="S9")
    checks = Doctor(reach(status=appium_status(APPIUM_READY), backend=backend)).check(dev)
    check = only(checks, CheckKind.SESSION)
    assert (check.status, check.message) == (status, message)
    if status is Status.FAIL:
        assert check.fix is not None and "device S9 (`adb devices` there)" in check.fix


def test_a_busy_appium_device_gets_no_second_session() -> None:
    dev = device("appium")
    doctor = Doctor(reach(status=appium_status(APPIUM_READY)))  # a backend call would fail
    checks = doctor.check(dev, in_use_by="sweep acme-chat")
    assert [(c.kind, c.status) for c in checks] == [
        (CheckKind.APPIUM, Status.OK),
        (CheckKind.SESSION, Status.SKIP),
    ]
    assert checks[1].message == "no session opened: the device is in use by sweep acme-chat"


# -- sandbox -----------------------------------------------------------------------------


def test_a_sandbox_device_that_does_not_answer() -> None:
    probe = FakeProbe(fail=DriverCrashed("connection refused"))
    checks = Doctor(reach(backend=lambda entry: probe)).check(device("sandbox"))
    assert checks[0].message == "sandbox device phone-1 does not answer: connection refused"
    assert checks[0].fix is not None and "`inbox-agent sandbox serve`" in checks[0].fix
    assert probe.closed


def test_a_sandbox_device_with_an_untested_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INBOX_AGENT_SANDBOX_URL", "http://127.0.0.1:9/")
    probe = FakeProbe(versions={"com.example.chat": "4.0"})
    checks = Doctor(reach(backend=lambda entry: probe)).check(device("sandbox", serial="sb-7"))
    assert [c.status for c in checks] == [Status.OK, Status.OK, Status.OK, Status.FAIL]
    assert checks[0].message == "sandbox device sb-7 answers at http://127.0.0.1:9"
    assert checks[-1].message.startswith("untested version 4.0; the pack was written for 3.2.x")


def test_the_real_sandbox_device_through_the_real_backend(monkeypatch: pytest.MonkeyPatch):
    from sandbox.testing import running_sandbox

    sandbox_app = App(package="com.sandbox.social", versions=["3.2.x"])
    older = App(package="com.sandbox.social", versions=["3.1.x"])
    uses = (
        DeviceUse("acme-sandbox", "com.sandbox.social", "@acme", "sandbox-android", sandbox_app),
        DeviceUse("old-sandbox", "com.sandbox.social", "@acme", "sandbox-android-old", older),
    )
    with running_sandbox(seed=1) as sb:
        monkeypatch.setenv("INBOX_AGENT_SANDBOX_URL", sb.url)
        doctor = Doctor(default_reach(timeout_s=5))
        checks = doctor.check(device("sandbox", uses, serial="sandbox-1"))
        gone = doctor.check(device("sandbox", serial="sandbox-9"))
    assert [(c.kind, c.status) for c in checks] == [
        (CheckKind.SESSION, Status.OK),
        (CheckKind.STATE, Status.OK),
        (CheckKind.SCREEN, Status.OK),
        (CheckKind.APP, Status.OK),
        (CheckKind.APP, Status.FAIL),
    ]
    assert checks[0].message == f"sandbox device sandbox-1 answers at {sb.url}"
    assert checks[-1].message == (
        "untested version 3.2.0; the pack was written for 3.1.x (pack sandbox-android-old)"
    )
    assert gone[0].status is Status.FAIL
    assert "no device 'sandbox-9' (attached: sandbox-1)" in gone[0].message


# -- adb shell output --------------------------------------------------------------------


def test_reading_screen_lock_and_version_from_dumpsys() -> None:
    assert screen_on("  mWakefulness=Awake\n  mWakefulnessChanging=false") is True
    assert screen_on("mWakefulness=Asleep") is False
    assert screen_on("mWakefulness=Dozing") is False
    assert screen_on("Display Power: state=OFF") is False
    assert screen_on("nothing here") is None
    assert screen_locked("mShowingDream=false mDreamingLockscreen=true mDreamingSleepToken=null")
    assert screen_locked("mShowingLockscreen=false mShowingDream=false") is False
    assert screen_locked("isStatusBarKeyguard=false mKeyguardShowing=true") is True
    assert screen_locked("") is None
    dump = "Packages:\n  Package [com.example.chat] (4e0):\n    versionCode=321 minSdk=26\n"
    assert version_name(dump + "    versionName=3.2.1\n") == "3.2.1"
    assert version_name("Unable to find package: com.example.chat") is None
    assert version_name("    versionName=null") is None


# -- the real adb and a real HTTP server -------------------------------------------------


@pytest.fixture(scope="module")
def adb_port() -> Iterator[int]:
    """A port for a private adb server, killed afterwards (the doctor starts it)."""
    from adbutils import adb_path

    port = free_port()
    yield port
    subprocess.run(
        [adb_path(), "-P", str(port), "kill-server"], capture_output=True, timeout=30, check=False
    )


def test_the_real_adb_reports_a_serial_it_does_not_see(adb_port: int) -> None:
    server = AdbServer(port=adb_port, timeout_s=5, start_timeout_s=20)
    started = time.monotonic()
    checks = Doctor(Reach(lambda: server, httpx.Client, FakeProbe, {})).check(
        device(serial="no-such-serial-4711")
    )
    assert time.monotonic() - started < 30
    assert [(c.kind, c.status) for c in checks] == [
        (CheckKind.ADB, Status.OK),
        (CheckKind.STATE, Status.FAIL),
    ]
    assert checks[0].message.startswith(f"adb answers at 127.0.0.1:{adb_port}")
    assert checks[1].message == "adb sees no device with serial no-such-serial-4711"


def test_an_adb_port_that_never_answers_times_out() -> None:
    with socket.socket() as silent:  # accepts connections and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        server = AdbServer(port=silent.getsockname()[1], timeout_s=0.5)
        started = time.monotonic()
        with pytest.raises(DriverTimeout, match="no answer in 0.5 s"):
            server.devices()
        assert time.monotonic() - started < 5


def test_a_remote_adb_server_is_not_started_from_here() -> None:
    server = AdbServer(host="192.0.2.1", port=free_port(), timeout_s=0.5)
    with pytest.raises(DriverCrashed, match="a remote one is not started from here"):
        server.devices()


class _Appium3(BaseHTTPRequestHandler):
    ready = True
    seen: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server hook
        type(self).seen.append((self.path, self.headers.get("Authorization")))
        if self.path != "/status":
            self.send_error(404)
            return
        value = {
            "ready": type(self).ready,
            "message": "The server is ready to accept new connections",
            "build": {"version": "3.8.0"},
        }
        body = json.dumps({"value": value}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def appium_like() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Appium3)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Appium3.seen = []
    _Appium3.ready = True
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_real_http_server_answering_like_appium_3(appium_like: str) -> None:
    appium_server = appium_like
    dev = device("appium", appium_url=appium_server, appium_token_env="GRID_TOKEN")
    real = Reach(
        lambda: FakeAdb(),
        lambda: httpx.Client(timeout=5),
        lambda e: FakeProbe(),
        {"GRID_TOKEN": "t0k"},
    )
    checks = Doctor(real).check(dev)
    assert checks[0].status is Status.OK
    assert checks[0].message == f"Appium 3.8.0 ready at {appium_server}"
    assert _Appium3.seen == [("/status", "Bearer t0k")]
    _Appium3.ready = False
    again = Doctor(real).check(dev)
    assert again[0].message == (
        f"Appium 3.8.0 at {appium_server} is not ready: "
        "The server is ready to accept new connections"
    )
    wrong = device("appium", appium_url=appium_server + "/wd/hub")
    assert Doctor(real).check(wrong)[0].message == (
        f"{appium_server}/wd/hub/status answered HTTP 404, not Appium's status"
    )


def test_a_user_key_token_is_sent_as_basic_auth_like_the_backend_does(appium_like: str):
    dev = device("appium", appium_url=appium_like, appium_token_env="GRID_TOKEN")
    env = {"GRID_TOKEN": "alice:k3y"}
    real = Reach(lambda: FakeAdb(), lambda: httpx.Client(timeout=5), lambda e: FakeProbe(), env)
    assert Doctor(real).check(dev)[0].status is Status.OK
    assert _Appium3.seen == [("/status", "Basic YWxpY2U6azN5")]  # base64 of alice:k3y


def test_the_real_appium_3_with_its_fake_driver(appium_server, android_ui) -> None:  # type: ignore[no-untyped-def]
    caps = {
        "platformName": "Fake",
        "appium:automationName": "Fake",
        "appium:app": str(android_ui / "whatsapp_chat_list.xml"),
    }
    whatsapp = DeviceUse("acme-wa", "com.whatsapp", "@acme", "whatsapp-android", None)
    dev = device("appium", (whatsapp,), appium_url=appium_server.url, capabilities=caps)
    checks = Doctor(default_reach(timeout_s=30)).check(dev)
    assert [(c.kind, c.status) for c in checks] == [
        (CheckKind.APPIUM, Status.OK),
        (CheckKind.SESSION, Status.OK),
        (CheckKind.STATE, Status.OK),
        (CheckKind.SCREEN, Status.SKIP),  # the fake driver says nothing of the screen
        (CheckKind.APP, Status.FAIL),  # nor of versions: `mobile: shell` is refused
    ]
    assert re.fullmatch(rf"Appium 3\.\d+\.\d+ ready at {appium_server.url}", checks[0].message)
    assert checks[-1].message == "com.whatsapp is not installed, or its version cannot be read"
    assert (
        checks[-1].fix is not None and "--allow-insecure uiautomator2:adb_shell" in checks[-1].fix
    )
