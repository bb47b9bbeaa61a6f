"""Run the sandbox in-process: ``serve`` for the CLI, ``running_sandbox`` for tests.

``running_sandbox`` starts uvicorn in a background thread on a free loopback port, waits until
the admin API answers, yields a ``RunningSandbox`` (base URL, admin client, the state itself),
and on exit releases any never-finishing response and stops the server within a few seconds.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn

from sandbox.app import COOKIE, create_app
from sandbox.client import SandboxClient
from sandbox.errors import SandboxUnavailable
from sandbox.seeding import SeedSize, seed_state
from sandbox.state import SandboxState


@dataclass
class RunningSandbox:
    url: str
    client: SandboxClient
    state: SandboxState
    cookie_name: str = COOKIE

    def session_cookie(self, account: str) -> dict[str, str]:
        """A Playwright-ready cookie logging a browser context into ``account``."""
        token = self.client.session(account)["token"]
        return {"name": self.cookie_name, "value": token, "url": self.url}


def build_state(
    seed: int | None = 1,
    *,
    empty: bool = False,
    size: SeedSize | None = None,
    accounts: tuple[str, ...] | None = None,
) -> SandboxState:
    state = SandboxState(accounts) if accounts else SandboxState()
    if not empty and seed is not None:
        seed_state(state, seed, size)
    return state


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    seed: int | None = 1,
    empty: bool = False,
    token: str | None = None,
    accounts: tuple[str, ...] | None = None,
) -> None:
    """Serve the sandbox in the foreground until interrupted.

    The socket is bound here, so a busy port is an ``OSError`` for the caller to report
    (uvicorn would exit the process instead).
    """
    app = create_app(build_state(seed, empty=empty, accounts=accounts), admin_token=token)
    sock = _bind(host, port)
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        app.state.stopping.set()
        sock.close()


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
    except OSError:
        sock.close()
        raise
    return sock


@contextlib.contextmanager
def running_sandbox(
    seed: int | None = 1,
    *,
    empty: bool = False,
    size: SeedSize | None = None,
    token: str | None = None,
    startup_timeout: float = 15.0,
    accounts: tuple[str, ...] | None = None,
) -> Iterator[RunningSandbox]:
    """A sandbox on a free port for the duration of the ``with`` block (``accounts``: its
    brand accounts, instead of acme, globex and initech)."""
    state = build_state(seed, empty=empty, size=size, accounts=accounts)
    app = create_app(state, admin_token=token)
    sock = _bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"sandbox-{port}"
    )
    thread.start()
    url = f"http://127.0.0.1:{port}"
    client = SandboxClient(url, token=token or "")
    try:
        _wait_until_up(client, thread, startup_timeout)
        yield RunningSandbox(url=url, client=client, state=state)
    finally:
        app.state.stopping.set()
        server.should_exit = True
        thread.join(timeout=10)
        client.close()
        sock.close()


def _wait_until_up(client: SandboxClient, thread: threading.Thread, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if not thread.is_alive():
            raise SandboxUnavailable("the sandbox server thread exited during start-up")
        try:
            if client.health():
                return
        except SandboxUnavailable:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.05)
