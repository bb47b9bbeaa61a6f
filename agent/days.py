"""Days as people type them (``YYYY-MM-DD``): the queue's date range, the report's
``--since``/``--until`` and a follow-up date all read them here, with one message."""

from __future__ import annotations

from datetime import date

SHOWN = 40  # characters of a bad value repeated in the message


def parse_day(what: str, value: str | None, error: type[Exception] = ValueError) -> date | None:
    """The day ``value`` names, None when it is empty (no bound, or "clear"); otherwise
    ``error`` naming ``what`` and the value (cut to ``SHOWN`` characters)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        shown = text if len(text) <= SHOWN else text[:SHOWN] + "…"
        raise error(f"{what} {shown!r} is not a date (use YYYY-MM-DD)") from None
