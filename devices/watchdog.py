"""A watchdog for a driver's calls: a browser that stops answering ends the run, never hangs it.

Playwright bounds its waits, but not every call: ``locator.count()`` or
``page.evaluate()`` on a renderer that is busy for good (a megabyte of text to
lay out, a stopped process) blocks forever. The driver marks each call as busy;
this thread watches from outside and, when one call has been busy longer than
``stall_s`` or runs past the run's deadline, kills the environment's processes.
The blocked call then fails at once, and the driver reports why (a
``DriverStalled``), so the run ends ``timeout`` with what it had already stored.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

DEFAULT_STALL_S = 120.0  # one driver call; the slowest real one (a full-page read) takes seconds
DEADLINE_GRACE_S = 30.0  # past the run's deadline, a call still running is stopped


class Watchdog:
    """Watches one driver's calls from a daemon thread; ``on_fire`` is called at most once."""

    def __init__(
        self,
        on_fire: Callable[[str], None],
        *,
        stall_s: float = DEFAULT_STALL_S,
        clock: Callable[[], float] = time.monotonic,
        poll_s: float = 0.5,
    ):
        self.on_fire = on_fire
        self.stall_s = stall_s
        self.clock = clock
        self.poll_s = poll_s
        self.deadline: float | None = None
        self.fired: str | None = None
        self._busy_since: float | None = None
        self._what = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="driver-watchdog", daemon=True)
        self._thread.start()

    @contextlib.contextmanager
    def busy(self, what: str) -> Iterator[None]:
        outer = self._busy_since is not None  # nested calls count from the outermost
        if not outer:
            self._busy_since, self._what = self.clock(), what
        try:
            yield
        finally:
            if not outer:
                self._busy_since = None

    def check(self) -> str | None:
        """Why the current call must be stopped now, or None (called by the thread)."""
        since = self._busy_since
        if since is None or self.fired is not None:
            return None
        now = self.clock()
        if now - since > self.stall_s:
            return f"{self._what} did not answer for {self.stall_s:g}s"
        if self.deadline is not None and now > self.deadline + DEADLINE_GRACE_S:
            return f"{self._what} was still running past the run's deadline"
        return None

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_s):
            reason = self.check()
            if reason is not None:
                self.fired = reason
                self.on_fire(reason)
                return

    def stop(self) -> None:
        self._stop.set()


def process_tree(root: int) -> list[int]:
    """``root`` and every process descended from it (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def browser_pids(profile_dir: Path) -> list[int]:
    """The main Chromium processes running on ``profile_dir`` (its --user-data-dir)."""
    return marked_pids(f"--user-data-dir={profile_dir}")


def marked_pids(arg: str) -> list[int]:
    """The processes started with the command-line argument ``arg`` (exactly)."""
    needle = arg.encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            args = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if needle in args:
            found.append(int(entry))
    return found


def kill_browser(profile_dir: Path) -> int:
    """SIGKILL every process of the browser on ``profile_dir``; how many were killed."""
    return kill_marked(f"--user-data-dir={profile_dir}")


def kill_marked(arg: str) -> int:
    """SIGKILL every process started with ``arg``, and their children; how many."""
    killed = 0
    for main in marked_pids(arg):
        for pid in process_tree(main):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
    return killed
