"""What every web route shares: the app's state, the signed-in viewer, CSRF checks, rendering."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from anyio import CapacityLimiter
from fastapi import Depends, Form, Header, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from sqlmodel import Session

from agent.config import Catalog
from agent.review.auth import LoginLimiter, api_token_user, visible_workspaces
from agent.review.choices import known_queues
from agent.review.errors import NotFound, ReviewError
from agent.review.live import POLL_SECONDS, ChangeFeed, LiveHub
from agent.review.queries import MAX_ID, known_intents, known_workspaces
from agent.review.sessions import Presence, SessionStore, WebSession
from agent.runtime import Runtime
from agent.store import User

SESSION_COOKIE = "ia_session"
LOGIN_COOKIE = "ia_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
TEMPLATES = Path(__file__).resolve().parent / "templates"
CSS = (TEMPLATES / "review.css").read_text(encoding="utf-8")
# The one inline stylesheet is allowed by its hash: no 'unsafe-inline' anywhere.
CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode("utf-8")).digest()).decode("ascii")
# Scripts are the project's own files under /static/ (agent/review/static/*.js): allowed by
# source, never inline; every action also works without them (plain forms).
CSP = (
    "default-src 'none'; "
    f"style-src 'sha256-{CSS_HASH}'; "
    "script-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
STATIC = Path(__file__).parent / "static"


class LoginRequired(Exception):
    """No valid session: pages redirect to /login, the API answers 401."""


class CsrfRejected(Exception):
    """A state-changing request without the session's CSRF token."""


@dataclass
class ReviewState:
    runtime: Runtime
    secure_cookies: bool = True
    sessions: SessionStore = field(default_factory=SessionStore)
    presence: Presence = field(default_factory=Presence)
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    # Password checks (argon2, ~0.5 s of CPU each) run in worker threads of their own,
    # at most this many at once: a flood of sign-ins waits here, not in the threads
    # every other page needs.
    password_checks: int = 2
    # How often the live updates read the store for changes (``agent.review.live``).
    live_poll_seconds: float = POLL_SECONDS
    env: Environment = field(init=False)
    live: LiveHub = field(init=False)
    hashing: CapacityLimiter = field(init=False)
    _intents: tuple[Catalog | None, list[str]] = field(init=False, default=(None, []))
    _queues: tuple[Catalog | None, list[str]] = field(init=False, default=(None, []))

    def __post_init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"], default=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["inert"] = inert
        self.env.filters["when"] = when
        self.env.filters["epoch_ms"] = epoch_ms
        self.env.tests["hiding"] = hiding
        self.hashing = CapacityLimiter(self.password_checks)
        feed = ChangeFeed(self.runtime.store)
        self.live = LiveHub(feed, self.presence, poll_seconds=self.live_poll_seconds)

    def intents(self) -> list[str]:
        """The intents the queue can be filtered on (worked out once per loaded catalog)."""
        catalog, known = self._intents
        if catalog is not self.runtime.catalog:
            known = known_intents(self.runtime.home, self.runtime.catalog)
            self._intents = (self.runtime.catalog, known)
        return known

    def queues(self) -> list[str]:
        """The queues a reviewer may correct an item to (worked out once per loaded
        catalog: each workspace's triage file is read, as for the intents)."""
        catalog, known = self._queues
        if catalog is not self.runtime.catalog:
            known = known_queues(self.runtime.home, self.runtime.catalog)
            self._queues = (self.runtime.catalog, known)
        return known

    def render(self, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("now_ms", int(time.time() * 1000))  # the live script's clock
        html = self.env.get_template(name).render(css=Markup(CSS), **context)  # noqa: S704
        return HTMLResponse(html, status_code=status_code)

    def cookie(self, response: Any, name: str, value: str, max_age: int | None = None) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            httponly=True,
            secure=self.secure_cookies,
            samesite="strict",
            path="/",
        )


def state_of(request: Request) -> ReviewState:
    st: ReviewState = request.app.state.review
    return st


@dataclass
class Viewer:
    """The signed-in person for one request.

    ``token_id`` is set when the request was authenticated by an API token
    (``Authorization: Bearer …``) rather than a session cookie; ``session`` is then a
    stand-in with no cookie token and no CSRF token.
    """

    user: User
    session: WebSession
    visible: set[str] | None  # None: every workspace (admin)
    workspaces: list[str]  # what the filters offer
    token_id: int | None = None

    @property
    def csrf(self) -> str:
        return self.session.csrf


class TokenRejected(ReviewError):
    """A request to the API with an ``Authorization`` header that is not a valid token."""

    status_code = 401


REFUSED_BEARER = (
    "invalid API token (unknown, revoked or expired; see `inbox-agent users token list`)"
)
EMPTY_BEARER = "no token after `Bearer` (make one with `inbox-agent users token create`)"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def _viewer(st: ReviewState, s: Session, user: User, web: WebSession) -> Viewer:
    visible = visible_workspaces(s, user)
    shown = (
        visible if visible is not None else known_workspaces(s, set(st.runtime.catalog.workspaces))
    )
    return Viewer(user, web, visible, sorted(shown))


def _bearer(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; None without one.

    Other schemes (``Basic`` from a proxy in front of the server, say) are left alone:
    a browser may add those by itself, so they neither sign anyone in nor exempt a
    request from CSRF checks; the cookie decides, as without the header.
    """
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def _token_viewer(st: ReviewState, token: str) -> Viewer:
    """The viewer of an API request sent with ``Authorization: Bearer <token>``.

    The token is never logged, echoed or put in an error; any failure is a 401.
    """
    if not token:
        raise TokenRejected(EMPTY_BEARER)
    now = st.sessions.now()
    with st.runtime.store.session() as s:
        found = api_token_user(s, token, now)
        if found is None:
            raise TokenRejected(REFUSED_BEARER)
        user, row = found
        assert user.id is not None
        stamp = now.timestamp()
        # A stand-in session: no cookie token, no CSRF token (nothing for one to protect).
        viewer = _viewer(st, s, user, WebSession("", user.id, "", stamp, stamp))
    viewer.token_id = row.id
    return viewer


def current_viewer(request: Request) -> Viewer:
    """The signed-in viewer, by session cookie; on ``/api/``, a bearer API token
    (``Authorization: Bearer …``) is used instead of the cookie when present. Pages take
    cookies only: a bearer header there is ignored."""
    st = state_of(request)
    token = _bearer(request) if _is_api(request) else None
    if token is not None:
        return _token_viewer(st, token)
    web = st.sessions.get(request.cookies.get(SESSION_COOKIE))
    if web is None:
        raise LoginRequired()
    with st.runtime.store.session() as s:
        user = s.get(User, web.user_id)
        if user is not None and not user.disabled:
            return _viewer(st, s, user, web)
    st.sessions.delete(web.token)  # a disabled (or removed) user's sessions end
    raise LoginRequired()


def _same(expected: str, given: str | None) -> bool:
    return bool(given) and secrets.compare_digest(expected.encode(), (given or "").encode())


def form_viewer(
    viewer: Annotated[Viewer, Depends(current_viewer)],
    csrf_token: Annotated[str, Form()] = "",
) -> Viewer:
    """The viewer of a form post, refused unless it carries the session's CSRF token."""
    if not _same(viewer.csrf, csrf_token):
        raise CsrfRejected()
    return viewer


def api_writer(
    viewer: Annotated[Viewer, Depends(current_viewer)],
    x_csrf_token: Annotated[str | None, Header()] = None,
) -> Viewer:
    """The viewer of an API post, refused unless the X-CSRF-Token header matches.

    A request authenticated by a bearer API token needs none, only because it is not
    authenticated by a cookie: a forged cross-site request rides on what the browser
    adds by itself (cookies, a proxy's Basic credentials), and a browser never adds a
    Bearer header of its own accord. A request signed in by cookie is checked exactly as
    before. One with both a cookie and a bearer token is the token's alone (the cookie
    is not looked at), so it cannot carry the cookie's rights past the check.
    """
    if viewer.token_id is not None:
        return viewer
    if not _same(viewer.csrf, x_csrf_token):
        raise CsrfRejected()
    return viewer


_DIGITS = re.compile(r"[0-9]{1,12}")


def item_id_param(item_id: str) -> int:
    """The ``{item_id}`` of a route: anything that cannot be a stored row's id (plain
    ASCII digits, 1 to ``MAX_ID``) is a 404, like an item that does not exist."""
    if not _DIGITS.fullmatch(item_id) or not 0 < int(item_id) <= MAX_ID:
        raise NotFound(f"no item {item_id[:40]}")
    return int(item_id)


ItemId = Annotated[int, Depends(item_id_param)]
PageViewer = Annotated[Viewer, Depends(current_viewer)]
FormViewer = Annotated[Viewer, Depends(form_viewer)]
ApiWriter = Annotated[Viewer, Depends(api_writer)]

# Characters that can reorder or hide text (bidi overrides and isolates, zero-width
# marks): shown as a visible code instead of being obeyed.
_INVISIBLE = {0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF, 0x061C}
_INVISIBLE |= set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))


def _visible(ch: str) -> str:
    code = ord(ch)
    category = unicodedata.category(ch)
    # Cs: a lone surrogate, which UTF-8 cannot encode (it would break the whole page).
    if code in _INVISIBLE or category == "Cs" or (category == "Cc" and ch not in "\n\t"):
        return f"\u27e8U+{code:04X}\u27e9"
    return ch


def hiding(text: str | None) -> bool:
    """True when ``text`` holds characters that reorder or hide what it shows."""
    return any(_visible(ch) != ch for ch in text or "")


def inert(text: str | None, limit: int = 20_000) -> Markup:
    """Untrusted text made safe to show: control characters made visible, long text cut,
    HTML-escaped. Autoescaping alone would leave a right-to-left override working."""
    text = text or ""
    more = len(text) - limit
    shown = "".join(_visible(ch) for ch in text[:limit])
    out = escape(shown)
    if more > 0:
        out += Markup(' <span class="more">… ({:,} more characters not shown)</span>').format(more)
    return out


def epoch_ms(moment: datetime) -> int:
    """A stored time as milliseconds since 1970 (a time without a zone is UTC, as the
    store keeps them): what the page's live script counts SLA timers down from."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"
