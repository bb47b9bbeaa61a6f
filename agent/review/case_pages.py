"""The case in the review UI and the JSON API (``agent.review.cases`` does the work).

Pages: ``GET /cases/{id}`` (every member with its evidence; the approval form with a
reply per kind, leave-out boxes, "split out" per member, "resolve the case", "move an
item here"), and the forms ``POST /cases/{id}/approve``, ``/cases/{id}/resolve``,
``/cases/{id}/move`` and ``/items/{id}/split``. A refused form shows the app's error page
with the reason. API: ``GET /api/cases/{id}``, ``POST /api/cases/{id}/approve``
(``{"texts": {"comment": …, "dm": …}, "case_hash": …, "leave_out": [ids]}``),
``POST /api/cases/{id}/resolve`` (``{"note"}``), ``POST /api/items/{id}/split`` and
``POST /api/items/{id}/move`` (``{"into": id}``). Grants and roles as everywhere: a case
of another client's workspace is a 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from agent.review import cases
from agent.review.context import ApiWriter, FormViewer, ItemId, PageViewer, Viewer, state_of
from agent.review.errors import ReviewError
from agent.review.queries import valid_id, visible_item

router = APIRouter()


def _case_id(value: int) -> int:
    if not valid_id(value):
        raise cases.NotFound(f"no case {value}")
    return value


def _page(request: Request, viewer: Viewer, case_id: int, done: str | None) -> Response:
    st = state_of(request)
    with st.runtime.store.session() as s:
        case = cases.load(s, _case_id(case_id), viewer.visible)
    answerable = [m for m in case.members if cases.answerable(m.first, m.item.status)]
    kinds_open: dict[str, int] = {}
    for m in answerable:
        kinds_open[m.item.kind] = kinds_open.get(m.item.kind, 0) + 1
    return st.render(
        "case.html",
        case=case,
        viewer=viewer,
        done=done,
        answerable=[m.item.id for m in answerable],
        open_members=answerable,
        kinds_open=kinds_open,
        platforms=sorted({m.item.platform for m in case.members}),
        threads=len({(m.item.workspace, m.item.thread) for m in case.members}),
    )


DONE = {
    "approve": "Approved: one reply per customer is in the outbox.",
    "resolve": "Resolved: every open member, with your note.",
    "split": "Split out: the item is in the queue on its own.",
    "move": "Moved into this case.",
}


@router.get("/cases/{case_id}")
def case_page(request: Request, viewer: PageViewer, case_id: int, done: str = "") -> Response:
    return _page(request, viewer, case_id, DONE.get(done))


def _to_case(case_id: int, done: str) -> Response:
    return RedirectResponse(f"/cases/{case_id}?done={done}", status_code=303)


@router.post("/cases/{case_id}/approve")
def approve_form(
    request: Request,
    viewer: FormViewer,
    case_id: int,
    case_hash: Annotated[str, Form(max_length=64)] = "",
    reply_comment: Annotated[str, Form()] = "",
    reply_dm: Annotated[str, Form()] = "",
    leave_out: Annotated[list[str] | None, Form()] = None,
) -> Response:
    rt = state_of(request).runtime
    cases.approve(
        rt.store, _case_id(case_id), viewer.user,
        {"comment": reply_comment, "dm": reply_dm}, seen_case_hash=case_hash,
        catalog=rt.catalog, leave_out=_ids(leave_out), log=rt.log,
    )  # fmt: skip
    return _to_case(case_id, "approve")


def _ids(values: list[str] | None) -> list[int]:
    out = []
    for value in values or []:
        if not value.strip().isdigit() or not valid_id(int(value)):
            raise ReviewError(f"{value[:20]!r} is not an item number")
        out.append(int(value))
    return out


@router.post("/cases/{case_id}/resolve")
def resolve_form(
    request: Request, viewer: FormViewer, case_id: int, note: Annotated[str, Form()] = ""
) -> Response:
    rt = state_of(request).runtime
    cases.resolve(rt.store, _case_id(case_id), viewer.user, note=note, log=rt.log)
    return _to_case(case_id, "resolve")


@router.post("/cases/{case_id}/move")
def move_form(
    request: Request, viewer: FormViewer, case_id: int, item: Annotated[str, Form()] = ""
) -> Response:
    rt = state_of(request).runtime
    with rt.store.session() as s:
        cases.load(s, _case_id(case_id), viewer.visible)  # another client's case: 404 first
    if not item.strip():
        raise ReviewError("say which item to move: its number")
    (item_id,) = _ids([item])
    cases.move(rt.store, item_id, case_id, viewer.user, log=rt.log)
    return _to_case(case_id, "move")


@router.post("/items/{item_id}/split")
def split_form(request: Request, viewer: FormViewer, item_id: ItemId) -> Response:
    rt = state_of(request).runtime
    with rt.store.session() as s:
        was = cases.case_of(s, item_id, viewer.visible)
    cases.split(rt.store, item_id, viewer.user, log=rt.log)
    return _to_case(was, "split") if was else RedirectResponse(f"/items/{item_id}", 303)


# -- the JSON API ---------------------------------------------------------------------


# Fields have defaults so that grants are checked before the body: another client's case
# is a 404 whatever was sent; a missing reply or hash is then refused by the action.
class CaseApproveBody(BaseModel):
    texts: dict[str, str] = Field(
        default_factory=dict, description='{"comment": reply, "dm": reply}'
    )
    case_hash: str = Field("", max_length=64)
    leave_out: list[int] = Field(default_factory=list, max_length=cases.MAX_MEMBERS)


class CaseNoteBody(BaseModel):
    note: str | None = Field(None, max_length=10_000)


class MoveBody(BaseModel):
    into: int | None = None


@router.get("/api/cases/{case_id}")
def case_api(request: Request, viewer: PageViewer, case_id: int) -> dict[str, Any]:
    with state_of(request).runtime.store.session() as s:
        return cases.load(s, _case_id(case_id), viewer.visible).to_dict()


@router.post("/api/cases/{case_id}/approve")
def approve_api(
    request: Request, viewer: ApiWriter, case_id: int, body: CaseApproveBody
) -> dict[str, Any]:
    rt = state_of(request).runtime
    unknown = sorted(set(body.texts) - {"comment", "dm"})
    if unknown:
        raise ReviewError(f"texts: unknown kind {unknown[0][:20]!r} (known: comment, dm)")
    done = cases.approve(
        rt.store, _case_id(case_id), viewer.user, body.texts, seen_case_hash=body.case_hash,
        catalog=rt.catalog, leave_out=body.leave_out, log=rt.log,
    )  # fmt: skip
    return {
        "ok": True,
        "outbox": [e.model_dump() for e in done.entries],
        "skipped": done.skipped,
        "left_out": done.left_out,
    }


@router.post("/api/cases/{case_id}/resolve")
def resolve_api(
    request: Request, viewer: ApiWriter, case_id: int, body: CaseNoteBody
) -> dict[str, Any]:
    rt = state_of(request).runtime
    done = cases.resolve(rt.store, _case_id(case_id), viewer.user, note=body.note, log=rt.log)
    return {"ok": True, "resolved": [i.id for i in done]}


@router.post("/api/items/{item_id}/split")
def split_api(request: Request, viewer: ApiWriter, item_id: ItemId) -> dict[str, Any]:
    rt = state_of(request).runtime
    item = cases.split(rt.store, item_id, viewer.user, log=rt.log)
    return {"ok": True, "item": item.id, "status": item.status, "case_id": item.case_id}


@router.post("/api/items/{item_id}/move")
def move_api(
    request: Request, viewer: ApiWriter, item_id: ItemId, body: MoveBody
) -> dict[str, Any]:
    rt = state_of(request).runtime
    if body.into is None:
        with rt.store.session() as s:
            if visible_item(s, item_id, viewer.visible) is None:
                raise cases.NotFound(f"no item {item_id}")
        raise ReviewError("into: say which case to move the item into")
    item = cases.move(rt.store, item_id, _case_id(body.into), viewer.user, log=rt.log)
    return {"ok": True, "item": item.id, "status": item.status, "case_id": item.case_id}
