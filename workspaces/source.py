"""Read YAML while remembering where every key and value came from.

PyYAML's composer gives nodes with marks; we build plain Python data from the
node tree ourselves and record, for every path of keys and indexes, the line
and column of the key (for mappings) and of the value. Validation errors are
then reported at the exact line of the offending key, even for unknown keys.

Only plain data is produced: no tags, no anchors into Python objects (the safe
loader's composer refuses arbitrary tags), so a hostile file cannot run code.

A hostile file cannot exhaust memory or time either: a file over ``MAX_FILE_BYTES`` is
refused after reading at most that many bytes; the composer refuses nesting deeper than
``MAX_DEPTH``, more than ``MAX_NODES`` nodes, and aliases that would expand to more than
``MAX_ALIAS_NODES`` nodes (a "billion laughs" file) or that refer to the node they are in.
Each is one ``ConfigProblem`` at the line where the limit was crossed, found while the
file is composed (before any alias is expanded).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from workspaces.errors import ConfigProblem

Loc = tuple[str | int, ...]
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 64  # nested mappings and sequences
MAX_NODES = 100_000  # nodes written in one file (the largest built-in file has ~400)
MAX_ALIAS_NODES = 10_000  # nodes that aliases may add when they are expanded


@dataclass
class Document:
    """A YAML file's data plus where each path was written (1-based line, column)."""

    path: Path
    data: Any
    value_marks: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Loc, tuple[int, int]] = field(default_factory=dict)

    def mark(self, loc: Loc, *, prefer_key: bool = True) -> tuple[int, int]:
        """The position of the deepest part of ``loc`` that exists in the file.

        Elements of ``loc`` that are not in the data (pydantic adds union tags
        such as ``'tap'`` or ``'browser_profile'``) are skipped, so a model's
        error location always lands on a line the person wrote.
        """
        found = self.resolve(loc)
        if prefer_key and found in self.key_marks:
            return self.key_marks[found]
        return self.value_marks.get(found, (1, 1))

    def resolve(self, loc: Loc) -> Loc:
        """The longest run of ``loc``'s parts that names a path in the data.

        Parts may be skipped (pydantic's union tags), and a tag can equal a key
        (``tap``), so both choices are tried and the deepest match wins.
        """
        return _best_path(self.data, loc)

    def field_name(self, loc: Loc) -> str:
        """A dotted field path as a person reads it: ``steps[2].selector``."""
        out = ""
        for part in loc:
            if isinstance(part, int):
                out += f"[{part}]"
            else:
                out += f".{part}" if out else str(part)
        return out


def _best_path(node: Any, loc: Loc) -> Loc:
    if not loc:
        return ()
    part, rest = loc[0], loc[1:]
    best = _best_path(node, rest)  # skip this part
    in_dict = isinstance(node, dict) and part in node
    in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
    if in_dict or in_list:
        child = node[part]
        taken = (part, *_best_path(child, rest))
        if len(taken) > len(best):
            return taken
    return best


class _LimitExceeded(Exception):
    """The composer stopped: the file crosses one of the limits above at ``mark``."""

    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.line: int = mark.line + 1 if mark else 1
        self.column: int = mark.column + 1 if mark else 1
        self.message = message


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader with bounded composition: depth, node count and alias expansion.

    Every composed node's *expanded* size (itself plus everything under it, aliases
    counted at the size of what they name) is kept, so an alias's cost is known the
    moment it is read and the tree is never expanded to find it out.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0
        self._alias_nodes = 0
        self._sizes: dict[int, int] = {}  # id(node) -> expanded size; nodes stay alive

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            size = self._sizes.get(id(node))
            if size is None:  # its anchor's node is still being composed: a cycle
                raise _LimitExceeded(
                    event.start_mark,
                    f"alias *{event.anchor} is used inside the node it names (a cycle)",
                )
            self._alias_nodes += size
            if self._alias_nodes > MAX_ALIAS_NODES:
                raise _LimitExceeded(
                    event.start_mark,
                    f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes "
                    f"(at alias *{event.anchor}): a configuration file needs nothing like it",
                )
            return node
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _LimitExceeded(event.start_mark, f"more than {MAX_NODES:,} values in one file")
        nested = isinstance(event, yaml.CollectionStartEvent)
        if nested:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise _LimitExceeded(event.start_mark, f"nested more than {MAX_DEPTH} levels deep")
        node = super().compose_node(parent, index)
        if nested:
            self._depth -= 1
        self._sizes[id(node)] = 1 + sum(self._sizes.get(id(child), 1) for child in _children(node))
        return node


def _children(node: yaml.Node | None) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


class YamlSourceError(Exception):
    def __init__(self, problem: ConfigProblem):
        self.problem = problem
        super().__init__(str(problem))


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


_PLAIN_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
}


def _build(node: yaml.Node, loc: Loc, doc: Document) -> Any:
    doc.value_marks[loc] = _mark(node)
    if node.tag not in _PLAIN_TAGS:
        line, col = _mark(node)
        raise YamlSourceError(
            ConfigProblem(
                str(doc.path),
                line,
                col,
                doc.field_name(loc),
                f"unsupported YAML tag {node.tag!r}: only plain data is allowed",
            )
        )
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _build_key(key_node, doc)
            if key in out:
                line, col = _mark(key_node)
                raise YamlSourceError(
                    ConfigProblem(
                        str(doc.path), line, col, doc.field_name((*loc, key)), "duplicate key"
                    )
                )
            child: Loc = (*loc, key)
            doc.key_marks[child] = _mark(key_node)
            out[key] = _build(value_node, child, doc)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*loc, i), doc) for i, item in enumerate(node.value)]
    return _scalar(node, doc)


def _build_key(node: yaml.Node, doc: Document) -> str:
    if not isinstance(node, yaml.ScalarNode):
        line, col = _mark(node)
        raise YamlSourceError(
            ConfigProblem(str(doc.path), line, col, "", "keys must be plain text")
        )
    value = _scalar(node, doc)
    return value if isinstance(value, str) else str(value)


_RESOLVER = yaml.SafeLoader("")


def _scalar(node: yaml.Node, doc: Document) -> Any:
    # Construct scalars with the safe constructor only (ints, floats, bools, null, str).
    if node.tag == "tag:yaml.org,2002:merge":
        line, col = _mark(node)
        raise YamlSourceError(
            ConfigProblem(str(doc.path), line, col, "", "merge keys are not supported")
        )
    try:
        return _RESOLVER.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        line, col = _mark(node)
        raise YamlSourceError(ConfigProblem(str(doc.path), line, col, "", _reason(exc))) from exc


def _reason(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    text = f"{context}: {problem}" if context else str(problem)
    return f"YAML syntax error: {text}"


def parse_yaml(text: str, path: Path | str) -> Document:
    """Parse one YAML document from ``text``; raises YamlSourceError with a position."""
    doc = Document(Path(path), None)
    loader: _BoundedLoader | None = None
    try:
        loader = _BoundedLoader(text)  # its reader checks the characters at once
        node = loader.get_single_node()
    except _LimitExceeded as exc:
        problem = ConfigProblem(str(path), exc.line, exc.column, "", exc.message)
        raise YamlSourceError(problem) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise YamlSourceError(ConfigProblem(str(path), line, col, "", _reason(exc))) from exc
    except yaml.YAMLError as exc:  # e.g. "expected a single document"
        raise YamlSourceError(ConfigProblem.at_file(path, _reason(exc))) from exc
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        raise YamlSourceError(ConfigProblem.at_file(path, "file is empty"))
    doc.data = _build(node, (), doc)
    return doc


def load_yaml(path: Path) -> Document:
    """Read and parse a YAML file; every failure is a YamlSourceError naming the file.

    At most ``MAX_FILE_BYTES`` + 1 bytes are read: a larger file is refused unread.
    """
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise YamlSourceError(
            ConfigProblem.at_file(path, f"cannot read file: {exc.strerror}")
        ) from exc
    if len(raw) > MAX_FILE_BYTES:
        raise YamlSourceError(
            ConfigProblem.at_file(
                path, f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB"
            )
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlSourceError(
            ConfigProblem(str(path), line, 1, "", "file is not valid UTF-8")
        ) from exc
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise YamlSourceError(ConfigProblem(str(path), line, 1, "", "file contains a NUL byte"))
    return parse_yaml(text, path)
