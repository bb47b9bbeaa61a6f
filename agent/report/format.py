"""How a value is shown (text, HTML) and how it is written for machines (CSV, the HTML's
``<data value>``): one place, so the page, the terminal and the files agree.

Shown: a count as a number, a share as ``83% (5/6)``, minutes as ``42m``, ``3h 05m`` or
``2d 4h``, a rate with one decimal, nothing known as ``—``. Written: a count as its
number, a share as ``5/6``, minutes and rates with one decimal, nothing as empty.
"""

from __future__ import annotations

from agent.report.compute import Ratio, Value
from agent.report.measures import Unit

DASH = "—"


def span(minutes: float) -> str:
    """``"42m"``, ``"3h 05m"``, ``"2d 4h"`` (whole minutes, rounded down; negative: ``-``)."""
    sign = "-" if minutes < 0 else ""
    total = int(abs(minutes))
    if total >= 48 * 60:
        return f"{sign}{total // 1440}d {total % 1440 // 60}h"
    if total >= 60:
        return f"{sign}{total // 60}h {total % 60:02d}m"
    return f"{sign}{total}m"


def shown(value: Value, unit: Unit) -> str:
    if value is None:
        return DASH
    if isinstance(value, Ratio):
        share = value.share
        return DASH if share is None else f"{share:.0%} ({value.num}/{value.den})"
    if unit is Unit.MINUTES and isinstance(value, int | float):
        return span(float(value))
    if unit is Unit.RATE and isinstance(value, int | float):
        return f"{value:.1f}"
    return str(value)


def written(value: Value, unit: Unit) -> str:
    if value is None:
        return ""
    if isinstance(value, Ratio):
        return f"{value.num}/{value.den}"
    if unit in (Unit.MINUTES, Unit.RATE) and isinstance(value, int | float):
        return f"{float(value):.1f}"
    return str(value)
