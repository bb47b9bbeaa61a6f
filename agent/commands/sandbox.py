"""``inbox-agent sandbox``: serve the practice platform and drive it through its admin API.

``serve`` runs the web app in the foreground; every other command talks to a running sandbox at
``--url`` (default ``INBOX_AGENT_SANDBOX_URL``, else ``http://127.0.0.1:8765``) and fails with one
line when nothing answers there.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agent.commands.context import console, print_json
from agent.errors import UserError

if TYPE_CHECKING:
    from sandbox.client import SandboxClient

from sandbox.address import DEFAULT_URL
from sandbox.state import FAULT_MODES

app = typer.Typer(
    no_args_is_help=True,
    help="The sandbox social platform: a practice target for browser sweeps.",
)

UrlOpt = Annotated[
    str | None,
    typer.Option(
        "--url", help=f"Sandbox address (default: $INBOX_AGENT_SANDBOX_URL or {DEFAULT_URL})."
    ),
]


def _client(url: str | None) -> SandboxClient:
    from sandbox.client import SandboxClient

    return SandboxClient(url)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    seed: Annotated[int, typer.Option(help="Seed for the generated content.")] = 1,
    empty: Annotated[
        bool, typer.Option("--empty", help="Start with no posts or messages.")
    ] = False,
) -> None:
    """Serve the sandbox platform (accounts acme, globex, initech; password `sandbox`)."""
    from sandbox.address import TOKEN_ENV
    from sandbox.testing import serve as run_server

    token = os.environ.get(TOKEN_ENV) or None
    if host not in ("127.0.0.1", "localhost", "::1") and not token:
        console.print(f"note: admin API accepts loopback clients only (set {TOKEN_ENV} to open it)")
    console.print(f"sandbox at http://{host}:{port}  (seed {'none' if empty else seed})")
    try:
        run_server(host, port, seed=seed, empty=empty, token=token)
    except (OSError, socket.gaierror) as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


@app.command()
def post(
    account: Annotated[str, typer.Option(help="Brand account (acme, globex, initech).")],
    kind: Annotated[str, typer.Option(help="comment or dm.")],
    author: Annotated[str, typer.Option(help="Who wrote it.")],
    text: Annotated[
        str | None, typer.Option(help="The message text; `-` reads it from stdin.")
    ] = None,
    text_file: Annotated[
        Path | None,
        typer.Option("--text-file", help="Read the message text from this file (any size, UTF-8)."),
    ] = None,
    thread: Annotated[
        str | None,
        typer.Option(
            help="Post id (comment) or thread id (dm); default: newest post / the author's thread."
        ),
    ] = None,
    parent: Annotated[str | None, typer.Option(help="Comment id to reply to (nested).")] = None,
    url: UrlOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the message as JSON.")] = False,
) -> None:
    """Inject a comment or a DM into the running sandbox.

    The text is given with --text, or read whole from --text-file PATH or from stdin
    (--text -), so a message of any size can be posted. Read text is kept exactly,
    newlines included; bytes that are not UTF-8 become U+FFFD.
    """
    if kind not in ("comment", "dm"):
        raise UserError(f"--kind must be comment or dm, not {kind!r}")
    text = _message_text(text, text_file)
    with _client(url) as client:
        msg = client.post_message(account, kind, author, text, thread=thread, parent=parent)
    if as_json:
        print_json(msg)
    else:
        console.print(
            f"{msg['kind']} {msg['id']} by {msg['author']} in {msg['container_id']}", markup=False
        )


def _message_text(text: str | None, text_file: Path | None) -> str:
    if (text is None) == (text_file is None):
        raise UserError("give the message text with exactly one of --text, --text - or --text-file")
    if text_file is not None:
        try:
            raw = text_file.read_bytes()
        except OSError as exc:
            raise UserError(f"cannot read {text_file}: {exc.strerror or exc}") from exc
        return raw.decode("utf-8", errors="replace")
    if text == "-":
        return sys.stdin.buffer.read().decode("utf-8", errors="replace")
    assert text is not None
    return text


@app.command()
def seed(
    number: Annotated[
        int, typer.Argument(help="Seed: the same number gives the same content.")
    ] = 1,
    comments: Annotated[int, typer.Option(help="Comments per post.")] = 30,
    messages: Annotated[int, typer.Option(help="Messages per DM thread.")] = 8,
    url: UrlOpt = None,
) -> None:
    """Replace the sandbox content with the deterministic content for a seed."""
    with _client(url) as client:
        result = client.seed(number, comments_per_post=comments, messages_per_thread=messages)
    console.print(f"seeded with {result['seed']}: {result['messages']} messages")


@app.command()
def fault(
    account: Annotated[str, typer.Argument(help="Brand account.")],
    mode: Annotated[str, typer.Argument(help="One of: " + ", ".join(FAULT_MODES) + ".")],
    slow_ms: Annotated[int | None, typer.Option(help="Delay for the slow mode (ms).")] = None,
    url: UrlOpt = None,
) -> None:
    """Switch a fault mode on for an account (`none` clears it)."""
    if mode not in FAULT_MODES:
        raise UserError(f"unknown fault mode {mode!r} (known: {', '.join(FAULT_MODES)})")
    with _client(url) as client:
        result = client.fault(account, mode, slow_ms=slow_ms)
    console.print(f"{result['account']}: fault {result['mode']}")


@app.command()
def replies(
    account: Annotated[str | None, typer.Option(help="Only this account's replies.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per reply.")] = False,
    url: UrlOpt = None,
) -> None:
    """List the replies the sandbox received, in the order it received them."""
    with _client(url) as client:
        rows = client.replies(account)
    if as_json:
        for row in rows:
            print_json(row)
        return
    if not rows:
        console.print("no replies received")
    for r in rows:
        target = r["container_id"] + (f" → {r['in_reply_to']}" if r["in_reply_to"] else "")
        console.print(
            f"#{r['seq']} {r['time']} @{r['account']} {r['kind']} {target}: {r['text']}",
            markup=False,
        )


@app.command()
def reset(url: UrlOpt = None) -> None:
    """Empty the sandbox: no posts, messages, replies or faults."""
    with _client(url) as client:
        client.reset()
    console.print("sandbox emptied")
