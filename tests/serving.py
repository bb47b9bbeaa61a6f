"""What the tests that run real servers and browsers share: a free loopback port, an ASGI
app served by uvicorn on one in a background thread for the length of a ``with``, and
Debian's Chromium launched by Playwright."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` served over plain http on localhost; yields its base URL."""
    import uvicorn

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)  # uvicorn offers no start event to wait on
    assert srv.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


CHROMIUM = "/usr/lib/chromium/chromium"


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, with the switches the agent's own browsers get; a
    test fails (not skips) where it is missing: ``make test`` installs it."""
    import pytest
    from playwright.sync_api import sync_playwright

    from devices.playwright_driver import launch_args

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed (make test installs it)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=launch_args())
        try:
            yield browser
        finally:
            browser.close()
