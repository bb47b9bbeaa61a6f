"""The app's screen model: what the app remembers between verbs, and what it shows.

``AppState`` is the app process: its signed-in session (a token from ``state.login``), the
back stack of pages (the Inbox or Posts tab at the bottom, a DM thread or a comment sheet
above), what was typed where, which field has focus, and the dialogs raised over it. What the
app shows also depends on the account's fault (``resolve``), read afresh on every verb, as the
web app reads it on every page: a fault is the platform's answer, not app state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

from sandbox.state import Account, SandboxState

LINK_SCHEME = "sandbox"


class Page(StrEnum):
    INBOX = "inbox"
    THREAD = "thread"
    POSTS = "posts"
    COMMENTS = "comments"


ACTIVITY = {
    Page.INBOX: ".InboxActivity",
    Page.THREAD: ".ThreadActivity",
    Page.POSTS: ".PostsActivity",
    Page.COMMENTS: ".CommentsActivity",
}
LOGIN_ACTIVITY = ".LoginActivity"
CHALLENGE_ACTIVITY = ".ChallengeActivity"
LAUNCHER_ACTIVITY = ".Launcher"
PERMISSION_ACTIVITY = ".permission.ui.GrantPermissionsActivity"


class DialogKind(StrEnum):
    """Dialogs the admin API can raise over the app."""

    RATE_LIMIT = "rate_limit"  # "Try Again Later" (OK)
    UPDATE = "update"  # "Update available" (Update / Not now)
    NOTIFICATIONS = "notifications"  # Android's permission prompt (Allow / Don't allow)
    SURVEY = "survey"  # a "rate us" prompt no pack knows


class Shown(StrEnum):
    """What the app window holds for the current session and fault."""

    LOGIN = "login"
    CHALLENGE = "challenge"
    ERROR = "error"
    LOADING = "loading"
    CONTENT = "content"


@dataclass
class Screen:
    """One page on the back stack, with its own scroll position and composer text."""

    page: Page
    target: str | None = None  # thread id (THREAD) or post id (COMMENTS)
    scroll: int = 0  # from the top; THREAD counts from the bottom (0: newest in view)
    draft: str = ""
    reply_to: str | None = None  # COMMENTS: the comment the next send replies to


@dataclass
class LoginForm:
    username: str = ""
    password: str = ""
    error: bool = False


@dataclass
class AppState:
    running: bool = False
    token: str | None = None
    stack: list[Screen] = field(default_factory=lambda: [Screen(Page.INBOX)])
    login: LoginForm = field(default_factory=LoginForm)
    code: str = ""  # typed into the challenge
    code_error: bool = False
    dialogs: list[DialogKind] = field(default_factory=list)  # raised, last on top
    focus: str | None = None  # the focused field (see ``fields``)

    @property
    def top(self) -> Screen:
        return self.stack[-1]

    def open(self, screen: Screen) -> None:
        self.stack.append(screen)
        self.focus = None

    def set_root(self, page: Page) -> None:
        self.stack = [Screen(page)]
        self.focus = None

    def back(self) -> bool:
        """Leave the top page; False when there is nothing left to leave (the app goes to the
        background). Back on the Posts tab goes to the Inbox tab, as in tabbed apps."""
        self.focus = None
        if len(self.stack) > 1:
            self.stack.pop()
            return True
        if self.top.page is Page.POSTS:
            self.set_root(Page.INBOX)
            return True
        return False

    def stop(self) -> None:
        """The process is killed: everything but the stored session is forgotten."""
        self.running = False
        self.stack = [Screen(Page.INBOX)]
        self.login = LoginForm()
        self.code, self.code_error = "", False
        self.dialogs = []
        self.focus = None

    def prune(self, valid: Callable[[Screen], bool]) -> None:
        """Drop pages whose thread or post is gone (or belongs to another account)."""
        kept = [s for s in self.stack if valid(s)]
        if len(kept) != len(self.stack):
            self.stack = kept or [Screen(Page.INBOX)]
            self.focus = None


def resolve(state: SandboxState, app: AppState) -> tuple[Shown, Account | None, str]:
    """What the app shows, the account whose content it shows, and the fault in force —
    the device's counterpart of the web app's ``resolve``."""
    acc = state.session_account(app.token)
    if acc is None:
        return Shown.LOGIN, None, "none"
    fault = acc.fault
    if fault == "session_expired":
        return Shown.LOGIN, None, fault
    if fault == "challenge":
        return Shown.CHALLENGE, acc, fault
    if fault == "server_error":
        return Shown.ERROR, acc, fault
    if fault == "never_loads":
        return Shown.LOADING, acc, fault
    if fault == "wrong_account":
        return Shown.CONTENT, state.impostor_of(acc.name), fault
    return Shown.CONTENT, acc, fault


def parse_link(url: str) -> list[Screen] | None:
    """The back stack a deep link opens, or None when the app does not handle it:
    ``sandbox://inbox``, ``sandbox://inbox/{thread_id}``, ``sandbox://posts``,
    ``sandbox://posts/{post_id}`` (the post's comment sheet)."""
    parts = urlsplit(url.strip())
    if parts.scheme != LINK_SCHEME:
        return None
    path = [p for p in parts.path.split("/") if p]
    host, rest = parts.netloc, path
    if host == "inbox" and not rest:
        return [Screen(Page.INBOX)]
    if host == "inbox" and len(rest) == 1:
        return [Screen(Page.INBOX), Screen(Page.THREAD, rest[0])]
    if host == "posts" and not rest:
        return [Screen(Page.POSTS)]
    if host == "posts" and len(rest) == 1:
        return [Screen(Page.POSTS), Screen(Page.COMMENTS, rest[0])]
    return None
