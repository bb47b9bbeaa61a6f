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

LocatorKind = Literal["css", "text", "role", "xpath", "resource_id", "content_desc"]
LOCATOR_KINDS: tuple[LocatorKind, ...] = (
    "css",
    "text",
    "role",
    "xpath",
    "resource_id",
    "content_desc",
)
WEB_KINDS = {"css", "text", "role", "xpath"}
ANDROID_KINDS = {"text", "xpath", "resource_id", "content_desc"}

StopScreen = Literal[
    "login_required", "challenge", "rate_limited", "wrong_account", "platform_error"
]


class Locator(ConfigModel):
    """One way to find an element. Exactly one of the kind keys is set."""

    css: str | None = None
    text: str | None = None
    role: str | None = None
    xpath: str | None = None
    resource_id: str | None = None
    content_desc: str | None = None
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
        if self.own_marker is not None and self.own_marker not in self.selectors:
            raise ValueError(f"own_marker names unknown selector {self.own_marker!r}")
        return self

    def selector(self, name: str) -> Selector:
        return Selector(name=name, alternatives=tuple(self.selectors[name]))
