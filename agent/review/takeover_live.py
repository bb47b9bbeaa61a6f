"""A takeover's live view: the workspace's own environment, streamed to the review UI.

"Take over" on a workspace page holds the workspace (``agent.takeover``: sweeps and the
outbox leave it alone) and opens ``GET /workspaces/W/live``. Its script connects a
WebSocket (``/workspaces/W/live/socket``) under the same session cookie; the socket is
refused (no frames, no control) without a grant for the workspace, and when its
``Origin`` is not the host the browser reached (``Host``, or ``X-Forwarded-Host`` from a
reverse proxy), so another site cannot open it with the reviewer's cookie.

One :class:`LiveRoom` per taken-over workspace holds the environment, opened through
``devices.factory.open_live`` exactly as sweeps open it (the profile folder is free: no
sweep runs while the takeover row is there). Every socket of the workspace watches the
same room; only the person who holds the takeover drives (one controller at a time),
the others watch and see who drives. Frames go out as binary messages, the newest one
to each socket once its last one has gone out; the screencast's acknowledgement waits
for every socket, so a slow link gets fewer frames rather than a backlog.

What the activity log gets: ``live_view_started`` (who, which takeover, the kind of
environment), ``live_view_navigated`` for each page the main frame reaches (its address
without query or fragment, which a form sent by GET fills with what was typed, and a
screenshot of it) and ``live_view_ended`` (why, how long, how many input events and
navigations). Never a key, a text or a coordinate: what a person types exists only in
the socket's message and the DevTools call it becomes.

The room ends when its holder hands back (here or from a terminal: the row is
re-read every ``check_seconds``), after ``idle_seconds`` without input from the holder
(the takeover is then handed back in the holder's name, so sweeps resume), or when the
server stops. Each end closes the environment first, then tells the sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

import anyio.to_thread
import sqlalchemy as sa
from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlmodel import col, select

from agent import takeover
from agent.health import NEEDS_A_PERSON
from agent.review.auth import has_role, visible_workspaces
from agent.review.context import SESSION_COOKIE, FormViewer, PageViewer, state_of
from agent.review.errors import InvalidState, NotAllowed, NotFound
from agent.review.queries import active_takeover
from agent.runtime import Runtime
from agent.store import Role, Run, Takeover, User, utcnow
from devices.errors import DriverError
from devices.factory import open_live
from devices.live_view import Frame, LiveScreen
from workspaces.paths import Home

router = APIRouter()

IDLE_SECONDS = 600.0  # no input from the holder this long: the takeover is handed back
CHECK_SECONDS = 2.0  # how often rooms look at the store (handed back elsewhere?) and the clock
MAX_TEXT = 10_000  # characters one paste or text message may carry
POLICY_VIOLATION = 1008


# -- what a socket may send ----------------------------------------------------------


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Coord = Annotated[float, Field(ge=0, le=10_000)]
Mods = Annotated[int, Field(ge=0, le=15)]  # DevTools' Alt=1, Ctrl=2, Meta=4, Shift=8


class Mouse(_Msg):
    type: Literal["mouse"]
    action: Literal["down", "up", "move"]
    x: Coord
    y: Coord
    button: Literal["left", "middle", "right", "none"] = "left"
    clicks: Annotated[int, Field(ge=0, le=3)] = 1
    mods: Mods = 0


class Wheel(_Msg):
    type: Literal["wheel"]
    x: Coord
    y: Coord
    dx: Annotated[float, Field(ge=-10_000, le=10_000)] = 0
    dy: Annotated[float, Field(ge=-10_000, le=10_000)] = 0


class Key(_Msg):
    type: Literal["key"]
    action: Literal["down", "up"]
    key: Annotated[str, Field(min_length=1, max_length=32)]
    code: Annotated[str, Field(max_length=32)] = ""
    mods: Mods = 0


class Text(_Msg):
    type: Literal["text"]
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]


class Go(_Msg):
    type: Literal["go"]
    url: Annotated[str, Field(min_length=1, max_length=4000)]


class Back(_Msg):
    type: Literal["back"]


class Reload(_Msg):
    type: Literal["reload"]


Incoming = Annotated[Mouse | Wheel | Key | Text | Go | Back | Reload, Field(discriminator="type")]
INCOMING: TypeAdapter[Incoming] = TypeAdapter(Incoming)
INPUT = (Mouse, Wheel, Key, Text)  # counted as input events; the rest as navigations asked


def parse_message(raw: str) -> Incoming:
    """One message from a socket; a :class:`ValueError` naming the problem (never echoing
    the message, which may hold what was typed) when it is not one."""
    try:
        return INCOMING.validate_json(raw)
    except ValidationError as exc:
        where = [".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()[:3]]
        raise ValueError(f"not a live-view message ({', '.join(where) or 'shape'})") from None


def logged_url(url: str) -> str:
    """An address as the log keeps it: scheme, host, port and path; no user, password,
    query or fragment (a form sent by GET puts what was typed in the query)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


# -- the rooms -----------------------------------------------------------------------


@dataclass(eq=False)
class Watcher:
    """One open socket: whose, and what it has been sent."""

    name: str
    socket: WebSocket
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    texts: list[dict[str, Any]] = field(default_factory=list)
    sent_seq: int = 0


@dataclass(eq=False)
class LiveRoom:
    workspace: str
    takeover_id: int
    holder: str
    screen: LiveScreen
    started: float
    last_input: float
    watchers: set[Watcher] = field(default_factory=set)
    frame: Frame | None = None
    seq: int = 0
    inputs: int = 0
    navigations: int = 0
    url: str = ""
    title: str = ""
    ended: str | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one input at a time, in order

    def state(self, watcher: Watcher) -> dict[str, Any]:
        return {
            "type": "state",
            "kind": self.screen.kind,
            "driver": self.holder,
            "you": watcher.name,
            "you_drive": watcher.name == self.holder,
            "watching": sorted({w.name for w in self.watchers}),
            "url": self.url,
            "title": self.title,
            "size": list(self.screen.size),
        }

    def tell(self, watcher: Watcher, message: dict[str, Any]) -> None:
        watcher.texts.append(message)
        watcher.wake.set()

    def tell_all_state(self) -> None:
        for w in self.watchers:
            self.tell(w, self.state(w))


Opener = Callable[[str], LiveScreen]


class LiveTakeovers:
    """The app's live rooms, one per taken-over workspace with a socket open."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        opener: Opener | None = None,
        clock: Callable[[], float] = time.monotonic,
        idle_seconds: float = IDLE_SECONDS,
        check_seconds: float = CHECK_SECONDS,
    ) -> None:
        self.runtime = runtime
        self.opener = opener or self._open
        self.clock = clock
        self.idle_seconds = idle_seconds
        self.check_seconds = check_seconds
        self.rooms: dict[str, LiveRoom] = {}
        self._opening: dict[str, asyncio.Lock] = {}
        self._checker: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def _open(self, workspace: str) -> LiveScreen:
        from agent.sweep import places

        rt = self.runtime
        ws = rt.catalog.workspace(workspace)
        devices = {d: loaded.model for d, loaded in rt.catalog.devices.items()}
        return open_live(ws, places=places(rt.home), devices=devices)

    # -- opening and ending ----------------------------------------------------------

    async def room(self, workspace: str, held: Takeover) -> LiveRoom:
        """The workspace's room, its environment started on first use."""
        room = self.rooms.get(workspace)
        if room is not None and room.ended is None:
            return room
        lock = self._opening.setdefault(workspace, asyncio.Lock())
        async with lock:
            room = self.rooms.get(workspace)
            if room is not None and room.ended is None:
                return room
            self._loop = asyncio.get_running_loop()
            screen = await anyio.to_thread.run_sync(self.opener, workspace)
            now = self.clock()
            assert held.id is not None
            room = LiveRoom(workspace, held.id, held.user, screen, now, now)
            screen.on_navigation(lambda url: self._spawn(self._navigated(room, url)))
            await screen.start(lambda frame: self._frame(room, frame))
            room.url, room.title = await screen.location()
            self.rooms[workspace] = room
            await self._log(
                workspace, "live_view_started", held.user, takeover=held.id, kind=screen.kind
            )
            if self._checker is None or self._checker.done():
                self._checker = asyncio.create_task(self._check_loop())
            return room

    async def end(self, workspace: str, why: str) -> None:
        """Close the workspace's environment (first), then tell and close its sockets."""
        room = self.rooms.pop(workspace, None)
        if room is None or room.ended is not None:
            return
        room.ended = why
        async with room.lock:
            with contextlib.suppress(DriverError):
                await room.screen.close()
        await self._log(
            workspace,
            "live_view_ended",
            room.holder,
            takeover=room.takeover_id,
            why=why,
            seconds=round(self.clock() - room.started, 1),
            input_events=room.inputs,
            navigations=room.navigations,
        )
        for w in list(room.watchers):
            room.tell(w, {"type": "ended", "why": why})

    def stopping(self) -> None:
        """The server is stopping: every room closes its environment (the takeover stays;
        the holder opens the view again when the server is back). Any thread may call it."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def close_all() -> None:
            for workspace in list(self.rooms):
                self._spawn(self.end(workspace, "the review server stopped"))

        loop.call_soon_threadsafe(close_all)

    async def close_all(self, why: str) -> None:
        for workspace in list(self.rooms):
            await self.end(workspace, why)

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _log(self, workspace: str, event: str, user: str, **data: Any) -> None:
        log = self.runtime.log
        await anyio.to_thread.run_sync(
            lambda: log.append(workspace, event, actor=f"user:{user}", **data)
        )

    # -- the clock and the store -----------------------------------------------------

    async def check_once(self) -> None:
        """End rooms whose takeover ended elsewhere, and hand back idle ones."""
        for workspace, room in list(self.rooms.items()):
            held = await anyio.to_thread.run_sync(self._held, workspace)
            if held is None or held.id != room.takeover_id:
                await self.end(workspace, "handed back")
            elif self.clock() - room.last_input >= self.idle_seconds:
                await self.end(workspace, "idle")
                await anyio.to_thread.run_sync(self._hand_back_idle, workspace, room.holder)

    def _held(self, workspace: str) -> Takeover | None:
        with self.runtime.store.session() as s:
            return active_takeover(s, workspace)

    def _hand_back_idle(self, workspace: str, holder: str) -> None:
        with self.runtime.store.session() as s:
            user = s.exec(select(User).where(User.name == holder)).first()
        if user is not None:
            with contextlib.suppress(InvalidState, NotFound, NotAllowed):
                takeover.hand_back(self.runtime, workspace, user)

    async def _check_loop(self) -> None:
        try:
            while self.rooms:
                await asyncio.sleep(self.check_seconds)
                await self.check_once()
        finally:
            self._checker = None

    # -- frames, input, navigations --------------------------------------------------

    async def _frame(self, room: LiveRoom, frame: Frame) -> None:
        room.frame = frame
        room.seq += 1
        for w in room.watchers:
            w.wake.set()
        await self._maybe_ack(room)

    async def _maybe_ack(self, room: LiveRoom) -> None:
        # The next frame may come once every socket has the newest one (none open: at once).
        if room.ended is None and all(w.sent_seq >= room.seq for w in room.watchers):
            with contextlib.suppress(DriverError):
                await room.screen.frame_sent()

    async def _navigated(self, room: LiveRoom, url: str) -> None:
        if room.ended is not None:
            return
        room.navigations += 1
        n = room.navigations
        shot: str | None = None
        try:
            png = await room.screen.screenshot()
            shot = str(await anyio.to_thread.run_sync(self._keep, room, n, png))
        except DriverError:
            pass  # a page gone again at once: the navigation is logged without its picture
        with contextlib.suppress(DriverError):
            room.url, room.title = await room.screen.location()
        await self._log(
            room.workspace,
            "live_view_navigated",
            room.holder,
            takeover=room.takeover_id,
            url=logged_url(url),
            screenshot=shot,
        )
        room.tell_all_state()

    def _keep(self, room: LiveRoom, n: int, png: bytes) -> Path:
        folder = takeover_shots(self.runtime.home, room.workspace)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"takeover-{room.takeover_id}-{n:03d}.png"
        path.write_bytes(png)
        return path

    async def handle(self, room: LiveRoom, watcher: Watcher, raw: str) -> None:
        try:
            msg = parse_message(raw)
        except ValueError as exc:
            room.tell(watcher, {"type": "error", "why": str(exc)})
            return
        if watcher.name != room.holder:
            room.tell(watcher, {"type": "error", "why": f"watching only: {room.holder} drives"})
            return
        async with room.lock:
            if room.ended is not None:
                return
            try:
                await self._apply(room, msg)
            except DriverError as exc:
                room.tell(watcher, {"type": "error", "why": str(exc)})
                return
        if isinstance(msg, INPUT):
            room.inputs += 1
        room.last_input = self.clock()
        if isinstance(msg, (Back, Reload, Go)):
            with contextlib.suppress(DriverError):
                room.url, room.title = await room.screen.location()
            room.tell_all_state()

    async def _apply(self, room: LiveRoom, msg: Incoming) -> None:
        s = room.screen
        if isinstance(msg, Mouse):
            await s.mouse(msg.action, msg.x, msg.y, msg.button, msg.clicks, msg.mods)
        elif isinstance(msg, Wheel):
            await s.wheel(msg.x, msg.y, msg.dx, msg.dy)
        elif isinstance(msg, Key):
            await s.key(msg.action, msg.key, msg.code, msg.mods)
        elif isinstance(msg, Text):
            await s.text(msg.text)
        elif isinstance(msg, Go):
            await s.go(msg.url)
        elif isinstance(msg, Back):
            await s.back()
        else:
            await s.reload()

    # -- one socket ------------------------------------------------------------------

    async def serve(self, room: LiveRoom, watcher: Watcher) -> None:
        room.watchers.add(watcher)
        room.tell_all_state()
        sender = asyncio.create_task(self._send_loop(room, watcher))
        try:
            while room.ended is None:
                message = await watcher.socket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                raw = message.get("text")
                if raw is None:
                    room.tell(watcher, {"type": "error", "why": "send JSON text messages"})
                    continue
                await self.handle(room, watcher, raw)
        except WebSocketDisconnect:
            pass
        finally:
            room.watchers.discard(watcher)
            if room.ended is None:
                room.tell_all_state()
                await self._maybe_ack(room)
                sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(sender, timeout=10)  # a stuck link does not hold it

    async def _send_loop(self, room: LiveRoom, watcher: Watcher) -> None:
        ws = watcher.socket
        while True:
            await watcher.wake.wait()
            watcher.wake.clear()
            while watcher.texts:
                message = watcher.texts.pop(0)
                await ws.send_text(json.dumps(message))
                if message["type"] == "ended":
                    await ws.close(1000)
                    return
            frame = room.frame
            if frame is not None and watcher.sent_seq < room.seq:
                seq = room.seq
                await ws.send_bytes(frame.data)
                watcher.sent_seq = seq
                await self._maybe_ack(room)


def takeover_shots(home: Home, workspace: str) -> Path:
    return home.screenshots_dir / "takeovers" / workspace


def hub_of(request: Request | WebSocket) -> LiveTakeovers:
    hub: LiveTakeovers = request.app.state.live_takeovers
    return hub


async def end_before_hand_back(request: Request, user: User, workspace: str) -> None:
    """Close the workspace's live view before its takeover ends, when ``user`` may hand it
    back (its holder, or an approver); otherwise the hand-back itself refuses."""
    hub = hub_of(request)
    room = hub.rooms.get(workspace)
    if room is None:
        return
    if room.holder == user.name or has_role(user, Role.APPROVER.value):
        await hub.end(workspace, "handed back")


# -- routes --------------------------------------------------------------------------


def same_origin(socket: WebSocket) -> bool:
    """The socket's ``Origin`` names the host the browser reached: the ``Host`` header, or
    the first ``X-Forwarded-Host`` a reverse proxy sets (a page cannot set either)."""
    origin = socket.headers.get("origin")
    if not origin:
        return False
    parts = urlsplit(origin)
    forwarded = socket.headers.get("x-forwarded-host", "").split(",")[0].strip()
    host = forwarded or socket.headers.get("host", "")
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


def _socket_user(socket: WebSocket, workspace: str) -> User | None:
    """The signed-in user of a socket, when granted the workspace (an admin: every one)."""
    st = state_of(socket)  # type: ignore[arg-type]  # an HTTPConnection: .app is all it reads
    web = st.sessions.get(socket.cookies.get(SESSION_COOKIE))
    if web is None:
        return None
    with st.runtime.store.session() as s:
        user = s.get(User, web.user_id)
        if user is None or user.disabled:
            return None
        visible = visible_workspaces(s, user)
        if workspace not in st.runtime.catalog.workspaces:
            return None
        if visible is not None and workspace not in visible:
            return None
        s.expunge(user)
        return user


@router.websocket("/workspaces/{workspace}/live/socket")
async def live_socket(socket: WebSocket, workspace: str) -> None:
    # Refused before it is accepted (an HTTP 403 to the handshake): nothing is sent.
    if not same_origin(socket):
        await socket.close(POLICY_VIOLATION)
        return
    user = await anyio.to_thread.run_sync(_socket_user, socket, workspace)
    if user is None:
        await socket.close(POLICY_VIOLATION)
        return
    hub = hub_of(socket)
    held = await anyio.to_thread.run_sync(hub._held, workspace)
    await socket.accept()
    if held is None:
        await socket.send_text(json.dumps({"type": "ended", "why": "not taken over"}))
        await socket.close(1000)
        return
    try:
        room = await hub.room(workspace, held)
    except DriverError as exc:
        await socket.send_text(json.dumps({"type": "ended", "why": f"could not open: {exc}"}))
        await socket.close(1011)
        return
    await hub.serve(room, Watcher(user.name, socket))


def _visible_workspace(request: Request, viewer: Any, workspace: str) -> None:
    if (
        workspace not in viewer.workspaces
        or workspace not in state_of(request).runtime.catalog.workspaces
    ):
        raise NotFound(f"no workspace {workspace!r}")


@router.get("/workspaces/{workspace}/live")
def live_page(request: Request, viewer: PageViewer, workspace: str) -> Response:
    st = state_of(request)
    _visible_workspace(request, viewer, workspace)
    with st.runtime.store.session() as s:
        held = active_takeover(s, workspace)
    return st.render(
        "live.html",
        viewer=viewer,
        workspace=workspace,
        held=held,
        drives=held is not None and held.user == viewer.user.name,
        may_take_over=has_role(viewer.user, Role.REVIEWER.value),
    )


@dataclass
class Stop:
    """The newest sweep of a workspace, when it stopped on something only a person clears."""

    run_id: str
    reason: str
    at: datetime
    screenshot: str | None


def needs_a_person(runtime: Runtime, workspace: str) -> Stop | None:
    """The workspace's newest sweep, when it stopped on a login wall, a challenge or the
    wrong account, with the stop's screenshot (from its ``stop`` event)."""
    with runtime.store.session() as s:
        run = s.exec(
            select(Run)
            .where(Run.workspace == workspace, Run.kind == "sweep", Run.status != "running")
            .order_by(col(Run.started_at).desc())
            .limit(1)
        ).first()
    if run is None or run.stop_reason not in NEEDS_A_PERSON:
        return None
    shot = None
    for event in runtime.log.events(workspace, since_date=run.started_at.date()):
        if event.run_id == run.id and event.type == "stop":
            shot = event.data.get("screenshot")
    return Stop(run.id, run.stop_reason or "", run.started_at, shot)


@dataclass(frozen=True)
class Needing:
    workspace: str
    reason: str


def workspaces_needing_a_person(session: Any, visible: set[str] | None) -> list[Needing]:
    """The visible workspaces whose newest finished sweep stopped on a login wall, a
    challenge or the wrong account (for the queue; one query, the last-sweep index)."""
    newest = (
        sa.select(col(Run.workspace), sa.func.max(col(Run.started_at)).label("at"))
        .where(col(Run.kind) == "sweep", col(Run.status) != "running")
        .group_by(col(Run.workspace))
    )
    if visible is not None:
        newest = newest.where(col(Run.workspace).in_(sorted(visible)))
    last = newest.subquery()
    rows = session.execute(
        sa.select(col(Run.workspace), col(Run.stop_reason))
        .join(
            last, sa.and_(col(Run.workspace) == last.c.workspace, col(Run.started_at) == last.c.at)
        )
        .where(col(Run.kind) == "sweep", col(Run.stop_reason).in_(NEEDS_A_PERSON))
        .where(
            ~sa.exists().where(
                col(Takeover.workspace) == col(Run.workspace), col(Takeover.ended_at).is_(None)
            )
        )
        .order_by(col(Run.workspace))
    ).all()
    return [Needing(ws, reason) for ws, reason in dict(rows).items()]


@router.get("/workspaces/{workspace}/stop.png")
def stop_screenshot(request: Request, viewer: PageViewer, workspace: str) -> Response:
    """The screenshot of the sweep stop that needs a person (404 when there is none)."""
    st = state_of(request)
    _visible_workspace(request, viewer, workspace)
    stop = needs_a_person(st.runtime, workspace)
    if stop is None or not stop.screenshot:
        raise NotFound("no stop screenshot")
    path = Path(stop.screenshot).resolve()
    if not path.is_relative_to(st.runtime.home.screenshots_dir.resolve()) or not path.is_file():
        raise NotFound("no stop screenshot")
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.post("/workspaces/{workspace}/sweep")
async def sweep_now(request: Request, viewer: FormViewer, workspace: str) -> Response:
    """One sweep now (after a hand-back), its result on the page."""
    st = state_of(request)
    _visible_workspace(request, viewer, workspace)
    if not has_role(viewer.user, Role.REVIEWER.value):
        raise NotAllowed(f"a sweep needs the reviewer role (you are {viewer.user.role})")
    held = await anyio.to_thread.run_sync(hub_of(request)._held, workspace)
    if held is not None:
        raise InvalidState(f"{workspace} is taken over by {held.user}: hand it back first")
    started = utcnow()
    result = await anyio.to_thread.run_sync(lambda: st.runtime.sweeper().sweep(workspace))
    return st.render(
        "swept.html", viewer=viewer, workspace=workspace, result=result, started=started
    )
