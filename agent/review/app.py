"""The review web app: ``create_app(home_or_runtime)`` builds it; ``inbox-agent serve`` runs it.

Server-rendered pages (Jinja2, autoescaped; every action a plain form, the keyboard from
the UI's own scripts under ``/static/``) and a JSON API under ``/api/``. Every response
carries a strict Content-Security-Policy (scripts from this origin only, never inline, one
stylesheet allowed by hash, images from this origin only) and
is marked not to be cached, framed or sniffed. Sessions, CSRF and presence are
described in ``agent.review.sessions``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent.review import (
    api,
    case_pages,
    followups,
    pages,
    report_page,
    static_files,
    takeover_live,
)
from agent.review.auth import LoginLimiter
from agent.review.context import (
    CSP,
    CsrfRejected,
    LoginRequired,
    ReviewState,
    Viewer,
    current_viewer,
    state_of,
)
from agent.review.errors import ReviewError
from agent.review.sessions import Presence, SessionStore
from agent.runtime import Runtime, open_runtime
from workspaces.paths import Home

SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class SecurityHeaders:
    """Plain ASGI middleware (cheaper than BaseHTTPMiddleware) adding the headers above."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def _login_required(request: Request, _exc: Exception) -> Response:
    if _is_api(request):
        return JSONResponse({"error": "sign in first"}, status_code=401)
    return RedirectResponse("/login", status_code=303)


def _signed_in(request: Request) -> Viewer | None:
    """Who is signed in, for an error page's header (its links and the sign-out); None
    when no one is. The page itself names nothing more than the viewer's own pages do."""
    try:
        return current_viewer(request)
    except (LoginRequired, ReviewError):
        return None


def _error_page(request: Request, status: int, message: str, back: str | None) -> Response:
    st = state_of(request)
    viewer = _signed_in(request)
    return st.render("error.html", status, viewer=viewer, message=message, back=back)


def _csrf_rejected(request: Request, _exc: Exception) -> Response:
    message = "The form is missing its security token (or it expired): reload the page."
    if _is_api(request):
        return JSONResponse({"error": "missing or wrong X-CSRF-Token header"}, status_code=403)
    return _error_page(request, 403, message, _page_of(request.url.path))


def _review_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ReviewError)
    status = exc.status_code
    # One message for "absent" and "not yours", so the answer tells nothing about others.
    message = "Not found." if status == 404 else str(exc)
    if _is_api(request):
        return JSONResponse({"error": message}, status_code=status)
    back = request.url.path if request.method == "GET" else _page_of(request.url.path)
    return _error_page(request, status, message, back)


_WHERE = {"body", "query", "path", "header", "cookie"}


def _bad_input(request: Request, exc: Exception) -> Response:
    """A body or parameter that does not validate: 400 naming the field and the problem.

    FastAPI's own answer echoes the input back, and an input holding a lone surrogate
    cannot be encoded, which turned a bad request into a 500; the input is never echoed.
    """
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors()[:5]:
        loc = list(error.get("loc", ()))
        if loc and loc[0] in _WHERE:  # "body", "query", ...: the field's name says enough
            loc = loc[1:]
        where = ".".join(str(part) for part in loc)
        problems.append(f"{where or 'request'}: {error.get('msg', 'invalid')}")
    message = "; ".join(problems) or "the request does not validate"
    if _is_api(request):
        return JSONResponse({"error": message}, status_code=400)
    return _error_page(request, 400, message, _page_of(request.url.path))


def _page_of(path: str) -> str | None:
    """The page an action was posted from (``/items/7/approve`` -> ``/items/7``)."""
    parts = path.rstrip("/").split("/")
    return "/".join(parts[:3]) if len(parts) >= 4 else None


def create_app(
    source: Home | Runtime,
    *,
    secure_cookies: bool = True,
    sessions: SessionStore | None = None,
    presence: Presence | None = None,
    limiter: LoginLimiter | None = None,
    live_poll_seconds: float | None = None,
    live_view: takeover_live.LiveTakeovers | None = None,
    takeover_idle_seconds: float = takeover_live.IDLE_SECONDS,
) -> FastAPI:
    """The review app over a home (opened and migrated here) or an open runtime.

    ``secure_cookies=False`` only for plain-http testing on localhost.
    ``live_poll_seconds``: how often live updates read the store (default 1 s).
    ``live_view``: the takeovers' live rooms (a test's own clock or environment opener).
    ``takeover_idle_seconds``: a live takeover without input from its driver this long is
    handed back (``serve --takeover-idle-minutes``).
    """
    runtime = source if isinstance(source, Runtime) else open_runtime(source)
    app = FastAPI(title="inbox-agent review", docs_url=None, redoc_url=None, openapi_url=None)
    # Sessions live in the store (``web_sessions``): a restart, or a second app over the
    # same store, keeps people signed in. A SessionStore given without a store (a test's
    # own clock, say) is bound to this runtime's.
    if sessions is None:
        sessions = SessionStore(runtime.store)
    elif sessions.store is None:
        sessions.store = runtime.store
    options: dict[str, Any] = {"sessions": sessions}
    if presence is not None:
        options["presence"] = presence
    if limiter is not None:
        options["limiter"] = limiter
    if live_poll_seconds is not None:
        options["live_poll_seconds"] = live_poll_seconds
    app.state.review = ReviewState(runtime, secure_cookies=secure_cookies, **options)
    app.include_router(pages.router)
    app.include_router(static_files.router)
    app.include_router(api.router)
    app.include_router(report_page.router)  # the pilot report (issue 16)
    app.include_router(followups.router)  # follow-up dates and the item record (issue 16)
    app.state.live_takeovers = live_view or takeover_live.LiveTakeovers(
        runtime, idle_seconds=takeover_idle_seconds
    )
    app.include_router(takeover_live.router)  # a takeover's live view (issue 17)
    app.include_router(case_pages.router)  # cases: one approval, one reply per customer
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(CsrfRejected, _csrf_rejected)
    app.add_exception_handler(ReviewError, _review_error)
    app.add_exception_handler(RequestValidationError, _bad_input)
    app.add_middleware(SecurityHeaders)
    return app
