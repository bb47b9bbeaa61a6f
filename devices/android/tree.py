"""The screen tree: a uiautomator hierarchy dump, parsed, normalised and searched.

Every backend's dump becomes one form: ``<hierarchy>`` with nested ``<node>``
elements carrying ``class``, ``resource-id``, ``text``, ``content-desc``,
``bounds`` and the flags. Appium's page source names each element by its class
(``<android.widget.TextView …>``); such elements are renamed to ``node`` with
their tag as ``class``, so one XPath works on every backend.

Selectors are matched here, on the client, for every backend alike:
``resource_id`` (the full ``pkg:id/name`` or the short ``name``), ``text`` and
``content_desc`` (substring, or equal with ``exact``), ``class_name`` (the full
class or its last part) and ``xpath`` (XPath 1.0 over the ``node`` tree).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from devices.errors import DriverError, SelectorInvalid
from devices.selectors import Locator, Selector

Box = tuple[float, float, float, float]
_BOUNDS = re.compile(r"\[(-?\d+),(-?\d+)\]\[(-?\d+),(-?\d+)\]")
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True
)


def bounds_of(node: etree._Element) -> Box | None:
    """The node's box (x, y, width, height) in screen pixels; None without bounds."""
    found = _BOUNDS.fullmatch((node.get("bounds") or "").strip())
    if found is None:
        x, y, w, h = (node.get(k) for k in ("x", "y", "width", "height"))
        if None in (x, y, w, h):
            return None
        try:
            return float(x or 0), float(y or 0), float(w or 0), float(h or 0)
        except ValueError:
            return None
    x1, y1, x2, y2 = (float(v) for v in found.groups())
    return x1, y1, max(0.0, x2 - x1), max(0.0, y2 - y1)


def has_area(box: Box | None) -> bool:
    return box is not None and box[2] > 0 and box[3] > 0


@dataclass
class Screen:
    """One parsed dump: its root, the nodes in document order, and the screen size."""

    xml: str
    root: etree._Element
    _found: dict[tuple[str, str, bool], list[etree._Element]] = field(default_factory=dict)
    _order: dict[int, int] | None = None
    _held: list[etree._Element] = field(default_factory=list)

    @classmethod
    def parse(cls, xml: str) -> Screen:
        try:
            root = etree.fromstring(xml.encode("utf-8"), _PARSER)
        except etree.XMLSyntaxError as exc:
            raise DriverError(f"the device's screen tree is not XML: {exc}") from exc
        _normalise(root)
        return cls(xml, root)

    def everywhere(self, selector: Selector, index: int) -> list[etree._Element]:
        """What alternative ``index`` matches on the whole screen (searched once a screen)."""
        loc = selector.alternatives[index]  # by what it matches: selectors are rebuilt often
        key = (loc.kind, loc.value, loc.exact)
        if key not in self._found:
            self._found[key] = find_all(self.root, selector, index)
        return self._found[key]

    def position(self, node: etree._Element) -> int:
        """The node's place in document order."""
        if self._order is None:
            # lxml makes a new proxy for an element nobody holds: keep them all, so their
            # ids stay theirs while the screen lives.
            self._held = list(self.root.iter())
            self._order = {id(n): i for i, n in enumerate(self._held)}
        return self._order[id(node)]

    @property
    def nodes(self) -> list[etree._Element]:
        return [n for n in self.root.iter("node")]

    def size(self) -> tuple[int, int] | None:
        """The screen size: the widest root node's box."""
        best: Box | None = None
        for node in self.root.iterchildren("node"):
            box = bounds_of(node)
            if has_area(box) and (best is None or box[2] * box[3] > best[2] * best[3]):  # type: ignore[index]
                best = box
        if best is None:
            return None
        return int(best[0] + best[2]), int(best[1] + best[3])

    def packages(self) -> dict[str, float]:
        """Each package on screen and the largest area one of its views covers (the app, a
        dialog over it, a launcher strip, the system bars)."""
        out: dict[str, float] = {}
        for node in self.root.iter("node"):
            pkg = node.get("package") or ""
            box = bounds_of(node)
            if pkg:
                area = box[2] * box[3] if box is not None else 0.0
                out[pkg] = max(out.get(pkg, 0.0), area)
        return out

    def signature(self) -> tuple[tuple[str, ...], ...]:
        """What the screen shows, for telling whether a scroll moved anything."""
        return tuple(
            (
                n.get("resource-id") or "",
                n.get("text") or "",
                n.get("content-desc") or "",
                n.get("bounds") or "",
            )
            for n in self.nodes
        )


def _normalise(root: etree._Element) -> None:
    """Appium's class-named elements become ``node`` elements with a ``class``."""
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el is root:
            el.tag = "hierarchy"
            continue
        if el.tag != "node":
            if not el.get("class"):
                el.set("class", el.tag)
            el.tag = "node"


def text_of(node: etree._Element) -> str:
    """The node's text, or its descendants' texts joined with spaces (a row's labels)."""
    own = node.get("text") or ""
    if own.strip():
        return own
    parts = [(n.get("text") or "").strip() for n in node.iter("node") if n is not node]
    return " ".join(p for p in parts if p)


def _attr_hit(value: str, loc: Locator) -> bool:
    return value == loc.value if loc.exact else bool(value) and loc.value in value


def _resource_hit(value: str, wanted: str) -> bool:
    if ":id/" in wanted or "/" in wanted:
        return value == wanted
    return value == wanted or value.endswith(f":id/{wanted}")


def _class_hit(value: str, wanted: str) -> bool:
    return value == wanted or ("." not in wanted and value.rsplit(".", 1)[-1] == wanted)


def find_all(
    scope: etree._Element,
    selector: Selector,
    index: int,
    *,
    include_self: bool = False,
) -> list[etree._Element]:
    """The elements alternative ``index`` of ``selector`` matches inside ``scope``."""
    loc = selector.alternatives[index]
    candidates = list(scope.iter("node"))
    if not include_self and candidates and candidates[0] is scope:
        candidates = candidates[1:]
    kind = loc.kind
    if kind == "resource_id":
        return [n for n in candidates if _resource_hit(n.get("resource-id") or "", loc.value)]
    if kind == "content_desc":
        return [n for n in candidates if _attr_hit(n.get("content-desc") or "", loc)]
    if kind == "text":
        return [n for n in candidates if _attr_hit(n.get("text") or "", loc)]
    if kind == "class_name":
        return [n for n in candidates if _class_hit(n.get("class") or "", loc.value)]
    if kind == "xpath":
        return _xpath(scope, selector, index, include_self)
    raise SelectorInvalid(
        f"selector {selector.name!r} alternative {index + 1} ({loc.describe()}): "
        f"{kind} does not work on an Android screen"
    )


def _xpath(
    scope: etree._Element, selector: Selector, index: int, include_self: bool
) -> list[etree._Element]:
    loc = selector.alternatives[index]
    try:
        found = scope.xpath(loc.value)
    except etree.XPathError as exc:
        raise SelectorInvalid(
            f"selector {selector.name!r} alternative {index + 1} ({loc.describe()}) "
            f"is not valid XPath: {exc}"
        ) from exc
    if not isinstance(found, list) or any(not isinstance(n, etree._Element) for n in found):
        raise SelectorInvalid(
            f"selector {selector.name!r} alternative {index + 1} ({loc.describe()}) "
            "must select elements, not a value"
        )
    is_root = scope.getparent() is None
    inside = {id(n) for n in scope.iter("node")} if not is_root else None
    out = []
    for n in found:
        if inside is not None and id(n) not in inside:
            continue
        if n is scope and not include_self:
            continue
        if n.tag == "node":
            out.append(n)
    return out


def first_match(
    scope: etree._Element, selector: Selector, *, include_self: bool = False
) -> tuple[int, list[etree._Element]] | None:
    """The first alternative that matches anything, and what it matched."""
    for index in range(len(selector.alternatives)):
        found = find_all(scope, selector, index, include_self=include_self)
        if found:
            return index, found
    return None
