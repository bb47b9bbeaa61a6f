"""The device backend for the sandbox platform's Android device, over its HTTP API.

``SandboxDeviceBackend(base_url, serial)`` implements ``DeviceBackend`` by calling the
sandbox's ``/device/{serial}/...`` verbs (documented in ``sandbox``'s package docstring).
httpx errors are translated at this boundary: a connection that fails or breaks is
``DriverCrashed`` (the device went away), so is a serial the sandbox does not know (HTTP 404,
like a device that was unplugged); a call that does not answer within ``timeout_s`` is
``DriverTimeout``; any other refusal is ``DriverError`` with the sandbox's reason, and so is
typing or clearing while no input has focus (as uiautomator2 refuses it).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx

from devices.android.backend import DeviceInfo, Foreground
from devices.errors import DriverCrashed, DriverError, DriverTimeout


class SandboxDeviceBackend:
    """One sandbox device, reached at ``base_url`` (the sandbox server's URL)."""

    def __init__(
        self, base_url: str, serial: str, *, token: str | None = None, timeout_s: float = 10.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.serial = serial
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=f"{self.base_url}/device/{quote(serial, safe='')}",
            headers=headers,
            timeout=timeout_s,
        )

    # -- transport -------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        kwargs: dict[str, Any] = {}
        if body is not None:  # ASCII-escaped JSON carries any str, a lone surrogate too
            kwargs["content"] = json.dumps(body).encode("ascii")
            kwargs["headers"] = {"Content-Type": "application/json"}
        where = f"sandbox device {self.serial} at {self.base_url}"
        try:
            resp = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise DriverTimeout(f"{where} did not answer {path} in time") from exc
        except httpx.TransportError as exc:
            raise DriverCrashed(f"{where} is unreachable ({type(exc).__name__})") from exc
        if resp.status_code == 404:
            raise DriverCrashed(f"{where} is gone: {_reason(resp)}")
        if resp.status_code >= 400:
            raise DriverError(f"{where} refused {path}: {_reason(resp)}")
        return resp

    def _json(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        resp = self._call(method, path, body)
        try:
            data: dict[str, Any] = resp.json()
        except ValueError as exc:
            raise DriverError(f"sandbox device {self.serial}: {path} did not answer JSON") from exc
        return data

    # -- DeviceBackend ---------------------------------------------------------------------

    def dump(self) -> str:
        return self._call("GET", "/dump").text

    def screenshot(self) -> bytes:
        return self._call("GET", "/screenshot").content

    def window_size(self) -> tuple[int, int]:
        width, height = self._json("GET", "/info")["window_size"]
        return int(width), int(height)

    def tap(self, x: int, y: int) -> None:
        self._json("POST", "/tap", {"x": x, "y": y})

    def type_text(self, text: str) -> None:
        if not self._json("POST", "/type", {"text": text}).get("typed"):
            raise DriverError(f"sandbox device {self.serial}: no input has focus to type into")

    def clear_text(self) -> None:
        if not self._json("POST", "/clear").get("cleared"):
            raise DriverError(f"sandbox device {self.serial}: no input has focus to clear")

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_s: float) -> None:
        body = {"x1": x1, "y1": y1, "x2": x2, "y2": y2, "duration_s": duration_s}
        self._json("POST", "/swipe", body)

    def back(self) -> None:
        self._json("POST", "/back")

    def app_start(self, package: str, activity: str | None = None) -> None:
        self._json("POST", "/app/start", {"package": package, "activity": activity})

    def app_stop(self, package: str) -> None:
        self._json("POST", "/app/stop", {"package": package})

    def open_url(self, url: str) -> None:
        self._json("POST", "/open_url", {"url": url})

    def foreground(self) -> Foreground:
        data = self._json("GET", "/foreground")
        return Foreground(package=data["package"], activity=data.get("activity"))

    def app_version(self, package: str) -> str | None:
        version = self._json("GET", "/info")["packages"].get(package)
        return None if version is None else str(version)

    def info(self) -> DeviceInfo:
        data = self._json("GET", "/info")
        return DeviceInfo(
            serial=data["serial"],
            state=data["state"],
            screen_on=data.get("screen_on"),
            locked=data.get("locked"),
            model=data.get("model"),
            android=data.get("android"),
        )

    def close(self) -> None:
        self._http.close()


def _reason(resp: httpx.Response) -> str:
    try:
        data = resp.json()
    except ValueError:
        return f"HTTP {resp.status_code}"
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    if isinstance(data, dict) and data.get("detail"):
        return str(data["detail"])
    return f"HTTP {resp.status_code}"
