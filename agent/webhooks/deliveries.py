"""The store's outbox of deliveries: fan-out, claims, outcomes, listing and pruning.

States: ``pending`` → ``sending`` → ``delivered`` | ``pending`` (again, at a later
``next_attempt_at``) | ``failed`` (out of attempts, with its last error). Never deleted
before it is delivered or failed.

Fan-out turns each event not yet dispatched into one delivery per webhook that wants it
(unique per webhook and event: two senders fanning out the same event store it once), then
marks the event dispatched; a webhook added later gets the events from then on. A claim is
one conditional ``UPDATE`` (like the outbox's): of two senders only one moves a delivery to
``sending``; a delivery left ``sending`` by a sender that died is claimed again once its
claim is older than ``stale_after``. Outcomes are written only by the claim's holder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import delete, update
from sqlmodel import col, select

from agent.store import Store
from agent.store.items import dialect_insert
from agent.store.models import DeliveryState, WebhookDelivery, WebhookEvent
from agent.webhooks.config import Webhook

FAN_OUT_BATCH = 500
KEEP = timedelta(days=30)  # finished deliveries and their events (longer than sla.LOOKBACK)
FINAL = (DeliveryState.DELIVERED.value, DeliveryState.FAILED.value)


@dataclass(frozen=True)
class Claimed:
    delivery: WebhookDelivery
    event: WebhookEvent


def fan_out(
    store: Store,
    webhooks: list[Webhook],
    client_of: Callable[[str], str | None],
    *,
    now: datetime,
    batch: int = FAN_OUT_BATCH,
) -> int:
    """Deliveries for the events not dispatched yet (oldest first); how many were made."""
    made = 0
    with store.session() as s:
        events = list(
            s.exec(
                select(WebhookEvent)
                .where(col(WebhookEvent.dispatched_at).is_(None))
                .order_by(col(WebhookEvent.id))
                .limit(batch)
            ).all()
        )
        for event in events:
            client = client_of(event.workspace)
            for hook in webhooks:
                if not hook.wants(event.type, event.workspace, client):
                    continue
                stmt = dialect_insert(s, WebhookDelivery).values(
                    webhook=hook.name,
                    event_id=event.event_id,
                    event_type=event.type,
                    workspace=event.workspace,
                    state=DeliveryState.PENDING.value,
                    attempts=0,
                    created_at=now,
                    next_attempt_at=now,
                )
                stmt = stmt.on_conflict_do_nothing(index_elements=["webhook", "event_id"])
                made += s.execute(stmt.returning(WebhookDelivery.id)).first() is not None
        if events:
            s.execute(
                update(WebhookEvent)
                .where(
                    col(WebhookEvent.id).in_([e.id for e in events]),
                    col(WebhookEvent.dispatched_at).is_(None),
                )
                .values(dispatched_at=now)
            )
    return made


def _claimable(now: datetime, stale_after: timedelta) -> sa.ColumnElement[bool]:
    return sa.or_(
        sa.and_(
            col(WebhookDelivery.state) == DeliveryState.PENDING.value,
            col(WebhookDelivery.next_attempt_at) <= now,
        ),
        sa.and_(
            col(WebhookDelivery.state) == DeliveryState.SENDING.value,
            col(WebhookDelivery.claimed_at) < now - stale_after,
        ),
    )


def claim_due(
    store: Store, *, now: datetime, holder: str, limit: int, stale_after: timedelta
) -> list[Claimed]:
    """Claim up to ``limit`` deliveries due at ``now`` (attempts + 1 each), oldest due first."""
    with store.session() as s:
        ids = list(
            s.exec(
                select(WebhookDelivery.id)
                .where(_claimable(now, stale_after))
                .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
                .limit(limit)
            ).all()
        )
    out: list[Claimed] = []
    for delivery_id in ids:
        with store.session() as s:  # one short transaction per claim, as the outbox does
            claimed = (
                s.connection()
                .execute(
                    update(WebhookDelivery)
                    .where(col(WebhookDelivery.id) == delivery_id, _claimable(now, stale_after))
                    .values(
                        state=DeliveryState.SENDING.value,
                        attempts=WebhookDelivery.attempts + 1,
                        claimed_at=now,
                        claimed_by=holder[:200],
                    )
                )
                .rowcount
            )
            if not claimed:
                continue
            delivery = s.get(WebhookDelivery, delivery_id, populate_existing=True)
            assert delivery is not None
            event = s.exec(
                select(WebhookEvent).where(WebhookEvent.event_id == delivery.event_id)
            ).one()
            out.append(Claimed(delivery, event))
    return out


def _finish(store: Store, delivery_id: int, holder: str, **values: object) -> bool:
    """Write an outcome, only while ``holder`` still holds the claim."""
    with store.session() as s:
        return bool(
            s.connection()
            .execute(
                update(WebhookDelivery)
                .where(
                    col(WebhookDelivery.id) == delivery_id,
                    col(WebhookDelivery.state) == DeliveryState.SENDING.value,
                    col(WebhookDelivery.claimed_by) == holder[:200],
                )
                .values(**values)
            )
            .rowcount
        )


def mark_delivered(
    store: Store, delivery_id: int, holder: str, *, now: datetime, status: int
) -> bool:
    return _finish(
        store,
        delivery_id,
        holder,
        state=DeliveryState.DELIVERED.value,
        last_status=status,
        last_error=None,
        finished_at=now,
    )


def mark_retry(
    store: Store,
    delivery_id: int,
    holder: str,
    *,
    at: datetime,
    status: int | None,
    error: str,
) -> bool:
    return _finish(
        store,
        delivery_id,
        holder,
        state=DeliveryState.PENDING.value,
        next_attempt_at=at,
        last_status=status,
        last_error=error,
    )


def mark_failed(
    store: Store,
    delivery_id: int,
    holder: str,
    *,
    now: datetime,
    status: int | None,
    error: str,
) -> bool:
    return _finish(
        store,
        delivery_id,
        holder,
        state=DeliveryState.FAILED.value,
        last_status=status,
        last_error=error,
        finished_at=now,
    )


def list_deliveries(
    store: Store,
    *,
    state: str | None = None,
    webhook: str | None = None,
    limit: int = 50,
) -> list[WebhookDelivery]:
    """The newest deliveries first."""
    with store.session() as s:
        query = select(WebhookDelivery)
        if state:
            query = query.where(WebhookDelivery.state == state)
        if webhook:
            query = query.where(WebhookDelivery.webhook == webhook)
        return list(s.exec(query.order_by(col(WebhookDelivery.id).desc()).limit(limit)).all())


def counts_by_webhook(store: Store) -> dict[tuple[str, str], int]:
    """(webhook, state) -> deliveries."""
    with store.session() as s:
        rows = s.execute(
            sa.select(
                col(WebhookDelivery.webhook), col(WebhookDelivery.state), sa.func.count()
            ).group_by(col(WebhookDelivery.webhook), col(WebhookDelivery.state))
        ).all()
    return {(hook, st): int(n) for hook, st, n in rows}


def prune(store: Store, *, older_than: datetime) -> int:
    """Forget deliveries finished before ``older_than``, then events dispatched before it
    that no delivery names any more; how many rows went."""
    with store.session() as s:
        gone = s.execute(
            delete(WebhookDelivery).where(
                col(WebhookDelivery.state).in_(FINAL),
                col(WebhookDelivery.finished_at) < older_than,
            )
        )
        named = sa.select(WebhookDelivery.event_id).where(  # type: ignore[call-overload]
            col(WebhookDelivery.event_id) == col(WebhookEvent.event_id)
        )
        events = s.execute(
            delete(WebhookEvent).where(
                col(WebhookEvent.dispatched_at) < older_than, ~sa.exists(named)
            )
        )
        return int(getattr(gone, "rowcount", 0) or 0) + int(getattr(events, "rowcount", 0) or 0)
