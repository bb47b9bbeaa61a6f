"""The dialogs drawn over the app, each its own window as on Android.

In-app dialogs use the framework's AlertDialog ids (``android:id/alertTitle``,
``android:id/message``, ``android:id/button1`` positive, ``android:id/button2`` negative)
inside a panel with the app's own id (``rate_limit_dialog``, ``update_dialog``); the "rate
us" prompt is a custom view (``rating_prompt``) that no pack is written for. The notification
permission prompt belongs to ``com.android.permissioncontroller`` with its Android 13+ ids,
so while it shows, the foreground package is not the app.
"""

from __future__ import annotations

from sandbox.device import text as tx
from sandbox.device.nodes import (
    FRAME_LAYOUT,
    IMAGE_BUTTON,
    IMAGE_VIEW,
    LINEAR_LAYOUT,
    PERMISSION_PACKAGE,
    Act,
    Action,
    Node,
    Rect,
    Window,
    app_id,
)
from sandbox.device.screens import PERMISSION_ACTIVITY, DialogKind
from sandbox.device.widgets import ACCENT, HEIGHT, SURFACE, WIDTH, button, centered_ink, label

RATE_LIMIT_TITLE = "Try Again Later"
RATE_LIMIT_TEXT = (
    "We limit how often you can do certain things on Sandbox Social to protect our "
    "community. Tell us if you think we made a mistake."
)
BOX_LEFT, BOX_RIGHT = 56, WIDTH - 56
PAD = 40


def _android(name: str) -> str:
    return f"android:id/{name}"


def _alert(
    panel_id: str,
    title: str,
    message: str,
    buttons: list[tuple[str, str, str]],
    activity: str,
) -> Window:
    """An AlertDialog: title, message, then buttons (id, label, outcome) right to left."""
    inner = BOX_RIGHT - BOX_LEFT - 2 * PAD
    title_lines = tx.wrap(title, 32, inner, True)
    message_lines = tx.wrap(message, 26, inner)
    height = (
        PAD
        + tx.line_height(32) * len(title_lines)
        + 20
        + tx.line_height(26) * len(message_lines)
        + 32
        + 72
        + 24
    )
    top = (HEIGHT - height) // 2
    box = Rect(BOX_LEFT, top, BOX_RIGHT, top + height)
    panel = Node(LINEAR_LAYOUT, box, rid=app_id(panel_id), fill=SURFACE, radius=28)
    head = label(
        "",
        title,
        BOX_LEFT + PAD,
        top + PAD,
        32,
        inner,
        bold=True,
        wrapped=True,
        package_id=_android("alertTitle"),
    )
    body = label(
        "",
        message,
        BOX_LEFT + PAD,
        head.frame.bottom + 20,
        26,
        inner,
        wrapped=True,
        package_id=_android("message"),
    )
    panel.add(head, body)
    right = BOX_RIGHT - 24
    y = body.frame.bottom + 32
    for rid, words, outcome in buttons:
        wide = tx.width(words, 26, True) + 48
        panel.add(
            button(
                "",
                words,
                Rect(right - wide, y, right, y + 72),
                Action(Act.CLOSE_DIALOG, outcome),
                fill=None,
                color=ACCENT,
                rid=_android(rid),
            )
        )
        right -= wide + 8
    root = Node(FRAME_LAYOUT, box, rid="", children=[panel])
    return Window(root, package=root.package, activity=activity, dialog=True)


def rate_limit(activity: str, *, dismissable: bool) -> Window:
    """The action-block notice (a raised dialog, or the ``rate_limited`` fault, whose notice
    comes straight back: its OK does nothing while the fault lasts)."""
    outcome = "ok" if dismissable else "stay"
    return _alert(
        "rate_limit_dialog",
        RATE_LIMIT_TITLE,
        RATE_LIMIT_TEXT,
        [("button1", "OK", outcome)],
        activity,
    )


def update(activity: str) -> Window:
    return _alert(
        "update_dialog",
        "Update available",
        "A new version of Sandbox Social is available. Update now to keep using the app.",
        [("button1", "Update", "update"), ("button2", "Not now", "later")],
        activity,
    )


def survey(activity: str) -> Window:
    """A "rate us" prompt: custom ids, five stars, no AlertDialog buttons."""
    top = 420
    box = Rect(BOX_LEFT, top, BOX_RIGHT, top + 400)
    inner = box.width - 2 * PAD
    panel = Node(LINEAR_LAYOUT, box, rid=app_id("rating_prompt"), fill=SURFACE, radius=28)
    head = label(
        "rating_title", "Enjoying Sandbox Social?", box.left + PAD, top + PAD, 32, inner, bold=True
    )
    body = label(
        "rating_message",
        "Tap a star to rate us on the Play Store.",
        box.left + PAD,
        head.frame.bottom + 16,
        26,
        inner,
        wrapped=True,
    )
    panel.add(head, body)
    y = body.frame.bottom + 24
    for i in range(5):
        x = box.left + PAD + i * 104
        star = Rect(x, y, x + 88, y + 88)
        panel.add(
            Node(
                IMAGE_BUTTON,
                star,
                rid=app_id("rating_star"),
                desc=f"{i + 1} star" + ("s" if i else ""),
                clickable=True,
                focusable=True,
                action=Action(Act.CLOSE_DIALOG, f"stars{i + 1}"),
                ink=centered_ink("\u2606", star, 56, bold=False, color="#f4b400"),
            )
        )
    later = tx.width("Maybe later", 26, True) + 48
    y += 88 + 16
    panel.add(
        button(
            "rating_later",
            "Maybe later",
            Rect(box.right - 24 - later, y, box.right - 24, y + 72),
            Action(Act.CLOSE_DIALOG, "later"),
            fill=None,
            color=ACCENT,
        )
    )
    box = Rect(box.left, box.top, box.right, y + 72 + 24)
    panel.frame = box
    root = Node(FRAME_LAYOUT, box, children=[panel])
    return Window(root, package=root.package, activity=activity, dialog=True)


def notification_permission(app_label: str) -> Window:
    """Android 13+'s POST_NOTIFICATIONS prompt, drawn by the permission controller."""
    pkg = PERMISSION_PACKAGE

    def pid(name: str) -> str:
        return app_id(name, pkg)

    box = Rect(40, 400, WIDTH - 40, 880)
    inner = box.width - 2 * PAD
    panel = Node(
        LINEAR_LAYOUT, box, rid=pid("grant_dialog"), package=pkg, fill="#f3f1f8", radius=32
    )
    icon_box = Rect(WIDTH // 2 - 32, box.top + 36, WIDTH // 2 + 32, box.top + 100)
    icon = Node(
        IMAGE_VIEW, icon_box, rid=pid("permission_icon"), package=pkg, fill="#6750a4", radius=32
    )
    words = f"Allow {app_label} to send you notifications?"
    message = label(
        "",
        words,
        box.left + PAD,
        icon_box.bottom + 24,
        30,
        inner,
        wrapped=True,
        package_id=pid("permission_message"),
    )
    message.package = pkg
    panel.add(icon, message)
    y = message.frame.bottom + 40
    for name, text, outcome in (
        ("permission_allow_button", "Allow", "allow"),
        ("permission_deny_button", "Don't allow", "deny"),
    ):
        b = button(
            "",
            text,
            Rect(box.left + PAD, y, box.right - PAD, y + 80),
            Action(Act.CLOSE_DIALOG, outcome),
            fill="#dcd6f0",
            color="#21005d",
            rid=pid(name),
        )
        b.package = pkg
        panel.add(b)
        y += 96
    panel.frame = Rect(box.left, box.top, box.right, y + 8)
    root = Node(FRAME_LAYOUT, Rect(0, 0, WIDTH, HEIGHT), package=pkg, children=[panel])
    return Window(root, package=pkg, activity=PERMISSION_ACTIVITY, dialog=True)


def window_for(kind: DialogKind, activity: str, app_label: str) -> Window:
    if kind is DialogKind.RATE_LIMIT:
        return rate_limit(activity, dismissable=True)
    if kind is DialogKind.UPDATE:
        return update(activity)
    if kind is DialogKind.NOTIFICATIONS:
        return notification_permission(app_label)
    return survey(activity)
