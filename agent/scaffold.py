"""``inbox-agent init``: write a home folder with commented, working example files.

The examples live in ``agent/examples/home`` inside the package and are copied
as they are. Existing files are never overwritten. The activity log's key is
generated in ``keys/log.key`` (mode 0600) unless ``INBOX_AGENT_LOG_KEY`` is set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from runlogs.keys import LOG_KEY_ENV, create_key_file
from workspaces.paths import CONFIG_KINDS, Home


@dataclass
class InitResult:
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)


def _walk(node: Traversable, rel: Path) -> list[tuple[Path, Traversable]]:
    out: list[tuple[Path, Traversable]] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name.startswith((".", "__")):
            continue
        if child.is_dir():
            out.extend(_walk(child, rel / child.name))
        else:
            out.append((rel / child.name, child))
    return out


def init_home(home: Home) -> InitResult:
    result = InitResult()
    home.ensure()
    for kind in CONFIG_KINDS:
        home.config_dir(kind).mkdir(parents=True, exist_ok=True)
    examples = resources.files("agent") / "examples" / "home"
    for rel, source in _walk(examples, Path()):
        target = home.root / rel
        if target.exists():
            result.kept.append(target)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
        result.written.append(target)
    if not os.environ.get(LOG_KEY_ENV):
        _key, created = create_key_file(home.log_key_file)
        (result.written if created else result.kept).append(home.log_key_file)
    return result
