"""The uiautomator hierarchy XML of a rendered screen.

The dump is the top window's tree, as ``uiautomator dump`` writes it for the active window:
``<hierarchy rotation="0">`` then nested ``<node>``\\ s with the attribute set of real dumps,
in their order. Views wholly scrolled out of sight are not written. Characters XML cannot
hold are written as ``.``, as Android's dumper does; everything else is kept as the
platform stores it.
"""

from __future__ import annotations

import re

from lxml import etree

from sandbox.device.nodes import Frame, Node

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufdd0-\ufddf\ufffe\uffff]")


def _safe(value: str) -> str:
    return _NOT_XML.sub(".", value)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _element(node: Node, index: int) -> etree._Element | None:
    box = node.bounds
    if box is None:
        return None
    el = etree.Element("node")
    for key, value in (
        ("index", str(index)),
        ("text", _safe(node.text)),
        ("resource-id", node.rid),
        ("class", node.cls),
        ("package", node.package),
        ("content-desc", _safe(node.desc)),
        ("checkable", "false"),
        ("checked", "false"),
        ("clickable", _flag(node.clickable)),
        ("enabled", _flag(node.enabled)),
        ("focusable", _flag(node.focusable)),
        ("focused", _flag(node.focused)),
        ("scrollable", _flag(node.scrollable)),
        ("long-clickable", _flag(node.long_clickable)),
        ("password", _flag(node.password)),
        ("selected", _flag(node.selected)),
        ("bounds", box.attr()),
    ):
        el.set(key, value)
    i = 0
    for child in node.children:
        sub = _element(child, i)
        if sub is not None:
            el.append(sub)
            i += 1
    return el


def hierarchy_xml(frame: Frame) -> str:
    root = etree.Element("hierarchy", rotation="0")
    top = _element(frame.top.root, 0)
    if top is not None:
        root.append(top)
    body = etree.tostring(root, encoding="unicode")
    return "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>" + body
