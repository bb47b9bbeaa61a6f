"""``inbox-agent db status|upgrade``: the store's schema revision, and migrating it.

The database is the home's (``Home.db_url``: ``INBOX_AGENT_DB`` when set, else
SQLite in the home folder). ``status`` never changes anything, not even by
creating an empty SQLite file; ``upgrade`` migrates in place to the newest schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
import typer

from agent.commands.context import console, print_json, state
from agent.store.engine import head_revision, normalise_url, open_store
from agent.store.errors import StoreError

app = typer.Typer(no_args_is_help=True, help="Show and migrate the database schema.")

JsonOption = Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")]


def _missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file ``url`` names when it does not exist yet, else None."""
    parsed = normalise_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    path = Path(database)
    return None if path.exists() else path


def _status(url: str) -> dict[str, Any]:
    head = head_revision()
    if _missing_sqlite_file(url) is not None:
        shown = normalise_url(url).render_as_string(hide_password=True)
        return {"url": shown, "exists": False, "current": None, "head": head, "up_to_date": False}
    with open_store(url, migrate=False) as store:
        try:
            current = store.current_revision()
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot read {store.url}: {str(exc).splitlines()[0]}") from exc
        return {
            "url": store.url,
            "exists": True,
            "current": current,
            "head": head,
            "up_to_date": current == head,
        }


@app.command("status")
def status(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show the database URL, its schema revision and the newest one."""
    info = _status(state(ctx).home.db_url)
    if as_json:
        print_json(info)
        return
    console.print(f"database: {info['url']}", markup=False)
    if not info["exists"]:
        console.print(
            f"not created yet (newest schema: {info['head']}); run `inbox-agent db upgrade`"
        )
        return
    current = info["current"] or "none"
    verdict = "up to date" if info["up_to_date"] else "needs `inbox-agent db upgrade`"
    console.print(f"schema: {current} (newest: {info['head']}): {verdict}", markup=False)


@app.command("upgrade")
def upgrade(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Migrate the database in place to the newest schema (creating it if needed)."""
    home = state(ctx).home
    url = home.db_url
    if _missing_sqlite_file(url) is not None:
        home.ensure()
    before = _status(url)["current"]
    with open_store(url) as store:
        after = store.current_revision()
        info = {"url": store.url, "from": before, "to": after, "changed": before != after}
    if as_json:
        print_json(info)
        return
    if info["changed"]:
        console.print(f"upgraded {info['url']}: {before or 'empty'} -> {after}", markup=False)
    else:
        console.print(f"{info['url']} is already at {after}", markup=False)
