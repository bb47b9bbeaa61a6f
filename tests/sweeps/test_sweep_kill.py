"""A sweep process killed at random points loses no item and duplicates none.

Each trial injects new comments, nested replies and DMs, starts ``inbox-agent sweep``
in a subprocess and SIGKILLs it after a delay drawn from a seeded RNG (some trials
finish first, which is one more point in the range). After the trials one full
sweep must leave the store holding exactly the injected items, and no item may
have been handed on (``item_collected``) twice across all the runs.
"""

from __future__ import annotations

import contextlib
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from agent.runtime import Runtime
from runlogs import ActivityLog
from sandbox.testing import RunningSandbox
from tests.sweeps.conftest import (
    ACME,
    injected_rows,
    stored_items,
    stored_rows,
    wait_for_profile_released,
)

TRIALS = 20  # killed sweeps, after one calibration sweep that runs to the end
SEED = 20_251_123
AUTHORS = ("ana", "ben", "chloe", "dev", "emma", "farid")
PER_ROUND = 8


def sweep_command(home: Path) -> list[str]:
    entry = "from agent.cli import main; main()"
    return [sys.executable, "-c", entry, "--home", str(home), "sweep", ACME, "--json"]


def inject_round(sb: RunningSandbox, rng: random.Random, post: str, n: int) -> None:
    """Three comments, one nested reply and four DMs (conversations are per author)."""
    c = sb.client
    comments = [c.post_message("acme", "comment", rng.choice(AUTHORS), f"comment {n}.{i}",
                               thread=post)["id"] for i in range(3)]  # fmt: skip
    earlier = [m["id"] for m in c.state()["messages"] if m["kind"] == "comment"]
    parent = rng.choice(earlier or comments)
    c.post_message("acme", "comment", rng.choice(AUTHORS), f"reply {n}", thread=post, parent=parent)
    for author in rng.sample(AUTHORS, 4):
        c.post_message("acme", "dm", author, f"dm {n} from {author}")


def wait_until_stored(rt: Runtime, count: int, proc: subprocess.Popen[bytes]) -> None:
    """Poll the store until ``count`` items are committed or the sweep has ended."""
    deadline = time.monotonic() + 60
    while len(stored_items(rt)) < count and proc.poll() is None:
        assert time.monotonic() < deadline, "the sweep stored nothing for 60 s"
        time.sleep(0.01)


def test_killing_the_sweep_at_random_points_loses_and_duplicates_nothing(
    sb: RunningSandbox, rt: Runtime
) -> None:
    rng = random.Random(SEED)
    post = sb.client.add_post("acme", "Kill test")["id"]
    profile = rt.home.profiles_dir / ACME

    inject_round(sb, rng, post, 0)  # calibration: how long one whole sweep takes here
    started = time.monotonic()
    done = subprocess.run(sweep_command(rt.home.root), capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    full_s = time.monotonic() - started

    killed = partial = 0
    for n in range(1, TRIALS + 1):
        before = len(stored_items(rt))
        inject_round(sb, rng, post, n)
        proc = subprocess.Popen(
            sweep_command(rt.home.root), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        # Even trials: a random moment anywhere in a sweep (start-up, reading, storing).
        # Odd trials: right after a random number of this round's items are committed.
        if n % 2 == 0:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=rng.uniform(0.2, 1.0) * full_s)
        else:
            wait_until_stored(rt, before + rng.randint(1, PER_ROUND - 1), proc)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        _, err = proc.communicate()
        assert proc.returncode in (0, -signal.SIGKILL), err.decode()[-2000:]
        wait_for_profile_released(profile)
        partial += before < len(stored_items(rt)) < before + PER_ROUND

    print(f"kill trials: {killed} killed, {partial} killed mid-collection (sweep {full_s:.1f}s)")
    assert killed >= TRIALS // 2, f"only {killed} of {TRIALS} sweeps were killed"
    assert partial >= 1, "no trial was killed between two stored items"
    final = rt.sweeper().sweep(ACME)
    assert final.status == "ok", final.message

    expected = injected_rows(sb, "acme")
    assert len(expected) == PER_ROUND * (TRIALS + 1)
    items = stored_items(rt)
    assert stored_rows(rt) == expected, f"killed={killed} partial={partial}"
    assert len(items) == len({i.key for i in items}) == len(expected)
    log = ActivityLog(rt.home.logs_dir).events(ACME)
    handed_on = Counter(e.data["key"] for e in log if e.type == "item_collected")
    assert max(handed_on.values()) == 1
    # The evidence writer's files exist before a row names them, whenever it was killed.
    named = [p for i in items for p in (i.screenshot, i.crop) if p]
    assert len(named) >= len(items) and all(Path(p).is_file() for p in named)
    assert all(i.status != "new" for i in items), "an item was left without a decision"
