"""The report as HTML: one self-contained file (``render_file``), and the same content for
the review UI's page (``render_body``), from one Jinja2 template (autoescaped: workspace,
client, owner and queue names are people's input).

The file holds everything it shows: the review UI's stylesheet inline (allowed by its
hash in the file's own Content-Security-Policy, which lets nothing else load), and
each chart as an SVG ``data:`` URL in a desktop and a phone shape. The review UI's page
uses the same markup, its charts served from its own origin.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from agent.report import charts
from agent.report.build import Report
from agent.report.compute import Value
from agent.report.format import shown, written
from agent.report.measures import BY_KEY, KEY_MEASURES, MEASURES, SHORT_LABELS, Measure, Unit
from agent.report.tables import Table

TEMPLATES = Path(__file__).resolve().parent / "templates"
# The review UI's one stylesheet (agent.review.context reads the same file).
REVIEW_CSS = Path(__file__).resolve().parents[1] / "review" / "templates" / "review.css"
MAX_WEEKS = 8  # weeks shown as columns (the CSV and JSON have every one)
ChartSource = Callable[[str, str], str]  # (chart, variant) -> the src of its image


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def _shown(value: Value, unit: Unit) -> str:
        return shown(value, unit)

    def _written(value: Value, unit: Unit) -> str:
        return written(value, unit)

    env.filters["shown"] = _shown
    env.filters["written"] = _written
    env.filters["when"] = _when
    env.globals["row_id"] = Table.row_id
    return env


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def period(report: Report) -> str:
    """The days the report covers, as asked, else as found."""
    start = report.request.since or (report.first_seen.date() if report.first_seen else None)
    end = report.request.until or (report.last_seen.date() if report.last_seen else None)
    if start is None and end is None:
        return "no items yet"
    return f"{start or '…'} to {end or '…'}"


def covers(report: Report) -> str:
    if not report.workspaces:
        return "No workspace has data in the period."
    names = ", ".join(f"{ws} ({report.clients.get(ws, '?')})" for ws in report.workspaces)
    return f"Workspaces: {names}."


def _sections() -> list[tuple[str, list[Measure]]]:
    out: dict[str, list[Measure]] = {}
    for m in MEASURES:
        out.setdefault(m.section, []).append(m)
    return list(out.items())


def data_url(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _charts(report: Report, source: ChartSource) -> list[dict[str, str]]:
    return [
        {
            "name": name,
            "title": s.title,
            "caption": s.caption,
            "desktop": source(name, "desktop"),
            "phone": source(name, "phone"),
        }
        for name, s in charts.series(report).items()
    ]


def render_body(
    report: Report, chart_source: ChartSource, *, form: dict[str, Any] | None = None
) -> Markup:
    """The report's content (without page chrome); ``form``: the review UI's filters."""
    weeks = list(report.weeks)
    shown_weeks = weeks[-MAX_WEEKS:]
    by_client: dict[str, list[str]] = {}
    for ws, client in report.clients.items():
        by_client.setdefault(client, []).append(ws)
    groups = [
        {"name": "client", "rows": report.by_client,
         "sub": {c: ", ".join(sorted(w)) for c, w in by_client.items()}},
        {"name": "workspace", "rows": report.by_workspace, "sub": report.clients},
    ]  # fmt: skip
    html = (
        _env()
        .get_template("report_body.html")
        .render(
            report=report,
            period=period(report),
            covers=covers(report),
            form=form,
            charts=_charts(report, chart_source),
            sections=_sections(),
            weeks=shown_weeks,
            hidden_weeks=len(weeks) - len(shown_weeks),
            groups=groups,
            key_measures=[BY_KEY[k] for k in KEY_MEASURES],
            short=SHORT_LABELS,
            tables=list(report.tables.values()),
        )
    )
    return Markup(html)  # noqa: S704 - rendered by an autoescaping template


def render_file(report: Report) -> str:
    """The whole report as one HTML file that opens offline."""
    css = REVIEW_CSS.read_text(encoding="utf-8")
    css_hash = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")

    def inline(name: str, variant: str) -> str:
        return data_url(charts.render(name, variant, report))

    body = render_body(report, inline)
    return (
        _env()
        .get_template("report.html")
        .render(body=body, css=Markup(css), css_hash=css_hash, period=period(report))  # noqa: S704
    )
