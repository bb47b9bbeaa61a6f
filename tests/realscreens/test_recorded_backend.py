"""RecordedScreen: a saved dump served as a device, for tests and for checking packs."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from devices.android.backend import DeviceBackend
from devices.android.recorded import RecordedEvent, RecordedScreen
from devices.errors import DriverCrashed, DriverError

from . import truth


def test_it_serves_the_dump_unchanged_and_the_screenshot_recorded_with_it(
    android_ui: Path,
) -> None:
    backend: DeviceBackend = RecordedScreen(android_ui / truth.WHATSAPP_THREAD)
    assert backend.dump() == (android_ui / truth.WHATSAPP_THREAD).read_text(encoding="utf-8")
    assert backend.screenshot() == (android_ui / "whatsapp_chat_thread.png").read_bytes()
    # The screen is the screenshot's 720x1600, not the dump's windows (they end at 1483).
    assert backend.window_size() == (720, 1600)
    assert truth.window_bottom(truth.WHATSAPP_THREAD) == 1483


@pytest.mark.parametrize(
    "name", [truth.FACEBOOK_FEED, truth.INSTAGRAM_PROFILE, truth.INSTAGRAM_CONTACT]
)
def test_without_a_screenshot_it_serves_a_blank_png_of_the_dumps_size(
    android_ui: Path, name: str
) -> None:
    backend = RecordedScreen(android_ui / name)
    assert not backend.has_screenshot
    size = (truth.window_width(name), truth.window_bottom(name))
    with Image.open(io.BytesIO(backend.screenshot())) as img:
        assert img.format == "PNG"
        assert img.size == size
        assert img.convert("L").getextrema() == (255, 255)  # blank
    assert backend.window_size() == size


@pytest.mark.parametrize("name", truth.DUMPS)
def test_the_app_in_front_is_the_dumps_app_not_the_status_bar(android_ui: Path, name: str) -> None:
    backend = RecordedScreen(android_ui / name, version="1.2.3")
    package = truth.app_package(name)
    assert backend.foreground().package == package
    assert backend.app_version(package) == "1.2.3"
    assert backend.app_version("com.example.other") is None


def test_the_instagram_profile_dump_starts_with_the_system_status_bar(android_ui: Path) -> None:
    # Why the package is not simply the first window's: here that one is the status bar.
    first = truth.root(truth.INSTAGRAM_PROFILE)[0]
    assert first.get("package") == "com.android.systemui"
    assert RecordedScreen(android_ui / truth.INSTAGRAM_PROFILE).package == "com.instagram.android"


def test_it_records_what_is_done_and_the_screen_stays_as_recorded(android_ui: Path) -> None:
    backend = RecordedScreen(android_ui / truth.WHATSAPP_LIST)
    before = backend.dump()
    backend.app_start("com.whatsapp")
    backend.tap(360, 282)
    backend.clear_text()
    backend.type_text("olá")
    backend.swipe(360, 1185, 360, 393, 0.3)
    backend.back()
    backend.open_url("whatsapp://send")
    backend.app_stop("com.whatsapp")
    assert backend.events == [
        RecordedEvent("app_start", ("com.whatsapp", None)),
        RecordedEvent("tap", (360, 282)),
        RecordedEvent("clear_text"),
        RecordedEvent("type_text", ("olá",)),
        RecordedEvent("swipe", (360, 1185, 360, 393, 0.3)),
        RecordedEvent("back"),
        RecordedEvent("open_url", ("whatsapp://send",)),
        RecordedEvent("app_stop", ("com.whatsapp",)),
    ]
    assert backend.taps() == [(360, 282)] and backend.typed() == ["olá"]
    assert backend.dump() == before
    assert backend.foreground().package == "com.whatsapp"


def test_show_serves_another_screen(android_ui: Path) -> None:
    backend = RecordedScreen(android_ui / truth.FACEBOOK_FEED)
    backend.show(android_ui / truth.TIKTOK_FEED)
    assert backend.foreground().package == "com.zhiliaoapp.musically"
    assert backend.has_screenshot and backend.window_size() == (720, 1600)


def test_a_closed_screen_is_a_device_that_went_away(android_ui: Path) -> None:
    backend = RecordedScreen(android_ui / truth.TIKTOK_FEED)
    assert backend.info().state == "device"
    backend.close()
    assert backend.info().state == "offline"
    with pytest.raises(DriverCrashed):
        backend.dump()
    with pytest.raises(DriverCrashed):
        backend.tap(1, 1)


def test_unreadable_recordings_are_driver_errors(tmp_path: Path) -> None:
    with pytest.raises(DriverError, match="cannot read"):
        RecordedScreen(tmp_path / "absent.xml")
    (tmp_path / "broken.xml").write_text("<hierarchy><node", encoding="utf-8")
    with pytest.raises(DriverError, match="not XML"):
        RecordedScreen(tmp_path / "broken.xml")
    (tmp_path / "nobounds.xml").write_text(
        "<hierarchy><node package='com.example.app' bounds='[0,0][0,0]'/></hierarchy>",
        encoding="utf-8",
    )
    with pytest.raises(DriverError, match="names no app"):
        RecordedScreen(tmp_path / "nobounds.xml")
