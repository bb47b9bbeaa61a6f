"""The pilot report: what inbox-agent did for a team, counted from the store.

``build_report`` reads the facts (``facts``: a few SELECTs on SQLite or PostgreSQL) and
counts every measure (``measures`` defines each one, in one line the report prints) in
total, by ISO week, by client and by workspace, plus the detail tables (``tables``).
It is written out as text (``text``), CSV (``csvout``), one self-contained HTML file
with charts (``html``, ``charts``: matplotlib SVG), and served by the review UI
(``agent.review.report_page``). ``records`` is the one record per item that
``inbox-agent export items`` writes (with its recovery note, read from the runs).

Modules import what they draw with (Jinja2, matplotlib) only when a report is drawn.
"""

from agent.report.build import Report, ReportError, ReportRequest, build_report, parse_day
from agent.report.measures import MEASURES, Measure, Unit

__all__ = [
    "MEASURES",
    "Measure",
    "Report",
    "ReportError",
    "ReportRequest",
    "Unit",
    "build_report",
    "parse_day",
]
