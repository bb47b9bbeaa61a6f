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
    capabilities: dict[str, Any] = Field(default_factory=dict)
    max_sessions: int = Field(1, ge=1, le=16)
    labels: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _driver_needs(self) -> DeviceEntry:
        if self.driver == "appium" and not self.appium_url:
            raise ValueError("driver 'appium' needs appium_url")
        if self.driver == "uiautomator2" and not self.serial:
            raise ValueError("driver 'uiautomator2' needs serial")
        return self
