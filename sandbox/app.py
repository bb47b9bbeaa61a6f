"""The sandbox web app: login, posts with comment threads, the DM inbox, and the fault modes.

``create_app(state)`` builds a FastAPI app over one ``SandboxState``. Every page for a logged-in
account first asks ``_resolve`` which account and DOM version to serve; a fault on the account
short-circuits there (login wall, challenge, action-block notice, a page that never loads), or
swaps the account (``wrong_account``) or the DOM (``changed_dom``). ``slow`` is a middleware, so
it delays pages and JSON alike. The admin API lives in ``sandbox.admin``.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import FastAPI, Form, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.responses import StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.admin import router as admin_router
from sandbox.device import DeviceFarm
from sandbox.device import router as device_router
from sandbox.state import CHALLENGE_CODE, Account, Post, SandboxState
from sandbox.views import Renderer, media_svg

COOKIE = "sandbox_session"
PAGE_SIZE = 20
HANG_LIMIT_S = 600.0


class _Interrupt(Exception):
    """Raised inside a handler to serve ``response`` instead (a fault or a missing session)."""

    def __init__(self, response: Response) -> None:
        self.response = response


class _SlowMiddleware:
    """Delays every page and JSON request of an account whose fault is ``slow``."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and not path.startswith(("/admin", "/media", "/_sandbox")):
            acc = self.state.session_account(Request(scope).cookies.get(COOKIE))
            if acc is not None and acc.fault == "slow":
                await asyncio.sleep(acc.slow_ms / 1000)
        await self.app(scope, receive, send)


def _safe_next(url: str | None) -> str:
    return url if url and url.startswith("/") and not url.startswith("//") else "/inbox"


def create_app(state: SandboxState, *, admin_token: str | None = None) -> FastAPI:
    """The sandbox app; ``admin_token`` guards ``/admin`` (None: loopback clients only)."""
    app = FastAPI(title="Sandbox Social", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sandbox = state
    app.state.admin_token = admin_token
    app.state.stopping = threading.Event()
    app.add_middleware(_SlowMiddleware, state=state)
    app.include_router(admin_router)
    app.state.devices = DeviceFarm(state)
    app.include_router(device_router)
    ui = Renderer()

    def html(name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        return HTMLResponse(ui.render(name, **ctx), status_code=status)

    async def hang_body(request: Request) -> AsyncIterator[bytes]:
        # Never completes until the client goes away or the server stops (bounded anyway).
        stopping: threading.Event = request.app.state.stopping
        for _ in range(int(HANG_LIMIT_S * 5)):
            if stopping.is_set():
                break
            await asyncio.sleep(0.2)
        yield b""

    @app.exception_handler(_Interrupt)
    async def _interrupted(request: Request, exc: _Interrupt) -> Response:
        return exc.response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        # FastAPI's own answer quotes the input as UTF-8, which fails on a lone surrogate;
        # ASCII-escaped JSON carries anything.
        body = json.dumps({"detail": jsonable_encoder(exc.errors())}, default=repr)
        return Response(body, status_code=422, media_type="application/json")

    def resolve(request: Request, *, as_json: bool = False) -> tuple[Account, bool]:
        """The account to serve and whether the DOM is the changed one; faults short-circuit."""
        acc = state.session_account(request.cookies.get(COOKIE))
        path = request.url.path
        if acc is None:
            if as_json:
                raise _Interrupt(JSONResponse({"error": "login_required"}, status_code=401))
            raise _Interrupt(RedirectResponse(f"/login?next={path}", status_code=303))
        fault = acc.fault
        if fault == "session_expired":
            if as_json:
                raise _Interrupt(JSONResponse({"error": "login_required"}, status_code=401))
            raise _Interrupt(html("login.html", title="Log in", expired=True, next_url=path))
        if fault == "challenge":
            if as_json:
                raise _Interrupt(JSONResponse({"error": "challenge"}, status_code=403))
            raise _Interrupt(
                html("challenge.html", title="Security check", account=acc, code=CHALLENGE_CODE)
            )
        if fault == "rate_limited":
            if as_json:
                raise _Interrupt(JSONResponse({"error": "rate_limited"}, status_code=429))
            raise _Interrupt(html("blocked.html", 429, title="Try again later", account=acc))
        if fault == "server_error":
            if as_json:
                raise _Interrupt(JSONResponse({"error": "server_error"}, status_code=500))
            raise _Interrupt(html("error.html", 500, title="Something went wrong", account=acc))
        if fault == "never_loads":
            if as_json:
                raise _Interrupt(
                    StreamingResponse(hang_body(request), media_type="application/json")
                )
            raise _Interrupt(html("loading.html", title="Loading", account=acc, path=path))
        if fault == "wrong_account":
            return state.impostor_of(acc.name), False
        return acc, fault == "changed_dom"

    def not_found(acc: Account, v2: bool) -> HTMLResponse:
        return html("notfound.html", 404, title="Not found", account=acc, v2=v2)

    # -- login ---------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        acc = state.session_account(request.cookies.get(COOKIE))
        return RedirectResponse("/inbox" if acc else "/login", status_code=303)

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str | None = None) -> Response:
        return html("login.html", title="Log in", next_url=_safe_next(next))

    @app.post("/login")
    def login(
        username: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "/inbox",
    ) -> Response:
        token = state.login(username.strip(), password)
        if token is None:
            return html(
                "login.html",
                401,
                title="Log in",
                next_url=_safe_next(next),
                username=username,
                error="Incorrect username or password.",
            )
        resp = RedirectResponse(_safe_next(next), status_code=303)
        # Persistent like a real platform's "remember me": a profile stays signed in.
        resp.set_cookie(COOKIE, token, httponly=True, samesite="lax", path="/", max_age=30 * 86400)
        return resp

    @app.post("/logout")
    def logout(request: Request) -> Response:
        state.logout(request.cookies.get(COOKIE))
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(COOKIE, path="/")
        return resp

    @app.post("/challenge")
    def challenge(request: Request, code: Annotated[str, Form()] = "") -> Response:
        # A person (never a flow) can pass the challenge by typing the code it shows.
        acc = state.session_account(request.cookies.get(COOKIE))
        if acc is None:
            return RedirectResponse("/login", status_code=303)
        if acc.fault == "challenge" and code.strip() == CHALLENGE_CODE:
            state.set_fault(acc.name, "none")
            return RedirectResponse("/inbox", status_code=303)
        return html(
            "challenge.html",
            400,
            title="Security check",
            account=acc,
            code=CHALLENGE_CODE,
            error="That code didn't work. Try again.",
        )

    # -- posts and comments --------------------------------------------------------------

    @app.get("/posts", response_class=HTMLResponse)
    def posts(request: Request) -> Response:
        acc, v2 = resolve(request)
        rows = [(p, len(p.comment_ids)) for p in state.posts_of(acc.name)]
        return html("posts.html", title="Posts", account=acc, v2=v2, posts=rows)

    def thread_page(post: Post, after: str | None) -> tuple[list[Any], str | None]:
        threads = state.comment_threads(post)
        if after:
            idx = next((i for i, t in enumerate(threads) if t[2].id == after), None)
            threads = threads[idx + 1 :] if idx is not None else []
        page = threads[:PAGE_SIZE]
        cursor = page[-1][2].id if len(threads) > PAGE_SIZE else None
        return page, cursor

    @app.get("/posts/{post_id}", response_class=HTMLResponse)
    def post_page(request: Request, post_id: str, sent: str | None = None) -> Response:
        acc, v2 = resolve(request)
        post = state.post(acc.name, post_id)
        if post is None:
            return not_found(acc, v2)
        page, cursor = thread_page(post, None)
        notice = _notice(state, sent, "Reply sent")
        return html(
            "post.html",
            title="Post",
            account=acc,
            v2=v2,
            post=post,
            threads=page,
            cursor=cursor,
            total=len(post.comment_ids),
            notice=notice,
        )

    @app.get("/posts/{post_id}/comments.json")
    def post_comments(request: Request, post_id: str, after: str | None = None) -> Response:
        acc, v2 = resolve(request, as_json=True)
        post = state.post(acc.name, post_id)
        if post is None:
            return JSONResponse({"error": "not_found"}, status_code=404)
        page, cursor = thread_page(post, after)
        body = "".join(
            ui.render("_thread.html", v2=v2, root=r, kids=k, latest=la) for r, k, la in page
        )
        items = [m.to_json() for r, k, _ in page for m in (r, *k)]
        return JSONResponse({"html": body, "items": items, "next": cursor})

    @app.post("/posts/{post_id}/comments/{comment_id}/reply")
    def reply_comment(
        request: Request, post_id: str, comment_id: str, text: Annotated[str, Form()] = ""
    ) -> Response:
        acc, v2 = resolve(request)
        post = state.post(acc.name, post_id)
        parent = state.messages.get(comment_id)
        if post is None or parent is None or parent.container_id != post.id:
            return not_found(acc, v2)
        if not text.strip():
            return RedirectResponse(f"/posts/{post.id}#c-{comment_id}", status_code=303)
        reply = state.record_reply(acc.name, "comment", post.id, text, comment_id)
        return RedirectResponse(f"/posts/{post.id}?sent={reply.message_id}", status_code=303)

    # -- direct messages -----------------------------------------------------------------

    @app.get("/inbox", response_class=HTMLResponse)
    def inbox(request: Request) -> Response:
        acc, v2 = resolve(request)
        return html(
            "inbox.html", title="Messages", account=acc, v2=v2, threads=state.threads_of(acc.name)
        )

    def message_page(thread_id: str, after: str | None) -> tuple[list[Any], str | None]:
        msgs = state.thread_messages(state.threads[thread_id])
        if after:
            idx = next((i for i, m in enumerate(msgs) if m.id == after), None)
            msgs = msgs[idx + 1 :] if idx is not None else []
        page = msgs[:PAGE_SIZE]
        return page, (page[-1].id if len(msgs) > PAGE_SIZE else None)

    @app.get("/inbox/{thread_id}", response_class=HTMLResponse)
    def dm_thread(request: Request, thread_id: str, sent: str | None = None) -> Response:
        acc, v2 = resolve(request)
        thread = state.thread(acc.name, thread_id)
        if thread is None:
            return not_found(acc, v2)
        page, cursor = message_page(thread.id, None)
        state.mark_read(thread)
        return html(
            "thread.html",
            title=thread.participant,
            account=acc,
            v2=v2,
            thread=thread,
            messages=page,
            cursor=cursor,
            notice=_notice(state, sent, "Message sent"),
        )

    @app.get("/inbox/{thread_id}/messages.json")
    def dm_messages(request: Request, thread_id: str, after: str | None = None) -> Response:
        acc, v2 = resolve(request, as_json=True)
        thread = state.thread(acc.name, thread_id)
        if thread is None:
            return JSONResponse({"error": "not_found"}, status_code=404)
        page, cursor = message_page(thread.id, after)
        body = "".join(ui.render("_message.html", v2=v2, m=m) for m in page)
        return JSONResponse({"html": body, "items": [m.to_json() for m in page], "next": cursor})

    @app.post("/inbox/{thread_id}/reply")
    def reply_dm(request: Request, thread_id: str, text: Annotated[str, Form()] = "") -> Response:
        acc, v2 = resolve(request)
        thread = state.thread(acc.name, thread_id)
        if thread is None:
            return not_found(acc, v2)
        if not text.strip():
            return RedirectResponse(f"/inbox/{thread.id}", status_code=303)
        reply = state.record_reply(acc.name, "dm", thread.id, text, None)
        return RedirectResponse(f"/inbox/{thread.id}?sent={reply.message_id}", status_code=303)

    # -- media and the never-finishing resource ------------------------------------------

    @app.get("/media/{name}.svg")
    def media(name: str) -> Response:
        return Response(
            media_svg(name), media_type="image/svg+xml", headers={"Cache-Control": "max-age=3600"}
        )

    @app.get("/_sandbox/hang.js")
    async def hang(request: Request) -> Response:
        return StreamingResponse(hang_body(request), media_type="text/javascript")

    return app


def _notice(state: SandboxState, sent: str | None, text: str) -> dict[str, str] | None:
    """The sent confirmation shown after a composer posts (only for a message that exists)."""
    if sent and sent in state.messages and state.messages[sent].from_brand:
        return {"id": sent, "text": text}
    return None
