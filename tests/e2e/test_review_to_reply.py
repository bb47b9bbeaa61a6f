"""The whole path, for real: a sweep collects a DM in Chromium, triage drafts a reply, a
reviewer edits and approves it in the review UI in Chromium, `inbox-agent send` posts it, and
the sandbox receives it exactly once; another client's reviewer never sees the item.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import sync_playwright
from sqlmodel import select

from agent.review import create_app
from agent.review.auth import add_user, grant
from agent.runtime import open_runtime
from agent.scaffold import init_home
from agent.store import Decision, Item, OutboxEntry
from devices.playwright_driver import QUIET_ARGS, chromium_path
from sandbox.testing import RunningSandbox
from workspaces.paths import Home

pytestmark = pytest.mark.browser
ACME = "sandbox-acme-web"
PASSWORD = "correct horse battery staple"


def _serve(app: object) -> tuple[str, uvicorn.Server, threading.Thread]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    return f"http://127.0.0.1:{port}", server, thread


def _send(home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from agent.cli import main; main()",
            "--home",
            str(home),
            "send",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ},
    )


def test_sweep_review_approve_send_exactly_once(tmp_path: Path, sandbox: RunningSandbox) -> None:
    home = Home(tmp_path / "home")
    init_home(home)
    rt = open_runtime(home)
    sweeper = rt.sweeper()
    assert sweeper.login(ACME).status == "ok"
    sandbox.client.post_message(
        account="acme",
        kind="dm",
        author="dana",
        # an ordinary question (a message near a stop gets no draft: docs/triage-eval.md)
        text="Hi! Loving the hoodie from order #4411, do you have it in blue too?",
    )
    assert sweeper.sweep(ACME).new_items == 1
    with rt.store.session() as s:
        item, decision = s.exec(select(Item, Decision).join(Decision)).one()
        grant(s, add_user(s, "ann", "reviewer", PASSWORD), ACME)
        grant(s, add_user(s, "eve", "reviewer", PASSWORD), "sandbox-globex-web")
    assert decision.draft and decision.draft_source  # order_issue is an approved intent

    base, server, thread = _serve(create_app(rt))
    edited = "Hi Dana, thank you! The blue one is back in stock for order 4411's size."
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=chromium_path(), args=[*QUIET_ARGS, "--no-sandbox"]
            )
            for name in ("eve", "ann"):
                page = browser.new_context().new_page()
                page.goto(f"{base}/login")
                page.fill("input[name=username]", name)
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(f"{base}/")
                if name == "eve":  # another client's reviewer: no queue entry, no item page
                    assert "order #4411" not in page.content()
                    response = page.goto(f"{base}/items/{item.id}")
                    assert response is not None and response.status == 404
                    continue
                assert "order #4411" in page.content()
                page.goto(f"{base}/items/{item.id}")
                shots = page.locator("img")
                assert shots.count() >= 2  # the crop and the full screen
                loaded = shots.evaluate_all("(imgs) => imgs.map((i) => i.naturalWidth)")
                assert all(width > 0 for width in loaded)
                page.fill("textarea[name=text]", edited)
                page.click("button:has-text('Approve reply')")
                page.wait_for_load_state()
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)

    with rt.store.session() as s:
        (entry,) = s.exec(select(OutboxEntry)).all()
    assert entry.text == edited and entry.approved_by == "ann" and entry.state == "approved"

    first = _send(home.root)
    assert first.returncode == 0, first.stderr
    again = _send(home.root)
    assert again.returncode == 0, again.stderr
    replies = sandbox.client.replies("acme")
    assert [r["text"] for r in replies] == [edited]
    with rt.store.session() as s:
        assert s.get(OutboxEntry, entry.id).state == "sent"  # type: ignore[union-attr]
        assert s.get(Item, item.id).status == "replied"  # type: ignore[union-attr]
    actors = {(e.type, e.actor) for e in rt.log.events(ACME)}
    assert ("approval", "user:ann") in actors and ("reply_sent", "system") in actors
