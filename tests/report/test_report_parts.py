"""The report's parts on their own: charts draw the report's numbers as inert SVG, values
are shown and written one way, and what the report reads of the review actions' records
(a reviewer's draft source, the note of an edited approval) is what the actions write."""

from __future__ import annotations

import pytest
from report_world import CLIENTS, Script
from sqlmodel import select

from agent.report import ReportRequest, build_report
from agent.report import facts as report_facts
from agent.report.charts import VARIANTS, inert_svg, render, series
from agent.report.compute import Ratio, nearest_rank
from agent.report.format import shown, span, written
from agent.report.measures import BY_KEY, KEY_MEASURES, MEASURES, SHORT_LABELS, Unit
from agent.review import actions
from agent.store import Decision, Item, Review


@pytest.fixture(scope="module")
def day_backend() -> str:
    """These run on SQLite only (the numbers are checked on both in test_report_numbers)."""
    return "sqlite"


def test_charts_draw_the_reports_numbers_as_inert_svg(day: Script) -> None:
    report = build_report(day.store, CLIENTS, ReportRequest(), now=day.now)
    drawn = series(report)
    weeks = list(report.weeks)
    assert drawn["volume"].categories == weeks
    assert drawn["volume"].values["New items collected"] == [
        float(report.weeks[w]["collected"])
        for w in weeks  # type: ignore[arg-type]
    ]
    assert drawn["drafts"].values["Drafts rejected"] == [
        float(report.weeks[w]["rejected"])
        for w in weeks  # type: ignore[arg-type]
    ]
    sla = {r["priority"]: r["attainment"] for r in report.tables["sla_priority"].rows}
    assert drawn["sla"].categories == list(sla)
    assert drawn["sla"].values["attainment"] == [100 * (v.share or 0) for v in sla.values()]  # type: ignore[union-attr]
    assert drawn["sweeps"].categories == sorted(CLIENTS)
    for name in drawn:
        for variant in VARIANTS:
            svg = render(name, variant, report)
            assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
            assert "style" not in svg and "<!--" not in svg and "metadata" not in svg
            assert 'fill="' in svg and "<path" in svg


def test_inert_svg_moves_styles_to_attributes_and_refuses_the_unknown() -> None:
    svg = (
        '<?xml version="1.0"?>\n<svg width="10pt" viewBox="0 0 10 10">\n <metadata>x</metadata>\n'
        ' <defs>\n  <style type="text/css">*{stroke-linejoin: round; stroke-linecap: butt}</style>\n'
        ' </defs>\n <!-- a title --><path d="M 0 0" style="fill: #ffffff; stroke: #000"/>\n</svg>'
    )
    assert inert_svg(svg) == (
        '<svg stroke-linejoin="round" stroke-linecap="butt" width="10pt" viewBox="0 0 10 10">\n '
        '<path d="M 0 0" fill="#ffffff" stroke="#000"/>\n</svg>'
    )
    with pytest.raises(ValueError, match="unexpected stylesheet"):
        inert_svg("<svg><style>path{fill:url(http://x)}</style></svg>")


def test_values_are_shown_and_written_one_way() -> None:
    assert [span(m) for m in (0, 59.9, 60, 125, 2879, 2880, 3000)] == [
        "0m", "59m", "1h 00m", "2h 05m", "47h 59m", "2d 0h", "2d 2h",
    ]  # fmt: skip
    assert (
        shown(Ratio(5, 6), Unit.RATIO) == "83% (5/6)" and written(Ratio(5, 6), Unit.RATIO) == "5/6"
    )
    assert shown(Ratio(0, 0), Unit.RATIO) == "—" and written(Ratio(0, 0), Unit.RATIO) == "0/0"
    assert shown(None, Unit.MINUTES) == "—" and written(None, Unit.COUNT) == ""
    assert (shown(22.22, Unit.RATE), written(90.0, Unit.MINUTES)) == ("22.2", "90.0")
    assert nearest_rank([5, 1, 4, 2, 3], 0.5) == 3 and nearest_rank([5, 1, 4, 2, 3], 0.9) == 5
    assert nearest_rank([1, 2], 0.5) == 1 and nearest_rank([], 0.9) is None
    assert len({m.key for m in MEASURES}) == len(MEASURES)
    assert all(m.definition.endswith((".", "…")) and len(m.definition) <= 100 for m in MEASURES)
    assert set(SHORT_LABELS) == set(KEY_MEASURES) <= set(BY_KEY)


def test_the_report_reads_what_the_review_actions_write(day: Script) -> None:
    assert (report_facts.EDITED_BY, report_facts.REJECTED_BY) == (
        actions.EDITED_BY, actions.REJECTED_BY,
    )  # fmt: skip
    with day.store.session() as s:
        a2 = s.exec(select(Review).where(Review.item_id == day.ids["a2"])).all()
        assert [(r.action, r.note) for r in a2] == [("approve", report_facts.EDITED_NOTE)]
        a3 = s.exec(select(Decision).where(Decision.item_id == day.ids["a3"])).one()
        assert a3.draft_source == f"{actions.EDITED_BY}ann"
        assert report_facts.triage_drafted(a3.draft_source, a3.why)
        # a decision a reviewer's action had to make (triage left none) says so:
        lone = Item(id=10**6, workspace="w", platform="p", account="a", thread="t", key="k")
        assert actions._decision_for(s, lone).why == [report_facts.ADDED_BY_REVIEWER]
