"""The report in the review UI: for admins only (to anyone else it does not exist: a 404,
as for anything else not theirs, and no number), built with the viewer's grants, the same numbers as the file, inert charts
from the same origin, bad filters answered with a message, never a 500."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from report_world import ACME_WEB, CLIENTS, GLOBEX, Script, signed_in
from test_report_numbers import page_numbers

from agent.report import ReportError, ReportRequest, build_report
from agent.review import create_app
from agent.review.report_page import CHARTS


@pytest.fixture
def app(day: Script) -> FastAPI:
    return create_app(day.runtime)


def _count(day: Script, where: str = "", **params: str) -> int:
    with day.store.engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM items {where}"), params).scalar())  # noqa: S608


def test_an_admin_sees_the_report_with_the_files_numbers(day: Script, app: FastAPI) -> None:
    root = signed_in(app, "root")
    page = root.get("/report")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    shown = page_numbers(page.text)
    assert shown[("measures", "collected", "total")][0] == str(_count(day))
    assert shown[("workspace", GLOBEX, "collected")][0] == str(
        _count(day, "WHERE workspace = :w", w=GLOBEX)
    )
    assert "Globex &lt;Inc&gt;" in page.text and "<script" not in page.text.split("</header>")[1]
    for name in CHARTS:  # each chart's two shapes, as images from this origin
        assert f'src="/report/charts/{name}-desktop.svg"' in page.text
        assert f'srcset="/report/charts/{name}-phone.svg"' in page.text
    one = root.get("/report", params={"workspace": ACME_WEB, "since": "2000-01-01"})
    assert page_numbers(one.text)[("measures", "collected", "total")][0] == str(
        _count(day, "WHERE workspace = :w", w=ACME_WEB)
    )
    assert "/report/charts/volume-desktop.svg?since=2000-01-01&amp;workspace=acme-web" in one.text
    chart = root.get("/report/charts/sla-phone.svg", params={"workspace": ACME_WEB})
    assert chart.status_code == 200 and chart.headers["content-type"] == "image/svg+xml"
    assert chart.text.startswith("<svg") and "style" not in chart.text
    for wrong in ("nope-desktop", "volume-tablet", "volume", "crop"):
        assert root.get(f"/report/charts/{wrong}.svg").status_code == 404
    data = root.get("/api/report").json()
    assert data["total"]["collected"] == _count(day)
    assert set(data["by_client"]) == set(CLIENTS.values())


def test_to_anyone_but_an_admin_it_does_not_exist(day: Script, app: FastAPI) -> None:
    for name in ("ann", "rob", "vic"):  # approver of every workspace, reviewer, viewer
        client = signed_in(app, name)
        for params in ({}, {"workspace": GLOBEX}, {"since": "never"}):
            page = client.get("/report", params=params)
            assert page.status_code == 404 and "Not found." in page.text
            assert "<data" not in page.text and "Globex" not in page.text
        assert client.get("/report/charts/volume-desktop.svg").status_code == 404
        api = client.get("/api/report")
        assert api.status_code == 404 and api.json() == {"error": "Not found."}
    anonymous = signed_in(app, "root")
    anonymous.cookies.clear()
    assert anonymous.get("/report", follow_redirects=False).status_code == 303
    assert anonymous.get("/api/report").status_code == 401


def test_bad_filters_are_a_message_not_a_crash(app: FastAPI) -> None:
    root = signed_in(app, "root")
    for params, message in (
        ({"since": "2026-13-40"}, "since &#39;2026-13-40&#39; is not a date"),
        ({"workspace": "nope"}, "unknown workspace &#39;nope&#39;"),
        ({"client": "<b>x</b>"}, "unknown client &#39;&lt;b&gt;x&lt;/b&gt;&#39;"),
        ({"since": "2026-03-02", "until": "2026-03-01"}, "is after --until"),
    ):
        page = root.get("/report", params=params)
        assert page.status_code == 400 and message in page.text, page.text
    api = root.get("/api/report", params={"until": "soon"})
    assert api.status_code == 400 and api.json() == {
        "error": "until 'soon' is not a date (use YYYY-MM-DD)"
    }


def test_the_report_reads_only_the_workspaces_granted(day: Script) -> None:
    """The grants are applied in the query (the page passes the viewer's, None for an
    admin): a workspace not granted is absent, and naming it is as unknown as a typo."""
    mine = build_report(day.store, CLIENTS, ReportRequest(), visible={ACME_WEB}, now=day.now)
    assert mine.workspaces == [ACME_WEB] and list(mine.by_workspace) == [ACME_WEB]
    assert mine.total["collected"] == _count(day, "WHERE workspace = :w", w=ACME_WEB)
    assert mine.total["sweeps"] == 4 and list(mine.by_client) == ["Acme Corp"]
    with pytest.raises(ReportError, match="unknown workspace 'globex-web' \\(known: acme-web\\)"):
        build_report(day.store, CLIENTS, ReportRequest(workspaces=(GLOBEX,)), visible={ACME_WEB})
    with pytest.raises(ReportError, match="unknown client 'Globex <Inc>'"):
        build_report(
            day.store, CLIENTS, ReportRequest(clients=("Globex <Inc>",)), visible={ACME_WEB}
        )
    nothing = build_report(day.store, CLIENTS, ReportRequest(), visible=set())
    assert nothing.total["collected"] == 0 and nothing.by_workspace == {}
