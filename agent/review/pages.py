"""The HTML pages: login, the queue, an item, a workspace, the schedule, and the form posts.

Every route but ``/login`` needs a session; every form post needs the session's
CSRF token; every item and workspace route answers 404 for a workspace the
person has no grant for (exactly as for one that does not exist).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from urllib.parse import parse_qsl, urlencode

import anyio.to_thread
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.datastructures import QueryParams

from agent import takeover
from agent.health import workspace_health
from agent.report.records import item_record
from agent.review import actions, followups, takeover_live
from agent.review.auth import authenticate, has_role, require_visible
from agent.review.context import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    FormViewer,
    ItemId,
    PageViewer,
    ReviewState,
    Viewer,
    state_of,
)
from agent.review.errors import NotFound, ReviewError
from agent.review.evidence import EVIDENCE_TYPES, evidence_path, outline_of
from agent.review.queries import (
    FILTER_KEYS,
    PAGE_SIZES,
    PRIORITIES,
    SLA_STATES,
    STATUS_FILTERS,
    QueueFilter,
    QueuePlace,
    active_takeover,
    active_takeovers,
    check_filter,
    filter_from_params,
    filter_params,
    format_span,
    item_detail,
    next_in_queue,
    open_session_command,
    queue,
    queue_place,
    status_counts,
    visible_item,
)
from agent.review.views import delete_view, save_view, view_href, views_of
from agent.store import Role, User, utcnow
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
    "follow_up": "Follow-up saved: from that day the queue lists the item under follow-ups due.",
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


# -- the queue page ----------------------------------------------------------------

BULK_LABELS = {
    "resolve": "Resolve without reply",
    "reject": "Reject the drafts",
    "assign": "Assign to the owner below",
    "escalate": "Escalate",
    "restore": "Not spam: back in the queue",
}
BULK_DONE = {
    "resolve": "resolved without a reply",
    "reject": "had their drafts rejected (they stay in review)",
    "assign": "reassigned",
    "escalate": "escalated",
    "restore": "marked not spam: triaged again and back in the queue",
}
# The bulk actions a status filter offers: the pending ones act on items in review,
# "not spam" on dropped items (every item is checked again when the form is posted).
BULK_FOR: dict[str, tuple[str, ...]] = {
    "pending": ("resolve", "reject", "assign", "escalate"),
    "dropped": ("restore",),
    "all": actions.BULK_ACTIONS,
}
QUEUE_DONE = {"view-saved": "View saved.", "view-deleted": "View deleted."}
# The item page's keys (its own script), listed in the queue's help panel too.
ITEM_KEYS = [
    ("a", "approve the reply and go to the next item"),
    ("e", "edit the reply"),
    ("r", "reject the draft (type why, then Enter)"),
    ("x", "escalate (type why, then Enter)"),
    ("n", "next item in this queue"),
    ("p", "previous item in this queue"),
    ("Esc", "leave the field; else back to the queue"),
    ("?", "show or hide the keys"),
]


def _queue_params(text: str) -> dict[str, str]:
    """The queue filters (and page) a form carries back as a query string (``back``):
    only the queue's own keys, the first value of each."""
    out: dict[str, str] = {}
    for key, value in parse_qsl(text[:5000], keep_blank_values=False)[:40]:
        if (key in FILTER_KEYS or key == "page") and key not in out:
            out[key] = value
    return out


def _done_words(done: str, bulk: str, n: str, after: str) -> str | None:
    """What the queue page says after an action, in the fixed wordings only (the query
    string names which one; nothing it carries is shown as it came): a bulk action
    (``bulk=ACTION&n=COUNT``), a saved view (``done=view-saved``), or an item page's
    "… and next" that found no item left (``done=ACTION&after=ID``, ``queue_notice``)."""
    if bulk in BULK_DONE and n.isascii() and n.isdigit() and 0 < int(n) <= actions.MAX_BULK:
        count = int(n)
        return f"{count} item{'' if count == 1 else 's'} {BULK_DONE[bulk]}."
    if done in QUEUE_DONE:
        return QUEUE_DONE[done]
    return queue_notice(done or None, after or None)


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
    q: str = "",
    author: str = "",
    mine: str = "",
    due: str = "",
    since: str = "",
    until: str = "",
    page_size: str = "",
    done: str = "",
    bulk: str = "",
    n: str = "",
    after: str = "",
) -> Response:
    params = {
        "workspace": workspace or "", "intent": intent or "", "priority": priority or "",
        "sla": sla or "", "status": status, "q": q, "author": author, "mine": mine,
        "due": due, "since": since, "until": until, "page_size": page_size, "page": str(page),
    }  # fmt: skip
    return _queue_response(request, viewer, params, done=_done_words(done, bulk, n, after))


def _queue_response(
    request: Request,
    viewer: Viewer,
    params: Mapping[str, str],
    *,
    status_code: int = 200,
    done: str | None = None,
    error: str | None = None,
    picked: Collection[int] = (),
    form: Mapping[str, str] | None = None,
) -> Response:
    """The queue page for ``params`` (the query string), with a message or an error."""
    st = state_of(request)
    f = filter_from_params(params)
    require_visible(viewer.visible, f.workspace)
    intents = st.intents()
    check_filter(f, intents)  # an unknown value is a 400 naming it, not an empty page
    with st.runtime.store.session() as s:
        result = queue(s, f, viewer.visible, user=viewer.user.name)
        counts = status_counts(s, viewer.visible, f.workspace)
        takeovers = active_takeovers(s, viewer.visible)
        needing = takeover_live.workspaces_needing_a_person(s, viewer.visible)
        due_count = followups.count_due(s, viewer.visible, utcnow().date())
        saved = [
            {"id": v.id, "name": v.name, "href": view_href(v)}
            for v in views_of(s, viewer.user.name)
        ]
    # The filters as every link and form carries them on (the status chips name the status
    # even when it is the default); ``carried``: as an item's URL and the forms post them.
    current = {**filter_params(f), "status": f.status}
    here = filter_params(f) | ({"page": str(result.page)} if result.page > 1 else {})
    carried = urlencode(here)

    def link(**change: object) -> str:
        wanted = {**current, **change}
        return "/?" + urlencode({k: v for k, v in wanted.items() if v})

    def fields(*skip: str) -> list[tuple[str, str]]:  # a form's hidden inputs
        return [(k, v) for k, v in filter_params(f).items() if k not in skip]

    def item_href(item_id: int) -> str:  # the item page follows this queue (``FROM``)
        return f"/items/{item_id}" + (f"?{urlencode({FROM: carried})}" if carried else "")

    on = sum(1 for k in ("workspace", "intent", "priority", "sla", "author", "mine", "due",
                         "since", "until") if current.get(k)) + (f.status != "pending")  # fmt: skip
    can_act = has_role(viewer.user, Role.REVIEWER.value)
    offered = BULK_FOR.get(f.status, ()) if can_act else ()
    return st.render(
        "queue.html",
        status_code,
        viewer=viewer,
        result=result,
        takeovers=takeovers,
        needing=needing,
        current=current,
        link=link,
        fields=fields,
        back=carried,
        item_href=item_href,
        on=on,
        views=saved,
        done=done,
        error=error,
        picked=set(picked),
        form={"action": "", "owner": "", "note": "", **(form or {})},
        bulk_actions=[(a, BULK_LABELS[a]) for a in offered],
        item_keys=ITEM_KEYS,
        intents=intents,
        priorities=PRIORITIES,
        sla_states=SLA_STATES,
        statuses=list(STATUS_FILTERS),
        page_sizes=PAGE_SIZES,
        counts=counts,
        due_count=due_count,
        request_path="/?" + carried if carried else "/",
        # the statuses this page lists: an item whose status leaves them is marked done
        live_statuses=",".join(STATUS_FILTERS.get(f.status) or ()),
    )


@router.post("/bulk")
def bulk_form(
    request: Request,
    viewer: FormViewer,
    item: Annotated[list[str] | None, Form()] = None,
    action: Annotated[str, Form()] = "",
    owner: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    """One action on the queue's selected items, all or nothing (``actions.bulk``).

    Done: back to the same filtered queue with the count. Refused (any item not the
    person's to act on, or not in a state the action applies to): the queue again,
    with the reason, the selection kept, and nothing changed."""
    rt = state_of(request).runtime
    params = _queue_params(back)
    ids: list[int] = []
    form = {"action": action, "owner": owner, "note": note}
    try:
        for value in item or []:
            value = value.strip()
            if not (value.isascii() and value.isdigit() and len(value) <= 12):
                raise NotFound(f"no item {value[:20]!r}")
            ids.append(int(value))
        missing = (
            "Select the items first (the boxes in the first column)." if not ids
            else "Choose what to do with the selected items." if not action
            else None
        )  # fmt: skip
        if missing:  # a form not filled in yet, not a refusal: the page again, as it was
            return _queue_response(request, viewer, params, error=missing, picked=ids, form=form)
        triage_again = rt.triage().not_spam if action == "restore" else None
        done = actions.bulk(
            rt.store, ids, viewer.user, action, owner=owner or None, note=note or None,
            triage_again=triage_again, log=rt.log,
        )  # fmt: skip
    except ReviewError as exc:
        return _queue_response(
            request, viewer, params, status_code=exc.status_code,
            error=f"Nothing was changed: {exc}.", picked=ids, form=form,
        )  # fmt: skip
    target = {**params, "bulk": action, "n": str(len(done))}
    return RedirectResponse("/?" + urlencode(target), status_code=303)


@router.post("/views")
def save_view_form(
    request: Request,
    viewer: FormViewer,
    name: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    """Save the queue's current filters (not its page) as one of the person's views."""
    st = state_of(request)
    params = _queue_params(back)
    if not name.strip():  # not filled in yet: the page again, as it was
        return _queue_response(request, viewer, params, error="Give the view a name first.")
    try:
        with st.runtime.store.session() as s:
            view = save_view(s, viewer.user.name, name, params)
            href = view_href(view)
    except ReviewError as exc:
        return _queue_response(
            request, viewer, params, status_code=exc.status_code,
            error=f"The view was not saved: {exc}.",
        )  # fmt: skip
    return RedirectResponse(f"{href}{'&' if '?' in href else '?'}done=view-saved", 303)


@router.post("/views/delete")
def delete_view_form(
    request: Request,
    viewer: FormViewer,
    view: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    """Delete one of the person's saved views (another's, or none, is a 404)."""
    st = state_of(request)
    params = _queue_params(back)
    number = int(view) if view.isascii() and view.isdigit() and len(view) < 12 else 0
    with st.runtime.store.session() as s:
        deleted = delete_view(s, viewer.user.name, number)
    if not deleted:
        raise NotFound(f"no view {view[:20]}")
    return RedirectResponse("/?" + urlencode({**params, "done": "view-deleted"}), 303)


# -- an item ------------------------------------------------------------------------
#
# An item's URL may carry the query string of the queue the reviewer came from, as
# ``?from=<the queue's query string, urlencoded>`` (``FROM``): "previous", "next", the
# way back to the queue and the "… and next" buttons then follow that queue, in its
# order. Without it (or with one that does not parse), they follow the default queue.

FROM = "from"
MAX_CARRIED = 2000  # characters of a carried query string (longer: ignored)
AND_NEXT = "next"  # the ``then`` of an "Approve and next" / "Resolve and next" button


def queue_notice(done: str | None, after: str | None) -> str | None:
    """What the queue page says when an "… and next" button found no item left after
    item ``after`` (the queue URL then carries ``done=ACTION&after=ID``)."""
    text = DONE.get(done or "")
    number = _item_number(after)
    if not text or number is None:
        return text
    return f"Item {number}: {text} No items are left after it in this queue."


@dataclass(frozen=True)
class Carried:
    """The queue an item page follows: its filter (with the page the item was on), and
    the query string naming its filters (canonical: re-encoded; "": the default queue)."""

    filter: QueueFilter
    query: str

    def at(self, page: int | None = None) -> str:
        """The query string with the queue page ``page`` (None: the filter's own)."""
        params = parse_qsl(self.query)
        page = self.filter.page if page is None else page
        if page > 1:
            params.append(("page", str(page)))
        return urlencode(params)

    def queue_url(self, page: int | None = None, **extra: object) -> str:
        more = urlencode({k: str(v) for k, v in extra.items() if v})
        query = "&".join(q for q in (self.at(page), more) if q)
        return f"/?{query}" if query else "/"

    def item_url(self, item_id: int, page: int | None = None, **extra: object) -> str:
        params = {k: str(v) for k, v in extra.items() if v}
        carried = self.at(page)
        if carried:
            params[FROM] = carried
        return f"/items/{item_id}" + (f"?{urlencode(params)}" if params else "")


def carried_queue(request: Request, viewer: Viewer, raw: str | None) -> Carried:
    """The queue named by a carried query string, parsed as the queue page parses its
    own (``filter_from_params``, ``check_filter``); one that does not parse, or names a
    workspace the viewer may not see, is dropped for the default queue."""
    if raw and len(raw) <= MAX_CARRIED:
        try:
            f = filter_from_params(QueryParams(raw))
            check_filter(f, state_of(request).intents())
            require_visible(viewer.visible, f.workspace)
        except ReviewError:
            pass
        else:
            return Carried(f, urlencode(filter_params(f)))
    return Carried(QueueFilter(), "")


def _place(request: Request, viewer: Viewer, item_id: int, carried: Carried) -> QueuePlace:
    with state_of(request).runtime.store.session() as s:
        return queue_place(s, carried.filter, viewer.visible, item_id, user=viewer.user.name)


@router.get("/items/{item_id}")
def item_page(
    request: Request,
    viewer: PageViewer,
    item_id: ItemId,
    done: str | None = None,
    after: str | None = None,
    from_: Annotated[str | None, Query(alias=FROM)] = None,
) -> Response:
    """An item. ``done`` names the action just done (on item ``after``, when the reviewer
    went on to this item from it)."""
    carried = carried_queue(request, viewer, from_)
    return _item_view(request, viewer, item_id, carried, done=done, done_on=_item_number(after))


def _item_number(text: str | None) -> int | None:
    """An item id given in a query string (``after``); None when it is none."""
    if text and text.isascii() and text.isdigit() and len(text) <= 10:
        return int(text)
    return None


def _item_view(
    request: Request,
    viewer: Viewer,
    item_id: int,
    carried: Carried,
    *,
    done: str | None = None,
    done_on: int | None = None,
    refused: ReviewError | None = None,
    kept: dict[str, str] | None = None,
) -> Response:
    """The item page; with ``refused``, the action the reviewer tried was refused: its
    reason is shown on the page (with the error's status) and what they typed is kept."""
    st = state_of(request)
    with st.runtime.store.session() as s:
        item = visible_item(s, item_id, viewer.visible)
        if item is None:
            raise NotFound(f"no item {item_id}")
        detail = item_detail(s, item, conversation=True)
        corrections = item_corrections(s, item_id)
        record = item_record(s, item, st.runtime.catalog.clients(), st.runtime.log)
        place = queue_place(s, carried.filter, viewer.visible, item_id, user=viewer.user.name)
    others = st.presence.viewed(item_id, viewer.user.name)
    done_text = DONE.get(done or "")
    previous_url = next_url = None
    if place.previous is not None and place.index is not None:
        previous_url = carried.item_url(place.previous, place.page_of(place.index - 1))
    if place.next is not None:
        ahead = place.index + 1 if place.index is not None else 0
        next_url = carried.item_url(place.next, place.page_of(ahead))
    page = place.page_of(place.index) if place.index is not None else None
    return st.render(
        "item.html",
        refused.status_code if refused else 200,
        viewer=viewer,
        d=detail,
        outline=outline_of(item, st.runtime.home.screenshots_dir),
        others=others,
        done=done_text,
        done_on=done_on if done_on != item_id else None,
        corrections=corrections,
        record=record,
        today=utcnow().date(),
        intents=st.intents(),
        priorities=PRIORITIES,
        queues=st.queues(),
        place=place,
        carried=carried.at(page),
        queue_url=carried.queue_url(page),
        previous_url=previous_url,
        next_url=next_url,
        filtered=bool(carried.query),
        filter_words=parse_qsl(carried.query),
        item_link=lambda other: carried.item_url(other, page),
        refused=str(refused) if refused else None,
        kept=kept or {},
    )


@router.get("/items/{item_id}/evidence/{kind}")
def evidence(request: Request, viewer: PageViewer, item_id: ItemId, kind: str) -> Response:
    """A screenshot of the item: only the files the item row names, only under screenshots/."""
    st = state_of(request)
    with st.runtime.store.session() as s:
        item = visible_item(s, item_id, viewer.visible)
    path = None if item is None else evidence_path(item, kind, st.runtime.home.screenshots_dir)
    if path is None:
        raise NotFound("no such screenshot")
    media = EVIDENCE_TYPES[path.suffix.lower()]
    return FileResponse(path, media_type=media, headers={"Cache-Control": "private, max-age=300"})


def _back(
    request: Request,
    viewer: Viewer,
    item_id: int,
    done: str,
    carried_raw: str,
    run: Callable[[], object],
    *,
    kept: dict[str, str],
    then: str = "",
) -> Response:
    """Do one form's action on the item, then back to its page (``then="next"``: on to
    the next item of the queue the reviewer came from; none left: back to that queue).

    A refused action (``ReviewError`` but ``NotFound``, which stays a bare "not found")
    shows its reason on the item's page, with its status (400, 403, 409) and with what
    the reviewer typed (``kept``: the form's name and its fields) still in the form.
    """
    carried = carried_queue(request, viewer, carried_raw)
    going_on = then == AND_NEXT
    was = _place(request, viewer, item_id, carried).index if going_on else None
    try:
        run()
    except NotFound:
        raise
    except ReviewError as exc:
        return _item_view(request, viewer, item_id, carried, refused=exc, kept=kept)
    if not going_on:
        return RedirectResponse(carried.item_url(item_id, done=done), status_code=303)
    with state_of(request).runtime.store.session() as s:
        found = next_in_queue(
            s, carried.filter, viewer.visible, item_id, was, user=viewer.user.name
        )
    if found is None:  # the queue page says so (``queue_notice``)
        return RedirectResponse(carried.queue_url(done=done, after=item_id), status_code=303)
    next_id, index = found
    page = index // carried.filter.page_size + 1
    url = carried.item_url(next_id, page, done=done, after=item_id)
    return RedirectResponse(url, status_code=303)


Carry = Annotated[str, Form(alias=FROM)]  # the queue's query string, from the page's forms
Then = Annotated[str, Form()]  # "next": go on to the queue's next item


@router.post("/items/{item_id}/approve")
def approve_form(
    request: Request,
    viewer: FormViewer,
    item_id: ItemId,
    text: Annotated[str, Form()] = "",
    draft_hash: Annotated[str, Form()] = "",
    from_: Carry = "",
    then: Then = "",
) -> Response:
    rt = state_of(request).runtime

    def run() -> object:
        return actions.approve(
            rt.store, item_id, viewer.user, text, seen_draft_hash=draft_hash,
            catalog=rt.catalog, log=rt.log,
        )  # fmt: skip

    kept = {"form": "reply", "text": text}
    return _back(request, viewer, item_id, "approve", from_, run, kept=kept, then=then)


@router.post("/items/{item_id}/draft")
def draft_form(
    request: Request,
    viewer: FormViewer,
    item_id: ItemId,
    text: Annotated[str, Form()] = "",
    draft_hash: Annotated[str, Form()] = "",
    from_: Carry = "",
) -> Response:
    rt = state_of(request).runtime

    def run() -> object:
        return actions.save_draft(
            rt.store, item_id, viewer.user, text, seen_draft_hash=draft_hash, log=rt.log
        )

    kept = {"form": "reply", "text": text}
    return _back(request, viewer, item_id, "draft", from_, run, kept=kept)


@router.post("/items/{item_id}/reject")
def reject_form(
    request: Request,
    viewer: FormViewer,
    item_id: ItemId,
    reason: Annotated[str, Form()] = "",
    draft_hash: Annotated[str, Form()] = "",
    from_: Carry = "",
) -> Response:
    rt = state_of(request).runtime

    def run() -> object:
        return actions.reject(
            rt.store, item_id, viewer.user, reason=reason, seen_draft_hash=draft_hash or None,
            log=rt.log,
        )  # fmt: skip

    kept = {"form": "reject", "reason": reason}
    return _back(request, viewer, item_id, "reject", from_, run, kept=kept)


@router.post("/items/{item_id}/escalate")
def escalate_form(
    request: Request,
    viewer: FormViewer,
    item_id: ItemId,
    reason: Annotated[str, Form()] = "",
    owner: Annotated[str, Form()] = "",
    draft_hash: Annotated[str, Form()] = "",
    from_: Carry = "",
) -> Response:
    rt = state_of(request).runtime

    def run() -> object:
        return actions.escalate(
            rt.store, item_id, viewer.user, reason=reason, owner=owner or None,
            seen_draft_hash=draft_hash or None, log=rt.log,
        )  # fmt: skip

    kept = {"form": "escalate", "reason": reason, "owner": owner}
    return _back(request, viewer, item_id, "escalate", from_, run, kept=kept)


@router.post("/items/{item_id}/assign")
def assign_form(
    request: Request,
    viewer: FormViewer,
    item_id: ItemId,
    owner: Annotated[str, Form()] = "",
    draft_hash: Annotated[str, Form()] = "",
    from_: Carry = "",
) -> Response:
    rt = state_of(request).runtime

    def run() -> object:
        return actions.assign(
            rt.store, item_id, viewer.user, owner, seen_draft_hash=draft_hash or None, log=rt.log
        )

    kept = {"form": "assign", "owner": owner}
    return _back(request, viewer, item_id, "assign", from_, run, kept=kept)


@router.post("/items/{item_id}/resolve")
def resolve_form(
    request: Request,
    viewer: FormViewer,
    item_id: ItemId,
    note: Annotated[str, Form()] = "",
    draft_hash: Annotated[str, Form()] = "",
    from_: Carry = "",
    then: Then = "",
) -> Response:
    rt = state_of(request).runtime

    def run() -> object:
        return actions.resolve(
            rt.store, item_id, viewer.user, note=note, seen_draft_hash=draft_hash or None,
            log=rt.log,
        )  # fmt: skip

    kept = {"form": "resolve", "note": note}
    return _back(request, viewer, item_id, "resolve", from_, run, kept=kept, then=then)


@router.post("/items/{item_id}/restore")
def restore_form(
    request: Request,
    viewer: FormViewer,
    item_id: ItemId,
    note: Annotated[str, Form()] = "",
    from_: Carry = "",
) -> Response:
    rt = state_of(request).runtime

    def run() -> object:
        return actions.restore(
            rt.store, item_id, viewer.user, rt.triage().not_spam, note=note, log=rt.log
        )

    kept = {"form": "restore", "note": note}
    return _back(request, viewer, item_id, "restore", from_, run, kept=kept)


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
    from_: Carry = "",
) -> Response:
    """The "Correct triage" form: an empty choice leaves that field as it is."""
    st = state_of(request)
    rt = st.runtime

    def run() -> object:
        return actions.correct(
            rt.store, item_id, viewer.user, intent=intent or None, priority=priority or None,
            queue=queue or None, note=note, seen_draft_hash=draft_hash or None,
            intents=st.intents(), log=rt.log,
        )  # fmt: skip

    kept = {"form": "correct", "intent": intent, "priority": priority, "queue": queue, "note": note}
    return _back(request, viewer, item_id, "correct", from_, run, kept=kept)


@router.post("/items/{item_id}/follow-up")
def follow_up_form(
    request: Request,
    viewer: FormViewer,
    item_id: ItemId,
    follow_up: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    clear: Annotated[str, Form()] = "",
    from_: Carry = "",
) -> Response:
    """The record card's "Follow up on" form: a day, or "Clear" (``clear``) for none."""
    rt = state_of(request).runtime

    def run() -> object:
        day = None if clear else followups.parse_day(follow_up)
        if day is None and not clear:
            raise ReviewError("choose a follow-up date, or clear it")
        return followups.set_follow_up(rt.store, item_id, viewer.user, day, note=note, log=rt.log)

    kept = {"form": "follow_up", "follow_up": follow_up, "note": note}
    return _back(request, viewer, item_id, "follow_up", from_, run, kept=kept)


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
        health=workspace_health(st.runtime.store, workspace, now=now),
        schedule=next((r for r in rows if r.status.workspace == workspace), None),
        schedule_problem=problem,
        now=now,
        open_command=_open_command(request, workspace),
        device=state_of(request).runtime.catalog.device_of(workspace),
        done=DONE.get(done or ""),
        stop=None if held else takeover_live.needs_a_person(st.runtime, workspace),
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
    # The live view (agent.review.takeover_live) opens the workspace's own environment.
    return RedirectResponse(f"/workspaces/{workspace}/live", status_code=303)


@router.post("/workspaces/{workspace}/handback")
async def handback_form(request: Request, viewer: FormViewer, workspace: str) -> Response:
    # The live view's environment closes first, so the next sweep finds its profile free.
    await takeover_live.end_before_hand_back(request, viewer.user, workspace)
    rt = state_of(request).runtime
    await anyio.to_thread.run_sync(takeover.hand_back, rt, workspace, viewer.user)
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
