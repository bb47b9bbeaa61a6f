"""Standard Webhooks signatures (https://www.standardwebhooks.com), both ways.

A request carries three headers: ``webhook-id`` (the event's id, what receivers dedupe
by), ``webhook-timestamp`` (unix seconds of this attempt) and ``webhook-signature``:
``v1,<base64 of HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``; several signatures may be
given, separated by spaces (a secret being rotated). The key is the secret's bytes:
``whsec_<base64>`` is decoded; without the prefix a valid base64 value is decoded too (as
the reference libraries do), anything else is used as its UTF-8 bytes.

``verify`` is the receiver's side: the test receiver uses it, and so can yours.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from agent.webhooks.errors import SecretInvalid, VerificationError

PREFIX = "whsec_"
MIN_KEY_BYTES = 16
TOLERANCE = timedelta(minutes=5)  # how far a timestamp may be from the receiver's clock


def _b64(value: str) -> bytes | None:
    """``value`` as strict base64 (padding may be left out), or None if it is not."""
    try:
        return base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def secret_key(secret: str) -> bytes:
    """The HMAC key of a secret in ``whsec_<base64>`` form, or a raw one."""
    value = secret.strip()
    if value.startswith(PREFIX):
        key = _b64(value[len(PREFIX) :])
        if key is None:
            raise SecretInvalid("the secret starts with whsec_ but what follows is not base64")
    else:
        key = _b64(value) or value.encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise SecretInvalid(
            f"the secret is {len(key)} bytes: a signing secret needs at least {MIN_KEY_BYTES}"
        )
    return key


def signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` over ``{id}.{timestamp}.{body}``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def sign_headers(key: bytes, msg_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The three ``webhook-*`` headers of one attempt sent at ``at``."""
    timestamp = int(at.timestamp())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(key, msg_id, timestamp, body),
    }


def verify(
    secret: str | bytes,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    now: datetime | None = None,
    tolerance: timedelta = TOLERANCE,
) -> Any:
    """Check a request's ``webhook-*`` headers against its raw body; return the parsed JSON.

    Raises ``VerificationError`` when a header is missing, the timestamp is not a number or
    is further than ``tolerance`` from ``now``, or no ``v1`` signature matches.
    """
    key = secret if isinstance(secret, bytes) else secret_key(secret)
    raw = body.encode("utf-8") if isinstance(body, str) else body
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id = lowered.get("webhook-id")
    stamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not (msg_id and stamp and signatures):
        raise VerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError as exc:
        raise VerificationError("webhook-timestamp is not unix seconds") from exc
    sent = datetime.fromtimestamp(timestamp, UTC)
    current = now or datetime.now(UTC)
    if sent < current - tolerance:
        raise VerificationError("webhook-timestamp is too old")
    if sent > current + tolerance:
        raise VerificationError("webhook-timestamp is too far in the future")
    expected = signature(key, msg_id, timestamp, raw).encode("ascii")
    for candidate in signatures.split():
        if candidate.startswith("v1,") and hmac.compare_digest(candidate.encode(), expected):
            return json.loads(raw)
    raise VerificationError("no v1 signature matches")
