"""Selectors as value objects, and selector packs: named selectors with ordered fallbacks.

A selector pack (``selectors/*.yaml``) belongs to one platform + surface (and
optionally an app version range). Each named selector lists alternatives tried
in order; when an alternative other than the first matches, the driver reports
a fallback so drift is visible in the activity log before it breaks a sweep.

Pack file::

    id: sandbox-web
    platform: sandbox
    surface: web
    verified: "the sandbox platform in Chromium"   # optional; none: not verified
    selectors:
      comment_item:
        - css: "[data-testid=comment]"
        - role: article
          name: "Comment"
        - xpath: "//li[contains(@class, 'comment')]"
    screens:                  # screens that stop a sweep, by stop reason
      login_required: login_form
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from workspaces.models import Identifier, Platform, Surface
from workspaces.validation import ConfigModel

LocatorKind = Literal["css", "text", "role", "xpath", "resource_id", "content_desc", "class_name"]
LOCATOR_KINDS: tuple[LocatorKind, ...] = (
    "css",
    "text",
    "role",
    "xpath",
    "resource_id",
    "content_desc",
    "class_name",
)
WEB_KINDS = {"css", "text", "role", "xpath"}
ANDROID_KINDS = {"text", "xpath", "resource_id", "content_desc", "class_name"}

StopScreen = Literal[
    "login_required",
    "challenge",
    "rate_limited",
    "wrong_account",
    "platform_error",
    "update_required",
    "unexpected_dialog",
]


class App(ConfigModel):
    """The Android app a pack was written for: its package and the versions it was read from."""

    package: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$")
    versions: list[str] = Field(
        default_factory=list,
        description="version names the pack was written for; 'x' or '*' is a wildcard part "
        "('2.24.x'); empty: untested on any version",
    )

    def tested(self, version: str | None) -> bool:
        """Whether an installed version is one the pack was written for."""
        if version is None:
            return False
        return any(_version_matches(pattern, version) for pattern in self.versions)


def _version_matches(pattern: str, version: str) -> bool:
    want, have = pattern.split("."), version.split(".")
    for i, part in enumerate(want):
        if part in ("x", "*"):
            return True
        if i >= len(have) or have[i] != part:
            return False
    return len(have) == len(want)


class Dialog(ConfigModel):
    """A harmless dialog an app shows now and then, and the control that dismisses it."""

    detect: str = Field(description="selector that shows the dialog is up")
    dismiss: str = Field(description="selector tapped to dismiss it")


class Locator(ConfigModel):
    """One way to find an element. Exactly one of the kind keys is set."""

    css: str | None = None
    text: str | None = None
    role: str | None = None
    xpath: str | None = None
    resource_id: str | None = None
    content_desc: str | None = None
    class_name: str | None = Field(None, description="android: the view class, e.g. EditText")
    name: str | None = Field(None, description="accessible name, with role")
    exact: bool = False

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> Locator:
        set_kinds = [k for k in LOCATOR_KINDS if getattr(self, k) is not None]
        if len(set_kinds) != 1:
            raise ValueError(
                f"give exactly one of {', '.join(LOCATOR_KINDS)} (got {set_kinds or 'none'})"
            )
        if self.name is not None and self.role is None:
            raise ValueError("'name' only goes with 'role'")
        for kind in set_kinds:
            if not str(getattr(self, kind)).strip():
                raise ValueError(f"{kind} must not be empty")
        return self

    @property
    def kind(self) -> LocatorKind:
        return next(k for k in LOCATOR_KINDS if getattr(self, k) is not None)

    @property
    def value(self) -> str:
        return str(getattr(self, self.kind))

    def describe(self) -> str:
        extra = f" name={self.name!r}" if self.name else ""
        return f"{self.kind}={self.value!r}{extra}"


class Selector(ConfigModel):
    """A named selector: alternatives tried in order (index 0 is the primary)."""

    name: str
    alternatives: tuple[Locator, ...] = Field(min_length=1)


class SelectorPack(ConfigModel):
    id: Identifier
    platform: Platform
    surface: Surface
    app_version: str | None = Field(None, description="app version range, e.g. '>=300,<310'")
    verified: str | None = Field(
        None,
        min_length=1,
        description="what the pack was verified against, e.g. 'replayed real saved pages "
        "of x.com, 2025'; none: not verified",
    )
    selectors: dict[str, list[Locator]] = Field(min_length=1)
    screens: dict[StopScreen, str] = Field(default_factory=dict)
    app: App | None = Field(None, description="android packs: the app package and versions")
    dialogs: dict[Identifier, Dialog] = Field(
        default_factory=dict,
        description="harmless dialogs dismissed when they show; any other dialog stops",
    )
    own_marker: str | None = Field(
        None,
        description="a selector that matches on or inside an item the account itself wrote "
        "(its own DM preview, its reply): such items are thread context, never customer items",
    )

    @model_validator(mode="after")
    def _consistent(self) -> SelectorPack:
        allowed = WEB_KINDS if self.surface == "web" else ANDROID_KINDS
        for name, alternatives in self.selectors.items():
            if not alternatives:
                raise ValueError(f"selector {name!r} has no alternatives")
            for loc in alternatives:
                if loc.kind not in allowed:
                    raise ValueError(
                        f"selector {name!r}: {loc.kind} does not work on surface {self.surface!r}"
                    )
        for reason, name in self.screens.items():
            if name not in self.selectors:
                raise ValueError(f"screens.{reason} names unknown selector {name!r}")
        for dialog_name, dialog in self.dialogs.items():
            for role, name in (("detect", dialog.detect), ("dismiss", dialog.dismiss)):
                if name not in self.selectors:
                    raise ValueError(
                        f"dialogs.{dialog_name}.{role} names unknown selector {name!r}"
                    )
        if self.app is not None and self.surface != "android":
            raise ValueError("only an android pack names an app")
        if self.own_marker is not None and self.own_marker not in self.selectors:
            raise ValueError(f"own_marker names unknown selector {self.own_marker!r}")
        return self

    def selector(self, name: str) -> Selector:
        return Selector(name=name, alternatives=tuple(self.selectors[name]))
