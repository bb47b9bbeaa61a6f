"""Environment variables in configuration values: ``${VAR}`` and ``${VAR:-default}``.

Workspace and device files name URLs and secrets this way; the value is read
when the environment is opened, never written back.
"""

from __future__ import annotations

import os
import re

_ENV = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}")


def expand_env(text: str) -> str:
    """Expand ``${VAR}`` and ``${VAR:-default}`` from the environment."""
    return _ENV.sub(lambda m: os.environ.get(m.group(1)) or (m.group(2) or ""), text)
