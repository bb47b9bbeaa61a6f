"""The screens that stand in for a page: login, the challenge, an error, a spinner.

They show when the app has no session or the account's fault says so (``screens.resolve``),
with the texts the web app shows for the same case.
"""

from __future__ import annotations

from sandbox.device import text as tx
from sandbox.device.nodes import (
    PROGRESS_BAR,
    TEXT_VIEW,
    VIEW_GROUP,
    Act,
    Action,
    Ink,
    Node,
    Rect,
    app_id,
)
from sandbox.device.screens import AppState
from sandbox.device.widgets import (
    ACCENT,
    ALERT,
    CONTENT,
    MUTED,
    NOTICE,
    SUNKEN,
    WIDTH,
    button,
    centered_ink,
    edit_text,
    label,
)
from sandbox.state import CHALLENGE_CODE, Account

FORM_LEFT, FORM_RIGHT = 48, WIDTH - 48
EXPIRED_TEXT = "Your session has expired. Please log in again."
LOGIN_ERROR_TEXT = "Incorrect username or password."
CODE_ERROR_TEXT = "That code didn't work. Try again."


def _notice(name: str, words: str, y: int, fill: str) -> Node:
    inner = FORM_RIGHT - FORM_LEFT - 48
    lines = tx.wrap(words, 26, inner)
    lh = tx.line_height(26)
    box = Rect(FORM_LEFT, y, FORM_RIGHT, y + lh * len(lines) + 32)
    ink = Ink(lines, FORM_LEFT + 24, y + 16, 26, lh)
    return Node(TEXT_VIEW, box, rid=app_id(name), text=words, fill=fill, radius=16, ink=ink)


def login(app: AppState, app_label: str, *, expired: bool) -> list[Node]:
    form = app.login
    title = label(
        "login_title",
        f"Log in to {app_label}",
        FORM_LEFT,
        160,
        36,
        FORM_RIGHT - FORM_LEFT,
        bold=True,
        wrapped=True,
    )
    views = [title]
    y = title.frame.bottom + 32
    for name, words, shown, fill in (
        ("session_expired_notice", EXPIRED_TEXT, expired, NOTICE),
        ("login_error", LOGIN_ERROR_TEXT, form.error, ALERT),
    ):
        if shown:
            views.append(_notice(name, words, y, fill))
            y = views[-1].frame.bottom + 24
    views.append(
        edit_text(
            "login_username",
            "username",
            form.username,
            "Username",
            Rect(FORM_LEFT, y, FORM_RIGHT, y + 96),
            focused=app.focus == "username",
        )
    )
    y += 120
    views.append(
        edit_text(
            "login_password",
            "password",
            form.password,
            "Password",
            Rect(FORM_LEFT, y, FORM_RIGHT, y + 96),
            focused=app.focus == "password",
            password=True,
        )
    )
    y += 128
    views.append(
        button(
            "login_button",
            "Log in",
            Rect(FORM_LEFT, y, FORM_RIGHT, y + 96),
            Action(Act.LOGIN),
            size=28,
        )
    )
    y += 128
    hint = "Practice accounts: acme, globex, initech \u2014 password sandbox."
    views.append(
        label(
            "login_hint", hint, FORM_LEFT, y, 22, FORM_RIGHT - FORM_LEFT, color=MUTED, wrapped=True
        )
    )
    return views


def challenge(app: AppState, acc: Account) -> list[Node]:
    width = FORM_RIGHT - FORM_LEFT
    title = label("challenge_title", "Confirm it's you", FORM_LEFT, 160, 36, width, bold=True)
    words = f"We noticed unusual activity on {acc.handle}. Type the code below to continue."
    message = label(
        "challenge_message", words, FORM_LEFT, title.frame.bottom + 24, 26, width, wrapped=True
    )
    y = message.frame.bottom + 32
    box = Rect(FORM_LEFT, y, FORM_LEFT + 240, y + 88)
    code = Node(
        TEXT_VIEW,
        box,
        rid=app_id("challenge_code"),
        text=CHALLENGE_CODE,
        fill=SUNKEN,
        radius=12,
        ink=centered_ink(CHALLENGE_CODE, box, 44),
    )
    views = [title, message, code]
    y = box.bottom + 32
    if app.code_error:
        views.append(_notice("challenge_error", CODE_ERROR_TEXT, y, ALERT))
        y = views[-1].frame.bottom + 24
    views.append(
        edit_text(
            "challenge_input",
            "code",
            app.code,
            "Code",
            Rect(FORM_LEFT, y, FORM_RIGHT, y + 96),
            focused=app.focus == "code",
        )
    )
    y += 128
    views.append(
        button(
            "challenge_submit",
            "Continue",
            Rect(FORM_LEFT, y, FORM_RIGHT, y + 96),
            Action(Act.CHALLENGE),
            size=28,
        )
    )
    return views


def error() -> Node:
    box = Rect(0, 160, WIDTH, CONTENT.bottom)
    view = Node(VIEW_GROUP, box, rid=app_id("error_view"))
    width = FORM_RIGHT - FORM_LEFT
    title = label("error_title", "Something went wrong", FORM_LEFT, 420, 34, width, bold=True)
    words = "We're having trouble loading this page. Please try again in a few minutes."
    message = label(
        "error_message",
        words,
        FORM_LEFT,
        title.frame.bottom + 20,
        26,
        width,
        color=MUTED,
        wrapped=True,
    )
    y = message.frame.bottom + 40
    retry = button(
        "retry_button", "Try again", Rect(FORM_LEFT, y, FORM_LEFT + 260, y + 88), Action(Act.RETRY)
    )
    return view.add(title, message, retry)


def spinner() -> Node:
    box = Rect(WIDTH // 2 - 40, 600, WIDTH // 2 + 40, 680)
    return Node(PROGRESS_BAR, box, rid=app_id("loading"), desc="Loading", outline=ACCENT, radius=40)
