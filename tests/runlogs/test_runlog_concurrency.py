"""Several processes appending to one workspace's log at once keep it whole and chained."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path
from typing import Any

from runlogs import ActivityLog, verify_workspace

PROCESSES = 4
EVENTS_EACH = 500


def _append_many(logs_dir: str, worker: int, go: Any) -> None:
    log = ActivityLog(Path(logs_dir))
    go.wait(60)  # start together, so that the appends really contend
    for i in range(EVENTS_EACH):
        # Long, varied lines make torn or interleaved writes visible.
        log.append("shared", "item_collected", run_id=f"w{worker}", i=i, text="é\n" * (i % 300))


def test_processes_appending_at_once_keep_every_line_whole(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    logs_dir = tmp_path / "logs"
    procs = [
        ctx.Process(target=_append_many, args=(str(logs_dir), w, go)) for w in range(PROCESSES)
    ]
    for proc in procs:
        proc.start()
    go.set()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0

    lines = [
        line
        for path in sorted((logs_dir / "shared").glob("*.jsonl"))
        for line in path.read_bytes().splitlines()
    ]
    records = [json.loads(line) for line in lines]  # every line parses
    assert len(records) == PROCESSES * EVENTS_EACH
    assert [r["seq"] for r in records] == list(range(1, PROCESSES * EVENTS_EACH + 1))
    for worker in range(PROCESSES):
        mine = [r["data"]["i"] for r in records if r["run_id"] == f"w{worker}"]
        assert mine == list(range(EVENTS_EACH))  # each process's own order is kept
    runs = [r["run_id"] for r in records]
    switches = sum(1 for a, b in zip(runs, runs[1:], strict=False) if a != b)
    assert switches > PROCESSES  # the writers really did interleave
    report = verify_workspace(logs_dir, "shared")
    assert report.ok, report.problem
    assert report.lines_checked == PROCESSES * EVENTS_EACH
