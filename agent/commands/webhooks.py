"""``inbox-agent webhooks list|test|deliveries|deliver``: the home's webhooks (``webhooks.yaml``),
a signed test message, and the store's outbox of deliveries."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from agent.commands.context import console, print_json, state
from agent.errors import UserError

app = typer.Typer(no_args_is_help=True, help="Webhooks: list, test, deliveries.")

STATES = ("pending", "sending", "delivered", "failed")


@app.command("list")
def list_webhooks(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per webhook.")] = False,
) -> None:
    """The webhooks of webhooks.yaml: kind, where to (its host only), events, scope, whether
    the environment holds their secret, and their deliveries by state."""
    import os

    from rich.table import Table

    from agent.runtime import open_runtime
    from agent.webhooks.config import ALL_EVENTS, webhooks_config
    from agent.webhooks.deliveries import counts_by_webhook

    rt = open_runtime(state(ctx).home)
    config = webhooks_config(rt.home.root, rt.catalog)
    counts = counts_by_webhook(rt.store)
    rows: list[dict[str, Any]] = []
    for hook in config.webhooks:
        names = [n for n in (hook.url_env, hook.secret_env) if n]
        rows.append(
            {
                "name": hook.name,
                "kind": hook.kind,
                "url": hook.shown_url() if hook.url is None else _host(hook.url),
                "events": [str(e) for e in hook.events],
                "workspaces": hook.workspaces,
                "clients": hook.clients,
                "env": {n: bool(os.environ.get(n, "").strip()) for n in names},
                "deliveries": {s: counts.get((hook.name, s), 0) for s in STATES},
            }
        )
    if as_json:
        for row in rows:
            print_json(row)
        return
    if not rows:
        console.print("no webhooks: add them to webhooks.yaml in the home (see the README)")
        return
    table = Table("webhook", "kind", "url", "events", "scope", "environment", "deliveries")
    for row in rows:
        env = ", ".join(f"{n} {'set' if ok else 'NOT SET'}" for n, ok in row["env"].items())
        scope = ", ".join(row["workspaces"] + row["clients"]) or "all"
        events = "all" if len(row["events"]) == len(ALL_EVENTS) else ", ".join(row["events"])
        by_state = ", ".join(f"{n} {s}" for s, n in row["deliveries"].items() if n) or "-"
        table.add_row(row["name"], row["kind"], row["url"], events, scope, env or "-", by_state)
    console.print(table)


def _host(url: str) -> str:
    from agent.webhooks.config import redact_url

    return redact_url(url)


@app.command("test")
def test(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The webhook's name.")],
    as_json: Annotated[bool, typer.Option("--json", help="The outcome as JSON.")] = False,
) -> None:
    """Send one signed `webhook.test` message to a webhook now (no retries); exit 1 unless the
    receiver answers 2xx. Nothing is stored."""
    from agent.runtime import open_runtime
    from agent.store import utcnow
    from agent.webhooks.config import redact_url, webhooks_config
    from agent.webhooks.payloads import sample_event
    from agent.webhooks.sender import Sender, client_lookup

    rt = open_runtime(state(ctx).home)
    config = webhooks_config(rt.home.root, rt.catalog)
    hook = config.webhook(name)
    hook.resolved_url()  # a missing variable is the error, not a failed delivery
    hook.secret()
    sender = Sender(rt.store, config, client_of=client_lookup(rt))
    event = sample_event(hook, utcnow())
    attempt = sender.post(hook, event)
    outcome = {
        "webhook": hook.name,
        "url": redact_url(hook.resolved_url()),
        "event_id": event.event_id,
        "status": attempt.status,
        "ok": attempt.ok,
        "error": attempt.error,
    }
    if as_json:
        print_json(outcome)
    elif attempt.ok:
        console.print(
            f"webhook {hook.name}: HTTP {attempt.status} from {outcome['url']}", markup=False
        )
    if not attempt.ok:
        raise UserError(f"webhook {hook.name}: {attempt.error}")


@app.command("deliveries")
def list_deliveries(
    ctx: typer.Context,
    state_: Annotated[
        str | None, typer.Option("--state", help="pending, sending, delivered or failed.")
    ] = None,
    webhook: Annotated[str | None, typer.Option("--webhook", help="Only this webhook.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="The newest this many.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per delivery.")] = False,
) -> None:
    """The newest deliveries: event, webhook, state, attempts, next attempt, last answer."""
    from rich.table import Table
    from rich.text import Text

    from agent.runtime import open_runtime
    from agent.webhooks.deliveries import list_deliveries as newest

    if state_ is not None and state_ not in STATES:
        raise UserError(f"unknown state {state_!r} (states: {', '.join(STATES)})")
    rt = open_runtime(state(ctx).home)
    rows = newest(rt.store, state=state_, webhook=webhook, limit=max(1, limit))
    if as_json:
        for d in rows:
            print_json(d.model_dump(mode="json"))
        return
    if not rows:
        console.print("no deliveries" + (f" in state {state_}" if state_ else ""))
        return
    table = Table("id", "webhook", "event", "workspace", "state", "attempts", "next / done", "last")
    for d in rows:
        when = d.finished_at or d.next_attempt_at
        last = (f"HTTP {d.last_status} " if d.last_status else "") + (d.last_error or "")
        table.add_row(
            str(d.id),
            d.webhook,
            f"{d.event_type} {d.event_id}",
            d.workspace,
            d.state,
            str(d.attempts),
            f"{when:%Y-%m-%d %H:%M:%S}",
            Text(last.strip() or "-"),  # a receiver's answer: never read as markup
        )
    console.print(table)


@app.command("deliver")
def deliver(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="The pass's counts as JSON.")] = False,
) -> None:
    """One sender pass now (what `inbox-agent run` does every tick): SLA events, fan-out, and
    every delivery that is due."""
    from dataclasses import asdict

    from agent.runtime import open_runtime
    from agent.webhooks.sender import sender_for

    rt = open_runtime(state(ctx).home)
    report = sender_for(rt).run_once()
    if as_json:
        print_json(asdict(report))
        return
    console.print(
        f"{report.delivered} delivered, {report.retried} to retry, {report.failed} failed "
        f"({report.fanned_out} new deliveries, {report.sla_events} SLA events)",
        markup=False,
    )
