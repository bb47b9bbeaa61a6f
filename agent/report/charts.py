"""The report's charts, drawn by matplotlib as SVG: items and drafts by week, times to
first action and resolution, SLA attainment by priority, sweeps by workspace.

Each chart comes in two shapes, wide for a desktop and tall with larger type for a
phone (the page picks one with ``<picture>``). Text is drawn as paths (no font needed
where the file is opened). The SVG is then made *inert*: no ``<style>`` element, no
``style`` attribute (each declaration becomes the presentation attribute of the same
name), no comments or metadata, so it renders under the review UI's
Content-Security-Policy (``style-src`` by hash only) as it does in a file.

``series(report)`` is what the charts draw, as data (tests compare it with the store);
``render(name, variant, report)`` draws one. matplotlib is imported on first use, and
drawing is serialised (its font cache and rc parameters are shared by threads).
"""

from __future__ import annotations

import io
import re
import threading
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any, cast

from agent.report.compute import Ratio, Value

if TYPE_CHECKING:
    from agent.report.build import Report

VARIANTS = {"desktop": (11.6, 3.6), "phone": (4.4, 3.9)}
# Okabe and Ito's colour-blind-safe palette.
COLOURS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9"]
_DRAWING = threading.Lock()
MAX_LABEL = 22


@dataclass
class Series:
    """One chart's data: a value per category for each named series."""

    title: str
    caption: str
    categories: list[str]
    values: dict[str, list[float]] = field(default_factory=dict)
    horizontal: bool = False
    stacked: bool = False
    unit: str = ""


def _n(value: Value) -> float:
    if isinstance(value, Ratio):
        return 100 * (value.share or 0.0)
    return float(value) if isinstance(value, int | float) else 0.0


def series(report: Report) -> dict[str, Series]:
    weeks = list(report.weeks)
    week = report.weeks

    def by_week(*keys: str) -> dict[str, list[float]]:
        from agent.report.measures import BY_KEY

        return {BY_KEY[k].label: [_n(week[w][k]) for w in weeks] for k in keys}

    times = report.tables["times"].rows
    sla = report.tables["sla_priority"].rows
    sweeps = report.tables["sweeps"].rows
    return {
        "volume": Series(
            "Items by week", "New items, and what triage did with them.", weeks,
            by_week("collected", "noise", "escalated", "paused"),
        ),
        "drafts": Series(
            "Drafts by week", "Drafts triage sent to review, and what reviewers did.", weeks,
            by_week("drafts", "approved_unedited", "edited", "rejected"),
        ),
        "times": Series(
            "Time to first action and to resolution", "Hours, median and 90th percentile.",
            [f"{r['time']}\nfrom {r['from']}" for r in times],
            {
                "median": [_n(r["p50"]) / 60 for r in times],
                "p90": [_n(r["p90"]) / 60 for r in times],
            },
            horizontal=True, unit="h",
        ),
        "sla": Series(
            "SLA attainment by priority", "Share of items approved or resolved in time.",
            [str(r["priority"]) for r in sla],
            {"attainment": [_n(r["attainment"]) for r in sla]}, unit="%",
        ),
        "sweeps": Series(
            "Sweeps by workspace", "How each workspace's sweeps ended.",
            [str(r["workspace"]) for r in sweeps],
            {
                label: [_n(r[key]) for r in sweeps]
                for key, label in (
                    ("sweeps_ok", "ok"), ("sweeps_drift", "drift"),
                    ("sweeps_stopped", "stopped"), ("sweeps_failed", "failed"),
                )
            },
            horizontal=True, stacked=True,
        ),
    }  # fmt: skip


def _short(label: str) -> str:
    return "\n".join(
        line if len(line) <= MAX_LABEL else line[: MAX_LABEL - 1] + "…"
        for line in label.split("\n")
    )


def _draw(ax: Any, s: Series, phone: bool) -> None:
    import numpy as np

    cats = [_short(c) for c in s.categories] or ["(no data)"]
    names = list(s.values)
    pos = np.arange(len(cats))
    width = 0.8 / (1 if s.stacked else max(1, len(names)))
    left = np.zeros(len(cats))
    for n, name in enumerate(names):
        vals = np.array(s.values[name] or [0.0] * len(cats), dtype=float)
        offset = 0.0 if s.stacked else (n - (len(names) - 1) / 2) * width
        colour = COLOURS[n % len(COLOURS)]
        if s.horizontal:
            ax.barh(pos + offset, vals, width, left=left if s.stacked else 0, label=name,
                    color=colour)  # fmt: skip
        else:
            ax.bar(pos + offset, vals, width, bottom=left if s.stacked else 0, label=name,
                   color=colour)  # fmt: skip
        if s.stacked:
            left = left + vals
    axis, other = (ax.yaxis, ax.xaxis) if s.horizontal else (ax.xaxis, ax.yaxis)
    axis.set_ticks(pos, cats)
    if s.horizontal:
        ax.invert_yaxis()
    elif phone and len(cats) > 3:
        ax.tick_params(axis="x", labelrotation=45)
    other.grid(True, color="#d9dee6", linewidth=0.8)
    ax.set_axisbelow(True)
    if s.unit == "%":
        ax.set_ylim(0, 100)
    if not s.horizontal and s.unit != "%":
        other.get_major_locator().set_params(integer=True)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)


def render(name: str, variant: str, report: Report) -> str:
    """One chart as inert SVG text (``variant``: ``desktop`` or ``phone``)."""
    import matplotlib
    from matplotlib.figure import Figure

    s = series(report)[name]
    width, height = VARIANTS[variant]
    if s.horizontal:
        height = max(height * 0.7, 1.2 + 0.42 * max(1, len(s.categories)))
    rc: dict[str, Any] = {
        "svg.fonttype": "path", "svg.hashsalt": "inbox-agent-report",
        "font.size": 11 if variant == "desktop" else 12, "font.family": "DejaVu Sans",
        "axes.titlesize": "medium", "axes.edgecolor": "#5f6b7a", "text.color": "#1d2330",
        "xtick.color": "#1d2330", "ytick.color": "#1d2330",
    }  # fmt: skip
    with _DRAWING, matplotlib.rc_context(cast(Any, rc)):
        fig = Figure(figsize=(width, height), layout="constrained")
        phone = variant == "phone"
        ax = fig.subplots()
        _draw(ax, s, phone)
        if len(s.values) > 1:  # above the bars on a desktop, below them on a phone
            fig.legend(
                loc="outside lower center" if phone else "outside upper left",
                ncol=2 if phone else len(s.values),
                frameon=False,
            )
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    return inert_svg(out.getvalue())


_STYLE_ATTR = re.compile(r' style="([^"]*)"')
_STYLE_ELEMENT = re.compile(r"<style[^>]*>(.*?)</style>", re.S)
_DROP = [
    re.compile(r"<\?xml.*?\?>\s*", re.S),
    re.compile(r"<!DOCTYPE.*?>\s*", re.S),
    re.compile(r"<!--.*?-->", re.S),
    re.compile(r"<metadata>.*?</metadata>\s*", re.S),
]
_EMPTY_DEFS = re.compile(r"<defs>\s*</defs>\s*")
_RULE = re.compile(r"^\s*\*\s*\{([^}]*)\}\s*$")


def _attrs(declarations: str) -> str:
    out = []
    for decl in declarations.split(";"):
        prop, _, value = decl.partition(":")
        if prop.strip() and value.strip():
            out.append(f' {escape(prop.strip())}="{escape(value.strip())}"')
    return "".join(out)


def inert_svg(svg: str) -> str:
    """``svg`` without styles, comments or metadata (see the module's docstring).

    matplotlib writes one stylesheet rule, ``*{…}`` for every element; its declarations
    go on the root element, where the same properties are inherited. Anything else in
    a stylesheet is refused (a newer matplotlib would need a look here).
    """
    root_attrs = ""
    for match in _STYLE_ELEMENT.finditer(svg):
        rule = _RULE.match(match.group(1))
        if rule is None:
            raise ValueError(f"unexpected stylesheet in the chart: {match.group(1)[:80]!r}")
        root_attrs += _attrs(rule.group(1))
    svg = _STYLE_ELEMENT.sub("", svg)
    for pattern in _DROP:
        svg = pattern.sub("", svg)
    svg = _EMPTY_DEFS.sub("", svg)
    svg = _STYLE_ATTR.sub(lambda m: _attrs(m.group(1)), svg)
    return svg.replace("<svg ", f"<svg{root_attrs} ", 1)
