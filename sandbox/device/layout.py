"""Lay out what the device shows now: the launcher, or the app's window and its dialogs.

``build_frame`` reads the state (under its lock) and the app's screen model and returns the
windows, bottom to top. Faults are applied here exactly where the web app applies them
(``screens.resolve``): a login screen, the challenge, an error or loading screen in place of
the page, the impostor's content, or the "Try Again Later" notice over every page.
"""

from __future__ import annotations

from sandbox.device import dialogs, feeds, forms
from sandbox.device import text as tx
from sandbox.device.lists import virtual_list
from sandbox.device.nodes import (
    APP_PACKAGE,
    FRAME_LAYOUT,
    LAUNCHER_PACKAGE,
    LINEAR_LAYOUT,
    TEXT_VIEW,
    Act,
    Action,
    Decor,
    Frame,
    Ink,
    Node,
    Rect,
    Window,
    app_id,
)
from sandbox.device.screens import (
    ACTIVITY,
    CHALLENGE_ACTIVITY,
    LAUNCHER_ACTIVITY,
    LOGIN_ACTIVITY,
    AppState,
    Page,
    Screen,
    Shown,
    resolve,
)
from sandbox.device.widgets import (
    ACCENT,
    CONTENT,
    HEIGHT,
    MUTED,
    SUNKEN,
    SURFACE,
    WIDTH,
    edit_text,
    icon_button,
    label,
    tab_bar,
    toolbar,
)
from sandbox.state import Account, SandboxState

APP_LABEL = "Sandbox Social"
COMPOSER_TOP = 1104
REPLYING_TOP = 1048
INPUT = Rect(24, 1120, 600, 1216)


def build_frame(
    state: SandboxState, app: AppState, *, app_in_front: bool, installed: bool
) -> Frame:
    with state.lock:
        if not app_in_front:
            return Frame([launcher(installed=installed)])
        shown, acc, fault = resolve(state, app)
        base = _app_window(state, app, shown, acc, fault)
        windows = [base]
        if shown is Shown.CONTENT and fault == "rate_limited":
            windows.append(dialogs.rate_limit(base.activity, dismissable=False))
        windows.extend(dialogs.window_for(k, base.activity, APP_LABEL) for k in app.dialogs)
        if fault == "changed_dom":
            _rename_ids(base.root)
        return Frame(windows)


def launcher(*, installed: bool) -> Window:
    root = Node(FRAME_LAYOUT, Rect(0, 0, WIDTH, HEIGHT), package=LAUNCHER_PACKAGE, fill="#33415c")
    workspace = Node(
        FRAME_LAYOUT, CONTENT, rid=app_id("workspace", LAUNCHER_PACKAGE), package=LAUNCHER_PACKAGE
    )
    root.add(workspace)
    if installed:
        cell = Rect(16, 160, 224, 352)
        icon = Rect(cell.left + 56, cell.top + 16, cell.right - 56, cell.top + 112)
        lh = tx.line_height(22)
        words = tx.ellipsize(APP_LABEL, 22, cell.width)
        x = cell.left + (cell.width - tx.width(words, 22)) // 2
        workspace.add(
            Node(
                TEXT_VIEW,
                cell,
                text=APP_LABEL,
                desc=APP_LABEL,
                package=LAUNCHER_PACKAGE,
                clickable=True,
                long_clickable=True,
                focusable=True,
                action=Action(Act.LAUNCH_APP),
                decor=(Decor(icon, ACCENT, 24),),
                ink=Ink((words,), x, icon.bottom + 16, 22, lh, SURFACE),
            )
        )
    return Window(root, package=LAUNCHER_PACKAGE, activity=LAUNCHER_ACTIVITY)


def _app_window(
    state: SandboxState, app: AppState, shown: Shown, acc: Account | None, fault: str
) -> Window:
    root = Node(FRAME_LAYOUT, Rect(0, 0, WIDTH, HEIGHT), fill=SURFACE)
    content = Node(FRAME_LAYOUT, CONTENT, rid="android:id/content")
    root.add(content)
    if shown is Shown.LOGIN or acc is None:
        content.add(*forms.login(app, APP_LABEL, expired=fault == "session_expired"))
        return Window(root, APP_PACKAGE, LOGIN_ACTIVITY)
    if shown is Shown.CHALLENGE:
        content.add(*forms.challenge(app, acc))
        return Window(root, APP_PACKAGE, CHALLENGE_ACTIVITY)
    screen = app.top
    content.add(*_chrome(state, screen, acc))
    if shown is Shown.ERROR:
        content.add(forms.error())
    elif shown is Shown.LOADING:
        content.add(forms.spinner())
    else:
        content.add(*_page(state, app, screen, acc))
    return Window(root, APP_PACKAGE, ACTIVITY[screen.page])


def _chrome(state: SandboxState, screen: Screen, acc: Account) -> list[Node]:
    if screen.page is Page.INBOX:
        return [toolbar("Messages", acc.handle, up=False), tab_bar("tab_inbox")]
    if screen.page is Page.POSTS:
        return [toolbar("Posts", acc.handle, up=False), tab_bar("tab_posts")]
    if screen.page is Page.THREAD:
        thread = state.thread(acc.name, screen.target or "")
        return [toolbar(thread.participant if thread else "", acc.handle, up=True)]
    return [toolbar("Comments", acc.handle, up=True)]


def _page(state: SandboxState, app: AppState, screen: Screen, acc: Account) -> list[Node]:
    lists = Rect(0, 240, WIDTH, CONTENT.bottom)
    if screen.page is Page.INBOX:
        rows = feeds.thread_rows(state.threads_of(acc.name)) or [
            feeds.empty_row("No messages yet.")
        ]
        return [virtual_list(app_id("thread_list"), lists, rows, screen.scroll)]
    if screen.page is Page.POSTS:
        posts = [(p, len(p.comment_ids)) for p in state.posts_of(acc.name)]
        rows = feeds.post_rows(posts) or [feeds.empty_row("No posts yet.")]
        return [virtual_list(app_id("post_list"), lists, rows, screen.scroll)]
    if screen.page is Page.THREAD:
        return _thread(state, app, screen, acc)
    return _comments(state, app, screen, acc)


def _thread(state: SandboxState, app: AppState, screen: Screen, acc: Account) -> list[Node]:
    thread = state.thread(acc.name, screen.target or "")
    msgs = list(reversed(state.thread_messages(thread))) if thread else []
    rows = feeds.message_rows(msgs) or [feeds.empty_row("No messages yet.")]
    viewport = Rect(0, 160, WIDTH, COMPOSER_TOP)
    chat = virtual_list(app_id("message_list"), viewport, rows, screen.scroll, from_end=True)
    bar = Node(
        LINEAR_LAYOUT,
        Rect(0, COMPOSER_TOP, WIDTH, CONTENT.bottom),
        rid=app_id("composer"),
        fill=SUNKEN,
    )
    bar.add(
        edit_text(
            "composer_input",
            "dm",
            screen.draft,
            "Message",
            Rect(24, 1120, 600, 1216),
            focused=app.focus == "dm",
        ),
        icon_button(
            "send_button",
            "\u27a4",
            Rect(616, 1120, 704, 1208),
            Action(Act.SEND_DM),
            "Send",
            fill=ACCENT,
        ),
    )
    return [chat, bar]


def _comments(state: SandboxState, app: AppState, screen: Screen, acc: Account) -> list[Node]:
    post = state.post(acc.name, screen.target or "")
    if post is None:
        return []
    threads = state.comment_threads(post)
    authors = {m.id: m.author for root, kids, _ in threads for m in (root, *kids)}
    target = authors.get(screen.reply_to or "")  # the author being replied to
    rows = [feeds.post_header_row(post, len(post.comment_ids))]
    rows += feeds.comment_rows(threads, authors, screen.reply_to if target else None) or [
        feeds.empty_row("No comments yet.")
    ]
    bottom = REPLYING_TOP if target else COMPOSER_TOP
    sheet = virtual_list(app_id("comment_list"), Rect(0, 160, WIDTH, bottom), rows, screen.scroll)
    return [sheet, *_comment_composer(app, screen, target)]


def _comment_composer(app: AppState, screen: Screen, target: str | None) -> list[Node]:
    """The input under the sheet, with the "Replying to" bar while a reply is set up."""
    out = []
    if target:
        box = Rect(0, REPLYING_TOP, WIDTH, COMPOSER_TOP)
        bar = Node(LINEAR_LAYOUT, box, rid=app_id("replying_to_bar"), fill=SUNKEN)
        words = f"Replying to {target}"
        cancel = Rect(640, REPLYING_TOP, 712, COMPOSER_TOP)
        bar.add(
            label("replying_to", words, 24, REPLYING_TOP + 12, 24, 560, color=MUTED),
            icon_button(
                "replying_to_cancel", "\u2715", cancel, Action(Act.CANCEL_REPLY), "Cancel reply"
            ),
        )
        out.append(bar)
    hint = f"Reply to {target}\u2026" if target else "Add a comment\u2026"
    box = Rect(0, COMPOSER_TOP, WIDTH, CONTENT.bottom)
    composer = Node(LINEAR_LAYOUT, box, rid=app_id("comment_composer"), fill=SUNKEN)
    focused = app.focus == "comment"
    send = Rect(616, 1120, 704, 1208)
    composer.add(
        edit_text("comment_input", "comment", screen.draft, hint, INPUT, focused=focused),
        icon_button("comment_send", "\u27a4", send, Action(Act.SEND_COMMENT), "Post", fill=ACCENT),
    )
    out.append(composer)
    return out


def _rename_ids(root: Node) -> None:
    """``changed_dom`` on the device: the app's own resource-ids renamed, as a redesigned
    app version would ship them (``thread_row`` → ``x2_thread_row``)."""
    prefix = f"{APP_PACKAGE}:id/"
    for node in root.walk():
        if node.rid.startswith(prefix):
            node.rid = prefix + "x2_" + node.rid.removeprefix(prefix)
