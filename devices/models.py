"""The device inventory: Android devices and emulators a workspace can run on.

One entry per file under ``devices/``. Credentials for an Appium grid are named
by environment variable, never written here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from workspaces.models import ENV_NAME, Identifier
from workspaces.validation import ConfigModel


class DeviceEntry(ConfigModel):
    id: Identifier
    driver: Literal["uiautomator2", "appium", "sandbox"]
    serial: str | None = Field(None, description="adb serial (uiautomator2, appium)")
    appium_url: str | None = Field(None, pattern=r"^https?://[^\s@]+$")
    appium_token_env: ENV_NAME | None = None
    sandbox_url: str | None = Field(
        None,
        description="driver sandbox: the sandbox platform's URL (${VAR:-default} expanded)",
    )
    capabilities: dict[str, Any] = Field(default_factory=dict)
    max_sessions: int = Field(1, ge=1, le=16)
    host: Identifier | None = Field(
        None, description="the host the device is attached to, whose workers drive it"
    )
    labels: list[str] = Field(default_factory=list)
    on_busy: Literal["wait", "skip"] = Field(
        "skip",
        description="when every slot is leased: wait for one (up to wait_s), or stop the "
        "sweep as busy at once",
    )
    wait_s: float = Field(
        300, ge=0, le=3600, description="on_busy: wait: the longest a sweep waits, in seconds"
    )

    @model_validator(mode="after")
    def _driver_needs(self) -> DeviceEntry:
        if self.driver == "appium" and not self.appium_url:
            raise ValueError("driver 'appium' needs appium_url")
        if self.driver == "uiautomator2" and not self.serial:
            raise ValueError("driver 'uiautomator2' needs serial")
        return self
