"""The sandbox admin API (JSON under ``/admin``): inject content, seed, reset, faults, replies.

Guard: when the server was given a token (``INBOX_AGENT_SANDBOX_TOKEN``), every admin request
must carry ``Authorization: Bearer <token>``; without a token, only loopback clients may call it.
Errors come back as ``{"error": "..."}`` with 400 (bad request), 403 (guard) or 404 (unknown
account, post, thread or comment). Every string in a request body first goes through
``state.clean_text`` (a lone surrogate or NUL becomes U+FFFD), so any text a JSON body can
carry is accepted and stored as it will be shown.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, model_validator

from sandbox.errors import NotFound, SandboxError
from sandbox.seeding import SeedSize, bulk_items, seed_state
from sandbox.state import SandboxState, clean_text

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def guard(request: Request) -> None:
    token: str | None = request.app.state.admin_token
    if token:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not secrets.compare_digest(given, token):
            raise HTTPException(403, "admin token missing or wrong")
        return
    host = request.client.host if request.client else ""
    if host not in LOOPBACK and not host.startswith("127."):
        raise HTTPException(403, "admin API is loopback-only without INBOX_AGENT_SANDBOX_TOKEN")


router = APIRouter(prefix="/admin", dependencies=[Depends(guard)])


def _state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


def _cleaned(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {_cleaned(k): _cleaned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    return value


class CleanBody(BaseModel):
    """A request body whose strings are cleaned before they are validated (pydantic
    refuses a lone surrogate, and its refusal, which quotes it, could not be sent)."""

    @model_validator(mode="before")
    @classmethod
    def _clean(cls, data: Any) -> Any:
        return _cleaned(data)


class MessageIn(CleanBody):
    account: str
    kind: Literal["comment", "dm"]
    author: str = Field(min_length=1)
    text: str
    thread: str | None = None  # post id (comment) or thread id (dm)
    parent: str | None = None  # comment id, for a nested reply
    id: str | None = None
    time: datetime | None = None
    image: str | None = None


class PostIn(CleanBody):
    account: str
    caption: str
    image: str | None = None
    time: datetime | None = None


class SeedIn(CleanBody):
    seed: int = 1
    posts_per_account: int = Field(3, ge=0, le=100)
    comments_per_post: int = Field(30, ge=0, le=20000)
    threads_per_account: int = Field(6, ge=0, le=1000)
    messages_per_thread: int = Field(8, ge=0, le=20000)


class BulkIn(CleanBody):
    account: str
    kind: Literal["comment", "dm"]
    count: int = Field(ge=1, le=50000)
    seed: int = 0
    thread: str | None = None
    author: str | None = None


class FaultIn(CleanBody):
    account: str
    mode: str
    slow_ms: int | None = Field(None, ge=0, le=600000)


class SessionIn(CleanBody):
    account: str


def _fail(exc: SandboxError) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=404 if isinstance(exc, NotFound) else 400)


@router.get("/health")
def health() -> dict[str, Any]:
    return {"ok": True}


@router.get("/state")
def get_state(request: Request) -> dict[str, Any]:
    return _state(request).snapshot()


@router.get("/replies")
def replies(request: Request, account: str | None = None) -> dict[str, Any]:
    state = _state(request)
    with state.lock:
        rows = [r.to_json() for r in state.replies if account in (None, r.account)]
    return {"replies": rows}


@router.post("/messages", response_model=None)
def post_message(request: Request, body: MessageIn) -> dict[str, Any] | JSONResponse:
    state = _state(request)
    try:
        if body.kind == "comment":
            msg = state.add_comment(
                body.account,
                body.author,
                body.text,
                post_id=body.thread,
                parent_id=body.parent,
                message_id=body.id,
                time=body.time,
                image=body.image,
            )
        else:
            if body.parent is not None:
                raise SandboxError("a DM cannot have a parent comment")
            msg = state.add_dm(
                body.account,
                body.author,
                body.text,
                thread_id=body.thread,
                message_id=body.id,
                time=body.time,
                image=body.image,
            )
    except SandboxError as exc:
        return _fail(exc)
    return msg.to_json()


@router.post("/posts", response_model=None)
def add_post(request: Request, body: PostIn) -> dict[str, Any] | JSONResponse:
    try:
        post = _state(request).add_post(
            body.account, body.caption, image=body.image, time=body.time
        )
    except SandboxError as exc:
        return _fail(exc)
    return {
        "id": post.id,
        "account": post.account,
        "caption": post.caption,
        "time": post.time.isoformat(),
    }


@router.post("/seed")
def seed(request: Request, body: SeedIn) -> dict[str, Any]:
    size = SeedSize(
        body.posts_per_account,
        body.comments_per_post,
        body.threads_per_account,
        body.messages_per_thread,
    )
    state = _state(request)
    seed_state(state, body.seed, size)
    return {"seed": body.seed, "messages": len(state.messages)}


@router.post("/bulk", response_model=None)
def bulk(request: Request, body: BulkIn) -> dict[str, Any] | JSONResponse:
    try:
        ids = bulk_items(
            _state(request),
            body.account,
            body.kind,
            body.count,
            seed=body.seed,
            container_id=body.thread,
            author=body.author,
        )
    except SandboxError as exc:
        return _fail(exc)
    return {"ids": ids}


@router.post("/reset")
def reset(request: Request) -> dict[str, Any]:
    _state(request).reset()
    return {"ok": True}


@router.post("/fault", response_model=None)
def fault(request: Request, body: FaultIn) -> dict[str, Any] | JSONResponse:
    try:
        acc = _state(request).set_fault(body.account, body.mode, body.slow_ms)
    except SandboxError as exc:
        return _fail(exc)
    return {"account": acc.name, "mode": acc.fault, "slow_ms": acc.slow_ms}


@router.post("/session", response_model=None)
def session(request: Request, body: SessionIn) -> dict[str, Any] | JSONResponse:
    """A logged-in session for ``account`` without the form (for test set-up)."""
    state = _state(request)
    try:
        acc = state.account(body.account)
    except SandboxError as exc:
        return _fail(exc)
    token = state.login(acc.name, acc.password)
    return {"account": acc.name, "cookie": "sandbox_session", "token": token}
