"""Triage throughput on one core: items/s and p99 latency of the default pipeline.

The baseline, measured in the same run on the same items, is the normalize stage
alone; the ratio says how much the whole pipeline costs relative to it.
Throughput and latency are reported in CPU time of this thread (what one core
does, robust when other processes share the machine) and in wall-clock time.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

N_ITEMS = 20_000


def _items() -> list[tuple[str, str, str]]:
    path = Path(__file__).resolve().parents[1] / "triage_dev" / "data" / "heldout.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [(r["text"], r["platform"], r["kind"]) for r in rows]


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from agent.triage import Pipeline, TriageInput, load_config
    from agent.triage.models import Decision, Work

    pipe = Pipeline(load_config(None))
    base = _items()
    items = [
        TriageInput(id=str(i), text=f"{t} {i % 97}", platform=p, kind=k, author=f"u{i}")
        for i, (t, p, k) in enumerate(base * (N_ITEMS // len(base) + 1))
    ][:N_ITEMS]
    for item in items[:500]:  # warm up
        pipe.triage(item)
    pipe.reset()

    cpu = time.thread_time
    start = cpu()
    for item in items:
        pipe.stage_normalize(Work(item=item, decision=Decision(id=item.id)))
    base_rate = len(items) / (cpu() - start)

    cpu_lat, wall_lat = [], []
    cpu_ns, wall_ns = time.thread_time_ns, time.perf_counter_ns
    start_cpu, start_wall = cpu(), time.perf_counter()
    for item in items:
        c0, w0 = cpu_ns(), wall_ns()
        pipe.triage(item)
        cpu_lat.append(cpu_ns() - c0)
        wall_lat.append(wall_ns() - w0)
    rate = len(items) / (cpu() - start_cpu)
    wall_rate = len(items) / (time.perf_counter() - start_wall)
    cpu_lat.sort()
    wall_lat.sort()

    def pct(values: list[int], q: float) -> float:
        return values[min(len(values) - 1, int(len(values) * q))] / 1000

    print(f"default pipeline: {rate:,.0f} items/s of one core's CPU time (goal >= 5,000)")
    print(f"  wall clock: {wall_rate:,.0f} items/s (lower when the machine is shared)")
    for name, lat in (("CPU", cpu_lat), ("wall", wall_lat)):
        print(f"latency per item ({name}): p50 {pct(lat, 0.5):.0f} us, p99 {pct(lat, 0.99):.0f} us")
    print(f"baseline, normalize stage alone: {base_rate:,.0f} items/s (CPU)")
    print(f"pipeline / baseline time ratio: {base_rate / rate:.1f}x")


if __name__ == "__main__":
    main()
