"""Virtualised scrolling lists, as a RecyclerView lays them out.

Every row's height is known up front (from the wrapped text), so the list knows its content
height and how far it can scroll; only the rows that intersect the viewport are built, and
every view inside them is clipped to the viewport (a view scrolled wholly out of sight is
not in the tree at all). A chat list (``from_end``) keeps its position counted from the
bottom, so it opens at the newest message and stays there when one arrives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sandbox.device.nodes import RECYCLER_VIEW, Node, Rect, Scroll

PADDING = 12


@dataclass(frozen=True)
class Row:
    height: int
    build: Callable[[int], Node]  # the row's node with its top at this screen y


def clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def virtual_list(
    rid: str, viewport: Rect, rows: list[Row], position: int, *, from_end: bool = False
) -> Node:
    """The list node showing ``rows`` scrolled to ``position`` (from the top, or from the
    bottom when ``from_end``), clamped to what the content allows. The content has
    ``PADDING`` above the first row and below the last, so at either end no row touches
    the list's edge (a row that does is one the list cuts)."""
    total = sum(r.height for r in rows) + 2 * PADDING
    max_offset = max(0, total - viewport.height)
    position = clamp(position, 0, max_offset)
    offset = max_offset - position if from_end else position
    node = Node(
        RECYCLER_VIEW,
        viewport,
        rid=rid,
        focusable=True,
        scrollable=max_offset > 0,
        scroll=Scroll(offset=offset, max_offset=max_offset, from_end=from_end),
    )
    y = viewport.top + PADDING - offset
    for row in rows:
        if y + row.height > viewport.top and y < viewport.bottom:
            built = _clipped(row.build(y), viewport)
            if built is not None:
                node.children.append(built)
        y += row.height
        if y >= viewport.bottom:
            break
    return node


def _clipped(node: Node, viewport: Rect) -> Node | None:
    clip = viewport if node.clip is None else node.clip.intersect(viewport)
    if clip is None or node.frame.intersect(clip) is None:
        return None
    node.clip = clip
    node.children = [c for c in (_clipped(k, clip) for k in node.children) if c is not None]
    return node
