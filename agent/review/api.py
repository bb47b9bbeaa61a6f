"""The JSON API under ``/api/``: the queue's data for scripts, same sessions and grants.

Reads need a session cookie (sign in through ``/login``) or a personal API token
(``Authorization: Bearer …``, ``inbox-agent users token create``); writes with a cookie
need the session's CSRF token in an ``X-CSRF-Token`` header (``GET /api/me`` returns it),
writes with a token do not (a token is not a cookie: no browser sends it by itself).
An ungranted workspace answers 404 as if it did not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from agent.review import actions
from agent.review.auth import require_visible
from agent.review.context import (
    ApiWriter,
    ItemId,
    LoginRequired,
    PageViewer,
    current_viewer,
    state_of,
)
from agent.review.errors import NotFound, ReviewError
from agent.review.queries import (
    MAX_ID,
    QueueRow,
    active_takeover,
    active_takeovers,
    check_filter,
    filter_from_params,
    item_detail,
    latest_decision,
    queue,
    visible_item,
)
from agent.store import Decision, Item, OutboxEntry, Takeover
from agent.store.corrections import item_corrections

router = APIRouter(prefix="/api")


def _item(item: Item, *, full: bool = False) -> dict[str, Any]:
    data = item.model_dump(
        include={
            "id", "workspace", "platform", "account", "thread", "kind", "author", "status",
            "case_id",
        }
    )  # fmt: skip
    data["posted_at"] = item.posted_at
    data["seen_at"] = item.seen_at
    data["text"] = item.text if full else item.text[:280]
    data["has_screenshot"] = bool(item.screenshot)
    data["has_crop"] = bool(item.crop)
    return data


def _decision(decision: Decision | None) -> dict[str, Any] | None:
    return None if decision is None else decision.model_dump(exclude={"item_id"})


def _row(row: QueueRow) -> dict[str, Any]:
    return {
        **_item(row.item),
        "decision": _decision(row.decision),
        "sla": row.sla,
        "left": row.left,
        # a case's first item: its members, platforms, threads (GET /api/cases/ID lists them)
        "case": row.case.to_dict() if row.case is not None else None,
    }


def _takeover(t: Takeover | None) -> dict[str, Any] | None:
    return None if t is None else t.model_dump()


@router.get("/me")
def me(viewer: PageViewer) -> dict[str, Any]:
    return {
        "name": viewer.user.name,
        "role": viewer.user.role,
        "workspaces": viewer.workspaces,
        "csrf_token": viewer.csrf,
    }


@router.get("/items")
def list_items(
    request: Request,
    viewer: PageViewer,
    workspace: str | None = None,
    intent: str | None = None,
    priority: str | None = None,
    sla: str | None = None,
    status: str = "pending",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    q: Annotated[str | None, Query(description="search words (text and author)")] = None,
    author: str | None = None,
    mine: Annotated[str | None, Query(description="1: assigned to me")] = None,
    due: Annotated[str | None, Query(description="1: follow-up day has come (UTC)")] = None,
    since: Annotated[str | None, Query(description="YYYY-MM-DD (UTC, seen)")] = None,
    until: Annotated[str | None, Query(description="YYYY-MM-DD (UTC, seen, included)")] = None,
    page_size: Annotated[str | None, Query(description="25, 50, 100 or 200")] = None,
) -> dict[str, Any]:
    require_visible(viewer.visible, workspace)
    st = state_of(request)
    # a value that is no date, number or yes/no is a 400 naming it, as an unknown status is
    f = filter_from_params({
        "workspace": workspace, "intent": intent, "priority": priority, "sla": sla,
        "status": status, "page": str(page), "q": q, "author": author, "mine": mine,
        "since": since, "until": until, "page_size": page_size, "due": due,
    })  # fmt: skip
    check_filter(f, st.intents())  # 400 {"error": "unknown status 'x' (known: …)"}
    with st.runtime.store.session() as s:
        result = queue(s, f, viewer.visible, user=viewer.user.name)
    return {
        "items": [_row(r) for r in result.rows],
        "total": result.total,
        "page": result.page,
        "pages": result.pages,
        "page_size": result.page_size,
    }


@router.get("/items/{item_id}")
def get_item(request: Request, viewer: PageViewer, item_id: ItemId) -> dict[str, Any]:
    st = state_of(request)
    with st.runtime.store.session() as s:
        item = visible_item(s, item_id, viewer.visible)
        if item is None:
            raise NotFound(f"no item {item_id}")
        d = item_detail(s, item)
        corrections = item_corrections(s, item_id)
    others = st.presence.viewed(item_id, viewer.user.name)
    return {
        **_item(d.item, full=True),
        "decision": _decision(d.decision),
        "draft_hash": d.hash,
        "sla": d.sla,
        "left": d.left,
        "thread": [_item(t) for t in d.thread],
        "reviews": [r.model_dump() for r in d.reviews],
        "outbox": [o.model_dump() for o in d.outbox],
        "corrections": [c.model_dump() for c in corrections],
        "takeover": _takeover(d.takeover),
        "also_viewing": [name for name, _ago in others],
    }


class ApproveBody(BaseModel):
    text: str = Field(max_length=100_000)
    draft_hash: str = Field(max_length=64)


class NoteBody(BaseModel):
    reason: str | None = Field(None, max_length=10_000)
    owner: str | None = Field(None, max_length=200)
    draft_hash: str | None = Field(None, max_length=64)


class AssignBody(BaseModel):
    owner: str = Field(max_length=200)
    draft_hash: str | None = Field(None, max_length=64)


class CorrectBody(BaseModel):
    """Null (or absent) leaves a field as it is; a bad value is a 400 naming the field."""

    intent: str | None = Field(None, max_length=10_000)
    priority: str | None = Field(None, max_length=10_000)
    queue: str | None = Field(None, max_length=10_000)
    note: str | None = Field(None, max_length=10_000)
    draft_hash: str | None = Field(None, max_length=64)


def _outbox(entry: OutboxEntry) -> dict[str, Any]:
    return entry.model_dump()


@router.post("/items/{item_id}/approve")
def approve(
    request: Request, viewer: ApiWriter, item_id: ItemId, body: ApproveBody
) -> dict[str, Any]:
    rt = state_of(request).runtime
    entry = actions.approve(
        rt.store, item_id, viewer.user, body.text, seen_draft_hash=body.draft_hash,
        catalog=rt.catalog, log=rt.log,
    )  # fmt: skip
    return {"ok": True, "outbox": _outbox(entry)}


@router.post("/items/{item_id}/draft")
def save_draft(
    request: Request, viewer: ApiWriter, item_id: ItemId, body: ApproveBody
) -> dict[str, Any]:
    rt = state_of(request).runtime
    decision = actions.save_draft(
        rt.store, item_id, viewer.user, body.text, seen_draft_hash=body.draft_hash, log=rt.log
    )
    return {"ok": True, "decision": _decision(decision)}


def _status(item: Item) -> dict[str, Any]:
    return {"ok": True, "item": item.id, "status": item.status}


@router.post("/items/{item_id}/reject")
def reject(request: Request, viewer: ApiWriter, item_id: ItemId, body: NoteBody) -> dict[str, Any]:
    rt = state_of(request).runtime
    item = actions.reject(
        rt.store, item_id, viewer.user, reason=body.reason, seen_draft_hash=body.draft_hash,
        log=rt.log,
    )  # fmt: skip
    return _status(item)


@router.post("/items/{item_id}/escalate")
def escalate(
    request: Request, viewer: ApiWriter, item_id: ItemId, body: NoteBody
) -> dict[str, Any]:
    rt = state_of(request).runtime
    item = actions.escalate(
        rt.store, item_id, viewer.user, reason=body.reason, owner=body.owner,
        seen_draft_hash=body.draft_hash, log=rt.log,
    )  # fmt: skip
    return _status(item)


@router.post("/items/{item_id}/assign")
def assign(
    request: Request, viewer: ApiWriter, item_id: ItemId, body: AssignBody
) -> dict[str, Any]:
    rt = state_of(request).runtime
    item = actions.assign(
        rt.store, item_id, viewer.user, body.owner, seen_draft_hash=body.draft_hash, log=rt.log
    )
    return _status(item)


@router.post("/items/{item_id}/resolve")
def resolve(request: Request, viewer: ApiWriter, item_id: ItemId, body: NoteBody) -> dict[str, Any]:
    rt = state_of(request).runtime
    item = actions.resolve(
        rt.store, item_id, viewer.user, note=body.reason, seen_draft_hash=body.draft_hash,
        log=rt.log,
    )  # fmt: skip
    return _status(item)


@router.post("/items/{item_id}/restore")
def restore(request: Request, viewer: ApiWriter, item_id: ItemId, body: NoteBody) -> dict[str, Any]:
    rt = state_of(request).runtime
    item = actions.restore(
        rt.store, item_id, viewer.user, rt.triage().not_spam, note=body.reason, log=rt.log
    )
    return _status(item)


@router.post("/items/{item_id}/correct")
def correct(
    request: Request, viewer: ApiWriter, item_id: ItemId, body: CorrectBody
) -> dict[str, Any]:
    st = state_of(request)
    rt = st.runtime
    item = actions.correct(
        rt.store, item_id, viewer.user, intent=body.intent, priority=body.priority,
        queue=body.queue, note=body.note, seen_draft_hash=body.draft_hash,
        intents=st.intents(), log=rt.log,
    )  # fmt: skip
    with rt.store.session() as s:
        decision = latest_decision(s, item_id)
    return {**_status(item), "decision": _decision(decision)}


@router.get("/workspaces")
def workspaces(request: Request, viewer: PageViewer) -> dict[str, Any]:
    with state_of(request).runtime.store.session() as s:
        held = {t.workspace: _takeover(t) for t in active_takeovers(s, viewer.visible)}
    return {"workspaces": [{"id": w, "takeover": held.get(w)} for w in viewer.workspaces]}


@router.get("/workspaces/{workspace}")
def workspace(request: Request, viewer: PageViewer, workspace: str) -> dict[str, Any]:
    if workspace not in viewer.workspaces:
        raise NotFound(f"no workspace {workspace!r}")
    with state_of(request).runtime.store.session() as s:
        return {"id": workspace, "takeover": _takeover(active_takeover(s, workspace))}


@router.post("/workspaces/{workspace}/takeover")
def takeover(request: Request, viewer: ApiWriter, workspace: str) -> dict[str, Any]:
    rt = state_of(request).runtime
    return {
        "ok": True,
        "takeover": _takeover(actions.take_over(rt.store, workspace, viewer.user, log=rt.log)),
    }


@router.post("/workspaces/{workspace}/handback")
def handback(request: Request, viewer: ApiWriter, workspace: str) -> dict[str, Any]:
    rt = state_of(request).runtime
    return {
        "ok": True,
        "takeover": _takeover(actions.hand_back(rt.store, workspace, viewer.user, log=rt.log)),
    }


@router.get("/events")
async def events(
    request: Request,
    viewer: PageViewer,
    item: Annotated[int | None, Query(ge=1, le=MAX_ID, description="an item page's item")] = None,
) -> StreamingResponse:
    """Server-sent events (``agent.review.live``): ``item`` for every change to an item
    in a workspace the viewer may see, ``presence`` for who else has ``item`` open,
    ``reset`` (reload: too much at once) and ``bye`` (signed out). With ``item`` the
    stream also counts as viewing that item."""
    st = state_of(request)

    def sees_item(visible: set[str] | None) -> bool:
        if item is None:  # a queue page's stream: each change is filtered by its workspace
            return True
        with st.runtime.store.session() as s:
            return visible_item(s, item, visible) is not None

    if not await anyio.to_thread.run_sync(sees_item, viewer.visible):
        raise NotFound(f"no item {item}")

    def still_allowed() -> bool:
        try:
            return sees_item(current_viewer(request).visible)
        except (LoginRequired, ReviewError):
            return False

    return StreamingResponse(
        st.live.events(viewer.user.name, viewer.visible, item, still_allowed),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
