"""Compile a pack's CSS and XPath locators, so a typo is a config problem, not a missing element.

CSS is compiled with soupsieve (the CSS engine of Beautiful Soup), XPath with
lxml (XPath 1.0, as browsers and UI Automator evaluate it). ``{variable}``
placeholders (``{item_message_id}``, ``{account_name}``) are filled with a
harmless literal first: the real value is quoted safely at run time.
"""

from __future__ import annotations

import re
from typing import Any

PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_]*\}")

# Playwright extends CSS with syntax no CSS engine knows: selector chaining (``>>``),
# its text and layout pseudo-classes, and engine prefixes (``text=…``, ``xpath=…``).
# soupsieve would call these invalid, so such selectors are not compiled here; the
# browser checks them when they run.
PLAYWRIGHT_ONLY = (
    ">>",
    ":has-text(",
    ":text(",
    ":text-is(",
    ":text-matches(",
    ":visible",
    ":nth-match(",
    ":left-of(",
    ":right-of(",
    ":above(",
    ":below(",
    ":near(",
)
ENGINE_PREFIX = re.compile(r"^\s*[a-z][a-z0-9_-]*=")


def fill_placeholders(value: str) -> str:
    return PLACEHOLDER.sub("x", value)


def playwright_only(css: str) -> bool:
    """Whether ``css`` uses Playwright's own selector syntax (not compiled here)."""
    return any(token in css for token in PLAYWRIGHT_ONLY) or bool(ENGINE_PREFIX.match(css))


def css_error(css: str) -> str | None:
    """Why ``css`` is not a valid CSS selector, or None (also for Playwright-only syntax)."""
    if playwright_only(css):
        return None
    import soupsieve

    try:
        soupsieve.compile(fill_placeholders(css))
    except Exception as exc:  # any refusal of the parser is the selector's problem
        reason = _first_line(exc)
        # soupsieve 4 refuses complex selectors inside :has() ("Using strict rules as
        # proposed by CSS"), which browsers accept (div:has(> div > span + span)).
        return None if reason.startswith("Using strict rules") else reason
    return None


def xpath_error(xpath: str) -> str | None:
    """Why ``xpath`` is not a valid XPath 1.0 expression, or None."""
    from lxml import etree

    try:
        etree.XPath(fill_placeholders(xpath))
    except etree.XPathError as exc:
        return _first_line(exc)
    return None


def locator_error(kind: str, value: Any) -> str | None:
    """``invalid CSS: …`` / ``invalid XPath: …`` for a locator of that kind, else None."""
    if not isinstance(value, str) or not value.strip():
        return None  # the model reports a missing or empty value
    if kind == "css":
        reason = css_error(value)
        return None if reason is None else f"invalid CSS: {reason}"
    if kind == "xpath":
        reason = xpath_error(value)
        return None if reason is None else f"invalid XPath: {reason}"
    return None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
