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
    with pytest.raises(
        TriageConfigError, match=r"bad.yaml:1:\d+: thresholds.intent_reveiw: unknown"
    ):
        load_config(path)


def test_problems_name_the_file_and_line_they_were_written_in(tmp_path: Path) -> None:
    (tmp_path / "routes.yaml").write_text(
        "rules:\n"
        "  - name: all\n"
        "    actions: {queue: q, owner: o, sla_minutes: -5}\n"
        "  - name: second\n"
        "    conditions: [{attribute: colour, values: [red]}]\n"
        "    actions: {queue: q}\n"
    )
    path = tmp_path / "triage.yaml"
    path.write_text(
        "# comment\n"
        "routing: routes.yaml\n"
        "stages: [normalize, intent, sentiment]\n"
        "thresholds:\n"
        "  spam_drop: 2\n"
    )
    with pytest.raises(TriageConfigError) as caught:
        load_config(path)
    found = {(p.path.rsplit("/", 1)[-1], p.line, p.field) for p in caught.value.problems}
    assert ("triage.yaml", 5, "thresholds.spam_drop") in found
    assert ("routes.yaml", 3, "rules[0].actions.sla_minutes") in found
    assert ("routes.yaml", 5, "rules[1].conditions[0].attribute") in found
    assert "Traceback" not in str(caught.value)
    path.write_text("stages: [normalize, intent, sentiment]\n")
    with pytest.raises(TriageConfigError, match=r"triage.yaml:1:\d+: stages\[2\]: unknown stage"):
        load_config(path)


def test_only_section_names_are_read_as_files(tmp_path: Path) -> None:
    path = tmp_path / "triage.yaml"
    path.write_text("model_path: does-not-exist.npz\n")  # a value, not a YAML file to read
    assert load_config(path).model_path == "does-not-exist.npz"
    path.write_text("")
    assert load_config(path).thresholds.intent_review == 0.5  # empty file: defaults
    path.write_text("- just\n- a list\n")
    with pytest.raises(TriageConfigError, match="must be a mapping"):
        load_config(path)


def test_unknown_stage_is_an_error() -> None:
    with pytest.raises(TriageConfigError, match="unknown stage 'sentiment'"):
        load_config({"stages": ["normalize", "sentiment"]})


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(TriageConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
