"""Local leases: one sweep per workspace and per browser profile or device at a time.

A lease is an exclusive ``flock`` on a file under the home's ``leases/``
folder. The kernel releases it when the holding process dies, so a killed
sweep never leaves a stale lease behind. (Workers on several hosts use the
store's lease table on top of this.)
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import socket
import time
from pathlib import Path
from types import TracebackType


class LeaseHeld(Exception):
    """Another process holds the lease; ``holder`` says who, when known."""

    def __init__(self, resource: str, holder: str):
        self.resource = resource
        self.holder = holder
        super().__init__(f"{resource} is in use by {holder}")


def _safe(resource: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", resource)


class Lease:
    def __init__(self, leases_dir: Path, resource: str, holder: str = ""):
        self.resource = resource
        self.path = leases_dir / f"{_safe(resource)}.lock"
        self.holder = holder or f"pid {os.getpid()} on {socket.gethostname()}"
        self._fd: int | None = None

    def acquire(self) -> Lease:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace")
            os.close(fd)
            try:
                who = json.loads(holder).get("holder", "another process")
            except ValueError:
                who = "another process"
            raise LeaseHeld(self.resource, who) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"holder": self.holder, "since": time.time()}).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Lease:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
