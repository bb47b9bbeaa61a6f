"""verify_workspace: an untouched log passes; each edit, insertion and removal is named."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from runlogs import ActivityLog, InvalidEventError, LogIntegrityError, verify_workspace

DAY1 = "2026-11-23.jsonl"
DAY2 = "2026-11-24.jsonl"
N = 10  # lines per day file


@pytest.fixture
def two_days(log: ActivityLog, logs_dir: Path, clock) -> Path:
    for i in range(N):
        log.append("acme", "step_ok", run_id="r1", i=i, text=f"message {i}")
    clock.now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    for i in range(N, 2 * N):
        log.append("acme", "step_ok", run_id="r2", i=i, text=f"message {i}")
    return logs_dir / "acme"


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _problem(logs_dir: Path) -> str:
    report = verify_workspace(logs_dir, "acme")
    assert not report.ok and report.problem is not None
    return str(report.problem)


def test_untouched_log_verifies(two_days: Path, logs_dir: Path) -> None:
    report = verify_workspace(logs_dir, "acme")
    assert report.ok and report.problem is None
    assert report.lines_checked == 2 * N
    assert str(report) == f"ok: {2 * N} lines checked"


def test_empty_or_unknown_workspace_verifies_with_no_lines(logs_dir: Path) -> None:
    report = verify_workspace(logs_dir, "nobody")
    assert report.ok and report.lines_checked == 0
    with pytest.raises(InvalidEventError):
        verify_workspace(logs_dir, "../etc")


@pytest.mark.parametrize("name", [DAY1, DAY2])
@pytest.mark.parametrize("line", [1, 5, N])
def test_edited_line_is_named(two_days: Path, logs_dir: Path, name: str, line: int) -> None:
    path = two_days / name
    lines = _lines(path)
    assert b"message" in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(b"message", b"massage")
    path.write_bytes(b"".join(lines))

    assert _problem(logs_dir) == f"{name}:{line}: line edited (hash mismatch)"


def test_line_made_unreadable_is_named(two_days: Path, logs_dir: Path) -> None:
    path = two_days / DAY1
    lines = _lines(path)
    lines[3] = b"{not json\n"
    path.write_bytes(b"".join(lines))
    assert _problem(logs_dir) == f"{DAY1}:4: line edited (not a valid event line)"
    with pytest.raises(LogIntegrityError, match=f"{DAY1}:4: not a valid event line"):
        list(ActivityLog(logs_dir).events("acme"))


def _forged_copy(line: bytes) -> bytes:
    return line.replace(b"message", b"forged message")


@pytest.mark.parametrize("name", [DAY1, DAY2])
@pytest.mark.parametrize("position", [1, 5, N + 1])  # before the first, middle, after the last
@pytest.mark.parametrize("how", ["forged", "copy"])
def test_inserted_line_is_named(
    two_days: Path, logs_dir: Path, name: str, position: int, how: str
) -> None:
    path = two_days / name
    lines = _lines(path)
    if how == "forged":  # a neighbour's line, altered
        new = _forged_copy(lines[min(position, N) - 1])
    else:  # a verbatim copy of a line from elsewhere in the file (an exact duplicate of
        # the neighbour would be indistinguishable from it)
        new = lines[(position + 2) % N]
    lines.insert(position - 1, new)
    path.write_bytes(b"".join(lines))

    problem = _problem(logs_dir)
    assert problem.startswith(f"{name}:{position}: line inserted"), problem


@pytest.mark.parametrize("line", [2, 5, N - 1])
def test_removed_middle_line_is_named(two_days: Path, logs_dir: Path, line: int) -> None:
    path = two_days / DAY1
    lines = _lines(path)
    del lines[line - 1]
    path.write_bytes(b"".join(lines))

    # The line that now sits where the removed one was shows the gap.
    expected = f"{DAY1}:{line}: line removed before this one (seq jumps {line - 1}→{line + 1})"
    assert _problem(logs_dir) == expected


def test_removed_first_line_of_the_log_is_named(two_days: Path, logs_dir: Path) -> None:
    path = two_days / DAY1
    path.write_bytes(b"".join(_lines(path)[1:]))
    assert _problem(logs_dir) == f"{DAY1}:1: line removed before this one (log starts at seq 2)"


def test_removed_last_line_of_a_day_is_named_in_the_next_day(
    two_days: Path, logs_dir: Path
) -> None:
    path = two_days / DAY1
    path.write_bytes(b"".join(_lines(path)[:-1]))
    expected = f"{DAY2}:1: line removed before this one (seq jumps {N - 1}→{N + 1})"
    assert _problem(logs_dir) == expected


def test_removed_first_line_of_a_day_is_named(two_days: Path, logs_dir: Path) -> None:
    path = two_days / DAY2
    path.write_bytes(b"".join(_lines(path)[1:]))
    expected = f"{DAY2}:1: line removed before this one (seq jumps {N}→{N + 2})"
    assert _problem(logs_dir) == expected


def test_removed_last_line_of_the_log_is_named(two_days: Path, logs_dir: Path) -> None:
    path = two_days / DAY2
    path.write_bytes(b"".join(_lines(path)[:-1]))
    expected = f"{DAY2}:{N}: line removed (log ends at seq {2 * N - 1}, seq {2 * N} was written)"
    assert _problem(logs_dir) == expected


def test_removed_day_file_is_named(two_days: Path, logs_dir: Path) -> None:
    (two_days / DAY1).unlink()
    assert _problem(logs_dir) == f"{DAY2}:1: line removed before this one (log starts at seq 11)"


def test_cut_off_last_line_is_named_and_stops_the_writer(
    two_days: Path, logs_dir: Path, log: ActivityLog
) -> None:
    path = two_days / DAY2
    raw = path.read_bytes()
    path.write_bytes(raw[:-20])

    assert _problem(logs_dir).startswith(f"{DAY2}:{N}: line incomplete")
    with pytest.raises(LogIntegrityError, match="chain cannot continue"):
        log.append("acme", "stop", reason="after crash")
    # The reader skips a last line without its newline: it may be a write in progress.
    assert len(list(log.events("acme"))) == 2 * N - 1


def test_log_keeps_verifying_after_more_appends(two_days: Path, log: ActivityLog, logs_dir) -> None:
    for _ in range(3):
        log.append("acme", "stop", reason="rate_limited")
    report = verify_workspace(logs_dir, "acme")
    assert report.ok and report.lines_checked == 2 * N + 3
