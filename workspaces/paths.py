"""Where inbox-agent keeps things: the home folder and the built-in data.

Runtime state never goes into the source tree. It lives under a home folder,
chosen by ``--home``, else ``INBOX_AGENT_HOME``, else ``./.inbox-agent``. The
home also holds the user's own ``workspaces/``, ``devices/``, ``flows/`` and
``selectors/`` folders, which extend the built-in flows and selector packs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "INBOX_AGENT_HOME"
DB_ENV = "INBOX_AGENT_DB"
DEFAULT_HOME = ".inbox-agent"
WEBHOOKS_FILE = "webhooks.yaml"  # beside workspaces/ (agent.webhooks.config reads it)

CONFIG_KINDS = ("workspaces", "devices", "flows", "selectors")


def install_root() -> Path:
    """The folder that holds the installed packages and the ``selectors/`` data.

    In a wheel install ``selectors/`` sits in site-packages beside the packages;
    in a source checkout (or editable install) it sits beside them in the repo.
    Either way it is the parent of this package's folder.
    """
    return Path(__file__).resolve().parent.parent


def builtin_selectors_dir() -> Path:
    return install_root() / "selectors"


def builtin_flows_dir() -> Path:
    return install_root() / "flows" / "builtin"


@dataclass(frozen=True)
class Home:
    """The paths of one home folder. Creating the object touches nothing on disk."""

    root: Path

    @classmethod
    def resolve(cls, explicit: str | os.PathLike[str] | None = None) -> Home:
        chosen = explicit or os.environ.get(HOME_ENV) or DEFAULT_HOME
        return cls(Path(chosen).expanduser().absolute())

    @property
    def db_path(self) -> Path:
        return self.root / "inbox-agent.db"

    @property
    def db_url(self) -> str:
        """``INBOX_AGENT_DB`` when set (e.g. a PostgreSQL URL), else SQLite in the home."""
        return os.environ.get(DB_ENV) or f"sqlite:///{self.db_path}"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def profiles_dir(self) -> Path:
        return self.root / "profiles"

    @property
    def screenshots_dir(self) -> Path:
        return self.root / "screenshots"

    @property
    def keys_dir(self) -> Path:
        return self.root / "keys"

    @property
    def log_key_file(self) -> Path:
        """The activity log's key (unless ``INBOX_AGENT_LOG_KEY`` is set): outside ``logs/``."""
        return self.keys_dir / "log.key"

    def config_dir(self, kind: str) -> Path:
        if kind not in CONFIG_KINDS:
            raise ValueError(f"unknown config kind {kind!r}")
        return self.root / kind

    def ensure(self) -> Home:
        """Create the runtime folders (not the config folders: ``init`` writes those)."""
        for folder in (self.root, self.logs_dir, self.profiles_dir, self.screenshots_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self
