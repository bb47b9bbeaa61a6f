"""A real Appium 3 server for the device tests, and the recorded Android screens.

``appium_server`` starts the Appium that ``make setup`` installs into the
virtualenv (``<venv>/appium``, also ``APPIUM_HOME``, with ``@appium/fake-driver``)
on a free loopback port, once per session, and stops it at the end. Without node
or that install the tests that need it skip, saying what to run; under ``CI=true``
they fail instead, as a missing PostgreSQL does (tests/conftest.py).

The recorded screens are real uiautomator dumps in ``../shared/data/android_ui``
beside the checkout; they are read from there, never copied in, and the tests
that need them skip when the folder is absent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.serving import free_port

STARTUP_S = 90.0  # Appium loads its drivers' manifests first: a few seconds on 2 cores
STOP_S = 15.0


def android_ui_dir() -> Path:
    """``<checkout>/../shared/data/android_ui``, next to the repository (not inside it)."""
    return Path(__file__).resolve().parents[2].parent / "shared" / "data" / "android_ui"


def appium_home() -> Path:
    return Path(os.environ.get("APPIUM_HOME") or Path(sys.prefix) / "appium")


@dataclass(frozen=True)
class AppiumServer:
    url: str
    log: Path


def _missing(what: str) -> None:
    message = f"{what}: run `make setup` (it installs Appium 3 and @appium/fake-driver)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _ready(url: str) -> bool:
    try:
        response = httpx.get(f"{url}/status", timeout=2.0)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and bool(response.json()["value"].get("ready"))


@pytest.fixture(scope="session")
def appium_server() -> Iterator[AppiumServer]:
    node = shutil.which("node")
    if node is None:
        _missing("node is not installed")
    home = appium_home()
    main = home / "node_modules" / "appium" / "index.js"
    fake = home / "node_modules" / "@appium" / "fake-driver" / "package.json"
    if not main.is_file() or not fake.is_file():
        _missing(f"Appium or its fake driver is not installed in {home}")
    assert node is not None
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkdtemp(prefix="inbox-agent-appium-")) / "appium.log"
    env = {**os.environ, "APPIUM_HOME": str(home)}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [node, str(main), "--address", "127.0.0.1", "--port", str(port)]
            + ["--log-level", "warn", "--log-no-colors"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        # Readiness is the server's own /status; the loop ends as soon as it says so.
        deadline = time.monotonic() + STARTUP_S
        while not _ready(url):
            if proc.poll() is not None:
                pytest.fail(f"Appium exited with {proc.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"Appium not ready after {STARTUP_S:g}s:\n{log.read_text()}")
            time.sleep(0.1)
        yield AppiumServer(url=url, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_S)
        shutil.rmtree(log.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def android_ui() -> Path:
    """The folder of recorded screens (skips the test when it is absent)."""
    folder = android_ui_dir()
    if not folder.is_dir():
        pytest.skip(f"recorded Android screens not found at {folder}")
    return folder
