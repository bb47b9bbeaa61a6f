"""One Chromium per agent process for the workspaces with ``isolation: context``.

A dense host (an agency keeping twenty accounts ready) pays for one browser process tree
instead of one per workspace: each workspace in context isolation gets its own browser
context in the shared Chromium, with its own cookies, storage, cache, proxy, locale,
time zone and user agent. What a context keeps between sweeps (cookies, local storage
and IndexedDB) is saved in the workspace's profile folder (``state.json``, owner-only) when its
driver closes, and loaded into the next context.

The browser starts on first use and is started again if it died (a stalled call kills
it: see ``PlaywrightDriver``). Playwright's sync API belongs to the thread that started
it, so the shared browser is per thread; a process sweeps its context workspaces one
after another on it. It stops when the process exits, or with :func:`stop_shared`.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import threading
import uuid
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Playwright, sync_playwright

from devices.errors import DriverError

STATE_FILE = "state.json"  # a context workspace's cookies, local storage and IndexedDB


def read_state(profile_dir: Path) -> Any:
    """What the last sweep (or live view) of a context workspace kept; None before the first.
    A damaged file is a ``DriverError`` naming file and line."""
    path = profile_dir / STATE_FILE
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DriverError(
            f"{path}:{exc.lineno}: the saved session is not JSON ({exc.msg}); delete the "
            "file and sign the workspace in again"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DriverError(f"{path}: the saved session cannot be read: {exc}") from exc
    if not isinstance(state, dict) or not isinstance(state.get("cookies", []), list):
        raise DriverError(
            f"{path}:1: cookies: the saved session is not a browser storage state; "
            "delete the file and sign the workspace in again"
        )
    return state


def write_state(profile_dir: Path, state: Any) -> None:
    """Keep a context workspace's storage state (cookies, local storage, IndexedDB) in its
    profile folder, readable by the owner only (it signs the account in), written atomically."""
    path = profile_dir / STATE_FILE
    tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(state, out)
    os.replace(tmp, path)


class SharedChromium:
    """The thread's shared Chromium (started on first use, restarted when it died)."""

    def __init__(self, args: list[str], executable: str, headless: bool = True):
        self.args = args
        self.executable = executable
        self.headless = headless
        self.marker = f"--inbox-agent-shared={os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._pw: Playwright | None = None
        self._browser: Browser | None = None
        self.starts = 0

    def browser(self) -> Browser:
        if self._browser is not None and self._browser.is_connected():
            return self._browser
        self.stop()
        self._pw = sync_playwright().start()
        try:
            # An unknown switch Chromium ignores: it names this browser's processes, so
            # a stalled call can stop them (and only them) from the watchdog's thread.
            self._browser = self._pw.chromium.launch(
                executable_path=self.executable,
                headless=self.headless,
                args=[*self.args, self.marker],
            )
        except Exception:
            self.stop()
            raise
        self.starts += 1
        return self._browser

    @property
    def running(self) -> bool:
        return self._browser is not None and self._browser.is_connected()

    def contexts(self) -> int:
        return len(self._browser.contexts) if self.running and self._browser else 0

    def stop(self) -> None:
        browser, pw = self._browser, self._pw
        self._browser = self._pw = None
        if browser is not None:
            with contextlib.suppress(Exception):  # already gone (killed, crashed)
                browser.close()
        if pw is not None:
            with contextlib.suppress(Exception):  # its driver process went with it
                pw.stop()


_local = threading.local()


def shared_chromium(args: list[str], executable: str, headless: bool = True) -> SharedChromium:
    """This thread's shared Chromium for context workspaces (one per launch settings)."""
    pool: dict[tuple[Any, ...], SharedChromium] | None = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = {}
    key = (tuple(args), executable, headless)
    if key not in pool:
        pool[key] = SharedChromium(list(args), executable, headless)
    return pool[key]


def stop_shared() -> None:
    """Stop this thread's shared browsers (the process's exit does it for the main one)."""
    pool = getattr(_local, "pool", None) or {}
    for shared in pool.values():
        shared.stop()
    pool.clear()


atexit.register(stop_shared)
