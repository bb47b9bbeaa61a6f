"""``inbox-agent devices list|show|doctor`` on a home made by ``init`` plus two Android
workspaces: holders from the store's leases, one-line errors, ``--json``, exit codes."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field

import httpx
import pytest
from typer.testing import CliRunner

from agent import cli
from agent.commands import devices as devices_cmd
from agent.device_leases import device_holders, try_lease_device
from agent.scaffold import init_home
from agent.store import open_store
from devices.android.backend import DeviceInfo
from devices.doctor import Reach
from devices.errors import DriverError
from devices.models import DeviceEntry
from workspaces.paths import DB_ENV, Home

runner = CliRunner()

PACK = """\
id: chat-android
platform: chat
surface: android
app: {package: com.example.chat, versions: ["3.2.x"]}
selectors:
  inbox_title:
    - resource_id: "com.example.chat:id/title"
"""
FLOW = "id: chat-inbox\nkind: inbox\nsteps:\n  - wait_for: inbox_title\n"
WORKSPACE = """\
id: {id}
client: Acme Corp
platform: chat
surface: android
environment:
  kind: android_device
  device: {device}
  app_package: com.example.chat
  expected_account: "@acme"
flows: {{inbox: chat-inbox}}
selectors: chat-android
"""
GRID = """\
id: grid-1
driver: appium
appium_url: http://appium.test:4723
appium_token_env: GRID_TOKEN
serial: R58M
max_sessions: 2
labels: [grid, eu]
on_busy: wait
wait_s: 30
"""


@pytest.fixture
def home(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Home:
    monkeypatch.delenv(DB_ENV, raising=False)
    h = Home(tmp_path / "home")
    init_home(h)
    (h.root / "selectors").mkdir(exist_ok=True)
    (h.root / "flows").mkdir(exist_ok=True)
    (h.root / "selectors/chat-android.yaml").write_text(PACK)
    (h.root / "flows/chat-inbox.yaml").write_text(FLOW)
    (h.root / "devices/grid-1.yaml").write_text(GRID)
    for ws, dev in (("acme-chat", "pixel-example"), ("globex-chat", "grid-1")):
        (h.root / f"workspaces/{ws}.yaml").write_text(WORKSPACE.format(id=ws, device=dev))
    return h


def run(home: Home, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli.app, ["--home", str(home.root), "devices", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def run_main(home: Home, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--home", str(home.root), "devices", *args])
    return int(exited.value.code or 0), capsys.readouterr().err


def entry(home: Home, device_id: str) -> DeviceEntry:
    from agent.config import load_catalog

    return load_catalog(home).devices[device_id].model


# -- list and show -----------------------------------------------------------------------


def test_list_without_a_database_shows_every_device_free_and_creates_nothing(home: Home):
    code, out = run(home, "list")
    assert code == 0, out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if "│" in line}
    assert "adb emulator-5554" in rows["pixel-example"]
    assert "acme-chat" in rows["pixel-example"] and "free" in rows["pixel-example"]
    assert "appium http://appium.test:4723 (udid R58M)" in rows["grid-1"]
    assert "0/2 held" in rows["grid-1"] and "grid, eu" in rows["grid-1"]
    assert "globex-chat" in rows["grid-1"]
    assert not home.db_path.exists()


def test_list_and_show_name_who_holds_a_device(home: Home) -> None:
    with open_store(home.db_url) as store:
        lease = try_lease_device(store, entry(home, "grid-1"), "sweep globex-chat r-1", ttl_s=600)
        assert lease is not None
    code, out = run(home, "list")
    assert code == 0, out
    grid = next(line for line in out.splitlines() if "grid-1" in line)
    assert "1/2 held" in grid
    assert "#0 sweep globex-chat r-1" in " ".join(re.sub(r"[│\s]+", " ", out).split())
    rows = [json.loads(line) for line in run(home, "list", "--json")[1].splitlines()]
    assert [r["id"] for r in rows] == ["grid-1", "pixel-example", "sandbox-phone"]
    assert rows[0]["held_by"][0]["holder"] == "sweep globex-chat r-1"
    assert rows[0]["held_by"][0]["pid"] == os.getpid()
    assert rows[1]["held_by"] == [] and rows[1]["workspaces"] == ["acme-chat"]

    code, out = run(home, "show", "grid-1")
    assert code == 0, out
    assert f"file: {home.root / 'devices/grid-1.yaml'}" in out
    assert "appium_token_env: GRID_TOKEN" in out and "on_busy: wait" in out
    assert "globex-chat: com.example.chat (pack chat-android: 3.2.x)" in out
    assert "#0 sweep globex-chat r-1 on" in out and "#1 free" in out
    held = re.search(
        rf"#0 sweep globex-chat r-1 on \S+ \(pid {os.getpid()}\) since \d{{4}}-\d\d-\d\d "
        r"\d\d:\d\d:\d\dZ, expires in (\d+) s",
        out,
    )
    assert held is not None, out
    assert 0 < int(held[1]) <= 600  # a 600 s lease, some of it gone on a busy machine
    data = json.loads(run(home, "show", "grid-1", "--json")[1])
    assert [s["holder"] for s in data["slots"]] == ["sweep globex-chat r-1", None]
    assert data["workspaces"][0]["pack_versions"] == ["3.2.x"]


def test_an_unknown_device_is_one_line(home: Home, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_main(home, capsys, "show", "nope")
    assert code == 1
    assert err.strip() == (
        "error: unknown device 'nope' (known: grid-1, pixel-example, sandbox-phone)"
    )
    code, err = run_main(home, capsys, "doctor", "nope")
    assert code == 1 and "unknown device 'nope'" in err


# -- doctor ------------------------------------------------------------------------------


@dataclass
class Phone:
    version: str = "3.2.4"
    seen_holders: list[list[str]] = field(default_factory=list)

    def info(self) -> DeviceInfo:
        return DeviceInfo("emulator-5554", "device", screen_on=True, locked=False)

    def app_version(self, package: str) -> str | None:
        return self.version if package == "com.example.chat" else None

    def close(self) -> None:
        pass


@dataclass
class Adb:
    attached: dict[str, str]
    phone: Phone
    where: str = "127.0.0.1:5037"

    def devices(self) -> dict[str, str]:
        return self.attached

    def probe(self, serial: str) -> Phone:
        return self.phone


def fake_reach(
    monkeypatch: pytest.MonkeyPatch,
    phone: Phone,
    *,
    attached: dict[str, str] | None = None,
    backend=None,  # type: ignore[no-untyped-def]
    requests: list[httpx.Request] | None = None,
) -> None:
    def status(request: httpx.Request) -> httpx.Response:
        if requests is not None:
            requests.append(request)
        return httpx.Response(200, json={"value": {"ready": True, "build": {"version": "3.8.0"}}})

    def no_backend(entry: DeviceEntry) -> Phone:
        raise DriverError("no session in this test")

    adb = Adb(attached if attached is not None else {"emulator-5554": "device"}, phone)
    reach = Reach(
        adb=lambda: adb,
        http=lambda: httpx.Client(transport=httpx.MockTransport(status)),
        backend=backend or no_backend,
        env={"GRID_TOKEN": "s3cr3t-token"},
    )
    monkeypatch.setattr(devices_cmd, "reach_factory", lambda: reach)


def test_doctor_passes_a_ready_phone(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_reach(monkeypatch, Phone())
    code, out = run(home, "doctor", "pixel-example")
    assert code == 0, out
    assert "ok    app     acme-chat: com.example.chat 3.2.4: pack chat-android was written" in out
    assert out.splitlines()[-1] == "1 device checked: all checks passed"


def test_doctor_fails_on_an_untested_app_version_and_says_how_to_fix_it(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_reach(monkeypatch, Phone(version="3.3.0"))
    code, out = run(home, "doctor", "pixel-example")
    assert code == 1
    assert (
        "FAIL  app     acme-chat: untested version 3.3.0; the pack was written for 3.2.x "
        "(pack chat-android)"
    ) in out
    assert "fix: check the pack on this device (`inbox-agent selectors check acme-chat`)" in out
    assert out.splitlines()[-1] == "1 device checked: 1 check(s) failed"
    code, out = run(home, "doctor", "pixel-example", "--json")
    assert code == 1
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["kind"], r["status"]) for r in rows] == [
        ("adb", "ok"),
        ("state", "ok"),
        ("screen", "ok"),
        ("app", "fail"),
    ]
    assert rows[-1]["workspace"] == "acme-chat"


def test_doctor_takes_a_slot_before_opening_an_appium_session(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    phone = Phone()
    requests: list[httpx.Request] = []

    def backend(device: DeviceEntry) -> Phone:
        with open_store(home.db_url) as store:
            phone.seen_holders.append([h.holder for h in device_holders(store, device)])
        return phone

    with open_store(home.db_url):
        pass  # the database exists, so the doctor leases
    fake_reach(monkeypatch, phone, backend=backend, requests=requests)
    code, out = run(home, "doctor", "grid-1")
    assert code == 0, out
    assert len(phone.seen_holders) == 1 and len(phone.seen_holders[0]) == 1
    assert phone.seen_holders[0][0].startswith(f"devices doctor (pid {os.getpid()} on ")
    assert requests[0].headers["authorization"] == "Bearer s3cr3t-token"
    assert "s3cr3t" not in out
    with open_store(home.db_url) as store:
        assert device_holders(store, entry(home, "grid-1")) == []  # released


def test_doctor_opens_no_session_on_a_device_in_use(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    grid = entry(home, "grid-1")
    with open_store(home.db_url) as store:
        for n in range(grid.max_sessions):
            assert try_lease_device(store, grid, f"sweep {n}", ttl_s=600) is not None
    fake_reach(monkeypatch, Phone())  # its backend would fail the run
    code, out = run(home, "doctor", "grid-1")
    assert code == 0, out
    assert "skip  session no session opened: the device is in use by sweep 0, sweep 1" in out


def test_doctor_of_every_device_exits_1_if_one_fails(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_reach(monkeypatch, Phone(), attached={})
    code, out = run(home, "doctor")
    assert code == 1
    assert "FAIL  state   adb sees no device with serial emulator-5554" in out
    assert (
        "fix: connect it by USB and accept the debugging prompt, or `adb connect HOST:PORT`" in out
    )
    assert "FAIL  session cannot open an Appium session: no session in this test" in out
    assert out.splitlines()[-1] == "3 devices checked: 3 check(s) failed"  # + sandbox-phone
