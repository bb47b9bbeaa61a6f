"""The HTML pages: login, the queue, an item, a workspace, the schedule, and the form posts.

Every route but ``/login`` needs a session; every form post needs the session's
CSRF token; every item and workspace route answers 404 for a workspace the
person has no grant for (exactly as for one that does not exist).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlencode

import anyio.to_thread
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from agent import takeover
from agent.review import actions
from agent.review.auth import authenticate, require_visible
from agent.review.context import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    FormViewer,
    ItemId,
    PageViewer,
    ReviewState,
    state_of,
)
from agent.review.errors import NotFound
from agent.review.queries import (
    PRIORITIES,
    SLA_STATES,
    STATUS_FILTERS,
    QueueFilter,
    active_takeover,
    active_takeovers,
    check_filter,
    format_span,
    item_detail,
    open_session_command,
    queue,
    status_counts,
    visible_item,
)
from agent.store import User, utcnow
from agent.store.corrections import item_corrections
from agent.triage.errors import TriageConfigError
from devices.errors import DriverError
from devices.factory import device_backend
from workspaces.models import AndroidDevice

if TYPE_CHECKING:
    from agent.scheduler.status import WorkspaceStatus

router = APIRouter()
DONE = {
    "approve": "Approved: the reply is in the outbox and will be sent once.",
    "draft": "Draft saved.",
    "reject": "Draft rejected: the item stays in review.",
    "escalate": "Escalated.",
    "assign": "Reassigned.",
    "resolve": "Resolved without a reply.",
    "restore": "Not spam: triaged again and back in the queue.",
    "correct": "Triage corrected: the change is kept as a label. The item stays where it was.",
    "takeover": "You hold this workspace's session: automation leaves it alone.",
    "handback": "Handed back: automation may use the workspace again.",
}


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


@router.get("/login")
def login_page(request: Request) -> Response:
    st = state_of(request)
    if st.sessions.get(request.cookies.get(SESSION_COOKIE)):
        return RedirectResponse("/", status_code=303)
    return _login_form(request, None, 200)


def _login_form(request: Request, error: str | None, status: int, username: str = "") -> Response:
    st = state_of(request)
    token = secrets.token_urlsafe(32)
    response = st.render(
        "login.html", status, csrf=token, error=error, username=username, viewer=None
    )
    st.cookie(response, LOGIN_COOKIE, token, max_age=3600)
    return response


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Sign in. Async on purpose: the argon2 check (about half a second of CPU) runs in
    the state's own small pool of threads, so a flood of sign-ins waits there and never
    holds the threads every other page is served from."""
    st = state_of(request)
    expected = request.cookies.get(LOGIN_COOKIE) or ""
    if not expected or not secrets.compare_digest(expected.encode(), csrf_token.encode()):
        return _login_form(request, "The form expired. Please sign in again.", 403)
    username = username.strip()[:200]
    address = _client(request)
    wait, why = st.limiter.admit(username, address)
    if wait > 0:
        seconds = int(wait) + 1
        if why == "busy":
            message = f"Too many sign-ins at the moment. Try again in {seconds} seconds."
        else:
            message = f"Too many failed sign-ins. Try again in {seconds} seconds."
        response = _login_form(request, message, 429, username)
        response.headers["Retry-After"] = str(seconds)
        return response
    user = await anyio.to_thread.run_sync(_authenticate, st, username, password, limiter=st.hashing)
    if user is None or user.id is None:
        st.limiter.failed(username, address)
        return _login_form(request, "Wrong user name or password.", 401, username)
    st.limiter.succeeded(username, address)
    web = st.sessions.create(user.id)
    response = RedirectResponse("/", status_code=303)
    st.cookie(response, SESSION_COOKIE, web.token)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


def _authenticate(st: ReviewState, username: str, password: str) -> User | None:
    with st.runtime.store.session() as s:
        return authenticate(s, username, password)


@router.post("/logout")
def logout(request: Request, viewer: FormViewer) -> Response:
    st = state_of(request)
    st.sessions.delete(viewer.session.token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def queue_page(
    request: Request,
    viewer: PageViewer,
    workspace: str | None = None,
    intent: str | None = None,
    priority: str | None = None,
    sla: str | None = None,
    status: str = "pending",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    st = state_of(request)
    require_visible(viewer.visible, workspace)
    f = QueueFilter(
        workspace or None, intent or None, priority or None, sla or None, status or "pending", page
    )
    intents = st.intents()
    check_filter(f, intents)  # an unknown value is a 400 naming it, not an empty page
    with st.runtime.store.session() as s:
        result = queue(s, f, viewer.visible)
        counts = status_counts(s, viewer.visible, f.workspace)
        takeovers = active_takeovers(s, viewer.visible)
    current = {
        "workspace": f.workspace,
        "intent": f.intent,
        "priority": f.priority,
        "sla": f.sla,
        "status": f.status,
    }

    def link(**change: object) -> str:
        params = {**current, "page": None, **change}
        return "/?" + urlencode({k: v for k, v in params.items() if v})

    return st.render(
        "queue.html",
        viewer=viewer,
        result=result,
        takeovers=takeovers,
        current=current,
        link=link,
        intents=intents,
        priorities=PRIORITIES,
        sla_states=SLA_STATES,
        statuses=list(STATUS_FILTERS),
        counts=counts,
    )


@router.get("/items/{item_id}")
def item_page(
    request: Request, viewer: PageViewer, item_id: ItemId, done: str | None = None
) -> Response:
    st = state_of(request)
    with st.runtime.store.session() as s:
        item = visible_item(s, item_id, viewer.visible)
        if item is None:
            raise NotFound(f"no item {item_id}")
        detail = item_detail(s, item)
        corrections = item_corrections(s, item_id)
    others = st.presence.viewed(item_id, viewer.user.name)
    return st.render(
        "item.html",
        viewer=viewer,
        d=detail,
        others=others,
        done=DONE.get(done or ""),
        corrections=corrections,
        intents=st.intents(),
        priorities=PRIORITIES,
        queues=st.queues(),
    )


EVIDENCE_TYPES = {".png": "image/png", ".webp": "image/webp"}  # screens, crops (flows.evidence)


@router.get("/items/{item_id}/evidence/{kind}")
def evidence(request: Request, viewer: PageViewer, item_id: ItemId, kind: str) -> Response:
    """A screenshot of the item: only the files the item row names, only under screenshots/."""
    st = state_of(request)
    with st.runtime.store.session() as s:
        item = visible_item(s, item_id, viewer.visible)
    if item is None or kind not in ("screen", "crop"):
        raise NotFound("no such screenshot")
    stored = item.screenshot if kind == "screen" else item.crop
    root = st.runtime.home.screenshots_dir.resolve()
    if not stored:
        raise NotFound("no such screenshot")
    path = Path(stored)
    path = (path if path.is_absolute() else root / path).resolve()
    media = EVIDENCE_TYPES.get(path.suffix.lower())
    if not path.is_relative_to(root) or media is None or not path.is_file():
        raise NotFound("no such screenshot")
    return FileResponse(path, media_type=media, headers={"Cache-Control": "private, max-age=300"})


def _back(item_id: ItemId, done: str) -> Response:
    return RedirectResponse(f"/items/{item_id}?done={done}", status_code=303)


@router.post("/items/{item_id}/approve")
def approve_form(
    request: Request,
    viewer: FormViewer,
    item_id: ItemId,
    text: Annotated[str, Form()] = "",
    draft_hash: Annotated[str, Form()] = "",
) -> Response:
    rt = state_of(request).runtime
    actions.approve(
        rt.store, item_id, viewer.user, text, seen_draft_hash=draft_hash,
        catalog=rt.catalog, log=rt.log,
    )  # fmt: skip
    return _back(item_id, "approve")


@router.post("/items/{item_id}/draft")
def draft_form(
    request: Request,
    viewer: FormViewer,
    item_id: ItemId,
    text: Annotated[str, Form()] = "",
    draft_hash: Annotated[str, Form()] = "",
) -> Response:
    rt = state_of(request).runtime
    actions.save_draft(rt.store, item_id, viewer.user, text, seen_draft_hash=draft_hash, log=rt.log)
    return _back(item_id, "draft")


@router.post("/items/{item_id}/reject")
def reject_form(
    request: Request,
    viewer: FormViewer,
    item_id: ItemId,
    reason: Annotated[str, Form()] = "",
    draft_hash: Annotated[str, Form()] = "",
) -> Response:
    rt = state_of(request).runtime
    actions.reject(
        rt.store, item_id, viewer.user, reason=reason, seen_draft_hash=draft_hash or None,
        log=rt.log,
    )  # fmt: skip
    return _back(item_id, "reject")


@router.post("/items/{item_id}/escalate")
def escalate_form(
    request: Request,
    viewer: FormViewer,
    item_id: ItemId,
    reason: Annotated[str, Form()] = "",
    owner: Annotated[str, Form()] = "",
    draft_hash: Annotated[str, Form()] = "",
) -> Response:
    rt = state_of(request).runtime
    actions.escalate(
        rt.store, item_id, viewer.user, reason=reason, owner=owner or None,
        seen_draft_hash=draft_hash or None, log=rt.log,
    )  # fmt: skip
    return _back(item_id, "escalate")


@router.post("/items/{item_id}/assign")
def assign_form(
    request: Request,
    viewer: FormViewer,
    item_id: ItemId,
    owner: Annotated[str, Form()] = "",
    draft_hash: Annotated[str, Form()] = "",
) -> Response:
    rt = state_of(request).runtime
    actions.assign(
        rt.store, item_id, viewer.user, owner, seen_draft_hash=draft_hash or None, log=rt.log
    )
    return _back(item_id, "assign")


@router.post("/items/{item_id}/resolve")
def resolve_form(
    request: Request,
    viewer: FormViewer,
    item_id: ItemId,
    note: Annotated[str, Form()] = "",
    draft_hash: Annotated[str, Form()] = "",
) -> Response:
    rt = state_of(request).runtime
    actions.resolve(
        rt.store, item_id, viewer.user, note=note, seen_draft_hash=draft_hash or None, log=rt.log
    )
    return _back(item_id, "resolve")


@router.post("/items/{item_id}/restore")
def restore_form(
    request: Request,
    viewer: FormViewer,
    item_id: ItemId,
    note: Annotated[str, Form()] = "",
) -> Response:
    rt = state_of(request).runtime
    actions.restore(rt.store, item_id, viewer.user, rt.triage().not_spam, note=note, log=rt.log)
    return _back(item_id, "restore")


@router.post("/items/{item_id}/correct")
def correct_form(
    request: Request,
    viewer: FormViewer,
    item_id: ItemId,
    intent: Annotated[str, Form()] = "",
    priority: Annotated[str, Form()] = "",
    queue: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    draft_hash: Annotated[str, Form()] = "",
) -> Response:
    """The "Correct triage" form: an empty choice leaves that field as it is."""
    st = state_of(request)
    rt = st.runtime
    actions.correct(
        rt.store, item_id, viewer.user, intent=intent or None, priority=priority or None,
        queue=queue or None, note=note, seen_draft_hash=draft_hash or None,
        intents=st.intents(), log=rt.log,
    )  # fmt: skip
    return _back(item_id, "correct")


@router.get("/workspaces/{workspace}")
def workspace_page(
    request: Request, viewer: PageViewer, workspace: str, done: str | None = None
) -> Response:
    st = state_of(request)
    if workspace not in viewer.workspaces:  # the granted ones (an admin: all known)
        raise NotFound(f"no workspace {workspace!r}")
    with st.runtime.store.session() as s:
        held = active_takeover(s, workspace)
    rows, now, problem = schedule_rows(st, {workspace})
    return st.render(
        "workspace.html",
        viewer=viewer,
        workspace=workspace,
        held=held,
        schedule=next((r for r in rows if r.status.workspace == workspace), None),
        schedule_problem=problem,
        now=now,
        open_command=_open_command(request, workspace),
        device=state_of(request).runtime.catalog.device_of(workspace),
        done=DONE.get(done or ""),
    )


@router.get("/workspaces/{workspace}/screen.png")
def device_screen(request: Request, viewer: PageViewer, workspace: str) -> Response:
    """The device's screen now, while someone holds the workspace (never during sweeps)."""
    st = state_of(request)
    if workspace not in viewer.workspaces:
        raise NotFound(f"no workspace {workspace!r}")
    device = st.runtime.catalog.device_of(workspace)
    with st.runtime.store.session() as s:
        held = active_takeover(s, workspace)
    if device is None or held is None:
        raise NotFound("the device's screen is shown only while the workspace is taken over")
    env = st.runtime.catalog.workspace(workspace).environment
    assert isinstance(env, AndroidDevice)
    try:
        backend = device_backend(device, package=env.app_package)
        try:
            png = backend.screenshot()
        finally:
            backend.close()
    except DriverError as exc:
        return Response(
            f"the device did not answer: {exc}", status_code=503, media_type="text/plain"
        )
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


def _open_command(request: Request, workspace: str) -> str | None:
    """How the person holding a takeover opens the workspace's session themselves."""
    st = state_of(request)
    loaded = st.runtime.catalog.workspaces.get(workspace)
    if loaded is None:
        return None
    devices = {d: e.model for d, e in st.runtime.catalog.devices.items()}
    return open_session_command(st.runtime.home, loaded.model, devices)


@router.post("/workspaces/{workspace}/takeover")
def takeover_form(request: Request, viewer: FormViewer, workspace: str) -> Response:
    takeover.take_over(state_of(request).runtime, workspace, viewer.user)
    return RedirectResponse(f"/workspaces/{workspace}?done=takeover", status_code=303)


@router.post("/workspaces/{workspace}/handback")
def handback_form(request: Request, viewer: FormViewer, workspace: str) -> Response:
    takeover.hand_back(state_of(request).runtime, workspace, viewer.user)
    return RedirectResponse(f"/workspaces/{workspace}?done=handback", status_code=303)


# -- the schedule ----------------------------------------------------------------

STATE_WORDS = {"taken_over": "taken over", "unscheduled": "manual"}
STATE_TONE = {
    "queued": "info",
    "running": "info",
    "paused": "warn",
    "taken_over": "warn",
    "unscheduled": "mute",
}
RESULT_TONE = {
    "ok": "good",
    "drift": "warn",
    "stopped": "warn",
    "failed": "bad",
    "crashed": "bad",
    "running": "info",
}


def span(seconds: float) -> str:
    """A length of time as the rest of the UI writes it (under a minute: in seconds)."""
    return f"{int(abs(seconds))}s" if abs(seconds) < 60 else format_span(seconds)


@dataclass
class ScheduleRow:
    """One workspace's scheduler status (``inbox-agent status``), worded for the page."""

    status: WorkspaceStatus
    state: str  # the state in words ("taken over")
    state_tone: str  # a CSS modifier: info, warn, mute or "" (idle)
    result_tone: str
    last_ago: str | None  # "12m ago"
    next: str  # "in 4m", "due now", "after the current run", "nothing planned"
    next_note: str | None  # why a due sweep will not run
    unseen: str | None  # "1h 05m" (None: never swept)
    behind: str | None  # "25m" (None: within the SLA, or nothing to compare)
    sla: str | None  # "15m"
    sla_cadence: str | None  # the longest gap the SLA asks for ("5m")
    spacing: str | None  # the platform's minimum spacing ("10m")


def schedule_rows(
    st: ReviewState, workspaces: set[str] | None
) -> tuple[list[ScheduleRow], datetime, str | None]:
    """The scheduler's status of ``workspaces`` (None: all), as ``inbox-agent status`` reads
    it; with the moment it is as of, and why it could not be read (any workspace's triage
    file that does not load: the planner needs every workspace's SLAs)."""
    from agent.scheduler.planner import Planner
    from agent.scheduler.status import workspace_statuses
    from agent.scheduler.worker import broker_url

    now = utcnow()
    rt = st.runtime
    try:
        planner = Planner(
            rt.home, rt.catalog, rt.store, rt.log, "status", distributed=bool(broker_url())
        )
    except (TriageConfigError, OSError):
        # Not the error itself: it may name another client's workspace or file.
        why = "a workspace's triage file does not load (`inbox-agent validate` names it)"
        return [], now, f"The schedule cannot be worked out: {why}."
    rows = []
    for r in workspace_statuses(planner, now=now, workspaces=workspaces):
        cadence = planner.cadences.get(r.workspace)
        rows.append(
            ScheduleRow(
                status=r,
                state=STATE_WORDS.get(r.state, r.state),
                state_tone=STATE_TONE.get(r.state, ""),
                result_tone=RESULT_TONE.get(r.last_status or "", ""),
                last_ago=f"{span((now - r.last_started).total_seconds())} ago"
                if r.last_started
                else None,
                next=_next_words(r, now),
                next_note=_not_run_because(r),
                unseen=span(r.unseen_for_s) if r.unseen_for_s is not None else None,
                behind=span(r.behind_sla_s) if r.behind_sla_s else None,
                sla=span(r.tightest_sla_min * 60) if r.tightest_sla_min is not None else None,
                sla_cadence=span(cadence.sla.total_seconds()) if cadence and cadence.sla else None,
                spacing=span(cadence.spacing.total_seconds())
                if cadence and cadence.spacing
                else None,
            )
        )
    return rows, now, None


def _next_words(r: WorkspaceStatus, now: datetime) -> str:
    if r.state in ("queued", "running"):
        return "after the current run"
    if r.next_due is None:
        return "nothing planned"
    wait = (r.next_due - now).total_seconds()
    return "due now" if wait <= 0 else f"in {span(wait)}"


def _not_run_because(r: WorkspaceStatus) -> str | None:
    if r.next_due is None:
        return None
    if r.state == "paused":
        return "skipped while paused"
    if r.state == "taken_over":
        return "skipped while taken over"
    return None


@router.get("/schedule")
def schedule_page(request: Request, viewer: PageViewer) -> Response:
    """Every granted workspace's schedule: last sweep, what runs now, next sweep, SLA exposure."""
    st = state_of(request)
    rows, now, problem = schedule_rows(st, viewer.visible)
    return st.render("schedule.html", viewer=viewer, rows=rows, now=now, problem=problem)
