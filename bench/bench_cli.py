"""CLI start-up: ``inbox-agent --help`` and ``inbox-agent validate`` on the demo home.

Each command runs as a fresh process, the way a person or a script runs it (the
virtualenv's ``inbox-agent`` console script), best of ``RUNS`` after one warm-up run.
The baseline, measured in the same run, is ``python -c pass``: the interpreter's own
start, which no change to inbox-agent can remove. Goals, over the baseline:
``--help`` <= 0.3 s and ``validate`` <= 0.8 s (on a quiet machine).

Wall-clock time and CPU time (user + system, of the child) are both shown: on a busy
machine the wall clock waits for the CPU, and the CPU time is the closer estimate of
what a quiet machine would show.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 5
GOALS = {"--help": 0.3, "validate": 0.8}


def _cli() -> list[str]:
    """The installed console script (``[project.scripts]`` in pyproject.toml)."""
    script = Path(sys.executable).parent / "inbox-agent"
    if script.is_file():
        return [str(script)]
    found = shutil.which("inbox-agent")
    if found:
        return [found]
    return [sys.executable, "-c", "from agent.cli import main; main()"]


def _run_once(argv: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one run; the run must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, timeout=120)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(
            f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr.decode(errors='replace')}"
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _best(argv: list[str], cwd: Path) -> tuple[float, float]:
    """Best wall and best CPU time over RUNS runs, after one warm-up run."""
    _run_once(argv, cwd)
    runs = [_run_once(argv, cwd) for _ in range(RUNS)]
    return min(w for w, _ in runs), min(c for _, c in runs)


def main() -> None:
    cli = _cli()
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        cwd = Path(tmp)
        home = cwd / "home"
        _run_once([*cli, "init", str(home)], cwd)  # the demo home (scripts/demo.sh)
        cases = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "--help": [*cli, "--help"],
            "validate": [*cli, "--home", str(home), "validate"],
        }
        results = {name: _best(argv, cwd) for name, argv in cases.items()}

    base_wall, base_cpu = results["python -c pass"]
    print(f"command: {' '.join(cli)}; best of {RUNS} runs each")
    print(f"{'':<16} {'wall':>8} {'over base':>10} {'CPU':>8} {'over base':>10}  goal")
    for name, (wall, cpu) in results.items():
        goal = GOALS.get(name)
        if goal is None:
            print(f"{name:<16} {wall:>7.3f}s {'':>10} {cpu:>7.3f}s {'':>10}  (baseline)")
            continue
        over_wall, over_cpu = wall - base_wall, cpu - base_cpu
        verdict = "met" if over_wall <= goal else "NOT met"
        if over_wall > goal and over_cpu <= goal:
            verdict += " (met in CPU time)"
        print(
            f"{name:<16} {wall:>7.3f}s {over_wall:>+9.3f}s {cpu:>7.3f}s {over_cpu:>+9.3f}s"
            f"  <= {goal:.1f}s over base: {verdict}"
        )
    load = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    if load > cores:
        print(
            f"note: load average {load:.1f} on {cores} cores: the wall clock includes waiting "
            "for the CPU; the CPU column is closer to a quiet machine"
        )


if __name__ == "__main__":
    main()
