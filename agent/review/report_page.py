"""The pilot report in the review UI: ``/report`` (the page), its charts under
``/report/charts/``, and ``/api/report`` (the same numbers as JSON).

For admins only, since the report counts every workspace and every reviewer's work:
anyone else gets a 404, as for anything else they may not see (the app's rule: what is
not yours looks absent). It is built with the viewer's grants all the same (``visible``;
None for an admin), so the rule lives in one line here and the queries never read a
workspace the viewer may not see. The page is the same content as the
file ``inbox-agent report --html`` writes (``agent.report.html``), under the app's
Content-Security-Policy: the charts are inert SVG images from this origin, the page
uses only the UI's stylesheet, and nothing runs.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from agent.review.auth import has_role
from agent.review.context import PageViewer, Viewer, state_of
from agent.review.errors import NotFound, ReviewError
from agent.store import Role

router = APIRouter()
CHARTS = ("volume", "drafts", "times", "sla", "sweeps")
VARIANTS = ("desktop", "phone")
Days = Annotated[str | None, Query(max_length=40, description="YYYY-MM-DD (UTC, seen)")]
Names = Annotated[list[str] | None, Query(max_length=200)]


def _admin(viewer: Viewer) -> None:
    if not has_role(viewer.user, Role.ADMIN.value):
        raise NotFound("the pilot report is for admins")


def _params(
    since: Days = None, until: Days = None, workspace: Names = None, client: Names = None
) -> list[tuple[str, str]]:
    """The report's query string (the page, its charts and the API read the same one)."""
    out = [("since", since or ""), ("until", until or "")]
    out += [("workspace", w) for w in workspace or [] if w.strip()]
    out += [("client", c) for c in client or [] if c.strip()]
    return [(k, v) for k, v in out if v.strip()]


Params = Annotated[list[tuple[str, str]], Depends(_params)]


def _report(request: Request, viewer: Viewer, params: list[tuple[str, str]]) -> Any:
    from agent.report import ReportError, ReportRequest, build_report, parse_day

    _admin(viewer)
    rt = state_of(request).runtime
    given = dict(params)
    try:
        wanted = ReportRequest(
            since=parse_day("since", given.get("since")),
            until=parse_day("until", given.get("until")),
            workspaces=tuple(v for k, v in params if k == "workspace"),
            clients=tuple(v for k, v in params if k == "client"),
        )
        return build_report(rt.store, _clients(request), wanted, visible=viewer.visible)
    except ReportError as exc:
        raise ReviewError(str(exc)) from None


def _clients(request: Request) -> dict[str, str]:
    catalog = state_of(request).runtime.catalog
    return catalog.clients()


@router.get("/report")
def report_page(request: Request, viewer: PageViewer, params: Params) -> Response:
    from agent.report.html import render_body

    report = _report(request, viewer, params)
    query = urlencode(params)

    def chart(name: str, variant: str) -> str:
        return f"/report/charts/{name}-{variant}.svg" + (f"?{query}" if query else "")

    given = dict(params)
    clients = _clients(request)
    form = {
        "action": "/report",
        "since": given.get("since", ""),
        "until": given.get("until", ""),
        "workspaces": viewer.workspaces,
        "clients": sorted({clients[w] for w in viewer.workspaces if w in clients}),
        "chosen_workspaces": {v for k, v in params if k == "workspace"},
        "chosen_clients": {v for k, v in params if k == "client"},
        "json": "/api/report" + (f"?{query}" if query else ""),
    }
    body = render_body(report, chart, form=form)
    return state_of(request).render("report.html", viewer=viewer, body=body)


@router.get("/report/charts/{kind}.svg")
def report_chart(request: Request, viewer: PageViewer, kind: str, params: Params) -> Response:
    from agent.report.charts import render

    name, _, variant = kind.rpartition("-")  # "volume-phone"
    if name not in CHARTS or variant not in VARIANTS:
        raise NotFound("no such chart")
    report = _report(request, viewer, params)
    return Response(render(name, variant, report), media_type="image/svg+xml")


@router.get("/api/report")
def report_api(request: Request, viewer: PageViewer, params: Params) -> dict[str, Any]:
    data: dict[str, Any] = _report(request, viewer, params).to_dict()
    return data
