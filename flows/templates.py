"""Filling templates: ``{variables}`` in URLs, texts and selectors, ``${ENV}`` in config.

Values that come from screens (message ids, account names) are quoted when they
go into a selector, never spliced, so a hostile id cannot change what a
selector matches.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urljoin, urlsplit

from flows.errors import FlowDefinitionError
from workspaces.env import expand_env  # noqa: F401  (flows name it from here)

_VAR = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def render(template: str, variables: dict[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in variables:
            raise FlowDefinitionError(f"unknown variable {{{name}}} in {template!r}")
        return variables[name]

    return _VAR.sub(sub, template)


def render_locator(kind: str, template: str, variables: dict[str, str]) -> str:
    """Fill ``{var}`` in a locator; values come from screens, so they are quoted, never spliced."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in variables:
            raise FlowDefinitionError(f"unknown variable {{{name}}} in selector {template!r}")
        value = variables[name]
        if kind == "css":
            return re.sub(r"([\\'\"\]\[])", r"\\\1", value)
        if kind == "xpath" and "'" in value:
            raise FlowDefinitionError(
                f"value for {{{name}}} contains a quote; xpath cannot hold it"
            )
        return value

    return _VAR.sub(sub, template)


def handle(text: str) -> str:
    """An account handle as compared: no @, case-folded."""
    return text.strip().lstrip("@").casefold()


def same_text(a: str, b: str) -> bool:
    def norm(x: str) -> str:
        return " ".join(unicodedata.normalize("NFC", x).split())

    return norm(a) == norm(b)


def thread_id(value: str, page_url: str) -> str:
    """A thread id from a value read on screen.

    A link (``/messages/123``, ``https://…``) becomes its path and query, as an
    opened thread's id is; any other value (a conversation partner, a row's id
    attribute) names a thread inside the page it was read on: ``/messages#user01``.
    """
    value = value.strip()
    if value.startswith(("/", "http://", "https://", "?")):
        parts = urlsplit(urljoin(page_url, value))
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return f"{urlsplit(page_url).path}#{value}"
