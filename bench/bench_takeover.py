"""The takeover live view at 1280x900: frames and bytes a second, and input-to-frame latency.

A real review server (uvicorn) over a fresh home, the sandbox-acme-web workspace taken
over, its own Chromium profile opened by the live view; a WebSocket client reads the view
as a reviewer's browser would (frames acknowledged as they are read). Two pages of the
bench's own, served on loopback: one animating every frame (a moving gradient and text,
the worst case for the screencast), one that turns black or white on each mouse press.

- frames/s and bytes/s through the server and WebSocket, against the screencast read
  straight from the same browser in-process (no server, no socket) in the same run;
- latency: a press sent on the socket to the first frame that shows its colour, median
  and p95 over ``BENCH_TAKEOVER_CLICKS`` presses (default 30).

Numbers are printed, nothing is asserted.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SECONDS = float(os.environ.get("BENCH_TAKEOVER_SECONDS", "8"))
CLICKS = int(os.environ.get("BENCH_TAKEOVER_CLICKS", "30"))
ACME = "sandbox-acme-web"

ANIMATED = b"""<!doctype html><html><body style="margin:0;overflow:hidden">
<div id="a" style="position:fixed;inset:0;font:32px sans-serif;padding:40px"></div>
<script>
const a = document.getElementById('a'); let n = 0;
const text = 'The quick brown fox jumps over the lazy dog. '.repeat(40);
function tick() { n++;
  a.style.background = `linear-gradient(${n % 360}deg, hsl(${n % 360},70%,60%), #fff)`;
  a.textContent = n + ' ' + text.slice(n % 40); requestAnimationFrame(tick); }
tick();
</script></body></html>"""
CLICKED = b"""<!doctype html><html><body style="margin:0;height:100vh;background:#fff">
<script>
document.addEventListener('mousedown', () => { const b = document.body.style;
  b.background = b.background === 'rgb(0, 0, 0)' ? '#fff' : '#000'; });
</script></body></html>"""


@contextmanager
def pages() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            body = ANIMATED if self.path.startswith("/animated") else CLICKED
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def dark(jpeg: bytes) -> bool:
    from PIL import Image

    with Image.open(io.BytesIO(jpeg)) as img:
        pixel = img.convert("L").getpixel((img.width // 2, img.height // 2))
    return int(pixel) < 128  # type: ignore[arg-type]


def direct_rate(settings: object, url: str) -> tuple[float, float]:
    """The screencast straight from the browser: frames/s and bytes/s, no server."""
    from devices.live_view import Frame, LiveBrowser

    async def run() -> tuple[float, float]:
        got: list[int] = []
        screen = LiveBrowser(settings, url)  # type: ignore[arg-type]

        async def on_frame(frame: Frame) -> None:
            got.append(len(frame.data))
            await screen.frame_sent()

        await screen.start(on_frame)
        await asyncio.sleep(1.0)  # the page settles
        got.clear()
        start = time.monotonic()
        await asyncio.sleep(SECONDS)
        took = time.monotonic() - start
        frames, size = len(got), sum(got)
        await screen.close()
        return frames / took, size / took

    return asyncio.run(run())


def main() -> None:
    from websockets.sync.client import connect

    from agent import takeover
    from agent.review import create_app
    from agent.review.auth import add_user, grant
    from agent.runtime import open_runtime
    from agent.scaffold import init_home
    from agent.sweep import browser_settings
    from sandbox.testing import running_sandbox
    from tests.serving import serving
    from workspaces.paths import Home

    with (
        tempfile.TemporaryDirectory() as tmp,
        pages() as local,
        running_sandbox(empty=True) as sb,
    ):
        os.environ["INBOX_AGENT_SANDBOX_URL"] = sb.url
        home = Home(Path(tmp) / "home")
        init_home(home)
        rt = open_runtime(home)
        settings = browser_settings(home, rt.catalog.workspace(ACME))
        base_fps, base_bps = direct_rate(settings, f"{local}/animated")
        with rt.store.session() as s:
            ann = add_user(s, "ann", "reviewer", "bench passphrase 1")
            grant(s, ann, ACME)
            s.expunge(ann)
            user_id = ann.id
        takeover.take_over(rt, ACME, ann)
        app = create_app(rt, secure_cookies=False)
        assert user_id is not None
        token = app.state.review.sessions.create(user_id).token
        with serving(app) as base:
            url = base.replace("http://", "ws://") + f"/workspaces/{ACME}/live/socket"
            headers = {"Cookie": f"ia_session={token}"}
            with connect(url, additional_headers=headers, origin=base, max_size=None) as ws:  # type: ignore[arg-type]
                fps, bps, size = rate(ws, f"{local}/animated")
                med, p95 = latency(ws, f"{local}/clicked", size)
        rt.store.close()
    print(f"live view at {size[0]}x{size[1]}, {SECONDS:.0f} s of an animated page:")
    print(
        f"  through the server and WebSocket: {fps:.1f} frames/s, {bps / 1e6:.2f} MB/s "
        f"({bps / max(fps, 0.01) / 1e3:.0f} kB a frame)"
    )
    print(
        f"  straight from the screencast (baseline): {base_fps:.1f} frames/s, "
        f"{base_bps / 1e6:.2f} MB/s; ratio {fps / max(base_fps, 0.01):.2f}x"
    )
    print(
        f"  a press to the first frame showing it ({CLICKS} presses): "
        f"median {med:.0f} ms, p95 {p95:.0f} ms"
    )


def _state(ws: object, want: str) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        message = ws.recv(timeout=30)  # type: ignore[attr-defined]
        if isinstance(message, str):
            data = json.loads(message)
            if data["type"] == "state" and str(data["url"]).startswith(want):
                return dict(data)
    raise RuntimeError(f"the live view never reached {want}")


def rate(ws: object, url: str) -> tuple[float, float, tuple[int, int]]:
    state = _state(ws, "")
    size = tuple(state["size"])  # type: ignore[arg-type]
    ws.send(json.dumps({"type": "go", "url": url}))  # type: ignore[attr-defined]
    _state(ws, url)
    settle = time.monotonic() + 1.0
    while time.monotonic() < settle:
        ws.recv(timeout=10)  # type: ignore[attr-defined]
    frames = size_sum = 0
    start = time.monotonic()
    while (took := time.monotonic() - start) < SECONDS:
        message = ws.recv(timeout=10)  # type: ignore[attr-defined]
        if isinstance(message, bytes):
            frames += 1
            size_sum += len(message)
    return frames / took, size_sum / took, (int(size[0]), int(size[1]))


def latency(ws: object, url: str, size: tuple[int, int]) -> tuple[float, float]:
    ws.send(json.dumps({"type": "go", "url": url}))  # type: ignore[attr-defined]
    _state(ws, url)
    shown = True
    while shown:  # until a frame of the white page (frames of the last page may come first)
        message = ws.recv(timeout=10)  # type: ignore[attr-defined]
        if isinstance(message, bytes):
            shown = dark(message)
    times = []
    x, y = size[0] / 2, size[1] / 2
    for _ in range(CLICKS):
        start = time.monotonic()
        for action in ("down", "up"):
            press = {"type": "mouse", "action": action, "x": x, "y": y}
            ws.send(json.dumps(press))  # type: ignore[attr-defined]
        while True:
            message = ws.recv(timeout=10)  # type: ignore[attr-defined]
            if isinstance(message, bytes) and dark(message) != shown:
                times.append((time.monotonic() - start) * 1000)
                shown = not shown
                break
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]
