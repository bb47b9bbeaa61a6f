"""The body a webhook receives for an event: the Standard Webhooks JSON envelope, or a
Slack message (``slack``).

The JSON body is ``{"id", "type", "timestamp", "data"}``: ``id`` is the event id (also the
``webhook-id`` header), ``timestamp`` when the event happened (ISO 8601, UTC), ``data`` what
it is about, with the workspace's ``client`` and, when ``review_url`` is set, ``url``: the
item's page in the review UI. A webhook with ``include_text: false`` never gets a
customer's message text.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from agent.store.models import WebhookEvent
from agent.webhooks.config import Webhook
from agent.webhooks.events import iso_time, new_event_id

TEST_TYPE = "webhook.test"


def event_data(
    event: WebhookEvent, hook: Webhook, *, client: str | None, review_url: str | None
) -> dict[str, Any]:
    data = copy.deepcopy(event.data)
    data.setdefault("workspace", event.workspace)
    data["client"] = client
    item = data.get("item")
    if isinstance(item, dict):
        if not hook.include_text and "text" in item:
            item["text"], item["text_withheld"] = None, item.get("text_withheld") or "by config"
        if review_url and item.get("id") is not None:
            data["url"] = f"{review_url.rstrip('/')}/items/{item['id']}"
    return data


def envelope(
    event: WebhookEvent, hook: Webhook, *, client: str | None, review_url: str | None
) -> dict[str, Any]:
    return {
        "id": event.event_id,
        "type": event.type,
        "timestamp": iso_time(event.occurred_at),
        "data": event_data(event, hook, client=client, review_url=review_url),
    }


def json_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sample_event(hook: Webhook, at: Any) -> WebhookEvent:
    """A ``webhook.test`` event for ``inbox-agent webhooks test`` (never stored)."""
    return WebhookEvent(
        event_id=new_event_id(),
        type=TEST_TYPE,
        subject=f"test:{hook.name}",
        workspace="",
        occurred_at=at,
        data={"webhook": hook.name, "message": "a test from inbox-agent"},
    )
