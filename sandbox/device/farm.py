"""The devices attached to one sandbox server, by serial.

A server starts with one device, ``sandbox-1``; the admin API adds more (``POST
/admin/devices``; a serial that exists is replaced by a fresh device, as if the emulator were
wiped) and removes them (then their verbs answer 404, like a device that went away). Devices
are never made implicitly by a verb. Reset and re-seeding keep the devices: an app showing a
thread that is gone falls back to its inbox.
"""

from __future__ import annotations

import threading

from sandbox.device.session import APP_VERSION, Device
from sandbox.errors import NotFound
from sandbox.state import SandboxState

DEFAULT_SERIAL = "sandbox-1"


class DeviceFarm:
    def __init__(self, state: SandboxState, *, serials: tuple[str, ...] = (DEFAULT_SERIAL,)):
        self.state = state
        self._lock = threading.Lock()
        self._devices: dict[str, Device] = {s: Device(s, state) for s in serials}

    def get(self, serial: str) -> Device:
        with self._lock:
            device = self._devices.get(serial)
            if device is None:
                known = ", ".join(self._devices) or "none"
                raise NotFound(f"no device {serial!r} (attached: {known})")
            return device

    def add(self, serial: str | None = None, *, app_version: str | None = APP_VERSION) -> Device:
        """A fresh device (``serial`` default: the next free ``sandbox-N``)."""
        with self._lock:
            if serial is None:
                n = len(self._devices) + 1
                while f"sandbox-{n}" in self._devices:
                    n += 1
                serial = f"sandbox-{n}"
            device = Device(serial, self.state, app_version=app_version)
            self._devices[serial] = device
            return device

    def remove(self, serial: str) -> None:
        with self._lock:
            if self._devices.pop(serial, None) is None:
                raise NotFound(f"no device {serial!r}")

    def serials(self) -> list[str]:
        with self._lock:
            return list(self._devices)

    def all(self) -> list[Device]:
        with self._lock:
            return list(self._devices.values())
