"""Sweep benchmarks against a sandbox in a subprocess, each a ratio measured in this run.

(a) framework overhead: a sweep of N new items (half DMs in one thread, half comments on
    one post) against two plain Playwright scripts that log in by cookie and read the same
    fields from the same pages in the same Chromium, for N = 10, 100, 1000: one reads the
    fields only; the other also takes the same screenshots (one per screen-high window of
    items), cuts and encodes the same crops and writes the rows to SQLite. Against the
    first, the cost of evidence and orchestration; against the second, orchestration
    (store, activity log, triage, the flow's checks) alone.
(b) history: 10 new items on top of 10,000 stored ones against 10 new items on an empty
    inbox. The 10,000 are on the platform and in the store with their decisions (inserted
    directly with the keys a sweep computes, and triaged, since sweeping them first would
    take minutes). Then catch-up: the same 10,000 stored but never triaged (a sweep killed
    between storing and triaging), triaged by the next sweep, in items per second.
(c) memory: peak PSS (``/proc/PID/smaps_rollup``) of a fresh Python process plus its
    Playwright driver and Chromium process trees (each part printed), per open profile,
    with 1, 4 and 8 profiles open on a loaded page; then
    the same with 1, 4 and 8 workspaces in ``isolation: context`` (one shared Chromium).
"""

from __future__ import annotations

import base64
import multiprocessing
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

from agent.runtime import Runtime, open_runtime
from agent.scaffold import init_home
from agent.store import ItemCreate, add_items
from agent.sweep import browser_settings
from devices.playwright_driver import PlaywrightDriver, chromium_path, launch_args
from devices.shared_browser import stop_shared
from flows.context import Box
from flows.evidence import EvidenceStore, write_screen
from sandbox.client import SandboxClient
from workspaces.paths import Home

WS = "sandbox-acme-web"
SIZES = (10, 100, 1000)


# -- the sandbox, in its own process so its memory is not counted as ours -------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def sandbox(accounts: tuple[str, ...] | None = None) -> Iterator[tuple[str, SandboxClient, int]]:
    """An empty sandbox (with ``accounts``, else the default three) in its own process, so
    its CPU is not the bench's."""
    port = _free_port()
    code = (
        "from sandbox.testing import serve; "
        f"serve(port={port}, seed=None, empty=True, accounts={accounts!r})"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    client = SandboxClient(url)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if client.health():
                    break
            except Exception:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
            time.sleep(0.1)  # waiting for the port, not synchronising work
        yield url, client, proc.pid
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


# -- homes -----------------------------------------------------------------------------


def signed_in_template(root: Path) -> Path:
    rt = new_runtime(root)
    result = rt.sweeper().login(WS)
    if result.status != "ok":
        raise RuntimeError(f"login failed: {result.stop_reason}: {result.message}")
    return rt.home.profiles_dir / WS


def new_runtime(root: Path, profile: Path | None = None) -> Runtime:
    home = Home(root)
    init_home(home)
    rt = open_runtime(home)
    if profile is not None:
        shutil.copytree(profile, home.profiles_dir / WS)
    return rt


def show(rows: list[str], row: str) -> None:
    rows.append(row)
    print(row, flush=True)


def timed(fn: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - started, value


# -- (a) the plain script ------------------------------------------------------------------

_READ = """(els) => els.map((e) => {
  const q = (t) => e.querySelector(`[data-testid=${t}]`);
  const kind = e.dataset.testid === 'comment-item' ? 'comment' : 'message';
  return {id: e.dataset.messageId, parent: e.dataset.parentId || null,
          author: q(`${kind}-author`).textContent.trim(), text: q(`${kind}-text`).textContent,
          time: q(`${kind}-time`).getAttribute('datetime')};
})"""
_FEED_DONE = "() => { const f = document.querySelector('[data-js=feed]');"
_FEED_DONE += " return !f.getAttribute('aria-busy'); }"
_GREW = """([sel, n]) => document.querySelectorAll(sel).length > n
  || !document.querySelector('[data-js=feed]').getAttribute('data-cursor')"""


_BOXES = """(els) => els.map((e) => { const r = e.getBoundingClientRect();
  return [r.left, r.top + window.scrollY, r.width, r.height]; })"""


def _read_feed(page: Page, testid: str) -> list[dict[str, Any]]:
    sel = f"[data-testid={testid}]"
    while True:
        page.wait_for_function(_FEED_DONE)
        if not page.locator("[data-js=feed]").get_attribute("data-cursor"):
            break
        n = page.locator(sel).count()
        page.get_by_test_id("load-more").click()
        page.wait_for_function(_GREW, arg=[sel, n])
    items: list[dict[str, Any]] = page.eval_on_selector_all(sel, _READ)
    return items


class PlainEvidence:
    """What the plain script adds to keep the same evidence and rows as a sweep: one
    screenshot per screen-high window of items (the same capture call), each item's crop
    cut from it and encoded as the sweep encodes it, and the rows in SQLite (one
    transaction per list), all in the script's own thread."""

    def __init__(self, root: Path):
        self.store = EvidenceStore(root / "screenshots")
        self.db = sqlite3.connect(root / "rows.db")
        self.db.execute(
            "CREATE TABLE item (key TEXT PRIMARY KEY, thread TEXT, kind TEXT, message_id TEXT,"
            " parent TEXT, author TEXT, text TEXT, posted_at TEXT, screenshot TEXT, crop TEXT)"
        )
        self.captures = 0

    def keep(
        self, page: Page, cdp: Any, thread: str, testid: str, items: list[dict[str, Any]]
    ) -> None:
        boxes = page.eval_on_selector_all(f"[data-testid={testid}]", _BOXES)
        height = 900.0
        order = sorted(range(len(items)), key=lambda k: boxes[k][1])
        files: dict[int, tuple[str, str | None]] = {}
        i = 0
        while i < len(order):
            top = max(0.0, boxes[order[i]][1] - 40)
            members = [order[i]]
            i += 1
            while i < len(order) and boxes[order[i]][1] + boxes[order[i]][3] <= top + height:
                members.append(order[i])
                i += 1
            shown = float(
                page.evaluate("(y) => { window.scrollTo(0, y); return window.scrollY; }", top)
            )
            shot = cdp.send("Page.captureScreenshot", {"format": "png", "optimizeForSpeed": True})
            self.captures += 1
            png = base64.b64decode(shot["data"])
            on_screen: list[Box | None] = []
            for k in members:
                x, y, w, h = boxes[k]
                on_screen.append((x, y - shown, w, h))
            written = write_screen(self.store, png, on_screen)
            for k, crop in zip(members, written.crops, strict=True):
                files[k] = (str(written.screen), str(crop) if crop else None)
        rows = [
            (f"{thread}/{m['id']}", thread, testid, m["id"], m["parent"], m["author"], m["text"],
             m["time"], *files[k])
            for k, m in enumerate(items)
        ]  # fmt: skip
        with self.db:
            self.db.executemany(
                "INSERT OR IGNORE INTO item VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )

    def close(self) -> None:
        self.db.close()


def plain_sweep(
    url: str, client: SandboxClient, profile: Path, evidence: PlainEvidence | None = None
) -> int:
    """The same collection as the sandbox-inbox flow, without the framework (and, with
    ``evidence``, the same screenshots and rows)."""
    token = client.session("acme")["token"]
    args = launch_args()
    items: list[dict[str, Any]] = []
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(profile), executable_path=chromium_path(), headless=True, args=args,
            viewport={"width": 1280, "height": 900},
        )  # fmt: skip
        ctx.add_cookies([{"name": "sandbox_session", "value": token, "url": url}])
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        cdp = ctx.new_cdp_session(page) if evidence is not None else None
        for listing, link, testid in (
            ("/inbox", "dm-thread-link", "message-item"),
            ("/posts", "post-link", "comment-item"),
        ):
            page.goto(url + listing)
            hrefs = [a.get_attribute("href") for a in page.get_by_test_id(link).all()]
            for href in hrefs:
                page.goto(url + str(href))
                read = _read_feed(page, testid)
                if evidence is not None:
                    evidence.keep(page, cdp, str(href), testid, read)
                items.extend(read)
        ctx.close()
    return len({i["id"] for i in items})


def fill(client: SandboxClient, n: int) -> None:
    client.reset()
    post = client.add_post("acme", "Bench post")["id"]
    client.bulk("acme", "comment", n // 2, seed=1, thread=post)
    first = client.post_message("acme", "dm", "bench.dm", "first")
    if n // 2 > 1:
        client.bulk("acme", "dm", n // 2 - 1, seed=2, thread=first["container_id"])


def bench_overhead(url: str, client: SandboxClient, tmp: Path, profile: Path) -> list[str]:
    rows: list[str] = []
    for n in SIZES:
        fill(client, n)
        repeats = 2 if n < 1000 else 1
        plain_s = shots_s = fw_s = float("inf")
        captures = screens = 0
        for r in range(repeats):
            took, got = timed(partial(plain_sweep, url, client, tmp / f"plain-{n}-{r}"))
            assert got == n, f"plain script read {got} of {n}"
            plain_s = min(plain_s, took)
            (tmp / f"shots-{n}-{r}").mkdir()
            evidence = PlainEvidence(tmp / f"shots-{n}-{r}")
            took, got = timed(
                partial(plain_sweep, url, client, tmp / f"shots-profile-{n}-{r}", evidence)
            )
            evidence.close()
            assert got == n, f"plain script with evidence read {got} of {n}"
            shots_s, captures = min(shots_s, took), evidence.captures
            rt = new_runtime(tmp / f"fw-{n}-{r}", profile)
            took, result = timed(rt.sweeper().sweep, WS)
            assert result.status == "ok" and result.new_items == n, result
            fw_s, screens = min(fw_s, took), result.screens
        show(rows, f"(a) N={n:<5} plain {plain_s:6.2f}s  plain+evidence {shots_s:6.2f}s  "
                    f"framework {fw_s:6.2f}s  ratio {fw_s / plain_s:5.2f}x fields-only, "
                    f"{fw_s / shots_s:5.2f}x same evidence  ({fw_s / n * 1000:.1f} ms/item; "
                    f"screens {screens}, plain {captures})")  # fmt: skip
    return rows


# -- (b) history -------------------------------------------------------------------------


def store_history(rt: Runtime, client: SandboxClient, *, decided: bool = True) -> int:
    """Store every message now on the platform as a sweep would have: the items with the
    keys a sweep computes and, with ``decided``, triage's decision for each."""
    messages = client.state()["messages"]
    rows = [
        ItemCreate(
            workspace=WS,
            platform="sandbox",
            account="@acme",
            thread=f"/{'posts' if m['kind'] == 'comment' else 'inbox'}/{m['container_id']}",
            kind="dm" if m["kind"] == "dm" else "comment",
            message_id=m["id"],
            author=m["author"],
            text=m["text"],
        )  # fmt: skip
        for m in messages
    ]
    with rt.store.session() as s:
        stored = [item for item, _ in add_items(s, rows)]
    if decided:
        rt.triage().batch(stored)
    return len(messages)


def ten_new(client: SandboxClient, posts: list[str], threads: list[str]) -> None:
    for i in range(5):
        client.post_message("acme", "comment", f"new{i}", f"new comment {i}", thread=posts[i])
        client.post_message("acme", "dm", f"author{i}", f"new dm {i}", thread=threads[i])


def _inbox(client: SandboxClient, history: bool) -> tuple[list[str], list[str]]:
    """Ten posts and fifty conversations (each opened with a greeting); with ``history``
    also 500 comments on each post and 99 more DMs in each conversation: 10,000 in all.
    The same places either way, so the two sweeps differ only in what is stored."""
    client.reset()
    posts = [client.add_post("acme", f"post {i}")["id"] for i in range(10)]
    threads = []
    for i in range(50):
        threads.append(client.post_message("acme", "dm", f"author{i}", "hi")["container_id"])
    if history:
        for i, post in enumerate(posts):
            client.bulk("acme", "comment", 500, seed=i, thread=post)
        for i, thread in enumerate(threads):
            client.bulk("acme", "dm", 99, seed=100 + i, thread=thread)
    return posts, threads


def bench_history(client: SandboxClient, tmp: Path, profile: Path) -> list[str]:
    times: dict[bool, float] = {}
    seen: dict[bool, int] = {}
    old = 0
    for history in (False, True):
        posts, threads = _inbox(client, history)
        rt = new_runtime(tmp / f"history-{history}", profile)
        stored = store_history(rt, client)  # what earlier sweeps stored and decided
        old = stored if history else old
        ten_new(client, posts, threads)
        took, result = timed(rt.sweeper().sweep, WS)
        assert result.status == "ok" and result.new_items == 10, result
        times[history], seen[history] = took, result.seen_items
    empty_s, full_s = times[False], times[True]
    rows: list[str] = []
    line = f"(b) 10 new on an empty inbox {empty_s:6.2f}s  on {old:,} stored {full_s:6.2f}s"
    show(rows, f"{line}  ratio {full_s / empty_s:5.2f}x  (stored items read: {seen[True]})")

    # Catch-up: the same 10,000 stored by a sweep that was killed before triaging them.
    rt = new_runtime(tmp / "undecided", profile)
    undecided = store_history(rt, client, decided=False)
    took, caught = timed(rt.triage().catch_up, WS)
    assert caught == undecided, f"caught up {caught} of {undecided}"
    show(rows, f"(b) catch-up of {caught:,} undecided items {took:6.2f}s  "
                f"{caught / took:7.0f} items/s")  # fmt: skip
    return rows


# -- (c) memory ---------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    out: list[int] = []
    with suppress(OSError):  # the process may be gone
        for task in Path(f"/proc/{pid}/task").iterdir():
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def _kind(pid: int) -> str:
    """``python``, ``driver`` (Playwright's node process) or ``chromium``, by executable."""
    name = Path(Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()).name
    return "driver" if name == "node" else "chromium" if "chrom" in name else "python"


def tree_pss_kb(root: int, skip: set[int]) -> dict[str, int]:
    """PSS of ``root`` and every process below it (``skip`` and its tree left out), by kind."""
    total: dict[str, int] = {"python": 0, "driver": 0, "chromium": 0}
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid in skip:
            continue
        try:
            kind = _kind(pid)
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total[kind] += int(line.split()[1])
            todo += _children(pid)
        except OSError:
            continue
    return total


def _peak(sandbox_pid: int) -> dict[str, int]:
    """The largest total PSS over a second of samples (pages settle), with its parts."""
    peak: dict[str, int] = {}
    for _ in range(10):
        now = tree_pss_kb(os.getpid(), {sandbox_pid})
        if sum(now.values()) > sum(peak.values()):
            peak = now
        time.sleep(0.1)  # sampling memory over time, not synchronising work
    return peak


def _memory_row(what: str, k: int, peak: dict[str, int]) -> str:
    total = sum(peak.values()) / 1024
    parts = ", ".join(f"{kind} {kb / 1024:.0f}" for kind, kb in peak.items())
    return (
        f"(c) {k} {what}(s) open: total PSS {total:7.1f} MiB  "
        f"per {what} {total / k:6.1f} MiB  ({parts})"
    )


def bench_memory(url: str, client: SandboxClient, tmp: Path, sandbox_pid: int) -> list[str]:
    fill(client, 100)
    post = client.state()["posts"][0]["id"]
    rows: list[str] = []
    for k in (1, 4, 8):
        ready, done = threading.Barrier(k + 1), threading.Event()
        errors: list[BaseException] = []

        # Homes are made here: store migrations (alembic) must not run in parallel threads.
        settings = [
            browser_settings(rt.home, rt.catalog.workspace(WS))
            for rt in (new_runtime(tmp / f"mem-{k}-{i}") for i in range(k))
        ]

        def hold(
            i: int,
            ready: Any = ready,
            done: Any = done,
            errors: Any = errors,
            settings: Any = settings,
        ) -> None:
            try:
                with PlaywrightDriver(settings[i]) as d:
                    token = client.session("acme")["token"]
                    d.page.context.add_cookies([{"name": "sandbox_session", "value": token,
                                                 "url": url}])  # fmt: skip
                    d.page.goto(f"{url}/posts/{post}")
                    ready.wait()
                    done.wait()
            except BaseException as exc:
                errors.append(exc)
                ready.abort()

        workers = [threading.Thread(target=hold, args=(i,)) for i in range(k)]
        for w in workers:
            w.start()
        ready.wait(timeout=180)
        peak = _peak(sandbox_pid)
        done.set()
        for w in workers:
            w.join()
        if errors:
            raise errors[0]
        show(rows, _memory_row("profile", k, peak))
    for k in (1, 4, 8):  # isolation: context, one shared Chromium in this thread
        settings = [
            replace(browser_settings(rt.home, rt.catalog.workspace(WS)), isolation="context")
            for rt in (new_runtime(tmp / f"ctx-{k}-{i}") for i in range(k))
        ]
        with ExitStack() as stack:
            for one in settings:
                d = stack.enter_context(PlaywrightDriver(one))
                token = client.session("acme")["token"]
                d.page.context.add_cookies([{"name": "sandbox_session", "value": token,
                                             "url": url}])  # fmt: skip
                d.page.goto(f"{url}/posts/{post}")
            peak = _peak(sandbox_pid)
        stop_shared()
        show(rows, _memory_row("context workspace", k, peak))
    return rows


def _memory_main(url: str, tmp: str, sandbox_pid: int) -> None:
    os.environ["INBOX_AGENT_SANDBOX_URL"] = url
    os.environ.setdefault("SANDBOX_PASSWORD", "sandbox")
    client = SandboxClient(url)
    try:
        bench_memory(url, client, Path(tmp), sandbox_pid)
    finally:
        client.close()


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    try:
        with sandbox() as (url, client, pid):
            os.environ["INBOX_AGENT_SANDBOX_URL"] = url
            os.environ.setdefault("SANDBOX_PASSWORD", "sandbox")  # the sandbox's practice password
            profile = signed_in_template(tmp / "template")
            bench_overhead(url, client, tmp, profile)
            bench_history(client, tmp, profile)
            # (c) in a fresh interpreter: this one holds what (a) and (b) left behind (10,000
            # items' worth of Python objects), which an agent process would not
            spawn = multiprocessing.get_context("spawn")
            child = spawn.Process(target=_memory_main, args=(url, str(tmp), pid))
            child.start()
            child.join()
            if child.exitcode != 0:
                raise RuntimeError(f"the memory bench failed (exit code {child.exitcode})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
