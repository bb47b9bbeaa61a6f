"""A site we did not write: static pages served as a foreign site serves them, swept in Chromium.

Each test writes its pages (``site.pages[path] = html``), a selector pack and a
flow for a custom platform (``forum``), into a fresh home; nothing here knows
the sandbox. The pages change between sweeps the way a real site does (a comment
appears at the top, the end or the middle), and replies are recorded by the
site when its own page script posts them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import select

from agent.runtime import Runtime, open_runtime
from agent.store import Item
from agent.sweep import SweepResult
from runlogs import ActivityLog
from workspaces.paths import Home

WS = "forum-acme"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytest.mark.browser)


@dataclass
class Site:
    """Pages by path (html, content type); what the page scripts posted to /sent."""

    url: str = ""
    pages: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)
    hanging: dict[str, threading.Event] = field(default_factory=dict)
    status: dict[str, int] = field(default_factory=dict)  # an HTTP status other than 200

    def page(self, path: str, html: str, content_type: str = "text/html; charset=utf-8") -> None:
        self.pages[path] = (html.encode("utf-8"), content_type)


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = self.path.split("?")[0]
            if path in site.hanging:  # a third-party asset that never arrives
                site.hanging[path].wait(30)
                self.send_error(504)
                return
            if path not in site.pages:
                self.send_error(404)
                return
            body, ctype = site.pages[path]
            self.send_response(site.status.get(path, 200))
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            site.sent.append(json.loads(self.rfile.read(length) or b"{}"))
            self.send_response(204)
            self.end_headers()

    return Handler


@pytest.fixture
def site() -> Iterator[Site]:
    s = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(s))
    s.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield s
    finally:
        for released in s.hanging.values():
            released.set()
        server.shutdown()
        server.server_close()


def write_home(
    root: Path,
    site: Site,
    *,
    pack: dict[str, Any],
    inbox: list[dict[str, Any]],
    reply: list[dict[str, Any]] | None = None,
    handles: list[str] | None = None,
) -> Runtime:
    """A home with one workspace on the custom platform ``forum``, its pack and flows."""
    home = Home(root)
    for kind in ("workspaces", "flows", "selectors"):
        (root / kind).mkdir(parents=True, exist_ok=True)
    flows: dict[str, str] = {"inbox": "forum-inbox"}
    (root / "flows" / "forum-inbox.yaml").write_text(
        yaml.safe_dump({"id": "forum-inbox", "kind": "inbox", "steps": inbox})
    )
    if reply is not None:
        flows["reply"] = "forum-reply"
        doc = {"id": "forum-reply", "kind": "reply", "steps": reply}
        doc["handles"] = handles or ["dm", "comment"]
        (root / "flows" / "forum-reply.yaml").write_text(yaml.safe_dump(doc))
    (root / "selectors" / "forum-web.yaml").write_text(
        yaml.safe_dump({"id": "forum-web", "platform": "forum", "surface": "web", **pack})
    )
    workspace = {
        "id": WS,
        "client": "Acme",
        "platform": "forum",
        "surface": "web",
        "environment": {
            "kind": "browser_profile",
            "start_url": site.url,
            "expected_account": "@acme",
        },
        "flows": flows,
        "selectors": "forum-web",
        "timezone": "Europe/Berlin",
    }
    (root / "workspaces" / f"{WS}.yaml").write_text(yaml.safe_dump(workspace))
    return open_runtime(home)


FIXED_NOW = datetime(2021, 6, 5, 12, 0, tzinfo=UTC)


def sweep(rt: Runtime, *, full: bool = False, now: datetime = FIXED_NOW) -> SweepResult:
    sweeper = rt.sweeper(triage=False)
    sweeper.full_pass = full
    sweeper.clock = lambda: now
    return sweeper.sweep(WS)


def items(rt: Runtime, workspace: str = WS) -> list[Item]:
    with rt.store.session() as s:
        query = select(Item).where(Item.workspace == workspace).order_by(Item.id)  # type: ignore[arg-type]
        return list(s.exec(query).all())


def events(rt: Runtime, result: SweepResult, type_: str) -> list[dict[str, Any]]:
    return [
        dict(e.data)
        for e in ActivityLog(rt.home.logs_dir).events(WS)
        if e.run_id == result.run_id and e.type == type_
    ]
