"""A replay HTTP server for the saved real pages in ``shared/data/web_html``.

The pages are third-party recordings whose licences forbid copying them into this
repository, so the server reads them from the shared data folder at request time. Each
route sends one file's bytes unchanged, with the ``Content-Type`` it was recorded with:

=========================  ==========================================  ==========================
path                       file                                        Content-Type
=========================  ==========================================  ==========================
``/facebook/story.php``    ``facebook_mbasic_nintendo_post_comments``  ``text/html`` (no charset)
``/messages``              ``x_dm_inbox_brocc_redacted``               ``text/html; charset=utf-8``
``/brocc/status/thread``   ``x_tweet_thread_brocc_redacted``           ``text/html; charset=utf-8``
=========================  ==========================================  ==========================

Query strings are ignored (``/facebook/story.php?story_fbid=1`` is the same page); every
other path is a 404. The Facebook page is UTF-8 but declares no charset anywhere, so a
browser that gets it as plain ``text/html`` decodes it as windows-1252 ("Theyâ€™re"):
that is what the recording shows, and what a flow has to cope with.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

FACEBOOK_FILE = "facebook_mbasic_nintendo_post_comments.html"
X_INBOX_FILE = "x_dm_inbox_brocc_redacted.html"
X_THREAD_FILE = "x_tweet_thread_brocc_redacted.html"

FACEBOOK_PATH = "/facebook/story.php"
X_INBOX_PATH = "/messages"
X_THREAD_PATH = "/brocc/status/thread"

#: path -> (file name, Content-Type header)
ROUTES: dict[str, tuple[str, str]] = {
    FACEBOOK_PATH: (FACEBOOK_FILE, "text/html"),
    X_INBOX_PATH: (X_INBOX_FILE, "text/html; charset=utf-8"),
    X_THREAD_PATH: (X_THREAD_FILE, "text/html; charset=utf-8"),
}


def default_data_dir() -> Path:
    """``<checkout>/../shared/data/web_html``, next to the repository (not inside it)."""
    return Path(__file__).resolve().parents[2].parent / "shared" / "data" / "web_html"


def missing_files(data_dir: Path) -> list[str]:
    """The routed files that ``data_dir`` lacks (all of them when it does not exist)."""
    return [name for name, _ in ROUTES.values() if not (data_dir / name).is_file()]


def _handler_for(data_dir: Path) -> type[BaseHTTPRequestHandler]:
    class ReplayHandler(BaseHTTPRequestHandler):
        server_version = "replay/1"
        protocol_version = "HTTP/1.1"

        def _send(self, *, head: bool) -> None:
            route = ROUTES.get(urlsplit(self.path).path)
            body: bytes
            if route is None:
                status, ctype = HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8"
                body = f"not a replayed page: {self.path}\n".encode()
            else:
                name, ctype = route
                try:
                    body = (data_dir / name).read_bytes()
                    status = HTTPStatus.OK
                except OSError as exc:
                    status, ctype = HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8"
                    body = f"{name}: {exc.strerror}\n".encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._send(head=False)

        def do_HEAD(self) -> None:  # noqa: N802
            self._send(head=True)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # keep test output quiet

    return ReplayHandler


@dataclass
class ReplayServer:
    """A running replay server; ``url`` has no trailing slash (``http://127.0.0.1:PORT``)."""

    httpd: ThreadingHTTPServer
    thread: threading.Thread
    data_dir: Path

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def page_url(self, path: str) -> str:
        return self.url + path

    @property
    def facebook_url(self) -> str:
        return self.page_url(FACEBOOK_PATH)

    @property
    def x_inbox_url(self) -> str:
        return self.page_url(X_INBOX_PATH)

    @property
    def x_thread_url(self) -> str:
        return self.page_url(X_THREAD_PATH)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@contextmanager
def replaying(data_dir: Path | None = None) -> Iterator[ReplayServer]:
    """Serve the saved pages from ``data_dir`` on 127.0.0.1 (a free port) while inside."""
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(folder))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, name="replay-server", daemon=True)
    thread.start()
    server = ReplayServer(httpd, thread, folder)
    try:
        yield server
    finally:
        server.close()
