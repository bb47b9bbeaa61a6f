"""Configuration: defaults, overrides from a file, and clear errors."""

from pathlib import Path

import pytest

from agent.triage import TriageConfig, TriageConfigError, load_config


def test_defaults_have_the_taxonomy() -> None:
    config = load_config(None)
    assert len(config.taxonomy.intents) == 14
    assert config.taxonomy.priority_by_intent["spam"] == "none"
    assert config.stages[0] == "normalize" and config.stages[-1] == "draft"
    assert load_config(config) is config


def test_file_overrides_sections(tmp_path: Path) -> None:
    (tmp_path / "routes.yaml").write_text(
        "rules:\n  - name: all\n    actions: {queue: q, owner: o, sla_minutes: 5}\n"
    )
    path = tmp_path / "triage.yaml"
    path.write_text(
        "thresholds: {intent_review: 0.7}\n"
        "routing: routes.yaml\n"
        "taxonomy: {viral_cluster_size: 3}\n"
    )
    config = load_config(path)
    assert isinstance(config, TriageConfig)
    assert config.thresholds.intent_review == 0.7
    assert config.routing.rules[0].name == "all"
    assert config.taxonomy.viral_cluster_size == 3
    assert len(config.taxonomy.intents) == 14  # untouched keys keep their defaults


def test_unknown_keys_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("thresholds: {intent_reveiw: 0.7}\n")
    with pytest.raises(TriageConfigError, match="bad.yaml: thresholds.intent_reveiw"):
        load_config(path)


def test_unknown_stage_is_an_error() -> None:
    with pytest.raises(TriageConfigError, match="unknown stage 'sentiment'"):
        load_config({"stages": ["normalize", "sentiment"]})


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(TriageConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
