"""The triage core: decide, with reasons, what happens to each comment or DM.

Public API (stable; everything else in ``agent.triage`` is internal)::

    from agent.triage import Pipeline, TriageInput, Decision, load_config

    pipe = Pipeline(load_config(path_or_None))      # defaults when None
    decision = pipe.triage(TriageInput(id="1", text="...", platform="instagram",
                                       kind="comment", author="ana", account=None,
                                       workspace=None, posted_at=None, thread=None))
    decisions = pipe.triage_many(iterable)           # keeps duplicate clusters across items
    decision.to_dict()   # id, intent, priority, action, pause_reasons, queue, owner,
                         # sla_minutes, escalation, confidence, spam_score, lang, draft,
                         # draft_source, duplicate_of, cluster_id, cluster_size,
                         # case_of, merged_into, why

Actions: ``drop`` (spam, the same author's repeat in a thread; a stage raised
``DropItem``; a near-duplicate from anyone else joins the case, ``case_of``), ``review`` (a
person looks, maybe with a draft), ``escalate`` (P1), ``pause`` (a stop rule fired or no
owner matched: ``pause_reasons`` lists rule ids and there is never a draft).
``pipe.triage`` raises ``TriageInputError`` (field + message) for an unusable item.
``load_config`` accepts None, a ``TriageConfig``, a dict, or a YAML file path
(see ``agent.triage.config``); ``inbox-agent triage train`` rebuilds the model.
Message text is untrusted: it is classified and matched, never evaluated or obeyed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from agent.triage.config import TriageConfig, load_config
from agent.triage.errors import (
    DropItem,
    ModelError,
    TriageConfigError,
    TriageError,
    TriageInputError,
)

if TYPE_CHECKING:
    from agent.triage.models import Decision, TriageInput
    from agent.triage.pipeline import Pipeline

# The pipeline and its models (numpy, the learned heads) load on first use, so reading
# or validating a configuration (``inbox-agent validate``) never pays for them.
_LAZY = {"Decision": "models", "TriageInput": "models", "Pipeline": "pipeline"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"agent.triage.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Decision",
    "DropItem",
    "ModelError",
    "Pipeline",
    "TriageConfig",
    "TriageConfigError",
    "TriageError",
    "TriageInput",
    "TriageInputError",
    "load_config",
]
