"""``inbox-agent users add|grant|revoke|list|token``: the people who use the review UI.

Passwords are read from stdin (``--password-stdin``, first line) or prompted for
without echo, hashed with argon2 and never printed or logged. A grant names a workspace
configured in the home (``workspaces/*.yaml``); anything else is refused.

``users token create|list|revoke`` manage personal API tokens for scripts: a token is
printed once when made (only its SHA-256 is stored), acts as its user with that user's
role and grants, and is sent as ``Authorization: Bearer <token>`` to ``/api/``.
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from agent.commands.context import console, err_console, print_json, state
from agent.errors import UserError

# The review code (argon2, the store) is imported by each command when it runs.
if TYPE_CHECKING:
    from agent.store import Store

app = typer.Typer(no_args_is_help=True, help="Manage review users, roles and workspace grants.")

# The keys of agent.review.auth.ROLE_RANK, lowest first, for --role's help without
# importing the store (tests/test_cli_startup.py checks they agree).
ROLE_NAMES = ("viewer", "reviewer", "approver", "admin")


def _store(ctx: typer.Context) -> Store:
    from agent.store import open_store

    home = state(ctx).home.ensure()
    return open_store(home.db_url)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise UserError("no password on stdin")
        return password
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return str(password)


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name (letters, digits, . _ @ -).")],
    role: Annotated[
        str, typer.Option("--role", help=f"One of: {', '.join(ROLE_NAMES)}.")
    ] = "reviewer",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin's first line.")
    ] = False,
) -> None:
    """Add a user (prompts for the password unless --password-stdin)."""
    from agent.review.auth import add_user

    password = _read_password(password_stdin)
    with _store(ctx) as store, store.session() as s:
        user = add_user(s, name, role, password)
    console.print(f"added {user.name} ({user.role})", markup=False)


def _require_configured(ctx: typer.Context, workspace: str) -> None:
    """Refuse a grant to anything but a workspace configured in the home."""
    from agent.config import load_catalog
    from workspaces.models import ID_PATTERN

    if not re.fullmatch(ID_PATTERN, workspace):
        raise UserError(
            f"bad workspace id {workspace[:80]!r}: a workspace id is 1-63 lowercase letters, "
            "digits, '-' and '_'"
        )
    home = state(ctx).home
    catalog = load_catalog(home)
    if workspace in catalog.workspaces:
        return
    if ("workspaces", workspace) in catalog.broken_ids:
        err_console.print(
            f"note: workspace {workspace!r} has configuration problems (run inbox-agent validate)",
            markup=False,
        )
        return
    known = ", ".join(sorted(catalog.workspaces)) or "none"
    raise UserError(
        f"no workspace {workspace!r} is configured in {home.root} (configured: {known})"
    )


@app.command("grant")
def grant_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name.")],
    workspace: Annotated[str, typer.Argument(help="Workspace id.")],
) -> None:
    """Let a user see and act on a workspace (one configured in the home)."""
    from agent.review.auth import grant, require_user

    _require_configured(ctx, workspace)
    with _store(ctx) as store, store.session() as s:
        added = grant(s, require_user(s, name), workspace)
    console.print(
        f"granted {workspace} to {name}" if added else f"{name} had {workspace} already",
        markup=False,
    )


@app.command("revoke")
def revoke_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name.")],
    workspace: Annotated[str, typer.Argument(help="Workspace id.")],
) -> None:
    """Take a workspace away from a user (their open pages stop working at once)."""
    from agent.review.auth import require_user, revoke

    with _store(ctx) as store, store.session() as s:
        removed = revoke(s, require_user(s, name), workspace)
    console.print(
        f"revoked {workspace} from {name}" if removed else f"{name} had no grant on {workspace}",
        markup=False,
    )


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per user.")] = False,
) -> None:
    """List users with their roles and grants (never their password hashes)."""
    from agent.review.auth import list_users

    with _store(ctx) as store, store.session() as s:
        rows = list_users(s)
    for user, grants in rows:
        shown = "all (admin)" if user.role == "admin" else (", ".join(grants) or "none")
        if as_json:
            print_json(
                {"name": user.name, "role": user.role, "disabled": user.disabled, "grants": grants}
            )
        else:
            off = " (disabled)" if user.disabled else ""
            console.print(f"{user.name}\t{user.role}{off}\t{shown}", markup=False)
    if not rows and not as_json:
        console.print("no users yet: add one with `inbox-agent users add NAME --role ROLE`")


token_app = typer.Typer(
    no_args_is_help=True,
    help="Personal API tokens for scripts (sent as `Authorization: Bearer <token>`).",
)
app.add_typer(token_app, name="token")


def _when(moment: object) -> str:
    from datetime import datetime

    return moment.strftime("%Y-%m-%d %H:%M UTC") if isinstance(moment, datetime) else "-"


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The user the token acts as.")],
    token_name: Annotated[
        str, typer.Option("--name", help="What the token is for (shown by `users token list`).")
    ],
    expires_days: Annotated[
        int | None,
        typer.Option("--expires-days", help="Stop working after N days (default: never)."),
    ] = None,
) -> None:
    """Make an API token for a user and print it, once: it is not kept and cannot be shown
    again (only its hash is stored). It has the user's role and grants, never more."""
    from agent.review.auth import new_api_token, require_user

    with _store(ctx) as store, store.session() as s:
        row, token = new_api_token(s, require_user(s, name), token_name, expires_days=expires_days)
    until = f", expires {_when(row.expires_at)}" if row.expires_at else ""
    err_console.print(
        f"token {row.id} ({row.name}) for {name}{until}: copy it now, it is not shown again",
        markup=False,
    )
    # The token alone on stdout, so `TOKEN=$(inbox-agent users token create …)` works.
    sys.stdout.write(token + "\n")
    sys.stdout.flush()


@token_app.command("list")
def token_list(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Only this user's tokens.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per token.")] = False,
) -> None:
    """List API tokens: id, user, name, prefix, created, last used, expiry, revoked (never
    the token itself, which is not kept)."""
    from agent.review.auth import get_user, list_api_tokens, token_state
    from agent.store import utcnow

    with _store(ctx) as store, store.session() as s:
        user = None
        if name is not None:
            user = get_user(s, name)
            if user is None:
                raise UserError(f"no user {name!r} (add one with `inbox-agent users add`)")
        rows = list_api_tokens(s, user)
    now = utcnow()
    for row, owner in rows:
        if as_json:
            print_json(
                {
                    "id": row.id,
                    "user": owner,
                    "name": row.name,
                    "prefix": row.prefix,
                    "created_at": row.created_at.isoformat(),
                    "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
                    "expires_at": row.expires_at.isoformat() if row.expires_at else None,
                    "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
                    "state": token_state(row, now),
                }
            )
        else:
            console.print(
                f"{row.id}\t{owner}\t{row.name}\t{row.prefix}…\tcreated {_when(row.created_at)}"
                f"\tlast used {_when(row.last_used_at)}\texpires {_when(row.expires_at)}"
                f"\t{token_state(row, now)}",
                markup=False,
            )
    if not rows and not as_json:
        console.print(
            "no API tokens yet: make one with `inbox-agent users token create USER --name NAME`",
            markup=False,
        )


@token_app.command("revoke")
def token_revoke(
    ctx: typer.Context,
    token_id: Annotated[int, typer.Argument(help="The token's id (see `users token list`).")],
) -> None:
    """Revoke an API token: requests with it are refused (401) from now on."""
    from agent.review.auth import revoke_api_token

    with _store(ctx) as store, store.session() as s:
        revoked = revoke_api_token(s, token_id)
    console.print(
        f"revoked token {token_id}" if revoked else f"token {token_id} was revoked already",
        markup=False,
    )
