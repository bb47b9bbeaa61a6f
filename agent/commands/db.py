"""``inbox-agent db status|upgrade``: the store's schema revision, and migrating it.

The database is the home's (``Home.db_url``: ``INBOX_AGENT_DB`` when set, else
SQLite in the home folder). ``status`` never changes the schema, and never creates an
empty SQLite file; it does close runs whose process is gone (as ``crashed``, with their
end event in the activity log: ``agent.store.runs``) and lists the runs still running.
``upgrade`` migrates in place to the newest schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agent.commands.context import console, print_json, state

# The store (SQLAlchemy, Alembic) is imported by the functions that use it: the rest of
# the CLI starts without it.
if TYPE_CHECKING:
    from workspaces.paths import Home

app = typer.Typer(no_args_is_help=True, help="Show and migrate the database schema.")

JsonOption = Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")]


def missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file ``url`` names when it does not exist yet, else None."""
    from agent.store.engine import normalise_url

    parsed = normalise_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    path = Path(database)
    return None if path.exists() else path


def _status(url: str) -> dict[str, Any]:
    import sqlalchemy as sa

    from agent.store.engine import head_revision, normalise_url, open_store
    from agent.store.errors import StoreError

    head = head_revision()
    if missing_sqlite_file(url) is not None:
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


def _runs(home: Home) -> dict[str, Any]:
    """Close the runs whose process is gone; what is still running and what was closed."""
    import sqlalchemy as sa

    from agent.runtime import close_dead_runs, stale_run_limit
    from agent.store import close_stale_runs, store_heads
    from agent.store.engine import head_revision, open_store
    from agent.store.errors import StoreError
    from agent.store.runs import running_runs
    from runlogs import ActivityLog

    with open_store(home.db_url, migrate=False) as store:
        try:
            current = store.current_revision()
            if current is None:
                return {"running": [], "closed": []}
            # Chain heads only into a schema that has their table.
            heads = store_heads(store) if current == head_revision() else None
            log = ActivityLog(home.logs_dir, key_file=home.log_key_file, heads=heads)
            try:
                if heads is not None:  # the current schema: it has the webhook events table
                    closed = close_dead_runs(home, store, log)
                else:
                    closed = close_stale_runs(store, log, limit_s=stale_run_limit(home))
            finally:
                if heads is not None:
                    heads.close()
            running = running_runs(store)
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot read {store.url}: {str(exc).splitlines()[0]}") from exc
    return {
        "running": [
            {"id": r.id, "workspace": r.workspace, "host": r.host, "pid": r.pid} for r in running
        ],
        "closed": [{"id": c.id, "workspace": c.workspace, "reason": c.reason} for c in closed],
    }


@app.command("status")
def status(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show the database URL, its schema revision and the newest one; close runs whose
    process is gone (as crashed) and list the runs still running."""
    home = state(ctx).home
    info = _status(home.db_url)
    if info["exists"]:
        info["runs"] = _runs(home)
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
    runs = info["runs"]
    console.print(
        f"runs: {len(runs['running'])} running, {len(runs['closed'])} closed now as crashed",
        markup=False,
    )
    for run in runs["running"]:
        console.print(
            f"  running: {run['id']} of {run['workspace']} (process {run['pid']} on host "
            f"{run['host']})",
            markup=False,
        )
    for run in runs["closed"]:
        console.print(
            f"  crashed: {run['id']} of {run['workspace']}: {run['reason']}", markup=False
        )


@app.command("upgrade")
def upgrade(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Migrate the database in place to the newest schema (creating it if needed)."""
    from agent.store.engine import open_store

    home = state(ctx).home
    url = home.db_url
    if missing_sqlite_file(url) is not None:
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
