"""Where the sandbox listens by default, and the variables that say otherwise (stdlib only,
so the CLI's help can name them without loading the HTTP client)."""

from __future__ import annotations

import os

DEFAULT_URL = "http://127.0.0.1:8765"
URL_ENV = "INBOX_AGENT_SANDBOX_URL"
TOKEN_ENV = "INBOX_AGENT_SANDBOX_TOKEN"  # noqa: S105 - the name of a variable


def default_url() -> str:
    return os.environ.get(URL_ENV) or DEFAULT_URL
