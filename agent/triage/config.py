"""Triage configuration: taxonomy, routing, thresholds, reply policy and saved replies.

Defaults live in ``agent/triage/data/`` (taxonomy.yaml, routing.yaml, knowledge.yaml).
A workspace config file may override any section::

    stages: [normalize, spam, duplicates, intent, stop_rules, priority, routing, draft]
    thresholds: {intent_review: 0.5, spam_drop: 0.9}   # spam_drop default: the model's
    dedup: {window_minutes: 1440, similarity: 0.8, min_tokens: 4}
    trust_known_authors: true   # an author whose earlier item was not spam is never dropped
    taxonomy: {priority_by_intent: {...}}   # keys replace the default's keys
    routing: routing.yaml                   # or an inline {rules: [...]}
    knowledge: knowledge.yaml               # or inline {reply_policy: ..., saved_replies: ...}

Relative paths are resolved against the config file. Unknown keys are errors,
reported as ``file: location: problem``.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.triage.errors import TriageConfigError
from workspaces.errors import ConfigProblem
from workspaces.source import Document, Loc, YamlSourceError, load_yaml
from workspaces.validation import error_message, problem_at

DATA_DIR = Path(__file__).parent / "data"
MODEL_PATH = DATA_DIR / "model.npz"  # the shipped models (built by `inbox-agent triage train`)
# Every stage there is, in the default order (``Pipeline.stage_<name>`` runs each).
STAGE_NAMES = (
    "normalize",
    "scams",
    "spam",
    "duplicates",
    "intent",
    "stop_rules",
    "corrections",
    "priority",
    "routing",
    "draft",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Thresholds(_Strict):
    intent_review: float = Field(0.5, ge=0, le=1)  # calibrated confidence below this: review
    # calibrated confidence needed for a draft (at or above intent_review)
    draft: float = Field(0.6, ge=0, le=1)
    # "needs a person" score at or above this pauses; None: the threshold chosen at
    # training time (the most recall at <= 15% false pauses, out of fold on real messages)
    needs_person: float | None = Field(None, ge=0, le=1)
    # a "needs a person" score at or above this blocks a draft; None: chosen at training
    # time (out-of-fold recall 0.98 of must-pause real messages)
    draft_block: float | None = Field(None, ge=0, le=1)
    # spam probability at or above this: drop; None uses the threshold chosen at training
    # time (the lowest reaching 97.5% precision on videos left out, ``select_spam``)
    spam_drop: float | None = Field(None, ge=0, le=1)


class Dedup(_Strict):
    window_minutes: int = Field(1440, ge=1)
    similarity: float = Field(0.8, gt=0, le=1)  # Jaccard of word shingles
    min_tokens: int = Field(4, ge=1)  # shorter texts ("lol", "hi") are never clustered


class Taxonomy(_Strict):
    intents: list[str]
    priority_by_intent: dict[str, Literal["P1", "P2", "P3", "none"]]
    priority_by_rule_family: dict[str, Literal["P1", "P2", "P3"]] = {}
    viral_cluster_size: int = 20
    intent_by_rule: dict[str, str] = {}
    fallback_intent_by_rule_family: dict[str, str] = {}
    pause_families: list[str] = []
    escalate_priorities: list[str] = ["P1"]


class Condition(_Strict):
    attribute: Literal[
        "intent", "priority", "platform", "workspace", "kind", "lang", "rule_family", "rule_id"
    ]
    operator: Literal["equal_to", "not_equal_to", "contains"] = "equal_to"
    values: list[str]


class RouteActions(_Strict):
    queue: str | None = None
    owner: str | None = None
    sla_minutes: int | None = Field(None, ge=0)
    escalation: list[str] = []
    action: Literal["review", "escalate", "pause"] | None = None


class RouteRule(_Strict):
    name: str
    conditions: list[Condition] = []
    actions: RouteActions


class Routing(_Strict):
    rules: list[RouteRule]


class SavedReply(_Strict):
    id: str
    intent: str
    text: str
    lang: str | None = None
    private: bool = False
    requires: list[str] = []


class ReplyPolicy(_Strict):
    approved_intents: list[str] = []
    move_to_dm_reply: str | None = None


class Knowledge(_Strict):
    reply_policy: ReplyPolicy = ReplyPolicy()
    saved_replies: list[SavedReply] = []


class TriageConfig(_Strict):
    stages: list[str] = list(STAGE_NAMES)
    thresholds: Thresholds = Thresholds()
    dedup: Dedup = Dedup()
    # an author with an earlier item in the workspace that was not spam (kept by triage,
    # or restored by a person) is a known customer: the spam filter never drops them
    trust_known_authors: bool = True
    # the workspace's own handles besides the item's account: a handle that resembles one
    # of them (``@brand.support``) is a lookalike (``scam.lookalike``)
    own_handles: list[str] = []
    taxonomy: Taxonomy
    routing: Routing
    knowledge: Knowledge
    model_path: str | None = None
    # the workspace's correction memory (``triage train --workspace``); None: none
    corrections_path: str | None = None


Origin = tuple[Document, Loc]  # the file a section was written in, and its path there
SECTION_FILES = ("taxonomy", "routing", "knowledge")  # sections that may name a YAML file


def read_document(path: Path) -> Document:
    """A YAML file with the position of every key; an empty file is an empty mapping."""
    try:
        return load_yaml(path)
    except YamlSourceError as exc:
        if exc.problem.message == "file is empty":
            return Document(path, {})
        raise TriageConfigError.from_problems([exc.problem]) from exc


def _mapping(doc: Document, what: str) -> dict[str, Any]:
    if not isinstance(doc.data, dict):
        problem = ConfigProblem(str(doc.path), 1, 1, "(top)", f"{what} must be a mapping")
        raise TriageConfigError.from_problems([problem])
    return doc.data


@functools.cache
def _default_data() -> dict[str, Any]:
    """The shipped defaults, read once per process (every workspace starts from them)."""
    return {name: read_document(DATA_DIR / f"{name}.yaml").data for name in SECTION_FILES}


def _defaults() -> dict[str, Any]:
    return copy.deepcopy(_default_data())  # callers merge into it


def validate_config(
    raw: dict[str, Any], source: str, origins: dict[str, Origin] | None = None
) -> TriageConfig:
    """Validate merged configuration data; problems point into the files in ``origins``."""
    origins = origins or {}
    try:
        config = TriageConfig.model_validate(raw)
    except ValidationError as exc:
        raise _error(exc, source, origins) from exc
    for index, name in enumerate(config.stages):
        if name not in STAGE_NAMES:
            message = f"unknown stage {name!r} (known: {', '.join(STAGE_NAMES)})"
            if "stages" not in origins:
                raise TriageConfigError(f"{source}: stages: {message}")
            doc, prefix = origins["stages"]
            line, col = doc.mark((*prefix, index))
            field = f"stages[{index}]"
            raise TriageConfigError.from_problems(
                [ConfigProblem(str(doc.path), line, col, field, message)]
            )
    return config


def _error(exc: ValidationError, source: str, origins: dict[str, Origin]) -> TriageConfigError:
    problems: list[ConfigProblem] = []
    lines: list[str] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        origin = origins.get(str(loc[0])) if loc else None
        if origin is None:  # a default or an inline dict: no file to point into
            lines.append(f"{source}: {'.'.join(str(p) for p in loc)}: {error_message(err)}")
            continue
        doc, prefix = origin
        problem = problem_at(err, doc, (*prefix, *loc[1:]))
        problems.append(problem)
        lines.append(str(problem))
    return TriageConfigError("\n".join(lines), problems)


def load_config(source: TriageConfig | str | Path | dict[str, Any] | None = None) -> TriageConfig:
    """Defaults when None; a TriageConfig as is; a dict or YAML file overrides the defaults.

    In a file, ``taxonomy``, ``routing`` and ``knowledge`` may name another YAML
    file (relative to it); problems are reported as ``FILE:LINE:COLUMN: field: message``.
    """
    if isinstance(source, TriageConfig):
        return source
    raw = _defaults()
    if source is None:
        return validate_config(raw, "defaults")
    origins: dict[str, Origin] = {}
    if isinstance(source, dict):
        override, name, doc = source, "config", None
    else:
        doc = read_document(Path(source))
        override, name = _mapping(doc, "a triage config"), str(source)
    for key, value in override.items():
        if doc is not None:
            origins[key] = (doc, (key,))
            if key in SECTION_FILES and isinstance(value, str):  # relative to the config file
                section = read_document(doc.path.parent / value)
                origins[key] = (section, ())
                value = _mapping(section, key)
        if key == "taxonomy" and isinstance(value, dict):
            raw["taxonomy"] = {**raw["taxonomy"], **value}
        else:
            raw[key] = value
    return validate_config(raw, name, origins)
