"""The report as plain text tables, for a terminal (``inbox-agent report``'s default).

The measures in total and by week (the latest weeks that fit), the main measures by
client and by workspace, every detail table, then each measure's definition. Values are
shown as on the HTML page (``agent.report.format``).
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.report.build import Report
from agent.report.format import shown
from agent.report.html import covers, period
from agent.report.measures import BY_KEY, KEY_MEASURES, MEASURES, SHORT_LABELS
from agent.report.tables import Table

MAX_WEEKS = 6


def grid(head: Sequence[str], rows: Sequence[Sequence[str]], *, right_from: int = 1) -> list[str]:
    """Columns padded to their widest cell; columns from ``right_from`` on right-aligned."""
    widths = [len(h) for h in head]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if n >= right_from else c.ljust(w)
            for n, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return [line(head), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _measures(report: Report) -> list[str]:
    weeks = list(report.weeks)[-MAX_WEEKS:]
    rows: list[list[str]] = []
    section = None
    for m in MEASURES:
        if m.section != section:
            section = m.section
            rows.append([section.upper()] + [""] * (1 + len(weeks)))
        rows.append(
            [f"  {m.label}", shown(report.total[m.key], m.unit)]
            + [shown(report.weeks[w][m.key], m.unit) for w in weeks]
        )
    out = grid(["Measure", "Total", *weeks], rows)
    hidden = len(report.weeks) - len(weeks)
    if hidden:
        out.append(f"({hidden} earlier week(s) not shown: see --csv or --json)")
    return out


def _groups(report: Report) -> list[str]:
    out: list[str] = []
    for name, groups in (("Client", report.by_client), ("Workspace", report.by_workspace)):
        rows = [
            [group_name] + [shown(g.total[k], BY_KEY[k].unit) for k in KEY_MEASURES]
            for group_name, g in groups.items()
        ]
        out += ["", f"By {name.lower()}"]
        out += grid([name, *(SHORT_LABELS[k] for k in KEY_MEASURES)], rows)
    return out


def _table(t: Table) -> list[str]:
    text_cols = [n for n, c in enumerate(t.columns) if c.unit.value == "text"]
    rows = [
        [("—" if row[c.key] is None else str(row[c.key])) if c.unit.value == "text"
         else shown(row[c.key], c.unit) for c in t.columns]
        for row in t.rows
    ]  # fmt: skip
    lines = ["", t.title, f"  {t.definition}"]
    if not rows:
        return [*lines, "  (nothing in the period)"]
    right_from = max(text_cols) + 1 if text_cols else 0
    return lines + grid([c.label for c in t.columns], rows, right_from=right_from)


def render_text(report: Report) -> str:
    lines = [
        f"Pilot report · {period(report)} · generated {report.generated_at:%Y-%m-%d %H:%M} UTC",
        covers(report),
        "",
    ]
    lines += _measures(report)
    lines += _groups(report)
    for t in report.tables.values():
        lines += _table(t)
    lines += ["", "Definitions"]
    lines += [f"  {m.label}: {m.definition}" for m in MEASURES]
    return "\n".join(lines) + "\n"
