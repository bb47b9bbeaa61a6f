"""The screenshot: every window of a rendered screen painted with Pillow, as a PNG.

Views paint in tree order (fill, outline, decorations, then text), so the image shows what the
dump reports where it reports it. A scrolling list paints its rows on a canvas the size of
its viewport, which clips them as the real list does. A dialog window dims what is below it.
Status and navigation bars are drawn last, with a fixed clock, so the same screen always
gives the same bytes.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from sandbox.device import text as tx
from sandbox.device.nodes import Frame, Node, Rect
from sandbox.device.widgets import HEIGHT, NAV_BAR, STATUS_BAR, WIDTH

SCRIM = 0.45
STATUS_FILL = "#f6f7f9"


def _paint(canvas: Image.Image, node: Node, dx: int, dy: int) -> None:
    pen = ImageDraw.Draw(canvas)
    frame = node.frame
    box = (frame.left - dx, frame.top - dy, frame.right - dx - 1, frame.bottom - dy - 1)
    if node.fill or node.outline:
        width = 3 if node.outline else 0
        if node.radius:
            pen.rounded_rectangle(
                box, node.radius, fill=node.fill, outline=node.outline, width=width
            )
        else:
            pen.rectangle(box, fill=node.fill, outline=node.outline, width=width)
    for decor in node.decor:
        d = decor.box
        shape = (d.left - dx, d.top - dy, d.right - dx - 1, d.bottom - dy - 1)
        if decor.radius:
            pen.rounded_rectangle(shape, decor.radius, fill=decor.color)
        else:
            pen.rectangle(shape, fill=decor.color)
    if node.ink is not None:
        ink = node.ink
        face = tx.font(ink.size, ink.bold)
        for i, line in enumerate(ink.lines):
            y = ink.y - dy + i * ink.line_height
            if line and -ink.line_height < y < canvas.height:  # lines out of view cost time
                pen.text((ink.x - dx, y), line, font=face, fill=ink.color)
    for child in node.children:
        if child.scroll is not None:
            _paint_list(canvas, child, dx, dy)
        else:
            _paint(canvas, child, dx, dy)


def _paint_list(canvas: Image.Image, node: Node, dx: int, dy: int) -> None:
    view: Rect = node.frame
    sheet = canvas.crop((view.left - dx, view.top - dy, view.right - dx, view.bottom - dy))
    for child in node.children:
        _paint(sheet, child, view.left, view.top)
    canvas.paste(sheet, (view.left - dx, view.top - dy))


def _system_bars(canvas: Image.Image) -> None:
    pen = ImageDraw.Draw(canvas)
    pen.rectangle((0, 0, WIDTH - 1, STATUS_BAR - 1), fill=STATUS_FILL)
    pen.text((24, 10), "12:00", font=tx.font(22, True), fill="#1c1e21")
    pen.rounded_rectangle((WIDTH - 64, 16, WIDTH - 24, 34), 4, outline="#1c1e21", width=2)
    pen.rectangle((WIDTH - 60, 20, WIDTH - 36, 30), fill="#1c1e21")
    pen.rectangle((0, HEIGHT - NAV_BAR, WIDTH - 1, HEIGHT - 1), fill=STATUS_FILL)
    mid = WIDTH // 2
    pen.rounded_rectangle((mid - 70, HEIGHT - 28, mid + 70, HEIGHT - 20), 4, fill="#1c1e21")


def render_png(frame: Frame) -> bytes:
    canvas = Image.new("RGB", (WIDTH, HEIGHT), "#ffffff")
    for window in frame.windows:
        if window.dialog:
            canvas = Image.blend(canvas, Image.new("RGB", canvas.size, "#000000"), SCRIM)
        _paint(canvas, window.root, 0, 0)
    _system_bars(canvas)
    out = io.BytesIO()
    canvas.save(out, format="PNG", compress_level=1)
    return out.getvalue()
