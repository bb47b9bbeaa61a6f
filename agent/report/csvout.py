"""The report as CSV files in a folder (``inbox-agent report --csv DIR``).

``measures.csv`` has every measure of every group and week, one per row (``group`` is
``all``, ``client`` or ``workspace``; an empty ``week`` is the total);
``definitions.csv`` each measure's label, unit and definition; and one file per detail
table (``escalations.csv``, ``sla_priority.csv``, …). Values are written for machines:
a share as ``5/6``, minutes with one decimal, nothing known as an empty cell.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from agent.report.build import Group, Report
from agent.report.compute import Value
from agent.report.format import written
from agent.report.measures import MEASURES

MEASURE_FIELDS = ("group", "name", "week", "measure", "value")


def _rows(group: str, name: str, values: dict[str, Value], week: str) -> Iterator[list[str]]:
    for m in MEASURES:
        yield [group, name, week, m.key, written(values[m.key], m.unit)]


def _group_rows(kind: str, groups: dict[str, Group]) -> Iterator[list[str]]:
    for name, g in groups.items():
        yield from _rows(kind, name, g.total, "")
        for week, values in g.weeks.items():
            yield from _rows(kind, name, values, week)


def write_csv(report: Report, folder: Path) -> list[Path]:
    """Write the files; returns their paths (the folder is created when missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    path = folder / "measures.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(MEASURE_FIELDS)
        out.writerows(_rows("all", "", report.total, ""))
        for week, values in report.weeks.items():
            out.writerows(_rows("all", "", values, week))
        out.writerows(_group_rows("client", report.by_client))
        out.writerows(_group_rows("workspace", report.by_workspace))
    paths.append(path)
    path = folder / "definitions.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(("measure", "section", "label", "unit", "definition"))
        out.writerows((m.key, m.section, m.label, m.unit.value, m.definition) for m in MEASURES)
    paths.append(path)
    for table in report.tables.values():
        path = folder / f"{table.key}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow([c.key for c in table.columns])
            for row in table.rows:
                out.writerow([written(row[c.key], c.unit) for c in table.columns])
        paths.append(path)
    return paths
