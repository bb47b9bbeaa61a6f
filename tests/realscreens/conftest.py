"""Real recorded Android screens (read from ``shared/data/android_ui``, never copied here),
the built-in Android packs loaded as the catalog loads them, and a driver per dump.

The dumps are third-party recordings that may not be redistributed, so every test in
this folder reads them from the shared data folder beside the checkout and is skipped,
with the missing files named, when that folder is absent.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.config import Catalog, load_catalog
from devices.android.driver import AndroidDriver
from devices.android.recorded import RecordedScreen
from devices.selectors import SelectorPack
from flows.models import Flow
from workspaces.paths import Home

from . import truth

ANDROID_PACKS = ("whatsapp-android", "instagram-android", "tiktok-android", "facebook-android")
ANDROID_FLOWS = ("whatsapp-chats", "whatsapp-reply", "instagram-dm-inbox", "instagram-dm-thread")


def _skip_reason() -> str | None:
    folder = truth.data_dir()
    missing = truth.missing_files(folder)
    if not missing:
        return None
    return f"recorded Android screens not found: {', '.join(missing)} missing from {folder}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    reason = _skip_reason()
    if reason is None:
        return
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def android_ui() -> Path:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    return truth.data_dir()


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The built-in packs and flows, loaded as ``agent/config.py`` loads them (empty home)."""
    with tempfile.TemporaryDirectory() as home:
        loaded = load_catalog(Home(Path(home)))
    assert not loaded.problems, [str(p) for p in loaded.problems]
    return loaded


@pytest.fixture(scope="session")
def packs(catalog: Catalog) -> dict[str, SelectorPack]:
    return {pid: catalog.selectors[pid].model for pid in ANDROID_PACKS}


@pytest.fixture(scope="session")
def flows(catalog: Catalog) -> dict[str, Flow]:
    return {fid: catalog.flows[fid].model for fid in ANDROID_FLOWS}


class FakeClock:
    """A clock that moves only when the driver sleeps: waits cost no real time."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def driver_on(backend: RecordedScreen) -> AndroidDriver:
    clock = FakeClock()
    return AndroidDriver(backend, clock=clock.now, sleep=clock.sleep)


@pytest.fixture
def screen(android_ui: Path) -> Callable[[str], AndroidDriver]:
    """``screen("whatsapp_chat_thread.xml")``: a driver on that recorded screen."""

    def make(name: str) -> AndroidDriver:
        return driver_on(RecordedScreen(android_ui / name))

    return make


@pytest.fixture(scope="session")
def tesseract() -> None:
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract is not installed (apt package tesseract-ocr)")
    os.environ["OMP_THREAD_LIMIT"] = "1"  # ~3x faster on these machines
