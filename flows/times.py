"""Reading the time a screen shows for an item: ISO attributes, dates and relative times.

Platforms show ``datetime`` attributes (``2024-03-05T10:00:00Z``), absolute dates
("13 May 2020 at 01:01", "4 June at 15:11") and relative times ("3h", "1 yr",
"on Fri", "last Thu"). An ISO value is taken as it is; anything else is read by
``dateparser`` relative to when the item was seen, in the workspace's language
and time zone, and preferring the past (a comment is never from the future).
The result records how it was read, so a reviewer can tell a parsed "on Fri"
from a timestamp, and a time nobody can read is reported, never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Literal

# Abbreviations platforms use that dateparser does not know (checked on real pages:
# m.facebook.com shows "12 mths").
_ABBREVIATIONS = (
    (re.compile(r"\b(\d+)\s*mths?\b", re.IGNORECASE), r"\1 months"),
    (re.compile(r"\b(\d+)\s*wks?\b", re.IGNORECASE), r"\1 weeks"),
)

How = Literal["iso", "shown", "unreadable"]


@dataclass(frozen=True)
class ShownTime:
    """A time read from a screen: the value (UTC), the text shown and how it was read."""

    text: str
    at: datetime | None
    how: How

    @property
    def absolute(self) -> bool:
        """An ISO timestamp: the same on every sweep, so it may go into an item's fingerprint."""
        return self.how == "iso"


def parse_iso(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def language_of(locale: str) -> str:
    """'en-US' -> 'en' (dateparser's language codes)."""
    return locale.split("-")[0].lower() or "en"


@lru_cache(maxsize=64)
def _settings(timezone: str) -> dict[str, object]:
    return {
        "PREFER_DATES_FROM": "past",
        "TIMEZONE": timezone,
        "TO_TIMEZONE": "UTC",
        "RETURN_AS_TIMEZONE_AWARE": True,
    }


def read_time(text: str | None, *, seen_at: datetime, timezone: str, locale: str) -> ShownTime:
    """The time ``text`` stands for, seen at ``seen_at`` (UTC) by a person in ``timezone``."""
    raw = " ".join((text or "").split())
    if not raw:
        return ShownTime("", None, "unreadable")
    iso = parse_iso(raw)
    if iso is not None:
        return ShownTime(raw, iso.astimezone(UTC), "iso")
    import dateparser  # a second to import; only sites that show no ISO time need it

    spelled = raw
    for pattern, replacement in _ABBREVIATIONS:
        spelled = pattern.sub(replacement, spelled)
    settings = dict(_settings(timezone))
    # dateparser reads RELATIVE_BASE as a naive time in TIMEZONE.
    from zoneinfo import ZoneInfo

    settings["RELATIVE_BASE"] = seen_at.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    languages = list(dict.fromkeys([language_of(locale), "en"]))
    at = dateparser.parse(spelled, languages=languages, settings=settings)
    if at is None:
        return ShownTime(raw, None, "unreadable")
    return ShownTime(raw, at.astimezone(UTC), "shown")
