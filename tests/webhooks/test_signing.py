"""Standard Webhooks signatures: the specification's own test vector, and ``verify``."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from agent.webhooks.errors import SecretInvalid, VerificationError
from agent.webhooks.signing import secret_key, sign_headers, signature, verify

# From the Standard Webhooks reference library's tests (standard-webhooks/standard-webhooks,
# libraries/python/tests/test_webhooks.py, test_sign_function): written by the spec's authors.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

AT = datetime.fromtimestamp(SPEC_TIMESTAMP, UTC)


def test_signature_matches_the_specifications_test_vector() -> None:
    key = secret_key(SPEC_SECRET)
    assert signature(key, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE
    headers = sign_headers(key, SPEC_ID, AT, SPEC_BODY)
    assert headers == {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": SPEC_SIGNATURE,
    }


def test_the_prefix_is_optional_and_a_raw_secret_is_its_bytes() -> None:
    assert secret_key(SPEC_SECRET) == secret_key(SPEC_SECRET.removeprefix("whsec_"))
    raw = "correct horse battery staple!"  # not base64: used as it is
    assert secret_key(raw) == raw.encode()


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        ("whsec_not*base64!", "not base64"),
        ("whsec_" + base64.b64encode(b"short").decode(), "bytes"),
    ],
)
def test_an_unusable_secret_is_refused_without_repeating_it(secret: str, why: str) -> None:
    with pytest.raises(SecretInvalid) as exc:
        secret_key(secret)
    assert why in str(exc.value) and secret not in str(exc.value)


def test_verify_accepts_the_vector_and_refuses_any_change() -> None:
    headers = {"Webhook-Id": SPEC_ID, "Webhook-Timestamp": str(SPEC_TIMESTAMP),
               "Webhook-Signature": SPEC_SIGNATURE}  # fmt: skip
    assert verify(SPEC_SECRET, headers, SPEC_BODY, now=AT) == {"test": 2432232314}
    with pytest.raises(VerificationError, match="no v1 signature"):
        verify(SPEC_SECRET, headers, SPEC_BODY.replace(b"2432", b"2433"), now=AT)
    with pytest.raises(VerificationError, match="no v1 signature"):
        verify(SPEC_SECRET, {**headers, "Webhook-Id": "msg_other"}, SPEC_BODY, now=AT)
    with pytest.raises(VerificationError, match="too old"):
        verify(SPEC_SECRET, headers, SPEC_BODY, now=AT + timedelta(minutes=6))
    with pytest.raises(VerificationError, match="future"):
        verify(SPEC_SECRET, headers, SPEC_BODY, now=AT - timedelta(minutes=6))
    with pytest.raises(VerificationError, match="missing"):
        verify(SPEC_SECRET, {"webhook-id": SPEC_ID}, SPEC_BODY, now=AT)
    other = "whsec_" + base64.b64encode(b"another secret, 24 bytes").decode()
    with pytest.raises(VerificationError):
        verify(other, headers, SPEC_BODY, now=AT)


def test_verify_finds_the_matching_signature_among_several() -> None:
    wrong = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
    headers = {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": f"{wrong} v2,abc {SPEC_SIGNATURE}",
    }
    assert verify(SPEC_SECRET, headers, SPEC_BODY, now=AT) == {"test": 2432232314}
    headers["webhook-signature"] = f"{wrong} v2,{SPEC_SIGNATURE.removeprefix('v1,')}"
    with pytest.raises(VerificationError):
        verify(SPEC_SECRET, headers, SPEC_BODY, now=AT)
