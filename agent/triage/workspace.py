"""A workspace's triage configuration: the defaults with the workspace's own settings.

Store-free and light to import: ``inbox-agent validate`` reports what a sweep would
refuse in a workspace's triage and knowledge files without loading the store or a model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.triage.config import Origin, TriageConfig, load_config, read_document, validate_config
from agent.triage.errors import TriageConfigError
from workspaces.errors import ConfigProblem
from workspaces.models import Workspace
from workspaces.paths import Home

MEMORY_FILE = "corrections.npz"  # a workspace's learned corrections (triage train -w)


def memory_path(home_root: Path, workspace: str) -> Path:
    """Where a workspace's correction memory is kept under the home."""
    return home_root / "triage" / workspace / MEMORY_FILE


def workspace_config(home: Home, ws: Workspace) -> TriageConfig:
    """The default triage configuration with the workspace's own settings applied.

    Raises TriageConfigError naming file, line and field when the workspace's
    triage or knowledge file is malformed (``inbox-agent validate`` reports the same).
    """
    base = load_config(home.root / ws.triage if ws.triage else None)
    data: dict[str, Any] = base.model_dump()
    origins: dict[str, Origin] = {}
    if ws.reply_policy.knowledge:
        doc = read_document(home.root / ws.reply_policy.knowledge)
        if not isinstance(doc.data, dict):
            problem = ConfigProblem(str(doc.path), 1, 1, "(top)", "must be a mapping")
            raise TriageConfigError.from_problems([problem])
        data["knowledge"] = {**data["knowledge"], **doc.data}
        origins["knowledge"] = (doc, ())
    policy = data["knowledge"].get("reply_policy") or {}
    if isinstance(policy, dict):  # anything else is reported by validate_config below
        policy = {**policy, "approved_intents": list(ws.reply_policy.approved_intents)}
        data["knowledge"]["reply_policy"] = policy
    owners = ws.owners
    for rule in data["routing"]["rules"]:
        actions = rule["actions"]
        queue = actions.get("queue")
        if queue in owners.queues:
            actions["owner"] = owners.queues[queue]
        elif not actions.get("owner") and owners.default:
            actions["owner"] = owners.default
    memory = memory_path(home.root, ws.id)
    if memory.is_file():  # the reviewers' corrections (`inbox-agent triage train --workspace`)
        data["corrections_path"] = str(memory)
    return validate_config(data, f"workspace {ws.id}", origins)
