"""The element tree of one rendered screen: the single source of the dump, the image and taps.

A ``Node`` is one Android view: what uiautomator reports about it (class, resource-id, text,
content-desc, flags, bounds) plus what the sandbox needs to draw it (``fill``, ``ink``) and
what a tap on it does (``action``). ``frame`` is the view's full geometry; a view inside a
scrolled list also has a ``clip`` (the list's viewport), and its reported ``bounds`` are the
part of the frame inside it, as a RecyclerView's children are. A rendered screen is a stack
of ``Window``\\ s (the app, then any dialog above it); the top one is what uiautomator dumps
and what receives taps.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

APP_PACKAGE = "com.sandbox.social"
LAUNCHER_PACKAGE = "com.android.launcher3"
PERMISSION_PACKAGE = "com.android.permissioncontroller"

TEXT_VIEW = "android.widget.TextView"
VIEW = "android.view.View"
VIEW_GROUP = "android.view.ViewGroup"
FRAME_LAYOUT = "android.widget.FrameLayout"
LINEAR_LAYOUT = "android.widget.LinearLayout"
EDIT_TEXT = "android.widget.EditText"
BUTTON = "android.widget.Button"
IMAGE_BUTTON = "android.widget.ImageButton"
IMAGE_VIEW = "android.widget.ImageView"
PROGRESS_BAR = "android.widget.ProgressBar"
RECYCLER_VIEW = "androidx.recyclerview.widget.RecyclerView"


def app_id(name: str, package: str = APP_PACKAGE) -> str:
    """The full resource-id of a view named ``name`` in ``package``."""
    return f"{package}:id/{name}"


class Rect(NamedTuple):
    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def contains(self, x: int, y: int) -> bool:
        return self.left <= x < self.right and self.top <= y < self.bottom

    def intersect(self, other: Rect) -> Rect | None:
        box = Rect(
            max(self.left, other.left),
            max(self.top, other.top),
            min(self.right, other.right),
            min(self.bottom, other.bottom),
        )
        return box if box.left < box.right and box.top < box.bottom else None

    def attr(self) -> str:
        return f"[{self.left},{self.top}][{self.right},{self.bottom}]"


class Act(StrEnum):
    """What a tap on a clickable view does (``session.Device`` carries it out)."""

    LAUNCH_APP = "launch_app"
    FOCUS = "focus"  # arg: the field
    LOGIN = "login"
    CHALLENGE = "challenge"
    RETRY = "retry"
    TAB_INBOX = "tab_inbox"
    TAB_POSTS = "tab_posts"
    NAV_UP = "nav_up"
    OPEN_THREAD = "open_thread"  # arg: thread id
    OPEN_COMMENTS = "open_comments"  # arg: post id
    SEND_DM = "send_dm"
    SEND_COMMENT = "send_comment"
    REPLY_TO = "reply_to"  # arg: comment id
    CANCEL_REPLY = "cancel_reply"
    CLOSE_DIALOG = "close_dialog"  # arg: the button's outcome


@dataclass(frozen=True)
class Action:
    kind: Act
    arg: str | None = None


@dataclass(frozen=True)
class Ink:
    """Text as drawn: wrapped lines from (x, y), one ``line_height`` apart."""

    lines: tuple[str, ...]
    x: int
    y: int
    size: int
    line_height: int
    color: str = "#1c1e21"
    bold: bool = False


class Decor(NamedTuple):
    """A filled shape a view draws that is no view of its own (a divider, an icon)."""

    box: Rect
    color: str
    radius: int = 0


@dataclass(frozen=True)
class OcrTruth:
    """What an OCR-only view really says (for tests; never in the dump)."""

    kind: str  # "dm" or "comment"
    message_id: str
    text: str


@dataclass(frozen=True)
class Scroll:
    """A scrolled list's position: ``offset`` from the top, at most ``max_offset``;
    ``from_end`` lists (chats) keep their position counted from the bottom."""

    offset: int
    max_offset: int
    from_end: bool = False


@dataclass(eq=False)
class Node:
    cls: str
    frame: Rect
    rid: str = ""
    text: str = ""
    desc: str = ""
    package: str = APP_PACKAGE
    clickable: bool = False
    long_clickable: bool = False
    focusable: bool = False
    focused: bool = False
    scrollable: bool = False
    selected: bool = False
    password: bool = False
    enabled: bool = True
    action: Action | None = None
    fill: str | None = None
    outline: str | None = None
    decor: tuple[Decor, ...] = ()  # drawn only: dividers, indicators, icons
    radius: int = 0
    ink: Ink | None = None
    ocr: OcrTruth | None = None
    scroll: Scroll | None = None
    clip: Rect | None = None
    children: list[Node] = field(default_factory=list)

    @property
    def bounds(self) -> Rect | None:
        """The visible part of the frame (None when it is scrolled out of sight)."""
        return self.frame if self.clip is None else self.frame.intersect(self.clip)

    def add(self, *children: Node | None) -> Node:
        self.children.extend(c for c in children if c is not None)
        return self

    def walk(self) -> Iterator[Node]:
        """This node and every descendant, in drawing order (later ones are on top)."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class Window:
    """One window on screen: the app's activity, a dialog, or the permission prompt."""

    root: Node
    package: str
    activity: str
    dialog: bool = False  # drawn over a dimmed screen; taps outside it do nothing

    def hit(self, x: int, y: int) -> Node | None:
        """The topmost clickable view at (x, y)."""
        found = None
        for node in self.root.walk():
            box = node.bounds
            if node.clickable and node.enabled and box is not None and box.contains(x, y):
                found = node
        return found

    def scroller_at(self, x: int, y: int) -> Node | None:
        """The topmost scrollable list at (x, y)."""
        found = None
        for node in self.root.walk():
            box = node.bounds
            if node.scroll is not None and box is not None and box.contains(x, y):
                found = node
        return found

    def focused(self) -> Node | None:
        return next((n for n in self.root.walk() if n.focused), None)


@dataclass
class Frame:
    """A rendered screen: windows bottom to top."""

    windows: list[Window]

    @property
    def top(self) -> Window:
        return self.windows[-1]
