"""Hostile YAML: alias bombs, deep nesting and huge files are each one FILE:LINE problem,
found fast and in little memory, never a traceback or a MemoryError."""

from __future__ import annotations

import re
import time
import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli import app
from workspaces.paths import Home
from workspaces.source import (
    MAX_ALIAS_NODES,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    YamlSourceError,
    load_yaml,
    parse_yaml,
)

runner = CliRunner()
MB = 1024 * 1024


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    """The classic: each level is ``width`` aliases of the one before (9^9 strings)."""
    lines = ["id: evil", "a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    for n in range(1, levels + 1):
        lines.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def flow_nesting(depth: int) -> str:
    return "id: evil\nsteps: " + "[" * depth + "]" * depth + "\n"


def block_nesting(depth: int) -> str:
    """Block style: sequences written compactly (``- - - x``), one level per ``- ``."""
    return "id: evil\nsteps:\n" + "- " * depth + "x\n"


def validate(home: Home) -> tuple[int, str, float]:
    started = time.perf_counter()
    result = runner.invoke(app, ["--home", str(home.root), "validate"])
    return result.exit_code, result.output, time.perf_counter() - started


def peak_bytes(home: Home) -> int:
    tracemalloc.start()
    try:
        runner.invoke(app, ["--home", str(home.root), "validate"])
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def problem_lines(out: str, path: Path) -> list[str]:
    return [ln for ln in out.splitlines() if ln.startswith(f"{path}:")]


@pytest.mark.parametrize(
    ("name", "make", "line", "message"),
    [
        ("billion laughs", billion_laughs, 6, f"aliases expand to more than {MAX_ALIAS_NODES:,}"),
        ("flow nesting", lambda: flow_nesting(10_000), 2, f"nested more than {MAX_DEPTH} levels"),
        ("block nesting", lambda: block_nesting(10_000), 3, f"nested more than {MAX_DEPTH}"),
    ],
)
def test_a_hostile_file_is_one_problem_and_small(
    home: Home, name: str, make, line: int, message: str
) -> None:
    path = home.root / "flows" / "evil.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(make())
    runner.invoke(app, ["--home", str(home.root), "validate"])  # imports and caches warmed up
    code, out, _ = validate(home)  # the time is not asserted: tests hold no timings
    assert code == 1, out
    lines = problem_lines(out, path)
    assert len(lines) == 1, out
    assert re.match(re.escape(f"{path}:{line}:") + r"\d+: ", lines[0]), lines[0]
    assert message in lines[0]
    assert "1 problem in" in out and "Traceback" not in out and "MemoryError" not in out
    # bounded work shows as bounded memory: an expanded alias bomb or a 10,000-level tree
    # would take far more
    assert peak_bytes(home) < 200 * MB, name


def test_a_50_mb_file_is_refused_unread(home: Home) -> None:
    path = home.root / "workspaces" / "huge.yaml"
    with path.open("wb") as f:
        chunk = b"- just a line of a very long list\n" * 30_000
        while f.tell() < 50 * MB:
            f.write(chunk)
    runner.invoke(app, ["--home", str(home.root), "validate"])
    code, out, _ = validate(home)
    assert code == 1
    lines = problem_lines(out, path)
    assert lines == [f"{path}:1:1: file is larger than {MAX_FILE_BYTES // MB} MiB"], out
    # Reading it whole would take 50 MB: at most MAX_FILE_BYTES (2 MiB) is ever read.
    assert peak_bytes(home) < 20 * MB


def test_limits_name_the_line_where_they_are_crossed(tmp_path: Path) -> None:
    def problem(text: str) -> str:
        with pytest.raises(YamlSourceError) as caught:
            parse_yaml(text, "f.yaml")
        return str(caught.value)

    assert problem("a: &x [1, *x]\n") == (
        "f.yaml:1:11: alias *x is used inside the node it names (a cycle)"
    )
    deep = "".join(" " * n + f"k{n}:\n" for n in range(MAX_DEPTH + 1)) + " " * 65 + "v: 1\n"
    assert problem(deep).startswith(f"f.yaml:{MAX_DEPTH + 1}:")
    assert problem("a: [" + ",".join(["1"] * 100_001) + "]").endswith(
        "more than 100,000 values in one file"
    )


def test_ordinary_aliases_and_depth_still_load(tmp_path: Path) -> None:
    doc = parse_yaml("a: &x {b: [1, 2]}\nc: *x\nd: *x\n", "f.yaml")
    assert doc.data == {"a": {"b": [1, 2]}, "c": {"b": [1, 2]}, "d": {"b": [1, 2]}}
    assert doc.mark(("c",)) == (2, 1)
    nested = "v: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH  # the mapping is level 1
    with pytest.raises(YamlSourceError):
        parse_yaml(nested, "f.yaml")
    assert parse_yaml("v: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1), "f.yaml").data
    path = tmp_path / "exactly.yaml"
    path.write_bytes(b"a: " + b"x" * (MAX_FILE_BYTES - 4) + b"\n")
    assert len(load_yaml(path).data["a"]) == MAX_FILE_BYTES - 4
