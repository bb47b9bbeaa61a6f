"""The home's scheduler settings: ``scheduler.yaml`` beside ``workspaces/`` (optional).

Per workspace, *when* it is swept is its own ``schedule:``. This file says what the
host (or the fleet) allows at once and how close two sweeps of one account may be::

    tick_seconds: 10            # how often the scheduler looks for due work
    caps:
      host: 4                   # sweeps at once per host (in-process: the thread pool)
      platforms: {instagram: 2} # sweeps at once per platform, over every host
      device_pools: {lab: 1}    # sweeps at once on the devices with this label
    min_spacing_minutes:        # never sweep one account of the platform faster than this
      instagram: 10
    drain_outbox: true          # send approved replies between sweeps too

The broker is never written here (its URL can hold a password): ``INBOX_AGENT_BROKER``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from workspaces.errors import ConfigProblem
from workspaces.models import Platform
from workspaces.source import Document, YamlSourceError, load_yaml
from workspaces.validation import ConfigModel, parse_model

SCHEDULER_FILE = "scheduler.yaml"
BROKER_ENV = "INBOX_AGENT_BROKER"


class Caps(ConfigModel):
    host: int = Field(4, ge=1, le=256, description="sweeps at once per host")
    platforms: dict[Platform, int] = Field(default_factory=dict)
    device_pools: dict[str, int] = Field(
        default_factory=dict, description="device label -> sweeps at once on such devices"
    )


class SchedulerConfig(ConfigModel):
    tick_seconds: float = Field(10, ge=0.2, le=600)
    caps: Caps = Caps()
    min_spacing_minutes: dict[Platform, float] = Field(default_factory=dict)
    drain_outbox: bool = True

    def spacing_s(self, platform: str) -> float:
        return 60.0 * self.min_spacing_minutes.get(platform, 0.0)


def load_scheduler_config(
    root: Path,
) -> tuple[SchedulerConfig, Document | None, list[ConfigProblem]]:
    """The home's scheduler settings (the defaults when the file does not exist)."""
    path = root / SCHEDULER_FILE
    if not path.is_file():
        return SchedulerConfig(), None, []
    try:
        doc = load_yaml(path)
    except YamlSourceError as exc:
        if exc.problem.message == "file is empty":
            return SchedulerConfig(), None, []
        return SchedulerConfig(), None, [exc.problem]
    model, problems = parse_model(SchedulerConfig, doc)
    return (model or SchedulerConfig()), doc, problems
