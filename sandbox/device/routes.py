"""HTTP routes of the sandbox devices: the verbs under ``/device/{serial}`` and the admin
calls under ``/admin/devices``.

Both are guarded like the admin API (a bearer token when the server has one, else loopback
clients only). Errors are ``{"error": ...}``: 404 for an unknown device, 400 for a verb the
device refuses (a package that is not installed, a link no app opens), 422 for a malformed
body. Text in bodies is cleaned like every admin string (a lone surrogate becomes U+FFFD).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field

# The admin API's guard and body cleaning, shared so both APIs are protected alike.
from sandbox.admin import CleanBody, guard
from sandbox.device.farm import DeviceFarm
from sandbox.device.screens import DialogKind
from sandbox.device.session import APP_VERSION, Device
from sandbox.errors import NotFound, SandboxError

router = APIRouter(dependencies=[Depends(guard)])


class TapIn(CleanBody):
    x: int
    y: int


class TypeIn(CleanBody):
    text: str


class SwipeIn(CleanBody):
    x1: int
    y1: int
    x2: int
    y2: int
    duration_s: float = Field(0.3, ge=0, le=60)


class PackageIn(CleanBody):
    package: str
    activity: str | None = None


class UrlIn(CleanBody):
    url: str


class DeviceIn(CleanBody):
    serial: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    app_version: str | None = APP_VERSION  # null: the app is not installed


class VersionIn(CleanBody):
    version: str | None


class DialogIn(CleanBody):
    kind: DialogKind


def _farm(request: Request) -> DeviceFarm:
    farm: DeviceFarm = request.app.state.devices
    return farm


def _with(request: Request, serial: str, verb: Callable[[Device], Any]) -> Any:
    """Run ``verb`` on the device; its answer, or the error as JSON."""
    try:
        result = verb(_farm(request).get(serial))
    except SandboxError as exc:
        status = 404 if isinstance(exc, NotFound) else 400
        return JSONResponse({"error": str(exc)}, status_code=status)
    return {"ok": True} if result is None else result


def _slow(device: Device) -> None:
    """The ``slow`` fault delays what the app shows, as it delays the web's pages."""
    acc = device.state.session_account(device.app.token)
    if device.app_in_front and acc is not None and acc.fault == "slow":
        time.sleep(acc.slow_ms / 1000)


# -- verbs ---------------------------------------------------------------------------------


@router.get("/device/{serial}/dump", response_model=None)
def dump(request: Request, serial: str) -> Any:
    def verb(d: Device) -> Response:
        _slow(d)
        return Response(d.dump(), media_type="application/xml")

    return _with(request, serial, verb)


@router.get("/device/{serial}/screenshot", response_model=None)
def screenshot(request: Request, serial: str) -> Any:
    def verb(d: Device) -> Response:
        _slow(d)
        return Response(d.screenshot(), media_type="image/png")

    return _with(request, serial, verb)


@router.get("/device/{serial}/info", response_model=None)
def info(request: Request, serial: str) -> Any:
    return _with(request, serial, lambda d: d.info())


@router.get("/device/{serial}/foreground", response_model=None)
def foreground(request: Request, serial: str) -> Any:
    def verb(d: Device) -> dict[str, str]:
        fg = d.foreground()
        return {"package": fg.package, "activity": fg.activity}

    return _with(request, serial, verb)


@router.post("/device/{serial}/tap", response_model=None)
def tap(request: Request, serial: str, body: TapIn) -> Any:
    return _with(request, serial, lambda d: d.tap(body.x, body.y))


@router.post("/device/{serial}/type", response_model=None)
def type_text(request: Request, serial: str, body: TypeIn) -> Any:
    return _with(request, serial, lambda d: {"ok": True, "typed": d.type_text(body.text)})


@router.post("/device/{serial}/clear", response_model=None)
def clear_text(request: Request, serial: str) -> Any:
    return _with(request, serial, lambda d: {"ok": True, "cleared": d.clear_text()})


@router.post("/device/{serial}/swipe", response_model=None)
def swipe(request: Request, serial: str, body: SwipeIn) -> Any:
    return _with(request, serial, lambda d: d.swipe(body.x1, body.y1, body.x2, body.y2))


@router.post("/device/{serial}/back", response_model=None)
def back(request: Request, serial: str) -> Any:
    return _with(request, serial, lambda d: d.back())


@router.post("/device/{serial}/app/start", response_model=None)
def app_start(request: Request, serial: str, body: PackageIn) -> Any:
    return _with(request, serial, lambda d: d.app_start(body.package, body.activity))


@router.post("/device/{serial}/app/stop", response_model=None)
def app_stop(request: Request, serial: str, body: PackageIn) -> Any:
    return _with(request, serial, lambda d: d.app_stop(body.package))


@router.post("/device/{serial}/open_url", response_model=None)
def open_url(request: Request, serial: str, body: UrlIn) -> Any:
    return _with(request, serial, lambda d: d.open_url(body.url))


# -- admin ---------------------------------------------------------------------------------


@router.get("/admin/devices")
def list_devices(request: Request) -> dict[str, Any]:
    return {"devices": [d.describe() for d in _farm(request).all()]}


@router.post("/admin/devices")
def add_device(request: Request, body: DeviceIn) -> dict[str, Any]:
    return _farm(request).add(body.serial, app_version=body.app_version).describe()


@router.get("/admin/devices/{serial}", response_model=None)
def describe(request: Request, serial: str) -> Any:
    return _with(request, serial, lambda d: d.describe())


@router.delete("/admin/devices/{serial}", response_model=None)
def remove_device(request: Request, serial: str) -> Any:
    try:
        _farm(request).remove(serial)
    except NotFound as exc:
        return JSONResponse({"error": str(exc)}, status_code=404)
    return {"ok": True}


@router.post("/admin/devices/{serial}/app", response_model=None)
def set_app(request: Request, serial: str, body: VersionIn) -> Any:
    def verb(d: Device) -> dict[str, Any]:
        d.set_app_version(body.version)
        return d.describe()

    return _with(request, serial, verb)


@router.post("/admin/devices/{serial}/dialog", response_model=None)
def raise_dialog(request: Request, serial: str, body: DialogIn) -> Any:
    def verb(d: Device) -> dict[str, Any]:
        d.raise_dialog(body.kind)
        return d.describe()

    return _with(request, serial, verb)


@router.get("/admin/devices/{serial}/ocr", response_model=None)
def ocr(request: Request, serial: str) -> Any:
    return _with(request, serial, lambda d: {"serial": d.serial, "rows": d.ocr()})
