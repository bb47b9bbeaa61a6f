"""Webhook fixtures: a clock the tests move (nothing sleeps), a real HTTP receiver on
127.0.0.1 that verifies every signature with ``agent.webhooks.signing.verify``, a home
written by ``init_home`` and helpers to read the store's events and deliveries."""

from __future__ import annotations

import base64
import json
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from agent.config import Catalog
from agent.runtime import Runtime, home_log, open_runtime
from agent.scaffold import init_home
from agent.store import Store, open_store
from agent.store.models import WebhookDelivery, WebhookEvent
from agent.webhooks.errors import VerificationError
from agent.webhooks.signing import verify
from workspaces.paths import Home

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
SECRET_ENV = "TEST_OPS_WEBHOOK_SECRET"


class Clock:
    """The injected clock: ``advance`` moves it; the sender reads nothing else."""

    def __init__(self, at: datetime | None = None) -> None:
        self.at = at or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int
    verified: str  # "ok" or why verify() refused it

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A real HTTP server in a thread. ``script`` holds the statuses to answer, in order
    (then 200); ``secret`` is what it verifies signatures with, at ``clock``'s time."""

    clock: Callable[[], datetime]
    secret: str | None = SECRET
    script: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/inbox?team=ops"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified = "ok"
                if receiver.secret is not None:
                    try:
                        verify(receiver.secret, headers, body, now=receiver.clock())
                    except VerificationError as exc:
                        verified = str(exc)
                status = receiver.script.pop(0) if receiver.script else 200
                receiver.received.append(Received(self.path, headers, body, status, verified))
                self.send_response(status)
                self.send_header("content-type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"try again later")

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def delivered_ids(self) -> list[str]:
        """The webhook-id of every request answered 2xx, in order."""
        return [r.headers["webhook-id"] for r in self.received if 200 <= r.answered < 300]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def receiver(clock: Clock) -> Iterator[Receiver]:
    r = Receiver(clock).start()
    yield r
    r.stop()


@dataclass(frozen=True)
class Template:
    home: Home
    catalog: Catalog


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """One home with the example workspaces, its catalog loaded and its store migrated, for
    every test here to copy (loading and migrating once keeps the tests fast)."""
    home = Home(tmp_path_factory.mktemp("template") / "home")
    init_home(home)
    rt = open_runtime(home)
    rt.store.close()
    return Template(home, rt.catalog)


@pytest.fixture
def rt(tmp_path: Path, template: Template) -> Iterator[Runtime]:
    """A copy of the template home: the example workspaces and a migrated SQLite store."""
    home = Home(tmp_path / "home")
    shutil.copytree(template.home.root, home.root)
    store = open_store(home.db_url)
    yield Runtime(home, template.catalog, store, home_log(home, store))
    store.close()


@pytest.fixture
def backend_rt(tmp_path: Path, template: Template, db_url: str) -> Iterator[Runtime]:
    """Like ``rt``, with the store on each backend (SQLite, and a fresh PostgreSQL database)."""
    home = Home(tmp_path / "home")
    shutil.copytree(template.home.root, home.root)
    store = open_store(db_url)
    yield Runtime(home, template.catalog, store, home_log(home, store))
    store.close()


def write_webhooks(home: Home, text: str) -> Path:
    path = home.root / "webhooks.yaml"
    path.write_text(text)
    return path


def events(store: Store) -> list[WebhookEvent]:
    with store.session() as s:
        return list(s.exec(select(WebhookEvent).order_by(col(WebhookEvent.id))).all())


def deliveries(store: Store) -> list[WebhookDelivery]:
    with store.session() as s:
        return list(s.exec(select(WebhookDelivery).order_by(col(WebhookDelivery.id))).all())
