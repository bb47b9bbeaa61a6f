"""One simulated Android device: what is installed, what is in front, and the verbs.

Every verb first lays the screen out afresh from the shared state (``layout.build_frame``)
and acts on that: a tap hits the topmost clickable view at the point and carries out its
action, a swipe scrolls the list under its start point by the swipe's distance, text goes to
the focused input. So what a verb does always agrees with the dump and the image a caller
would get at that moment. One lock per device makes its verbs one at a time.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sandbox.device import layout
from sandbox.device.draw import render_png
from sandbox.device.lists import clamp
from sandbox.device.nodes import (
    APP_PACKAGE,
    LAUNCHER_PACKAGE,
    PERMISSION_PACKAGE,
    Act,
    Action,
    Frame,
    Node,
)
from sandbox.device.ocr import ocr_rows
from sandbox.device.screens import (
    ACTIVITY,
    AppState,
    DialogKind,
    LoginForm,
    Page,
    Screen,
    Shown,
    parse_link,
    resolve,
)
from sandbox.device.tree import hierarchy_xml
from sandbox.device.widgets import HEIGHT, WIDTH
from sandbox.errors import SandboxError
from sandbox.state import CHALLENGE_CODE, SandboxState

APP_VERSION = "3.2.0"
MODEL = "Sandbox Phone"
ANDROID_RELEASE = "14"
SYSTEM_VERSIONS = {LAUNCHER_PACKAGE: "14", PERMISSION_PACKAGE: "34"}


class DeviceError(SandboxError):
    """A verb the device refuses (a package that is not installed, a link nothing opens)."""


@dataclass
class Foreground:
    package: str
    activity: str


class Device:
    """A sandbox device; starts at the launcher with the app installed and signed out."""

    def __init__(self, serial: str, state: SandboxState, *, app_version: str | None = APP_VERSION):
        self.serial = serial
        self.state = state
        self.lock = threading.RLock()
        self.app_version = app_version
        self.app_in_front = False
        self.app = AppState()

    # -- reading the screen ----------------------------------------------------------------

    def render(self) -> Frame:
        with self.lock:
            if self.app_in_front:
                self._settle()
            frame = layout.build_frame(
                self.state,
                self.app,
                app_in_front=self.app_in_front,
                installed=self.app_version is not None,
            )
            return frame

    def _settle(self) -> None:
        """Make the app's stack fit the state: pages whose thread or post is gone are closed,
        and an open DM thread is marked read (as viewing it on the web does)."""
        shown, acc, _ = resolve(self.state, self.app)
        if shown is not Shown.CONTENT or acc is None:
            return
        with self.state.lock:

            def valid(s: Screen) -> bool:
                if s.page is Page.THREAD:
                    return self.state.thread(acc.name, s.target or "") is not None
                if s.page is Page.COMMENTS:
                    return self.state.post(acc.name, s.target or "") is not None
                return True

            self.app.prune(valid)
            if self.app.top.page is Page.THREAD:
                thread = self.state.thread(acc.name, self.app.top.target or "")
                if thread is not None:
                    self.state.mark_read(thread)

    def dump(self) -> str:
        return hierarchy_xml(self.render())

    def screenshot(self) -> bytes:
        return render_png(self.render())

    def ocr(self) -> list[dict[str, Any]]:
        return ocr_rows(self.render())

    def foreground(self) -> Foreground:
        top = self.render().top
        return Foreground(top.package, top.activity)

    def packages(self) -> dict[str, str]:
        installed = dict(SYSTEM_VERSIONS)
        if self.app_version is not None:
            installed[APP_PACKAGE] = self.app_version
        return installed

    def info(self) -> dict[str, Any]:
        fg = self.foreground()
        return {
            "serial": self.serial,
            "state": "device",
            "screen_on": True,
            "locked": False,
            "model": MODEL,
            "android": ANDROID_RELEASE,
            "window_size": [WIDTH, HEIGHT],
            "foreground": {"package": fg.package, "activity": fg.activity},
            "packages": self.packages(),
        }

    # -- fingers ---------------------------------------------------------------------------

    def tap(self, x: int, y: int) -> None:
        with self.lock:
            node = self.render().top.hit(x, y)
            if node is not None and node.action is not None:
                self._do(node.action)

    def type_text(self, text: str) -> bool:
        """Append ``text`` to the focused input; False when no input has focus."""
        with self.lock:
            field = self._focused_field()
            if field is None:
                return False
            self._set_field(field, self._get_field(field) + text)
            return True

    def clear_text(self) -> bool:
        with self.lock:
            field = self._focused_field()
            if field is None:
                return False
            self._set_field(field, "")
            return True

    def swipe(self, x1: int, y1: int, x2: int, y2: int) -> None:
        """Scroll the list under (x1, y1) by the finger's vertical travel (no fling)."""
        with self.lock:
            node = self.render().top.scroller_at(x1, y1)
            if node is None or node.scroll is None:
                return
            info = node.scroll
            offset = clamp(info.offset + (y1 - y2), 0, info.max_offset)
            self.app.top.scroll = info.max_offset - offset if info.from_end else offset

    def back(self) -> None:
        with self.lock:
            if not self.app_in_front:
                return
            if self.app.dialogs:
                self.app.dialogs.pop()
                return
            frame = self.render()
            if len(frame.windows) > 1:  # the rate_limited notice: not cancelable
                return
            if not self.app.back():
                self.app_in_front = False

    # -- apps and intents ------------------------------------------------------------------

    def app_start(self, package: str, activity: str | None = None) -> None:
        with self.lock:
            if package == LAUNCHER_PACKAGE:
                self.app_in_front = False
                return
            if package != APP_PACKAGE or self.app_version is None:
                raise DeviceError(f"package {package!r} is not installed on {self.serial}")
            page = _page_of(activity)
            if activity is not None and page is None:
                raise DeviceError(f"no activity {activity!r} in {package}")
            self._launch()
            if page is not None:
                self.app.set_root(page)

    def app_stop(self, package: str) -> None:
        with self.lock:
            if package == APP_PACKAGE:
                self.app.stop()
                self.app_in_front = False

    def open_url(self, url: str) -> None:
        with self.lock:
            stack = parse_link(url)
            if stack is None or self.app_version is None:
                raise DeviceError(f"no app on {self.serial} opens {url!r}")
            self._launch()
            self.app.stack = stack
            self.app.focus = None

    def _launch(self) -> None:
        if not self.app.running:
            self.app.stop()
            self.app.running = True
        self.app_in_front = True

    # -- admin -----------------------------------------------------------------------------

    def set_app_version(self, version: str | None) -> None:
        """Install ``version`` (None: uninstall). Installing stops the app; uninstalling also
        forgets its session."""
        with self.lock:
            self.app.stop()
            self.app_in_front = False
            self.app_version = version
            if version is None:
                self.app.token = None

    def raise_dialog(self, kind: DialogKind) -> None:
        """Show ``kind`` over the app now (or when it next comes to the front)."""
        with self.lock:
            self.app.dialogs.append(kind)

    def describe(self) -> dict[str, Any]:
        """What the device shows, for tests and ``GET /admin/devices/{serial}``."""
        with self.lock:
            frame = self.render()
            shown = resolve(self.state, self.app)[0] if self.app_in_front else None
            return {
                **self.info(),
                "app_running": self.app.running,
                "signed_in": self.state.session_account(self.app.token) is not None,
                "shows": shown.value if shown else "launcher",
                "stack": [{"page": s.page.value, "target": s.target} for s in self.app.stack],
                "dialogs": [d.value for d in self.app.dialogs],
                "windows": [w.package for w in frame.windows],
            }

    # -- what taps do ----------------------------------------------------------------------

    def _do(self, action: Action) -> None:
        kind, arg = action.kind, action.arg
        app = self.app
        if kind is Act.LAUNCH_APP:
            self._launch()
        elif kind is Act.FOCUS:
            app.focus = arg
        elif kind is Act.LOGIN:
            self._login()
        elif kind is Act.CHALLENGE:
            self._challenge()
        elif kind is Act.TAB_INBOX:
            app.set_root(Page.INBOX)
        elif kind is Act.TAB_POSTS:
            app.set_root(Page.POSTS)
        elif kind is Act.NAV_UP:
            app.back()
        elif kind is Act.OPEN_THREAD:
            app.open(Screen(Page.THREAD, arg))
        elif kind is Act.OPEN_COMMENTS:
            app.open(Screen(Page.COMMENTS, arg))
        elif kind is Act.REPLY_TO:
            app.top.reply_to = arg
            app.focus = "comment"
        elif kind is Act.CANCEL_REPLY:
            app.top.reply_to = None
        elif kind in (Act.SEND_DM, Act.SEND_COMMENT):
            self._send(kind)
        elif kind is Act.CLOSE_DIALOG and arg != "stay" and app.dialogs:
            app.dialogs.pop()
        # Act.RETRY: the next render asks the platform again.

    def _login(self) -> None:
        form = self.app.login
        token = self.state.login(form.username.strip(), form.password)
        if token is None:
            form.error = True
            return
        self.app.token = token
        self.app.login = LoginForm()
        self.app.focus = None

    def _challenge(self) -> None:
        acc = self.state.session_account(self.app.token)
        if acc is None:
            return
        if acc.fault == "challenge" and self.app.code.strip() == CHALLENGE_CODE:
            self.state.set_fault(acc.name, "none")
            self.app.code, self.app.code_error = "", False
            self.app.focus = None
        else:
            self.app.code_error = True

    def _send(self, kind: Act) -> None:
        shown, acc, fault = resolve(self.state, self.app)
        screen = self.app.top
        if shown is not Shown.CONTENT or acc is None or fault == "rate_limited":
            return
        if not screen.draft.strip() or screen.target is None:
            return
        if kind is Act.SEND_DM:
            self.state.record_reply(acc.name, "dm", screen.target, screen.draft, None)
            screen.scroll = 0
        else:
            parent = self.state.messages.get(screen.reply_to or "")
            # A reply target deleted meanwhile is not shown any more: the text goes top-level.
            target = parent.id if parent and parent.container_id == screen.target else None
            self.state.record_reply(acc.name, "comment", screen.target, screen.draft, target)
            screen.reply_to = None
            screen.scroll = 0
        screen.draft = ""

    # -- text fields -----------------------------------------------------------------------

    def _focused_field(self) -> str | None:
        node: Node | None = self.render().top.focused()
        if node is None or node.action is None or node.action.kind is not Act.FOCUS:
            return None
        return node.action.arg

    def _get_field(self, field: str) -> str:
        app = self.app
        if field == "username":
            return app.login.username
        if field == "password":
            return app.login.password
        if field == "code":
            return app.code
        return app.top.draft

    def _set_field(self, field: str, value: str) -> None:
        app = self.app
        if field == "username":
            app.login.username = value
        elif field == "password":
            app.login.password = value
        elif field == "code":
            app.code = value
        else:
            app.top.draft = value


def _page_of(activity: str | None) -> Page | None:
    if activity is None:
        return None
    short = activity.removeprefix(APP_PACKAGE)
    return next((p for p, name in ACTIVITY.items() if name == short), None)
