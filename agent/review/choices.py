"""What a reviewer may set when correcting triage: intents, priorities and queues.

An intent must be one triage can assign (``queries.known_intents``: the taxonomies in
use), a priority one of ``queries.PRIORITIES``; a queue is any short, printable name.
The queues the item page offers are the routing rules' (``known_queues``), read like the
intents: the default rules', then those a workspace's own triage file adds (a file that
does not load adds none; ``validate`` reports it). A bad value is refused with a
``ReviewError`` (400) that names the field.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from agent.review.errors import ReviewError
from agent.review.queries import PRIORITIES, default_intents
from agent.store.models import CorrectionField
from workspaces.paths import Home

if TYPE_CHECKING:
    from agent.config import Catalog
    from agent.triage.config import TriageConfig

__all__ = ["MAX_QUEUE_CHARS", "check_correction", "known_queues"]

MAX_QUEUE_CHARS = 100  # the decisions.queue column


def _one_of(what: str, value: str, known: Collection[str]) -> str:
    if value not in known:
        shown = value if len(value) <= 60 else value[:60] + "…"
        raise ReviewError(f"unknown {what} {shown!r} (known: {', '.join(known)})")
    return value


def _queue_name(value: str) -> str:
    value = value.strip()
    if not value:
        raise ReviewError("the queue is empty")
    if len(value) > MAX_QUEUE_CHARS:
        raise ReviewError(f"the queue is {len(value):,} characters (at most {MAX_QUEUE_CHARS})")
    if not value.isprintable():  # line breaks, control and direction-changing characters
        raise ReviewError("the queue holds control or invisible characters")
    return value


def check_correction(
    wanted: Mapping[CorrectionField, str | None], intents: Collection[str] | None = None
) -> dict[CorrectionField, str]:
    """The values given (None: leave the field as it is), checked and stripped.

    ``intents`` default to the default taxonomy's.
    """
    given = {name: value for name, value in wanted.items() if value is not None}
    if not given:
        raise ReviewError("nothing to correct: give an intent, a priority or a queue")
    out: dict[CorrectionField, str] = {}
    for name, value in given.items():
        if name is CorrectionField.INTENT:
            known = list(intents) if intents is not None else default_intents()
            out[name] = _one_of("intent", value.strip(), known)
        elif name is CorrectionField.PRIORITY:
            out[name] = _one_of("priority", value.strip(), PRIORITIES)
        elif name is CorrectionField.QUEUE:
            out[name] = _queue_name(value)
        else:
            raise ReviewError(f"{name.value} is not corrected this way")
    return out


def _queues(config: TriageConfig) -> list[str]:
    out: list[str] = []
    for rule in config.routing.rules:
        queue = rule.actions.queue
        if queue and queue not in out:
            out.append(queue)
    return out


def known_queues(home: Home, catalog: Catalog) -> list[str]:
    """The queues routing can assign in this home, in the order the rules name them."""
    from agent.triage import load_config
    from agent.triage.errors import TriageConfigError

    out = _queues(load_config())
    for loaded in catalog.workspaces.values():
        if loaded.model.triage is None:
            continue
        try:
            extra = _queues(load_config(home.root / loaded.model.triage))
        except (TriageConfigError, OSError):
            continue
        out += [q for q in extra if q not in out]
    return out
