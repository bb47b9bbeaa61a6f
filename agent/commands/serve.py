"""``inbox-agent serve``: the review web UI (sessions live in the store: a restart keeps them)."""

from __future__ import annotations

import ipaddress
from types import FrameType
from typing import Annotated

import typer

from agent.commands.context import console, state

GRACEFUL_SECONDS = 3  # how long a stop waits for open requests (live streams) to end


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        ctx: typer.Context,
        host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8080,
        insecure_cookies: Annotated[
            bool,
            typer.Option(
                "--insecure-cookies",
                help="Send session cookies over plain http (loopback testing only).",
            ),
        ] = False,
        takeover_idle_minutes: Annotated[
            float,
            typer.Option(
                "--takeover-idle-minutes",
                min=1,
                max=480,
                help="Hand a live takeover back after this long without input from its driver.",
            ),
        ] = 10.0,
    ) -> None:
        """Serve the review UI and its JSON API (put it behind HTTPS beyond localhost)."""
        import uvicorn

        from agent.errors import UserError
        from agent.review import create_app

        if insecure_cookies and not _is_loopback(host):
            raise UserError("--insecure-cookies is only allowed on a loopback address")
        web = create_app(
            state(ctx).home,
            secure_cookies=not insecure_cookies,
            takeover_idle_seconds=takeover_idle_minutes * 60,
        )
        console.print(f"review UI on http://{host}:{port}/ (Ctrl-C stops)", markup=False)
        live = web.state.review.live
        rooms = web.state.live_takeovers

        class Server(uvicorn.Server):
            def handle_exit(self, sig: int, frame: FrameType | None) -> None:
                live.stopping()  # open live streams end now, or the stop would wait on them
                rooms.stopping()  # takeover live views close their environments
                super().handle_exit(sig, frame)

        config = uvicorn.Config(
            web,
            host=host,
            port=port,
            workers=1,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=GRACEFUL_SECONDS,
        )
        Server(config).run()
