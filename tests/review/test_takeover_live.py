"""The live view's socket over a real uvicorn server: who may watch, who may drive, origins,
bad messages, the idle timeout on an injected clock, a hand-back from elsewhere, and the
screencast's acknowledgement waiting for the slowest socket.

The workspace's environment is a recording stand-in here (``FakeScreen``): these tests are
about the transport and its rules; ``test_takeover_live_browser.py`` drives real Chromium.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from review_world import ACME, World
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from agent import takeover
from agent.review import create_app
from agent.review.takeover_live import (
    IDLE_SECONDS,
    LiveRoom,
    LiveTakeovers,
    Watcher,
    logged_url,
    parse_message,
)
from agent.store import User
from devices.live_view import Frame, FrameSink
from runlogs import ActivityLog
from tests.serving import serving

SECRET = "hunter2-Quartz-5521"  # typed by the driver: must reach the screen and no log


@dataclass
class FakeScreen:
    """A screen that records what it was asked and sends a frame per acknowledgement."""

    kind: str = "browser"
    size: tuple[int, int] = (1280, 900)
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    acks: int = 0
    closed: bool = False
    sink: FrameSink | None = None

    async def start(self, on_frame: FrameSink) -> None:
        self.sink = on_frame
        await on_frame(Frame(b"frame-0", *self.size))

    async def frame_sent(self) -> None:
        self.acks += 1
        if self.sink is not None and self.acks < 5:
            await self.sink(Frame(f"frame-{self.acks}".encode(), *self.size))

    async def mouse(self, *args: Any) -> None:
        self.calls.append(("mouse", *args))

    async def wheel(self, *args: Any) -> None:
        self.calls.append(("wheel", *args))

    async def key(self, *args: Any) -> None:
        self.calls.append(("key", *args))

    async def text(self, text: str) -> None:
        self.calls.append(("text", text))

    async def go(self, url: str) -> None:
        self.calls.append(("go", url))

    async def back(self) -> None:
        self.calls.append(("back",))

    async def reload(self) -> None:
        self.calls.append(("reload",))

    async def location(self) -> tuple[str, str]:
        return "https://platform.example/login?next=/inbox", "Log in"

    async def screenshot(self) -> bytes:
        return b"\x89PNG\r\n\x1a\n"

    def on_navigation(self, callback: Callable[[str], None]) -> None:
        return None

    async def close(self) -> None:
        self.closed = True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Live:
    world: World
    app: FastAPI
    base: str
    screens: list[FakeScreen]
    clock: Clock
    hub: LiveTakeovers

    def user(self, name: str) -> User:
        with self.world.store.session() as s:
            from agent.review.auth import get_user

            user = get_user(s, name)
            assert user is not None
            s.expunge(user)
            return user

    def cookie(self, name: str) -> str:
        user_id = self.user(name).id
        assert user_id is not None
        return self.app.state.review.sessions.create(user_id).token

    def connect(
        self,
        name: str | None,
        *,
        origin: str | None = "self",
        headers: dict[str, str] | None = None,
    ) -> ClientConnection:
        extra = dict(headers or {})
        if name is not None:
            extra["Cookie"] = f"ia_session={self.cookie(name)}"
        url = self.base.replace("http://", "ws://") + f"/workspaces/{ACME}/live/socket"
        return connect(
            url,
            additional_headers=extra,
            origin=self.base if origin == "self" else origin,  # type: ignore[arg-type]
            open_timeout=10,
        )


@pytest.fixture
def db_url() -> str:
    return "sqlite"  # the socket tests run on the SQLite store (as the browser tests)


@pytest.fixture
def live(world: World) -> Iterator[Live]:
    world.user("vic", "viewer", ACME)
    screens: list[FakeScreen] = []

    def opener(workspace: str) -> FakeScreen:
        screens.append(FakeScreen())
        return screens[-1]

    clock = Clock()
    hub = LiveTakeovers(
        world.runtime, opener=opener, clock=clock, idle_seconds=60, check_seconds=3600
    )
    app = create_app(world.runtime, secure_cookies=False, live_view=hub)
    with serving(app) as base:
        yield Live(world, app, base, screens, clock, hub)


def until(condition: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    """Poll ``condition`` until it is true (a deadline, not a sleep to wait out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"never: {what}")


def texts_until(ws: ClientConnection, want: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Read messages (skipping frames) until one ``want``s; fails after 10 s."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        message = ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        if isinstance(message, str):
            data = json.loads(message)
            if want(data):
                return data
    raise AssertionError("no such message")


def first_frame(ws: ClientConnection) -> bytes:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        message = ws.recv(timeout=10)
        if isinstance(message, bytes):
            return message
    raise AssertionError("no frame")


def test_without_the_grant_the_socket_is_refused_and_nothing_opens(live: Live) -> None:
    takeover.take_over(live.world.runtime, ACME, live.user("alice"))
    for name in ("eve", None):  # another client's reviewer; nobody signed in
        with pytest.raises(InvalidStatus) as refused:
            live.connect(name)
        assert refused.value.response.status_code == 403
    assert live.screens == []  # no environment was started for them, so no frame exists


def test_every_socket_the_app_serves_is_refused_without_a_session_or_a_grant(live: Live) -> None:
    from fastapi import routing

    contexts = (
        list(routing.iter_route_contexts(live.app.routes))
        if hasattr(routing, "iter_route_contexts")
        else list(live.app.routes)
    )
    sockets = [
        r.path
        for r in (getattr(c, "route", c) for c in contexts)
        if isinstance(r, routing.APIWebSocketRoute)
    ]
    assert sockets == ["/workspaces/{workspace}/live/socket"]  # a new one: test it here
    takeover.take_over(live.world.runtime, ACME, live.user("alice"))
    cookie = {"Cookie": f"ia_session={live.cookie('eve')}"}
    for headers in ({}, {"Cookie": "ia_session=forged"}, cookie):
        url = live.base.replace("http://", "ws://") + f"/workspaces/{ACME}/live/socket"
        with pytest.raises(InvalidStatus):
            connect(url, additional_headers=headers, origin=live.base, open_timeout=10)  # type: ignore[arg-type]
    assert live.screens == []


def test_another_origin_is_refused_and_a_proxy_host_is_accepted(live: Live) -> None:
    takeover.take_over(live.world.runtime, ACME, live.user("alice"))
    for origin in ("https://evil.example", None, "null"):
        with pytest.raises(InvalidStatus) as refused:
            live.connect("alice", origin=origin)
        assert refused.value.response.status_code == 403
    assert live.screens == []
    # Behind a reverse proxy: the browser's origin is the proxy's host, which it forwards.
    proxied = {"X-Forwarded-Host": "review.example.org", "X-Forwarded-Proto": "https"}
    with live.connect("alice", origin="https://review.example.org", headers=proxied) as ws:
        state = texts_until(ws, lambda m: m["type"] == "state")
        assert state["you_drive"] is True


def test_the_holder_drives_and_a_viewer_watches_without_driving(live: Live) -> None:
    takeover.take_over(live.world.runtime, ACME, live.user("alice"))
    with live.connect("alice") as driver, live.connect("vic") as watcher:
        state = texts_until(watcher, lambda m: m["type"] == "state" and "vic" in m["watching"])
        assert first_frame(watcher).startswith(b"frame-")  # the state goes first, then a frame
        assert (state["driver"], state["you_drive"]) == ("alice", False)
        assert "vic" in state["watching"]

        watcher.send(json.dumps({"type": "mouse", "action": "down", "x": 10, "y": 20}))
        refused = texts_until(watcher, lambda m: m["type"] == "error")
        assert refused["why"] == "watching only: alice drives"
        driver.send(json.dumps({"type": "mouse", "action": "down", "x": 10, "y": 20}))
        driver.send(json.dumps({"type": "text", "text": SECRET}))
        screen = live.screens[0]
        until(lambda: len(screen.calls) == 2, "the driver's two inputs reached the screen")
        assert screen.calls[0][:4] == ("mouse", "down", 10, 20)
        assert screen.calls[1] == ("text", SECRET)
    assert len(live.screens) == 1  # one environment for both sockets


def test_a_second_reviewer_cannot_take_control_while_the_first_drives(live: Live) -> None:
    takeover.take_over(live.world.runtime, ACME, live.user("alice"))
    from fastapi.testclient import TestClient
    from review_world import csrf_of, login

    with TestClient(live.app, base_url="https://testserver") as bob_web:
        login(bob_web, "bob")
        page = bob_web.get(f"/workspaces/{ACME}/live")
        assert "alice drives this session: you watch." in page.text
        r = bob_web.post(
            f"/workspaces/{ACME}/takeover",
            data={"csrf_token": csrf_of(page.text)},
            follow_redirects=False,
        )
        assert r.status_code == 409 and "taken over by alice" in r.text
    with live.connect("alice"), live.connect("bob") as bob:
        texts_until(bob, lambda m: m["type"] == "state")
        bob.send(json.dumps({"type": "key", "action": "down", "key": "a"}))
        assert texts_until(bob, lambda m: m["type"] == "error")["why"].startswith("watching only")
        assert live.screens[0].calls == []


def test_bad_messages_get_a_clear_error_that_never_echoes_them(live: Live) -> None:
    takeover.take_over(live.world.runtime, ACME, live.user("alice"))
    with live.connect("alice") as ws:
        for bad in (
            "not json",
            json.dumps({"type": "text", "text": SECRET, "extra": 1}),
            json.dumps({"type": "text", "text": "x" * 10_001}),
            json.dumps({"type": "mouse", "action": "down", "x": -5, "y": 1}),
            json.dumps({"type": "launch_missiles"}),
        ):
            ws.send(bad)
            error = texts_until(ws, lambda m: m["type"] == "error")
            assert error["why"].startswith("not a live-view message")
            assert SECRET not in error["why"]
        ws.send(b"\x00binary")
        assert texts_until(ws, lambda m: m["type"] == "error")["why"] == "send JSON text messages"
        assert live.screens[0].calls == []


def test_idle_for_too_long_hands_back_and_closes_the_environment(live: Live) -> None:
    takeover.take_over(live.world.runtime, ACME, live.user("alice"))
    with live.connect("alice") as ws:
        texts_until(ws, lambda m: m["type"] == "state")
        ws.send(json.dumps({"type": "key", "action": "down", "key": "x"}))
        until(lambda: live.screens[0].calls, "the key reached the screen")
        live.clock.now += 59  # a minute's idle timeout, not yet reached
        run_on_server(live, live.hub.check_once())
        assert ACME in live.hub.rooms
        live.clock.now += 2
        run_on_server(live, live.hub.check_once())
        ended = texts_until(ws, lambda m: m["type"] == "ended")
        assert ended["why"] == "idle"
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
    assert live.screens[0].closed
    with live.world.store.session() as s:
        from agent.review.queries import active_takeover

        assert active_takeover(s, ACME) is None  # sweeps may run again
    [end] = [
        e for e in ActivityLog(live.world.home.logs_dir).events(ACME) if e.type == "live_view_ended"
    ]
    assert (end.actor, end.data["why"], end.data["input_events"]) == ("user:alice", "idle", 1)


def test_a_hand_back_elsewhere_ends_the_view_and_nothing_typed_is_logged(live: Live) -> None:
    takeover.take_over(live.world.runtime, ACME, live.user("alice"))
    with live.connect("alice") as ws:
        texts_until(ws, lambda m: m["type"] == "state")
        for ch in SECRET:
            ws.send(json.dumps({"type": "key", "action": "down", "key": ch}))
        ws.send(json.dumps({"type": "text", "text": SECRET}))
        until(lambda: len(live.screens[0].calls) == len(SECRET) + 1, "every key arrived")
        takeover.hand_back(live.world.runtime, ACME, live.user("alice"))  # from a terminal
        run_on_server(live, live.hub.check_once())
        assert texts_until(ws, lambda m: m["type"] == "ended")["why"] == "handed back"
    assert live.screens[0].closed
    events = list(ActivityLog(live.world.home.logs_dir).events(ACME))
    [end] = [e for e in events if e.type == "live_view_ended"]
    assert end.data["input_events"] == len(SECRET) + 1
    for path in live.world.home.logs_dir.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes()
            assert json.dumps(SECRET)[1:-1].encode() not in path.read_bytes()


def run_on_server(live: Live, work: Any) -> None:
    """Run a coroutine on the server's event loop (the rooms live there), and wait."""
    loop = live.hub._loop
    assert loop is not None
    asyncio.run_coroutine_threadsafe(work, loop).result(timeout=10)


def test_the_next_frame_waits_for_the_slowest_socket() -> None:
    """The screencast is acknowledged only once every socket has sent the newest frame:
    a socket stuck sending holds the next frame back instead of queueing frames for it."""

    class Socket:
        def __init__(self) -> None:
            self.sent: list[bytes] = []
            self.release = asyncio.Event()

        async def send_bytes(self, data: bytes) -> None:
            await self.release.wait()
            self.sent.append(data)

        async def send_text(self, data: str) -> None:
            return None

    async def scenario() -> None:
        screen = FakeScreen()
        hub = LiveTakeovers.__new__(LiveTakeovers)  # no runtime needed for frames
        room = LiveRoom(ACME, 1, "alice", screen, 0.0, 0.0)  # type: ignore[arg-type]
        fast, slow = Socket(), Socket()
        fast.release.set()
        watchers = [Watcher("alice", fast), Watcher("vic", slow)]  # type: ignore[arg-type]
        room.watchers.update(watchers)
        senders = [asyncio.create_task(hub._send_loop(room, w)) for w in watchers]
        await hub._frame(room, Frame(b"frame-0", 1280, 900))
        for _ in range(50):
            await asyncio.sleep(0)
        assert fast.sent == [b"frame-0"] and slow.sent == []
        assert screen.acks == 0  # the slow socket has not sent it: no next frame yet
        slow.release.set()
        for _ in range(50):
            await asyncio.sleep(0)
        assert screen.acks >= 1 and slow.sent[0] == b"frame-0"
        for task in senders:
            task.cancel()

    asyncio.run(scenario())


def test_what_is_logged_of_an_address_and_what_a_message_may_be() -> None:
    assert logged_url("https://u:pw@site.example:8443/login?password=x#f") == (
        "https://site.example:8443/login"
    )
    assert parse_message('{"type": "back"}').type == "back"
    with pytest.raises(ValueError, match="not a live-view message"):
        parse_message('{"type": "go", "url": ""}')


def test_the_live_page_runs_only_its_own_script_and_sweep_now_waits_for_a_hand_back(
    live: Live,
) -> None:
    from fastapi.testclient import TestClient
    from review_world import csrf_of, login

    with TestClient(live.app, base_url="https://testserver") as web:
        login(web, "alice")
        page = web.get(f"/workspaces/{ACME}")
        r = web.post(
            f"/workspaces/{ACME}/takeover",
            data={"csrf_token": csrf_of(page.text)},
            follow_redirects=False,
        )
        assert (r.status_code, r.headers["location"]) == (303, f"/workspaces/{ACME}/live")
        view = web.get(f"/workspaces/{ACME}/live")
        csp = view.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "connect-src 'self'" in csp
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", view.text, re.S)
        assert scripts == [(' src="/static/takeover.js"', "")]  # nothing inline
        assert web.get("/static/takeover.js").status_code == 200
        refused = web.post(
            f"/workspaces/{ACME}/sweep",
            data={"csrf_token": csrf_of(view.text)},
            follow_redirects=False,
        )
        assert refused.status_code == 409 and "hand it back first" in refused.text
        no_token = web.post(f"/workspaces/{ACME}/sweep", follow_redirects=False)
        assert no_token.status_code == 403
    with TestClient(live.app, base_url="https://testserver") as vic:
        login(vic, "vic")
        page = vic.get(f"/workspaces/{ACME}/live")
        assert "alice drives this session: you watch." in page.text
        takeover.hand_back(live.world.runtime, ACME, live.user("alice"))
        page = vic.get(f"/workspaces/{ACME}")
        r = vic.post(
            f"/workspaces/{ACME}/sweep",
            data={"csrf_token": csrf_of(page.text)},
            follow_redirects=False,
        )
        assert r.status_code == 403 and "needs the reviewer role" in r.text


def test_serve_sets_the_takeover_idle_timeout(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``serve --takeover-idle-minutes`` reaches the live rooms; nonsense is refused."""
    import uvicorn
    from typer.testing import CliRunner

    from agent.cli import app as cli_app

    served: list[Any] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self: served.append(self.config.app))
    home = ["--home", str(world.runtime.home.root)]
    runner = CliRunner()
    result = runner.invoke(cli_app, [*home, "serve", "--takeover-idle-minutes", "2.5"])
    assert result.exit_code == 0, result.output
    (web,) = served
    assert web.state.live_takeovers.idle_seconds == 150
    result = runner.invoke(cli_app, [*home, "serve"])
    assert result.exit_code == 0, result.output
    assert served[-1].state.live_takeovers.idle_seconds == IDLE_SECONDS == 600
    for bad in ("0", "1000", "soon"):
        result = runner.invoke(cli_app, [*home, "serve", "--takeover-idle-minutes", bad])
        assert result.exit_code == 2 and "--takeover-idle-minutes" in result.output
    assert len(served) == 2
