"""``devices doctor``: is each device ready for a sweep, and if not, what to do about it.

Per device, in order (a failed step skips what depends on it):

- uiautomator2: adb answers (the server is started if need be), adb lists the serial
  in state ``device``, the screen is on and unlocked, then the app checks;
- appium: the server's ``GET {appium_url}/status`` is ready (the token from the
  variable ``appium_token_env`` names, never shown), a session opens through the
  device backend, its state and screen, then the app checks;
- sandbox: the sandbox device answers over HTTP through its backend, then the same.

The app checks compare each workspace's installed ``app_package`` version with the
versions its selector pack was written for (``App.tested``). Every failed check says
what was seen and how to fix it. Devices are reached only through ``Reach``: adb, an
HTTP client and a backend factory, so tests put fakes there. Every adb call is bounded
by a timeout (``devices.inventory.AdbServer``).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Protocol

import httpx

from devices.android.backend import DeviceInfo
from devices.errors import DriverError
from devices.inventory import DeviceUse, InventoryDevice, sandbox_url
from devices.models import DeviceEntry

__all__ = ["Adb", "Check", "CheckKind", "DeviceProbe", "Doctor", "Reach", "Status"]


class Status(StrEnum):
    OK = "ok"
    FAIL = "fail"
    SKIP = "skip"  # could not be checked (said why); not a failure


class CheckKind(StrEnum):
    ADB = "adb"
    APPIUM = "appium"
    SESSION = "session"  # an Appium session, or the sandbox device answering
    STATE = "state"
    SCREEN = "screen"
    APP = "app"


@dataclass(frozen=True)
class Check:
    device: str
    kind: CheckKind
    status: Status
    message: str
    fix: str | None = None
    workspace: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, StrEnum) else v for k, v in asdict(self).items()}


class DeviceProbe(Protocol):
    """The part of ``DeviceBackend`` the doctor uses (every backend is one)."""

    def info(self) -> DeviceInfo: ...

    def app_version(self, package: str) -> str | None: ...

    def close(self) -> None: ...


class Adb(Protocol):
    @property
    def where(self) -> str:
        """The adb server, ``127.0.0.1:5037``."""
        ...

    def devices(self) -> dict[str, str]:
        """Serial -> state of every device adb knows; raises DriverError if adb does not answer."""
        ...

    def probe(self, serial: str) -> DeviceProbe: ...


@dataclass
class Reach:
    """How the doctor reaches devices."""

    adb: Callable[[], Adb]
    http: Callable[[], httpx.Client]
    backend: Callable[[DeviceEntry], DeviceProbe]  # appium and sandbox devices
    env: Mapping[str, str]


def default_reach(timeout_s: float = 10.0) -> Reach:
    """The real thing: adbutils, httpx, and ``devices.factory``'s backends."""

    def adb() -> Adb:
        from devices.inventory import AdbServer

        return AdbServer(timeout_s=timeout_s)

    def backend(entry: DeviceEntry) -> DeviceProbe:
        from devices.factory import device_backend

        return device_backend(entry)

    return Reach(adb, lambda: httpx.Client(timeout=timeout_s), backend, os.environ)


STATE_FIXES = {
    "offline": "reconnect the cable, or `adb reconnect offline`; over the network: "
    "`adb disconnect {serial}` then `adb connect {serial}`",
    "unauthorized": "unlock the phone and accept the 'Allow USB debugging?' prompt (tick "
    "'Always allow'); no prompt: revoke USB debugging authorisations in Developer options "
    "and reconnect",
    "no permissions": "on Linux, add a udev rule for the phone's USB vendor id (or put your "
    "user in the plugdev group), then reconnect",
}


class Doctor:
    """Checks devices through ``reach``; one instance asks adb for its device list once."""

    def __init__(self, reach: Reach) -> None:
        self.reach = reach
        self._adb: Adb | None = None
        self._adb_devices: dict[str, str] | DriverError | None = None

    def check_all(self, devices: Iterable[InventoryDevice]) -> list[Check]:
        return [check for device in devices for check in self.check(device)]

    def check(self, device: InventoryDevice, *, in_use_by: str | None = None) -> list[Check]:
        """The checks of one device. ``in_use_by``: who holds every slot now; an Appium
        session is then not opened (a second session would end the sweep's)."""
        out: list[Check] = []
        if device.entry.driver == "uiautomator2":
            self._over_adb(device, out)
        elif device.entry.driver == "appium":
            ready = self._appium_status(device, out)
            if ready and in_use_by is None:
                self._over_backend(device, out)
            elif ready:
                message = f"no session opened: the device is in use by {in_use_by}"
                out.append(Check(device.id, CheckKind.SESSION, Status.SKIP, message))
        else:
            self._over_backend(device, out)
        return out

    # -- uiautomator2: adb ------------------------------------------------------------

    def _listed(self) -> tuple[Adb, dict[str, str] | DriverError]:
        if self._adb is None:
            self._adb = self.reach.adb()
            try:
                self._adb_devices = self._adb.devices()
            except DriverError as exc:
                self._adb_devices = exc
        assert self._adb_devices is not None
        return self._adb, self._adb_devices

    def _over_adb(self, device: InventoryDevice, out: list[Check]) -> None:
        serial = device.entry.serial or ""
        adb, listed = self._listed()
        add = _adder(device, out)
        if isinstance(listed, DriverError):
            add(
                CheckKind.ADB,
                Status.FAIL,
                f"adb does not answer at {adb.where}: {listed}",
                "check that `adb start-server` works on this host; a stuck server: "
                "`adb kill-server`, then run the doctor again",
            )
            return
        add(CheckKind.ADB, Status.OK, f"adb answers at {adb.where} ({len(listed)} attached)")
        state = listed.get(serial)
        if state is None:
            add(
                CheckKind.STATE,
                Status.FAIL,
                f"adb sees no device with serial {serial}",
                "connect it by USB and accept the debugging prompt, or `adb connect HOST:PORT`"
                + (f" (adb sees: {', '.join(sorted(listed))})" if listed else ""),
            )
            return
        if not _state_ok(add, serial, state):
            return
        try:
            probe = adb.probe(serial)
            self._screen_and_apps(device, probe, probe.info(), out, adb_serial=serial)
        except DriverError as exc:
            add(CheckKind.SCREEN, Status.FAIL, f"adb shell on {serial} failed: {exc}", _REPLUG)

    # -- appium and sandbox: a backend ------------------------------------------------

    def _appium_status(self, device: InventoryDevice, out: list[Check]) -> bool:
        entry, add = device.entry, _adder(device, out)
        base = (entry.appium_url or "").rstrip("/")
        headers = {}
        if entry.appium_token_env:
            token = self.reach.env.get(entry.appium_token_env)
            if not token:
                message = f"${entry.appium_token_env} (appium_token_env) is not set"
                fix = f"export {entry.appium_token_env} with the Appium grid's access token"
                add(CheckKind.APPIUM, Status.FAIL, message, fix)
                return False
            headers["Authorization"] = authorization(token)
        start = (
            "start Appium 3 there (`appium --address HOST --port PORT`), or correct "
            f"appium_url in {device.file or 'the device file'}"
        )
        try:
            with self.reach.http() as client:
                resp = client.get(f"{base}/status", headers=headers)
        except httpx.TimeoutException:
            add(CheckKind.APPIUM, Status.FAIL, f"Appium at {base} did not answer in time", start)
            return False
        except httpx.HTTPError as exc:
            message = f"no Appium server answers at {base} ({type(exc).__name__})"
            add(CheckKind.APPIUM, Status.FAIL, message, start)
            return False
        answer = appium_answer(base, resp, entry.appium_token_env)
        add(CheckKind.APPIUM, *answer)
        return answer[0] is Status.OK

    def _over_backend(self, device: InventoryDevice, out: list[Check]) -> None:
        add = _adder(device, out)
        entry = device.entry
        if entry.driver == "sandbox":
            what, where = f"sandbox device {entry.serial or entry.id}", sandbox_url(entry)
            fix = (
                "start the sandbox (`inbox-agent sandbox serve`), or point "
                "$INBOX_AGENT_SANDBOX_URL (or the entry's sandbox_url) at a running one; "
                "if it answers, give the entry a serial it has"
            )
        else:
            what, where = "an Appium session", entry.appium_url or ""
            udid = f" {entry.serial}" if entry.serial else ""
            fix = (
                "check the entry's capabilities, and that the Appium host sees the device"
                f"{udid} (`adb devices` there)"
            )
        try:
            probe = self.reach.backend(entry)
        except ImportError as exc:
            add(CheckKind.SESSION, Status.SKIP, f"no {entry.driver} backend in this build: {exc}")
            return
        except DriverError as exc:
            add(CheckKind.SESSION, Status.FAIL, f"cannot open {what}: {exc}", fix)
            return
        try:
            try:
                info = probe.info()
            except DriverError as exc:
                add(CheckKind.SESSION, Status.FAIL, f"{what} does not answer: {exc}", fix)
                return
            add(CheckKind.SESSION, Status.OK, f"{what} answers at {where}")
            if _state_ok(add, entry.serial or info.serial or entry.id, info.state):
                self._screen_and_apps(device, probe, info, out, adb_serial=None)
        finally:
            probe.close()

    # -- common -----------------------------------------------------------------------

    def _screen_and_apps(
        self,
        device: InventoryDevice,
        probe: DeviceProbe,
        info: DeviceInfo,
        out: list[Check],
        *,
        adb_serial: str | None,
    ) -> None:
        add = _adder(device, out)
        wake = (
            f"`adb -s {adb_serial} shell input keyevent KEYCODE_WAKEUP`"
            if adb_serial
            else "wake the device"
        )
        if info.screen_on is False:
            add(
                CheckKind.SCREEN,
                Status.FAIL,
                "the screen is off",
                f"{wake}, and keep it on while charging (Developer options > Stay awake)",
            )
        elif info.locked is True:
            add(
                CheckKind.SCREEN,
                Status.FAIL,
                "the screen is locked",
                "unlock it; a sweep cannot enter a PIN: give a device kept for sweeps no screen "
                "lock (Settings > Security > Screen lock > None)",
            )
        elif info.screen_on is None or info.locked is None:
            unknown = "on" if info.screen_on is None else "unlocked"
            add(CheckKind.SCREEN, Status.SKIP, f"the device does not say whether it is {unknown}")
        else:
            add(CheckKind.SCREEN, Status.OK, "screen on and unlocked" + _model(info))
        unsure = APPIUM_VERSIONS if device.entry.driver == "appium" else None
        for use in device.uses:
            out.append(app_check(device.id, use, probe, unsure=unsure))
        if not device.uses:
            add(CheckKind.APP, Status.SKIP, "no workspace runs on this device")


APPIUM_VERSIONS = (
    "Appium reads versions with `mobile: shell`, which the server refuses unless started "
    "with `--allow-insecure uiautomator2:adb_shell`"
)


def app_check(
    device_id: str, use: DeviceUse, probe: DeviceProbe, *, unsure: str | None = None
) -> Check:
    """The installed version of a workspace's app against what its pack was written for.

    ``unsure``: why a missing version may only mean the backend could not read it.
    """

    def check(status: Status, message: str, fix: str | None = None) -> Check:
        return Check(device_id, CheckKind.APP, status, message, fix, use.workspace)

    package, pack, ws = use.app_package, use.pack, use.workspace
    try:
        version = probe.app_version(package)
    except DriverError as exc:
        return check(Status.FAIL, f"cannot read the version of {package}: {exc}", _REPLUG)
    if version is None:
        install = f"install it on the device and sign in as {use.expected_account}"
        if unsure is None:
            return check(Status.FAIL, f"{package} is not installed", install)
        return check(
            Status.FAIL,
            f"{package} is not installed, or its version cannot be read",
            f"{install}; {unsure}",
        )
    if use.app is None:
        return check(
            Status.FAIL,
            f"{package} {version} is installed, but selector pack {pack} names no app version",
            f"check the pack on this device (`inbox-agent selectors check {ws}`), then add "
            f'`app: {{package: {package}, versions: ["{version}"]}}` to it',
        )
    if use.app.package != package:
        return check(
            Status.FAIL,
            f"the workspace runs {package}, but selector pack {pack} was written for "
            f"{use.app.package}",
            "name the same app in the workspace's environment.app_package and the pack",
        )
    if not use.app.tested(version):
        written = ", ".join(use.app.versions) or "no version yet"
        return check(
            Status.FAIL,
            f"untested version {version}; the pack was written for {written} (pack {pack})",
            f"check the pack on this device (`inbox-agent selectors check {ws}`) and add "
            f"{version} to its app.versions, or install a version it was written for",
        )
    return check(Status.OK, f"{package} {version}: pack {pack} was written for it")


_REPLUG = "the device went away mid-check: reconnect it and run the doctor again"


def _adder(device: InventoryDevice, out: list[Check]) -> Callable[..., None]:
    def add(kind: CheckKind, status: Status, message: str, fix: str | None = None) -> None:
        out.append(Check(device.id, kind, status, message, fix))

    return add


def _state_ok(add: Callable[..., None], serial: str, state: str) -> bool:
    if state == "device":
        add(CheckKind.STATE, Status.OK, f"{serial} is ready (state device)")
        return True
    fix = STATE_FIXES.get(state, "boot it into Android and reconnect it").format(serial=serial)
    add(CheckKind.STATE, Status.FAIL, f"{serial} is {state}", fix)
    return False


def authorization(token: str) -> str:
    """The header the Appium backend sends too: a ``user:key`` token is HTTP Basic (as
    BrowserStack and Sauce Labs want), any other a Bearer token."""
    if ":" in token:
        return "Basic " + base64.b64encode(token.encode()).decode("ascii")
    return f"Bearer {token}"


def appium_answer(
    base: str, resp: httpx.Response, token_env: str | None
) -> tuple[Status, str, str | None]:
    """What an answer to ``GET /status`` says: Appium 3 sends
    ``{"value": {"ready": true, "message": …, "build": {"version": …}}}``."""
    if resp.status_code in (401, 403):
        named = f"${token_env}" if token_env else "no token"
        return (
            Status.FAIL,
            f"Appium at {base} refused the request (HTTP {resp.status_code}, token: {named})",
            "put the grid's token in the variable the entry's appium_token_env names",
        )
    value = None
    if resp.status_code == 200:
        try:
            data = resp.json()
        except ValueError:
            data = None
        value = data.get("value") if isinstance(data, dict) else None
    if not isinstance(value, dict):
        return (
            Status.FAIL,
            f"{base}/status answered HTTP {resp.status_code}, not Appium's status",
            "point appium_url at the Appium server itself (with its base path, if any)",
        )
    build = value.get("build")
    version = build.get("version") if isinstance(build, dict) else None
    server = f"Appium {version}" if version else "Appium"
    if value.get("ready") is False:
        reason = value.get("message") or "no reason given"
        fix = "wait for it to finish starting, or see its log"
        return Status.FAIL, f"{server} at {base} is not ready: {reason}", fix
    return Status.OK, f"{server} ready at {base}", None


def _model(info: DeviceInfo) -> str:
    parts = [p for p in (info.model, f"Android {info.android}" if info.android else None) if p]
    return f" ({', '.join(parts)})" if parts else ""
