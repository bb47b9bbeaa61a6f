"""U2Backend at its boundary: the uiautomator2 calls it makes and the errors it maps.

No device or emulator can run here, so a stand-in ``uiautomator2.Device`` (the
methods the backend uses, recording each call) is injected; what it raises are
uiautomator2's and adbutils' own exception classes. One test runs the real
connect path against the adb bundled with adbutils, on a private adb server port.
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import adbutils
import pytest
from PIL import Image
from uiautomator2 import exceptions as u2e
from uiautomator2.abstract import ShellResponse

from devices.android.backend import Foreground
from devices.android.u2_backend import U2Backend
from devices.errors import DriverCrashed, DriverError, DriverTimeout

SERIAL = "emulator-5554"


@dataclass
class FakeAdbDevice:
    state: str = "device"
    outputs: dict[str, str] = field(default_factory=dict)
    props: dict[str, str] = field(default_factory=dict)

    def get_state(self) -> str:
        return self.state

    def shell(self, args: list[str]) -> str:
        return self.outputs.get(" ".join(args), "")

    def getprop(self, name: str) -> str:
        return self.props.get(name, "")


@dataclass
class FakeInfo:
    serial: str
    state: str


@dataclass
class FakeAdb:
    """What the backend asks adb when a call fails: is the device still there?"""

    devices: list[FakeInfo] = field(default_factory=lambda: [FakeInfo(SERIAL, "device")])

    def list(self) -> list[FakeInfo]:
        return self.devices


@dataclass
class FakeDevice:
    """The ``uiautomator2.Device`` methods U2Backend uses; ``fail`` makes one raise."""

    calls: list[tuple[Any, ...]] = field(default_factory=list)
    fail: dict[str, BaseException] = field(default_factory=dict)
    shell_output: str = "Events injected: 1"
    adb_device: FakeAdbDevice = field(default_factory=FakeAdbDevice)
    installed: dict[str, str] = field(default_factory=lambda: {"com.whatsapp": "2.24.9.78"})

    def _call(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append((name, *args, *sorted(kwargs.items())))
        if name in self.fail:
            raise self.fail[name]

    def dump_hierarchy(self) -> str:
        self._call("dump_hierarchy")
        return "<hierarchy rotation='0'/>"

    def screenshot(self) -> Image.Image:
        self._call("screenshot")
        return Image.new("RGB", (72, 160), (10, 20, 30))

    def window_size(self) -> tuple[int, int]:
        self._call("window_size")
        return 720, 1600

    def click(self, x: int, y: int) -> None:
        self._call("click", x, y)

    def send_keys(self, text: str, clear: bool = False) -> None:
        self._call("send_keys", text, clear=clear)

    def clear_text(self) -> None:
        self._call("clear_text")

    def swipe(self, fx: int, fy: int, tx: int, ty: int, duration: float | None = None) -> None:
        self._call("swipe", fx, fy, tx, ty, duration=duration)

    def press(self, key: str) -> None:
        self._call("press", key)

    def shell(self, args: list[str]) -> ShellResponse:
        self._call("shell", tuple(args))
        return ShellResponse(self.shell_output, 0)

    def app_stop(self, package: str) -> None:
        self._call("app_stop", package)

    def app_current(self) -> dict[str, Any]:
        self._call("app_current")
        return {"package": "com.whatsapp", "activity": ".HomeActivity", "pid": 4242}

    def app_info(self, package: str) -> dict[str, Any]:
        self._call("app_info", package)
        if package not in self.installed:
            raise u2e.AppNotFoundError("App not installed", package)
        return {"versionName": self.installed[package], "versionCode": 1}

    def stop_uiautomator(self, wait: bool = True) -> None:
        self._call("stop_uiautomator", wait=wait)


@pytest.fixture
def device() -> FakeDevice:
    return FakeDevice()


@pytest.fixture
def adb() -> FakeAdb:
    return FakeAdb()


@pytest.fixture
def backend(device: FakeDevice, adb: FakeAdb) -> U2Backend:
    return U2Backend(SERIAL, device=device, adb=adb)


def test_verbs_are_the_uiautomator2_calls(backend: U2Backend, device: FakeDevice) -> None:
    assert backend.dump() == "<hierarchy rotation='0'/>"
    assert backend.window_size() == (720, 1600)
    backend.tap(360, 800)
    backend.type_text("olá")
    backend.clear_text()
    backend.swipe(360, 1200, 360, 400, 0.3)
    backend.back()
    backend.app_stop("com.whatsapp")
    assert device.calls == [
        ("dump_hierarchy",),
        ("window_size",),
        ("click", 360, 800),
        ("send_keys", "olá", ("clear", False)),
        ("clear_text",),
        ("swipe", 360, 1200, 360, 400, ("duration", 0.3)),
        ("press", "back"),
        ("app_stop", "com.whatsapp"),
    ]


def test_screenshot_is_a_png_of_the_device_image(backend: U2Backend) -> None:
    png = backend.screenshot()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(png)) as image:
        assert (image.format, image.size) == ("PNG", (72, 160))
        assert image.getpixel((5, 5)) == (10, 20, 30)


def test_app_start_and_deep_links_are_intents(backend: U2Backend, device: FakeDevice) -> None:
    backend.app_start("com.whatsapp")
    backend.app_start("com.whatsapp", ".HomeActivity")
    device.shell_output = "Starting: Intent { act=android.intent.action.VIEW dat=sandbox: }"
    backend.open_url("sandbox://inbox")
    assert [c[1] for c in device.calls] == [
        ("monkey", "-p", "com.whatsapp", "-c", "android.intent.category.LAUNCHER", "1"),
        ("am", "start", "-a", "android.intent.action.MAIN")
        + ("-c", "android.intent.category.LAUNCHER", "-n", "com.whatsapp/.HomeActivity"),
        ("am", "start", "-a", "android.intent.action.VIEW", "-d", "sandbox://inbox"),
    ]


@pytest.mark.parametrize(
    "output",
    [
        "** No activities found to run, monkey aborted.",
        "Error: Activity not started, unable to resolve Intent",
    ],
)
def test_a_start_the_device_refused_is_an_error(
    backend: U2Backend, device: FakeDevice, output: str
) -> None:
    device.shell_output = output
    with pytest.raises(DriverError, match="start com.example"):
        backend.app_start("com.example")


def test_foreground_and_versions(backend: U2Backend) -> None:
    assert backend.foreground() == Foreground("com.whatsapp", ".HomeActivity")
    assert backend.app_version("com.whatsapp") == "2.24.9.78"
    assert backend.app_version("com.not.installed") is None


def test_info_reads_adb(backend: U2Backend, device: FakeDevice) -> None:
    device.adb_device.outputs = {
        "dumpsys power": "Power Manager State:\n  mWakefulness=Awake\n",
        "dumpsys window": "  mDreamingLockscreen=false mShowingLockscreen=true\n",
    }
    device.adb_device.props = {"ro.product.model": "Pixel 7", "ro.build.version.release": "14"}
    info = backend.info()
    assert (info.serial, info.state, info.screen_on, info.locked) == (SERIAL, "device", True, True)
    assert (info.model, info.android) == ("Pixel 7", "14")
    device.adb_device.outputs = {"dumpsys power": "mWakefulness=Asleep"}
    info = backend.info()
    assert (info.screen_on, info.locked) == (False, None)  # no lock marker: unknown
    device.adb_device.state = "unauthorized"
    info = backend.info()
    assert (info.state, info.screen_on, info.model) == ("unauthorized", None, None)


MAPPING: list[tuple[BaseException, type[DriverError]]] = [
    (u2e.HTTPTimeoutError("HTTP request timeout"), DriverTimeout),
    (adbutils.AdbTimeout("adb read timeout"), DriverTimeout),
    (u2e.ConnectError("device emulator-5554 not online"), DriverCrashed),
    (u2e.HTTPError("Unable to connect to uiautomator2 server"), DriverCrashed),
    (u2e.UiAutomationNotConnectedError("android.os.DeadObjectException"), DriverCrashed),
    (u2e.LaunchUiAutomationError("server quit unexpectly"), DriverCrashed),
    (u2e.SessionBrokenError("app quit"), DriverCrashed),
    (ConnectionResetError("connection reset by peer"), DriverCrashed),
    (u2e.RPCUnknownError("Unknown RPC error: -32001 java.lang.IllegalStateException"), DriverError),
    (u2e.UiObjectNotFoundError(-32002, "not found", None), DriverError),
    (u2e.HierarchyEmptyError("dump empty"), DriverError),
]


@pytest.mark.parametrize("error,mapped", MAPPING, ids=[type(e).__name__ for e, _ in MAPPING])
@pytest.mark.parametrize(
    "verb,call",
    [
        ("dump_hierarchy", lambda b: b.dump()),
        ("click", lambda b: b.tap(1, 2)),
        ("send_keys", lambda b: b.type_text("x")),
        ("swipe", lambda b: b.swipe(1, 2, 3, 4, 0.1)),
    ],
)
def test_library_errors_are_mapped(
    backend: U2Backend,
    device: FakeDevice,
    verb: str,
    call: Callable[[U2Backend], object],
    error: BaseException,
    mapped: type[DriverError],
) -> None:
    device.fail[verb] = error
    with pytest.raises(DriverError) as caught:
        call(backend)
    assert type(caught.value) is mapped
    assert caught.value.__cause__ is error
    assert SERIAL in str(caught.value)


def test_an_adb_error_is_a_crash_only_when_the_device_is_gone(
    backend: U2Backend, device: FakeDevice, adb: FakeAdb
) -> None:
    device.fail["dump_hierarchy"] = adbutils.AdbError("uiautomator dump failed")
    with pytest.raises(DriverError) as caught:
        backend.dump()
    assert type(caught.value) is DriverError  # adb still lists it as a ready device
    adb.devices = [FakeInfo(SERIAL, "offline")]
    with pytest.raises(DriverCrashed, match=rf"{SERIAL} \(offline\)"):
        backend.dump()
    adb.devices = []
    device.fail["dump_hierarchy"] = u2e.AdbShellError(adbutils.AdbError("closed"))
    with pytest.raises(DriverCrashed, match="no devices"):
        backend.dump()


def test_close_stops_the_server_once_and_forgives_a_gone_device(
    device: FakeDevice, adb: FakeAdb
) -> None:
    backend = U2Backend(SERIAL, device=device, adb=adb)
    device.fail["stop_uiautomator"] = u2e.ConnectError("gone")
    backend.close()
    backend.close()
    assert device.calls == [("stop_uiautomator", ("wait", False))]


# -- the real connect path, against the bundled adb ---------------------------------


@pytest.fixture
def private_adb(monkeypatch: pytest.MonkeyPatch) -> Iterator[adbutils.AdbClient]:
    """An adb server of our own on a free port (adbutils starts the bundled one)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(port))  # `adb start-server` reads it
    client = adbutils.AdbClient(host="127.0.0.1", port=port, socket_timeout=10)
    yield client
    with contextlib.suppress(adbutils.AdbError):
        client.server_kill()


def test_no_such_serial_is_a_clear_crash_in_bounded_time(private_adb: adbutils.AdbClient) -> None:
    outcome: list[BaseException] = []

    def connect() -> None:
        try:
            U2Backend("no-such-serial", adb=private_adb, connect_timeout_s=1)
        except BaseException as exc:  # handed to the test thread below
            outcome.append(exc)

    worker = threading.Thread(target=connect, daemon=True)
    worker.start()
    worker.join(timeout=40)  # adb start-server (about 3 s here) + the 1 s wait
    assert not worker.is_alive(), "U2Backend('no-such-serial') hung"
    assert len(outcome) == 1
    error = outcome[0]
    assert type(error) is DriverCrashed, repr(error)
    assert "'no-such-serial' is not ready after 1s" in str(error)
    assert "adb sees: no devices" in str(error)
    assert isinstance(error.__cause__, adbutils.AdbTimeout)
