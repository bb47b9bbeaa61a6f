"""A Slack incoming-webhook message for an event: ``text`` (the notification's fallback)
plus ``blocks`` (a section and a context line), in Slack's ``mrkdwn``.

Everything that comes from outside — a customer's name and message, a stop's message, an
error — is untrusted: ``&``, ``<`` and ``>`` are escaped as Slack asks, so no text can make
a link, mention a person or a channel (``<!channel>``), or close our own markup. Only the
review link, built from ``review_url`` and the item's number, is Slack markup of ours.
"""

from __future__ import annotations

from typing import Any

SECTION_CHARS = 2900  # Slack refuses a section text over 3000 characters
QUOTE_CHARS = 500


def escape(text: object) -> str:
    """Text as Slack shows it literally (``&``, ``<``, ``>`` escaped)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _quoted(text: str | None) -> str:
    if not text:
        return ""
    one_line = " ".join(text.split())
    return f"\n“{escape(_cut(one_line, QUOTE_CHARS))}”"


def _item_line(data: dict[str, Any]) -> str:
    item = data.get("item") or {}
    decision = data.get("decision") or {}
    who = escape(item.get("author") or "someone")
    kind = "DM" if item.get("kind") == "dm" else "comment"
    parts = [f"{kind} from *{who}*"]
    if decision.get("intent"):
        parts.append(f"intent {escape(decision['intent'])}")
    if decision.get("queue"):
        parts.append(f"queue {escape(decision['queue'])}")
    if decision.get("owner"):
        parts.append(f"owner {escape(decision['owner'])}")
    return ", ".join(parts)


def _headline(event_type: str, data: dict[str, Any]) -> tuple[str, str]:
    """(plain fallback, mrkdwn section) for one event."""
    ws = escape(data.get("workspace") or "")
    item = data.get("item") or {}
    text = _quoted(item.get("text"))
    if event_type == "item.p1":
        return f"P1 item in {ws}", f":rotating_light: *P1* in *{ws}*: {_item_line(data)}{text}"
    if event_type in ("sla.warning", "sla.breached"):
        left = float((data.get("sla") or {}).get("minutes_left") or 0)
        if event_type == "sla.breached":
            head = f"SLA breached in {ws}"
            section = f":red_circle: *SLA breached* in *{ws}* ({abs(left):g} min over)"
        else:
            head = f"SLA about to breach in {ws}"
            section = f":hourglass_flowing_sand: *SLA due in {left:g} min* in *{ws}*"
        return head, f"{section}: {_item_line(data)}{text}"
    if event_type in ("sweep.stopped", "sweep.drift"):
        run = data.get("run") or {}
        reason = escape(run.get("stop_reason") or "")
        message = f" — {escape(run['message'])}" if run.get("message") else ""
        hint = f"\n{escape(data['what_to_do'])}" if data.get("what_to_do") else ""
        if event_type == "sweep.drift":
            return f"Sweep of {ws} drifted", f":warning: *Sweep of {ws} drifted*{message}{hint}"
        return (
            f"Sweep of {ws} stopped: {reason}",
            f":octagonal_sign: *Sweep of {ws} stopped*: `{reason}`{message}{hint}",
        )
    if event_type in ("takeover.started", "takeover.ended"):
        held = data.get("takeover") or {}
        user = escape(held.get("user") or "someone")
        if event_type == "takeover.started":
            return f"{ws} taken over", f":raising_hand: *{user}* took over *{ws}*"
        by = escape(held.get("handed_back_by") or held.get("user") or "someone")
        return f"{ws} handed back", f":leftwards_arrow_with_hook: *{ws}* handed back by *{by}*"
    if event_type in ("reply.sent", "reply.failed"):
        reply = data.get("reply") or {}
        who = escape(item.get("author") or "the customer")
        if event_type == "reply.sent":
            return f"Reply sent in {ws}", f":white_check_mark: Reply sent in *{ws}* to *{who}*"
        error = escape(reply.get("error") or "no reason recorded")
        return f"Reply failed in {ws}", f":x: *Reply failed* in *{ws}* to *{who}*: {error}"
    name = escape(data.get("webhook") or "")
    return "inbox-agent test", f":wave: Test message from inbox-agent for webhook *{name}*"


def message(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """The Slack body (``text`` + ``blocks``) for an event's ``data``."""
    fallback, section = _headline(event_type, data)
    context = [f"`{escape(event_type)}`"]
    if data.get("client"):
        context.append(escape(data["client"]))
    if data.get("url"):  # ours: review_url from the config and a number
        context.append(f"<{data['url']}|open in review>")
    return {
        "text": _cut(fallback, 300),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": _cut(section, SECTION_CHARS)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]},
        ],
    }
