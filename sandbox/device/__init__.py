"""The sandbox platform's Android device: its mobile app, drawn from the web app's state.

A simulated phone (720x1280, Android 14) running the app ``com.sandbox.social``, which shows
the same ``SandboxState`` as the web app: login, the DM inbox and threads, posts and their
comment sheets, the fault modes and the dialogs real apps raise. Its screen is a uiautomator
hierarchy dump and a PNG, both from one element tree, so the Android driver sweeps it as it
sweeps a real device (``devices.android.sandbox_backend`` is the HTTP backend). The screens,
resource-ids, endpoints, deep links and the OCR-only rule are documented in ``sandbox``'s
package docstring.

Modules, one job each: ``screens`` (the app's screen model and back stack), ``layout`` /
``feeds`` / ``widgets`` / ``dialogs`` (the element tree of each screen), ``lists``
(virtualised scrolling), ``tree`` (the hierarchy XML), ``draw`` (the PNG), ``ocr`` (which
rows are OCR-only), ``session`` (one device and its verbs), ``farm`` (the devices by serial),
``routes`` (the HTTP API).
"""

from sandbox.device.farm import DEFAULT_SERIAL, DeviceFarm
from sandbox.device.nodes import APP_PACKAGE, LAUNCHER_PACKAGE, PERMISSION_PACKAGE
from sandbox.device.ocr import is_ocr_only
from sandbox.device.routes import router
from sandbox.device.screens import DialogKind
from sandbox.device.session import APP_VERSION, Device

__all__ = [
    "APP_PACKAGE",
    "APP_VERSION",
    "DEFAULT_SERIAL",
    "LAUNCHER_PACKAGE",
    "PERMISSION_PACKAGE",
    "Device",
    "DeviceFarm",
    "DialogKind",
    "is_ocr_only",
    "router",
]
