"""Triage configuration: taxonomy, routing, thresholds, reply policy and saved replies.

Defaults live in ``agent/triage/data/`` (taxonomy.yaml, routing.yaml, knowledge.yaml).
A workspace config file may override any section::

    stages: [normalize, spam, duplicates, intent, stop_rules, priority, routing, draft]
    thresholds: {intent_review: 0.5, spam_drop: 0.9}   # spam_drop default: the model's
    dedup: {window_minutes: 1440, similarity: 0.8, min_tokens: 4}
    taxonomy: {priority_by_intent: {...}}   # keys replace the default's keys
    routing: routing.yaml                   # or an inline {rules: [...]}
    knowledge: knowledge.yaml               # or inline {reply_policy: ..., saved_replies: ...}

Relative paths are resolved against the config file. Unknown keys are errors,
reported as ``file: location: problem``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.triage.errors import TriageConfigError

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_STAGES = (
    "normalize",
    "spam",
    "duplicates",
    "intent",
    "stop_rules",
    "priority",
    "routing",
    "draft",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Thresholds(_Strict):
    intent_review: float = Field(0.5, ge=0, le=1)  # calibrated confidence below this: review
    # spam probability at or above this: drop; None uses the threshold chosen at training
    # time (the lowest reaching 98% precision on a held-out calibration fold)
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
    stages: list[str] = list(DEFAULT_STAGES)
    thresholds: Thresholds = Thresholds()
    dedup: Dedup = Dedup()
    taxonomy: Taxonomy
    routing: Routing
    knowledge: Knowledge
    model_path: str | None = None


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TriageConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise TriageConfigError(f"{path}: invalid YAML: {exc}") from exc


def _section(value: Any, base: Path) -> Any:
    """A section given as a path is read from that file (relative to ``base``)."""
    if isinstance(value, str):
        return _read_yaml((base / value) if not Path(value).is_absolute() else Path(value))
    return value


def _defaults() -> dict[str, Any]:
    return {
        "taxonomy": _read_yaml(DATA_DIR / "taxonomy.yaml"),
        "routing": _read_yaml(DATA_DIR / "routing.yaml"),
        "knowledge": _read_yaml(DATA_DIR / "knowledge.yaml"),
    }


def _build(raw: dict[str, Any], source: str) -> TriageConfig:
    try:
        config = TriageConfig.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"{source}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors()
        ]
        raise TriageConfigError("\n".join(problems)) from exc
    from agent.triage.pipeline import STAGES  # stage names live with the stages

    for name in config.stages:
        if name not in STAGES:
            raise TriageConfigError(f"{source}: stages: unknown stage {name!r}")
    return config


def load_config(source: TriageConfig | str | Path | dict[str, Any] | None = None) -> TriageConfig:
    """Defaults when None; a TriageConfig as is; a dict or YAML file overrides the defaults."""
    if isinstance(source, TriageConfig):
        return source
    raw = _defaults()
    if source is None:
        return _build(raw, "defaults")
    if isinstance(source, dict):
        override, base, name = source, Path.cwd(), "config"
    else:
        path = Path(source)
        override, base, name = _read_yaml(path), path.parent, str(path)
        if override is None:
            override = {}
        if not isinstance(override, dict):
            raise TriageConfigError(f"{path}: must be a mapping of sections")
    for key, value in override.items():
        value = _section(value, base)
        if key == "taxonomy" and isinstance(value, dict):
            raw["taxonomy"] = {**raw["taxonomy"], **value}
        else:
            raw[key] = value
    return _build(raw, name)
