"""The Workspace model: one client account on one platform and where its session lives.

Loaded from ``workspaces/*.yaml`` (one workspace per file). Credentials never
appear in these files: a proxy or login password is named by the environment
variable that holds it (``password_env``), and resolved only when used.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from workspaces.validation import ConfigModel

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
Identifier = Annotated[str, Field(pattern=ID_PATTERN)]
ENV_NAME = Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$")]

# Any platform id (instagram, tiktok, x, youtube, forum-acme, ...): what a workspace can
# run on is decided by the selector packs and flows that exist for it, not by this model.
Platform = Annotated[
    str, Field(pattern=ID_PATTERN, description="platform id, e.g. instagram, x, forum-acme")
]
Surface = Literal["web", "android"]


class Viewport(ConfigModel):
    width: int = Field(1280, ge=320, le=7680)
    height: int = Field(900, ge=320, le=4320)


class Proxy(ConfigModel):
    server: str = Field(
        pattern=r"^(https?|socks5)://[^\s@]+$", description="no credentials in the URL"
    )
    username_env: ENV_NAME | None = None
    password_env: ENV_NAME | None = None


class Login(ConfigModel):
    """How a flow may sign in again; the password comes from an environment variable."""

    username: str
    password_env: ENV_NAME


class BrowserProfile(ConfigModel):
    kind: Literal["browser_profile"]
    profile: Identifier | None = Field(
        None, description="profile folder name; default: workspace id"
    )
    start_url: str
    locale: str = Field("en-US", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    viewport: Viewport = Viewport()
    user_agent: str | None = None
    proxy: Proxy | None = None
    expected_account: str
    login: Login | None = None
    host: Identifier | None = Field(
        None, description="the host whose workers run this profile (scale-out); none: any"
    )
    isolation: Literal["process", "context"] = Field(
        "process",
        description="process: its own Chromium on its profile folder; context: a browser "
        "context in the agent process's shared Chromium (dense hosts), its cookies, "
        "local storage and IndexedDB saved in the profile folder after each sweep",
    )


class AndroidDevice(ConfigModel):
    kind: Literal["android_device"]
    device: Identifier = Field(description="id of an entry in devices/")
    app_package: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$")
    expected_account: str
    login: Login | None = None


Environment = Annotated[BrowserProfile | AndroidDevice, Field(discriminator="kind")]


class FlowRefs(ConfigModel):
    inbox: Identifier
    reply: Identifier | None = None
    login: Identifier | None = Field(None, description="signs the profile in (inbox-agent login)")


class QuietHours(ConfigModel):
    """No sweeps from ``start`` to ``end`` (the workspace's timezone; may pass midnight)."""

    start: time
    end: time


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WORKDAYS: tuple[Weekday, ...] = WEEKDAYS[:5]


class BusinessHours(ConfigModel):
    """When the team answers: inside, the SLA cadence holds; outside, the workspace is swept
    every ``outside_every_minutes`` (none: not at all until business hours start again)."""

    days: list[Weekday] = Field(default_factory=lambda: list(WORKDAYS))
    start: time
    end: time
    outside_every_minutes: float | None = Field(None, ge=1, le=7 * 24 * 60)

    @model_validator(mode="after")
    def _ordered(self) -> BusinessHours:
        if self.end <= self.start:
            raise ValueError("business hours must end after they start on the same day")
        if not self.days:
            raise ValueError("business hours need at least one day")
        return self


class Schedule(ConfigModel):
    """When the scheduler (``inbox-agent run``) sweeps the workspace.

    The base cadence is ``every_minutes`` or a ``cron`` line; the SLA cadence shortens it
    so an item arriving just after a sweep is seen within ``sla_fraction`` of the tightest
    SLA of the workspace's routing, and shortens it again (``open_p1_every_minutes``)
    while P1 items are open. Jitter starts a sweep up to ``jitter_seconds`` early, never
    late, so it never stretches the cadence.
    """

    every_minutes: float | None = Field(None, ge=0.25, le=7 * 24 * 60)
    cron: str | None = Field(
        None, description="five crontab fields in the workspace's timezone, e.g. */10 8-20 * * *"
    )
    quiet_hours: QuietHours | None = None
    business_hours: BusinessHours | None = None
    jitter_seconds: int = Field(0, ge=0, le=3600)
    sla_cadence: bool = Field(True, description="sweep often enough for the tightest SLA")
    sla_fraction: float = Field(1 / 3, gt=0, le=1)
    open_p1_every_minutes: float | None = Field(
        None, ge=0.25, description="while P1 items are open; default: half the SLA cadence"
    )

    @model_validator(mode="after")
    def _one_cadence(self) -> Schedule:
        if (self.every_minutes is None) == (self.cron is None):
            raise ValueError("give exactly one of every_minutes and cron")
        if self.cron is not None:
            from apscheduler.triggers.cron import CronTrigger

            try:
                CronTrigger.from_crontab(self.cron)
            except ValueError as exc:
                raise ValueError(f"cron {self.cron!r}: {exc}") from exc
        return self


class Owners(ConfigModel):
    default: str | None = Field(None, description="owner when no queue rule names one")
    queues: dict[str, str] = Field(default_factory=dict, description="queue -> owner")


class ReplyPolicy(ConfigModel):
    approved_intents: list[str] = Field(default_factory=list)
    knowledge: str | None = Field(
        None, description="approved saved replies file, relative to the home"
    )


class Workspace(ConfigModel):
    id: Identifier
    client: str = Field(min_length=1)
    platform: Platform
    surface: Surface
    environment: Environment
    flows: FlowRefs
    selectors: Identifier = Field(description="selector pack id")
    schedule: Schedule | None = None
    timezone: str = "UTC"
    owners: Owners = Owners()
    reply_policy: ReplyPolicy = ReplyPolicy()
    triage: str | None = Field(None, description="triage config file under the home (optional)")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _surface_matches_environment(self) -> Workspace:
        wanted = "browser_profile" if self.surface == "web" else "android_device"
        if self.environment.kind != wanted:
            raise ValueError(
                f"surface {self.surface!r} needs environment kind {wanted!r}, "
                f"not {self.environment.kind!r}"
            )
        return self

    @property
    def profile_name(self) -> str:
        env = self.environment
        return (env.profile or self.id) if isinstance(env, BrowserProfile) else self.id
