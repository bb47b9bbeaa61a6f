"""A log that cannot be cut short: keyed hashes, and the chain head kept outside the folder.

Each case is one way to tamper with a workspace's log; verify must name it (or, where the
README says it cannot, the test pins that limit down).
"""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from runlogs import LOG_KEY_ENV, ActivityLog, LogKey, RunLogError, StoredHead, verify_workspace
from runlogs.files import CHAIN_FILE, ChainHead, write_head
from runlogs.integrity import seal, unseal
from runlogs.keys import create_key_file, default_key_file, load_key
from runlogs.writer import append_event

DAY1, DAY2, DAY3 = "2026-11-23.jsonl", "2026-11-24.jsonl", "2026-11-25.jsonl"
N = 10  # lines per day


@pytest.fixture(autouse=True)
def _no_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LOG_KEY_ENV, raising=False)


class FakeHeads:
    """A HeadStore in memory (the agent's is the database: tests/store)."""

    def __init__(self) -> None:
        self.rows: dict[str, StoredHead] = {}
        self.calls = 0
        self.fail = False

    def load(self, workspace: str) -> StoredHead | None:
        return self.rows.get(workspace)

    def advance(self, workspace, new, *, expected, durable) -> bool:
        self.calls += 1
        if self.fail:
            raise OSError("store unreachable")
        current = self.rows.get(workspace)
        if expected is None:
            if current is not None:
                return False
        elif current is None or (current.seq, current.hash) != expected:
            return False
        keyed_from = current.keyed_from if current and current.keyed_from else new.keyed_from
        self.rows[workspace] = StoredHead(new.day, new.seq, new.hash, keyed_from)
        return True


@pytest.fixture
def heads() -> FakeHeads:
    return FakeHeads()


@pytest.fixture
def hlog(logs_dir: Path, clock, heads: FakeHeads) -> ActivityLog:
    return ActivityLog(logs_dir, clock=clock, heads=heads)


def _fill(log: ActivityLog, clock, days: list[int], per_day: int = N) -> Path:
    for day in days:
        clock.now = datetime(2026, 11, day, 8, 0, tzinfo=UTC)
        for i in range(per_day):
            log.append("acme", "step_ok", run_id=f"r{day}", i=i, text=f"message {day}/{i}")
    return log.logs_dir / "acme"


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _problem(log: ActivityLog, heads: FakeHeads | None = None) -> str:
    report = verify_workspace(log.logs_dir, "acme", heads=heads)
    assert not report.ok and report.problem is not None, str(report)
    return str(report.problem)


# -- the key --------------------------------------------------------------------------


def test_lines_are_sealed_with_a_key_file_made_on_first_use(hlog: ActivityLog, logs_dir) -> None:
    key_file = logs_dir.parent / "keys" / "log.key"
    assert not key_file.exists()
    event = hlog.append("acme", "run_started", run_id="r1")

    assert key_file.exists() and default_key_file(logs_dir) == key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    key = load_key(key_file, create=False)
    assert key is not None and len(key.secret) == 32
    assert event.hash.startswith(f"hmac:{key.id}:") and len(event.hash) == 5 + 8 + 1 + 64
    assert key.id not in key_file.read_text()  # the id reveals nothing of the key
    report = verify_workspace(logs_dir, "acme")
    assert (
        report.ok
        and report.complete
        and report.keyed == 1
        and str(report) == ("ok: 1 lines checked")
    )


def test_the_environment_key_wins_and_no_file_is_made(
    logs_dir: Path, clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LOG_KEY_ENV, "a passphrase of some length")
    event = ActivityLog(logs_dir, clock=clock).append("acme", "run_started")
    assert not (logs_dir.parent / "keys").exists()
    env_key = LogKey(b"a passphrase of some length", LOG_KEY_ENV)
    assert event.hash.startswith(f"hmac:{env_key.id}:")
    assert verify_workspace(logs_dir, "acme").ok

    monkeypatch.setenv(LOG_KEY_ENV, "another passphrase, also long")
    problem = str(verify_workspace(logs_dir, "acme").problem)
    assert problem == (
        f"{DAY1}:1: line sealed with another key (key id {env_key.id}; "
        f"in use: {LogKey(b'another passphrase, also long', LOG_KEY_ENV).id})"
    )


def test_a_bad_key_is_refused(logs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOG_KEY_ENV, "short")
    with pytest.raises(RunLogError, match="too short"):
        ActivityLog(logs_dir).append("acme", "run_started")
    monkeypatch.delenv(LOG_KEY_ENV)
    with pytest.raises(RunLogError, match="inside the logs folder"):
        ActivityLog(logs_dir, key_file=logs_dir / "log.key").append("acme", "run_started")
    assert not list(logs_dir.glob("acme/*.jsonl"))


def test_concurrent_first_uses_end_with_one_key(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "log.key"
    keys: list[LogKey] = []
    barrier = threading.Barrier(8)

    def make() -> None:
        barrier.wait()
        keys.append(create_key_file(path)[0])

    threads = [threading.Thread(target=make) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({k.secret for k in keys}) == 1
    assert [p.name for p in path.parent.iterdir()] == ["log.key"]  # no temporary left


def test_init_writes_the_key(tmp_path: Path) -> None:
    from agent.scaffold import init_home
    from workspaces.paths import Home

    home = Home(tmp_path / "home")
    result = init_home(home)
    assert home.log_key_file in result.written
    assert stat.S_IMODE(home.log_key_file.stat().st_mode) == 0o600
    assert home.log_key_file == default_key_file(home.logs_dir)
    assert home.log_key_file in init_home(home).kept


# -- edits with and without the key ---------------------------------------------------


def test_an_edit_needs_the_key_to_be_seen(hlog: ActivityLog, clock, logs_dir) -> None:
    ws = _fill(hlog, clock, [23])
    lines = _lines(ws / DAY1)
    lines[4] = lines[4].replace(b"message", b"massage")
    (ws / DAY1).write_bytes(b"".join(lines))
    assert _problem(hlog) == f"{DAY1}:5: line edited (hash mismatch)"

    # Without the key only the order and the links can be checked: the edit is not seen,
    # and verify says the check was incomplete rather than "ok".
    (logs_dir.parent / "keys" / "log.key").unlink()
    report = verify_workspace(logs_dir, "acme")
    assert report.ok and not report.complete and report.unchecked == N
    assert "the hashes of 10 keyed lines were not checked: no key" in str(report)
    assert LOG_KEY_ENV in str(report)


def test_verify_never_creates_a_key(hlog: ActivityLog, clock, logs_dir) -> None:
    _fill(hlog, clock, [23], per_day=2)
    (logs_dir.parent / "keys" / "log.key").unlink()
    verify_workspace(logs_dir, "acme")
    assert not (logs_dir.parent / "keys" / "log.key").exists()


# -- old, unkeyed logs ------------------------------------------------------------------


def _unkeyed(logs_dir: Path, clock, n: int) -> None:
    """Lines as an inbox-agent from before keyed logs wrote them."""
    for i in range(n):
        append_event(
            logs_dir, "acme", "step_ok", now=clock(), run_id=None, actor="system", data={"i": i}
        )


def test_old_unkeyed_logs_still_verify_and_say_so(logs_dir: Path, clock) -> None:
    _unkeyed(logs_dir, clock, 3)
    report = verify_workspace(logs_dir, "acme")
    assert report.ok and report.unkeyed == 3 and report.keyed == 0
    assert "unkeyed: written before the log was keyed" in str(report)

    log = ActivityLog(logs_dir, clock=clock)  # the new version continues the old chain
    log.append("acme", "run_started")
    events = list(log.events("acme"))
    assert events[3].prev == events[2].hash and events[3].hash.startswith("hmac:")
    report = verify_workspace(logs_dir, "acme")
    assert report.ok and (report.unkeyed, report.keyed) == (3, 1)
    assert str(report) == "ok: 4 lines checked (3 unkeyed lines from before the log was keyed)"

    # An unkeyed line after a keyed one is a downgrade: someone without the key wrote it.
    _unkeyed(logs_dir, clock, 1)
    assert _problem(log) == (
        f"{DAY1}:5: line not keyed after keyed lines (rewritten without the key?)"
    )


# -- cutting the end off ----------------------------------------------------------------


def test_truncation_with_the_chain_file_removed_is_named_from_the_store(
    hlog: ActivityLog, clock, heads: FakeHeads
) -> None:
    ws = _fill(hlog, clock, [23, 24])
    (ws / DAY2).write_bytes(b"".join(_lines(ws / DAY2)[:-3]))
    (ws / CHAIN_FILE).unlink()

    assert heads.rows["acme"].seq == 2 * N
    assert _problem(hlog, heads) == (
        f"{DAY2}:{N - 2}: line removed (log ends at seq {2 * N - 3}, "
        f"the store's chain head is seq {2 * N} of 2026-11-24)"
    )
    # Without the store's copy the cut is invisible: the README says so.
    assert verify_workspace(hlog.logs_dir, "acme").ok


def test_truncation_stays_named_after_later_writes(
    hlog: ActivityLog, clock, heads: FakeHeads
) -> None:
    """The writer does not move the stored head past a cut: the evidence survives, even
    once the log has grown past the seq the store recorded."""
    ws = _fill(hlog, clock, [23])
    (ws / DAY1).write_bytes(b"".join(_lines(ws / DAY1)[:-3]))
    for i in range(6):  # seq 8…13: over the stored head (10) and beyond
        hlog.append("acme", "step_ok", i=100 + i)
    assert heads.rows["acme"].seq == N

    # .chain followed the new lines; the store did not.
    assert verify_workspace(hlog.logs_dir, "acme").ok
    assert _problem(hlog, heads) == (
        f"{DAY1}:{N}: line rewritten (seq {N} does not have the hash the store recorded for "
        "it: the log was rewritten up to here)"
    )


def test_the_stored_head_catches_up_after_lines_written_without_it(
    logs_dir: Path, clock, heads: FakeHeads, hlog: ActivityLog
) -> None:
    hlog.append("acme", "run_started")
    plain = ActivityLog(logs_dir, clock=clock)  # no store: the stored head lags
    for i in range(5):
        plain.append("acme", "step_ok", i=i)
    assert heads.rows["acme"].seq == 1
    assert verify_workspace(logs_dir, "acme", heads=heads).ok  # lagging is not tampering
    hlog.append("acme", "run_finished")
    assert heads.rows["acme"].seq == 7


def test_a_store_that_fails_does_not_stop_the_log(
    hlog: ActivityLog, heads: FakeHeads, caplog: pytest.LogCaptureFixture
) -> None:
    heads.fail = True
    with caplog.at_level(logging.WARNING, logger="runlogs.heads"):
        hlog.append("acme", "run_started")
        hlog.append("acme", "run_finished")
    assert [e.type for e in hlog.events("acme")] == ["run_started", "run_finished"]
    assert "store unreachable" in caplog.text
    heads.fail = False
    hlog.append("acme", "stop", reason="x")
    assert heads.rows["acme"].seq == 3


# -- removed day files ------------------------------------------------------------------


def test_removed_first_day_file(hlog: ActivityLog, clock, heads: FakeHeads) -> None:
    ws = _fill(hlog, clock, [23, 24, 25])
    (ws / DAY1).unlink()
    assert _problem(hlog, heads) == (
        f"{DAY2}:1: line removed before this one (log starts at seq {N + 1})"
    )


def test_removed_middle_day_file(hlog: ActivityLog, clock, heads: FakeHeads) -> None:
    ws = _fill(hlog, clock, [23, 24, 25])
    (ws / DAY2).unlink()
    assert _problem(hlog, heads) == (
        f"{DAY3}:1: line removed before this one (seq jumps {N}→{2 * N + 1}: the lines "
        f"between {DAY1} and this day file are missing; a whole day file may have been "
        "removed)"
    )


def test_removed_last_day_file(hlog: ActivityLog, clock, heads: FakeHeads) -> None:
    ws = _fill(hlog, clock, [23, 24, 25])
    (ws / DAY3).unlink()
    assert _problem(hlog, heads) == (
        f"{DAY3}: day file removed (the chain head, seq {3 * N}, was written to it; "
        f"the log ends at seq {2 * N})"
    )
    (ws / CHAIN_FILE).unlink()  # and with the head file gone too: the store still knows
    assert _problem(hlog, heads) == (
        f"{DAY3}: day file removed (the store's chain head, seq {3 * N}, is in it; "
        f"the log ends at seq {2 * N})"
    )


def test_every_day_file_removed(hlog: ActivityLog, clock, heads: FakeHeads) -> None:
    ws = _fill(hlog, clock, [23, 24])
    for path in ws.iterdir():
        path.unlink()
    ws.rmdir()
    assert _problem(hlog, heads) == (
        f"{DAY2}: day file removed (the store's chain head, seq {2 * N}, is in it; no line is left)"
    )


# -- a chain rewritten end to end -------------------------------------------------------


def _rewrite(ws: Path, key: LogKey | None, *, fake_id: str | None = None) -> None:
    """Re-seal every line (and .chain) consistently: what someone who can write the files
    does after editing. ``key`` None: plain SHA-256; ``fake_id``: copy our key id in
    front of a MAC under the attacker's key."""
    prev: str | None = None
    head = None
    for path in sorted(ws.glob("*.jsonl")):
        out = []
        for raw in _lines(path):
            record = json.loads(raw)
            record.pop("hash")
            record["prev"] = prev
            record["data"]["text"] = "rewritten"
            body = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
            line, digest = seal(body, key)
            if fake_id is not None:
                assert key is not None
                forged = f"hmac:{fake_id}:{digest.rsplit(':', 1)[1]}"
                line, digest = line.replace(digest.encode(), forged.encode()), forged
            out.append(line)
            prev, head = digest, ChainHead(record["seq"], digest, path.name)
        path.write_bytes(b"".join(out))
    fd = os.open(ws / CHAIN_FILE, os.O_RDWR)
    try:
        assert head is not None
        write_head(fd, head)
    finally:
        os.close(fd)


ATTACKER = LogKey(b"the attacker's own key, long enough", "attacker")


def test_chain_rewritten_with_another_key(hlog: ActivityLog, clock) -> None:
    ws = _fill(hlog, clock, [23, 24])
    _rewrite(ws, ATTACKER)
    assert all(unseal(raw) is not None for raw in _lines(ws / DAY1))
    ours = hlog.key().id
    assert _problem(hlog) == (
        f"{DAY1}:1: chain rewritten from here to the end with another key ({2 * N} lines "
        f"link to each other, sealed with key id {ATTACKER.id}; the key in use is {ours}): "
        "by someone without the key, or the key was replaced"
    )


def test_chain_rewritten_under_our_key_id(hlog: ActivityLog, clock) -> None:
    ws = _fill(hlog, clock, [23, 24])
    ours = hlog.key().id
    _rewrite(ws, ATTACKER, fake_id=ours)
    assert _problem(hlog) == (
        f"{DAY1}:1: chain rewritten from here to the end without the key ({2 * N} lines "
        f"link to each other, but none is sealed with the key, key id {ours})"
    )


def test_chain_rewritten_from_the_middle(hlog: ActivityLog, clock) -> None:
    ws = _fill(hlog, clock, [23, 24])
    # Keep day 1, rewrite day 2 so that it still links to day 1's last line.
    prev = json.loads(_lines(ws / DAY1)[-1])["hash"]
    out = []
    for raw in _lines(ws / DAY2):
        record = json.loads(raw)
        record.pop("hash")
        record["prev"] = prev
        line, prev = seal(json.dumps(record, separators=(",", ":")), ATTACKER)
        out.append(line)
    (ws / DAY2).write_bytes(b"".join(out))
    assert _problem(hlog).startswith(
        f"{DAY2}:1: chain rewritten from here to the end with another key ({N} lines"
    )


def test_chain_rewritten_unkeyed(hlog: ActivityLog, clock, heads: FakeHeads) -> None:
    ws = _fill(hlog, clock, [23, 24])
    _rewrite(ws, None)
    assert _problem(hlog, heads) == (
        f"{DAY1}:1: chain rewritten from here to the end without the key ({2 * N} lines "
        "link to each other with unkeyed hashes although the store records the log as "
        "keyed from seq 1)"
    )
    # Without the store it looks like a log from before keys: verify says it is unkeyed
    # (and so proves nothing), which is all it can say.
    report = verify_workspace(hlog.logs_dir, "acme")
    assert report.ok and report.unkeyed == 2 * N
    assert "unkeyed" in str(report)


def test_chain_rewritten_is_named_without_the_key_through_the_store(
    hlog: ActivityLog, clock, heads: FakeHeads, logs_dir: Path
) -> None:
    ws = _fill(hlog, clock, [23, 24])
    _rewrite(ws, ATTACKER, fake_id=hlog.key().id)
    (logs_dir.parent / "keys" / "log.key").unlink()
    assert _problem(hlog, heads) == (
        f"{DAY2}:{N}: line rewritten (seq {2 * N} does not have the hash the store recorded "
        "for it: the log was rewritten up to here)"
    )


# -- untouched logs stay quiet ----------------------------------------------------------


def test_untouched_keyed_log_with_store_head_verifies(
    hlog: ActivityLog, clock, heads: FakeHeads
) -> None:
    _fill(hlog, clock, [23, 24, 25])
    report = verify_workspace(hlog.logs_dir, "acme", heads=heads)
    assert report.ok and report.complete and report.lines_checked == 3 * N
    assert report.stored_head == heads.rows["acme"]
    assert heads.rows["acme"] == StoredHead("2026-11-25", 3 * N, report.stored_head.hash, 1)
    assert str(report) == f"ok: {3 * N} lines checked"
    assert hlog.verify("acme").ok


def test_lines_are_found_by_seq_from_the_end(tmp_path: Path) -> None:
    from runlogs.files import iter_lines_backwards, line_with_seq

    path = tmp_path / "2026-11-23.jsonl"
    lines = [b'{"seq":%d,"x":"%s"}\n' % (i, b"y" * (i * 997 % 20_000)) for i in range(1, 40)]
    path.write_bytes(b"".join(lines) + b'{"seq":40,"cut')
    assert list(iter_lines_backwards(path)) == [b'{"seq":40,"cut', *reversed(lines)]
    assert line_with_seq(path, 7) == lines[6]
    assert line_with_seq(path, 39) == lines[38]
    assert line_with_seq(path, 99) is None
    assert line_with_seq(tmp_path / "missing.jsonl", 1) is None


def test_a_batch_moves_the_stored_head_once_to_its_last_line(
    hlog: ActivityLog, heads: FakeHeads
) -> None:
    from runlogs import NewEvent

    hlog.append("acme", "run_started", run_id="r1")
    calls = heads.calls
    batch = hlog.append_many("acme", [NewEvent("step_ok", "r1", data={"i": i}) for i in range(50)])

    assert heads.calls == calls + 1  # one head update for fifty lines
    assert (heads.rows["acme"].seq, heads.rows["acme"].hash) == (51, batch[-1].hash)
    assert heads.rows["acme"].keyed_from == 1
    assert verify_workspace(hlog.logs_dir, "acme", heads=heads).ok
