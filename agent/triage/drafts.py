"""Drafts from approved saved replies only.

A draft is made when the workspace's reply policy approves the item's intent and a
saved reply for that intent exists (language-specific first, then one without a
language). Variables are filled from the item; when some are missing the draft
asks for all of them in one message (the ``ask_details`` reply). A reply marked
``private`` is never drafted on a public comment: the move-to-DM reply is used
instead. Item text is only ever substituted as a value, never interpreted.
"""

from __future__ import annotations

import re

from agent.triage.config import Knowledge, SavedReply
from agent.triage.models import TriageInput

_VAR = re.compile(r"\{(\w+)\}")
_ORDER_NUMBER = re.compile(
    r"(?:order|pedido|encomenda|commande|bestellung)\s*(?:#|no\.?|nr\.?|number|numero|nummer)?\s*:?\s*#?(\d{4,20})",
    re.IGNORECASE,
)
_HASH_NUMBER = re.compile(r"#(\d{4,20})\b")
LABELS = {
    "order_number": "your order number",
    "email": "the email address on your account",
    "product": "the product name",
}


def variables(item: TriageInput) -> dict[str, str]:
    found = {
        "author": (item.author or "there").lstrip("@")[:40],
        "platform": item.platform,
        "account": item.account or "",
    }
    match = _ORDER_NUMBER.search(item.text) or _HASH_NUMBER.search(item.text)
    if match:
        found["order_number"] = match.group(1)
    return found


def _fill(text: str, values: dict[str, str]) -> str:
    return _VAR.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _pick(knowledge: Knowledge, reply_id: str | None, intent: str, lang: str) -> SavedReply | None:
    replies = knowledge.saved_replies
    if reply_id is not None:
        wanted = [r for r in replies if r.id == reply_id or r.id.startswith(f"{reply_id}_")]
    else:
        wanted = [r for r in replies if r.intent == intent]
    for reply in wanted:
        if reply.lang == lang:
            return reply
    return next((r for r in wanted if r.lang is None), None)


def _join(labels: list[str]) -> str:
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def make_draft(
    item: TriageInput, intent: str, lang: str, knowledge: Knowledge
) -> tuple[str, str, str] | None:
    """(text, saved reply id, why) or None when policy allows no draft."""
    if intent not in knowledge.reply_policy.approved_intents:
        return None
    reply = _pick(knowledge, None, intent, lang)
    if reply is None:
        return None
    values = variables(item)
    if reply.private and item.kind == "comment":
        dm = _pick(knowledge, knowledge.reply_policy.move_to_dm_reply, intent, lang)
        if dm is None:
            return None
        return _fill(dm.text, values), dm.id, f"draft.move_to_dm (needs {reply.id} in private)"
    missing = [name for name in reply.requires if not values.get(name)]
    if missing:
        ask = _pick(knowledge, "ask_details", intent, lang)
        if ask is None:
            return None
        values["missing"] = _join([LABELS.get(m, m.replace("_", " ")) for m in missing])
        return _fill(ask.text, values), ask.id, f"draft.ask_details for {reply.id}: {missing}"
    return _fill(reply.text, values), reply.id, f"draft.saved_reply:{reply.id}"
